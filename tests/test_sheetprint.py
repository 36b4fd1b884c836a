"""TableSheet writes a write-only sheet's rows as text: the same workbook as openpyxl's way."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils.exceptions import IllegalCharacterError

from nianbao.sheetprint import TableSheet
from nianbao.streambook import write_only_workbook

FILL = PatternFill("solid", fgColor="FFF2CC")
RECEIVED = dt.datetime(2026, 1, 15, 9, 30, 5)


def _fill(table: TableSheet) -> None:
    table.line(["青白县 2025年度 a&b <c> \"d\"", None, ""], font=Font(bold=True))
    table.line()
    table.head(["单位编码", "单位名称", "数", "说明"])
    table.row(["B01", "  前后有空格  ", 12, "很长的说明，" * 30], fills={3: FILL},
              formats={3: "0.0%"}, align={1: "center"})
    table.row(["B02", "第一行\r\n第二行", 1.5, None])
    table.row(["B03", "=SUM(1,2)", True, "#N/A"])  # a formula and an error code: openpyxl's way
    table.row(["B04", "", False, 10**20])
    table.row(["B05", RECEIVED], formats={2: "yyyy-mm-dd hh:mm"})
    table.row(["B06", RECEIVED])  # a date without a date format: openpyxl gives it one
    table.row(["B07", dt.date(2026, 1, 15)], formats={2: "yyyy-mm-dd"})
    table.plain(["B08", "plain", 0.25, ""], formats={3: "0%"})
    table.plain(["B09", None, 3, "z"])
    table.plain(["B10", "f"], fills={2: FILL}, font=Font(italic=True))
    table.row([], columns=2)
    table.line(["合计"])
    table.close("标题")


def _cells(path: Path) -> list[tuple[object, ...]]:
    ws = load_workbook(path)["t"]
    out: list[tuple[object, ...]] = []
    for row in ws.iter_rows():
        for c in row:
            if c.value is None and not c.has_style:
                continue
            out.append((c.coordinate, c.value, c.data_type, c.number_format, c.font.b,
                        c.font.i, c.fill.fgColor.rgb, c.border.left.style,
                        c.alignment.horizontal, c.alignment.wrap_text))
    heights = {r: d.height for r, d in ws.row_dimensions.items() if d.height}
    out.append(("heights", tuple(sorted(heights.items()))))
    out.append(("print", ws.print_title_rows, ws.auto_filter.ref, ws.freeze_panes))
    return out


def _written(tmp_path: Path, write_only: bool, name: str) -> Path:
    wb = Workbook(write_only=write_only)
    if not write_only:
        wb.remove(wb.active)
    _fill(TableSheet(wb.create_sheet("t"), (10, 20, 8, 30)))
    path = tmp_path / name
    wb.save(path)
    return path


def test_rows_written_as_text_read_back_as_openpyxl_writes_them(tmp_path: Path) -> None:
    fast = _written(tmp_path, True, "stream.xlsx")
    ordinary = _written(tmp_path, False, "ordinary.xlsx")
    assert _cells(fast) == _cells(ordinary)
    cells = {c[0]: c for c in _cells(fast)}
    assert cells["B4"][1] == "  前后有空格  "  # the spaces are kept (xml:space)
    assert cells["B5"][1] == "第一行\r\n第二行"  # the carriage return too (&#13;)
    assert cells["B6"][2] == "f" and cells["D6"][2] == "e"
    assert cells["B8"][1] == RECEIVED and cells["B8"][3] == "yyyy-mm-dd hh:mm"
    assert cells["C4"][6] == "00FFF2CC" and cells["C4"][3] == "0.0%"
    assert cells["A1"][1] == "青白县 2025年度 a&b <c> \"d\"" and cells["A1"][4]
    # and the sheet really went down the text stream: rows as openpyxl would never write them
    with zipfile.ZipFile(fast) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    assert '<c r="D5" s="' in xml and 't="n"/>' in xml


def test_a_text_no_workbook_may_hold_is_refused_as_openpyxl_refuses_it() -> None:
    with pytest.raises(IllegalCharacterError), write_only_workbook() as wb:  # given up cleanly
        table = TableSheet(wb.create_sheet("t"), (10, 20))
        table.row(["B01", "正常"])
        table.row(["B02", "控制\x01字符"])
    table = TableSheet(Workbook().active, (10, 20))
    with pytest.raises(IllegalCharacterError):
        table.row(["B02", "控制\x01字符"])


def test_rows_appended_around_a_table_keep_their_order(tmp_path: Path) -> None:
    """openpyxl's own ``append`` and the table's rows share the sheet's one stream."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("t")
    table = TableSheet(ws, (10, 20))
    table.row(["B01", "第一"])
    ws.append(["直接", 2])
    table.row(["B02", "第三"])
    begun = wb.create_sheet("u")  # a sheet begun by openpyxl before the table
    begun.append(["先有", 1])
    late = TableSheet(begun, (10, 20))
    late.row(["B03", "第二"])
    path = tmp_path / "mixed.xlsx"
    wb.save(path)
    back = load_workbook(path)
    assert [[c.value for c in r] for r in back["t"].iter_rows()] == [
        ["B01", "第一"], ["直接", 2], ["B02", "第三"]]
    assert [[c.value for c in r] for r in back["u"].iter_rows()] == [["先有", 1], ["B03", "第二"]]
    assert back["u"]["A2"].border.left.style == "thin"
