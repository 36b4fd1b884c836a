"""The register sheets of the intake workbook, and 表三/表四 as live COUNTIFS of them.

:func:`add_registers` adds the 依申请公开登记台账 and 复议诉讼案件登记 sheets to a
workbook built by :mod:`nianbao.intake` (dropdowns from the schema's labels) and
turns every input cell of 表三 and 表四 into a ``COUNTIFS`` over the register, so
Excel, WPS and LibreOffice show the counts as the agency types; nianbao counts
the same rows when it reads the file (:mod:`nianbao.register_read`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from nianbao.atomic import atomic_write
from nianbao.intake import (
    BOLD,
    BORDER,
    FONT,
    HEAD_FILL,
    INPUT_FILL,
    LEFT,
    IntakeData,
    build_workbook,
)
from nianbao.layout import (
    META_SHEET,
    REGISTER_HEADER_ROW,
    REGISTER_LIST_COLUMN,
    a1,
    workbook_layout,
)
from nianbao.register import (
    HEADER_ROWS,
    NO,
    YES,
    FieldKind,
    RegisterSpec,
    application_cells,
    application_register,
    case_cells,
    case_register,
    find_header,
    registers,
)
from nianbao.schema import DEFAULT_FORMAT, FormatSpec

COUNTED_FILL = PatternFill("solid", fgColor="E2EFDA")  # 表三/表四 cells counted from the register
FORMATTED_ROWS = 2000  # rows given dropdowns and date formats beyond the last written row
DATE_FORMAT = "yyyy-mm-dd"

NOTES = {
    "applications": "依申请公开登记台账：每件申请登记一行。表三按本表自动统计（不要在表三中手工填写）；"
                    "“申请人”“申请内容摘要”两列仅供本单位留存，nianbao 不读取、不上报。",
    "cases": "政府信息公开行政复议、行政诉讼案件登记：每个案件一行。表四按本表自动统计。",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterRows:
    """Rows to write: per register id, a list of {field id: value} (values as the sheet shows)."""

    applications: Sequence[Mapping[str, object]] = ()
    cases: Sequence[Mapping[str, object]] = ()


def write_register_form(path: Path, data: IntakeData, rows: RegisterRows = RegisterRows(), *,
                        spec: FormatSpec = DEFAULT_FORMAT, fee_decimals: int = 4) -> Path:
    """Write an intake workbook with register sheets (atomically) and return the path."""
    wb = build_workbook(data, spec=spec, fee_decimals=fee_decimals)
    add_registers(wb, rows, spec)
    with atomic_write(path) as tmp:
        wb.save(tmp)
    return path


def add_registers(wb: Workbook, rows: RegisterRows, spec: FormatSpec = DEFAULT_FORMAT) -> None:
    """Add both register sheets and make 表三/表四 count them (in place)."""
    meta = wb[META_SHEET]
    list_col = REGISTER_LIST_COLUMN
    position = wb.sheetnames.index(META_SHEET)
    for register, given in ((application_register(spec), rows.applications),
                            (case_register(spec), rows.cases)):
        ws = wb.create_sheet(register.sheet, position)
        position += 1
        list_col = _write_lists(wb, meta, register, list_col)
        _write_sheet(ws, register, given)
    _count_formulas(wb, spec)
    guide = wb[spec.sheet_name("guide")]
    start = guide.max_row + 1
    for i, line in enumerate(guide_lines(), start):
        guide.cell(row=i, column=1, value=line).font = FONT


def guide_lines() -> list[str]:
    app, case = application_register(), case_register()
    return [
        f"九、本表含“{app.sheet}”和“{case.sheet}”两个工作表：表三、表四由它们自动统计（绿色单元格），"
        "不要在表三、表四中手工填写。",
        "    每件申请一行：编号不得重复；上年结转的申请沿用上年编号、来源选“上年结转”；"
        "已办结的选办理结果并填答复日期；年底未办结的“是否结转下年度”选“是”，办理结果和答复日期留空。",
        "    申请人类型、来源、办理结果、是否延期、是否结转下年度请从下拉列表选择（手工输入的文字不会被统计）。",
        "    报送时 nianbao 核对答复期限（20个工作日，延期40个）、补正告知期限（7个工作日）和第三方意见期限"
        "（15个工作日），按国家公布的节假日和调休计算。",
        "    “申请人”“申请内容摘要”仅供本单位留存，nianbao 不读取、不写入任何报告；不愿报送的可在报送前清空这两列。",
    ]


def _write_lists(wb: Workbook, meta: Worksheet, register: RegisterSpec, col: int) -> int:
    for field_id, choices in register.choices.items():
        meta.cell(row=1, column=col, value=f"list:{register.id}.{field_id}")
        for i, choice in enumerate(choices, 2):
            meta.cell(row=i, column=col, value=choice.label)
        letter = get_column_letter(col)
        name = f"NB_LIST_{register.id.upper()}_{field_id.upper()}"
        wb.defined_names[name] = DefinedName(
            name, attr_text=f"{META_SHEET}!${letter}$2:${letter}${len(choices) + 1}")
        col += 1
    return col


def _write_sheet(ws: Worksheet, register: RegisterSpec, rows: Sequence[Mapping[str, object]]
                 ) -> None:
    header = REGISTER_HEADER_ROW
    width = len(register.fields)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    note = ws.cell(row=1, column=1, value=NOTES[register.id])
    note.font = BOLD
    note.alignment = LEFT
    ws.row_dimensions[1].height = 32
    last = header + max(len(rows), 1) + FORMATTED_ROWS
    for col, f in enumerate(register.fields, 1):
        cell = ws.cell(row=header, column=col, value=f.label)
        cell.font = BOLD
        cell.fill = HEAD_FILL if f.kind is not FieldKind.PRIVATE else PatternFill()
        cell.border = BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        if f.prompt or f.kind is FieldKind.PRIVATE:
            cell.comment = Comment(f.prompt or "仅供本单位留存", "nianbao")
        ws.column_dimensions[get_column_letter(col)].width = f.width
        _validation(ws, register, f.id, f.kind, f"{a1(header + 1, col)}:{a1(last, col)}")
    for r, values in enumerate(rows, header + 1):
        for col, f in enumerate(register.fields, 1):
            value = values.get(f.id)
            if value is None or value == "":
                continue
            cell = ws.cell(row=r, column=col, value=value)
            if isinstance(value, dt.date):
                cell.number_format = DATE_FORMAT
    for col, f in enumerate(register.fields, 1):
        if f.kind is FieldKind.DATE:
            for r in range(header + 1, last + 1):
                ws.cell(row=r, column=col).number_format = DATE_FORMAT
    ws.row_dimensions[header].height = 30
    ws.freeze_panes = a1(header + 1, 2)
    ws.auto_filter.ref = f"{a1(header, 1)}:{a1(header + max(len(rows), 1), width)}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{header}:{header}"
    for col, f in enumerate(register.fields, 1):
        if f.required:
            ws.cell(row=header, column=col).fill = INPUT_FILL


def _validation(ws: Worksheet, register: RegisterSpec, field_id: str, kind: FieldKind,
                ref: str) -> None:
    dv: DataValidation | None = None
    if kind is FieldKind.CHOICE:
        name = f"NB_LIST_{register.id.upper()}_{field_id.upper()}"
        dv = DataValidation(type="list", formula1=name, allow_blank=True,
                            showErrorMessage=True, errorTitle="输入错误",
                            error="请从下拉列表中选择（手工输入的文字不会被统计）")
    elif kind is FieldKind.YESNO:
        dv = DataValidation(type="list", formula1=f'"{YES},{NO}"', allow_blank=True,
                            showErrorMessage=True, errorTitle="输入错误", error="请选择“是”或“否”")
    elif kind is FieldKind.DATE:
        dv = DataValidation(type="date", operator="between", formula1="36526", formula2="73050",
                            allow_blank=True, showErrorMessage=True, errorStyle="warning",
                            errorTitle="日期", error="请填写日期，如 2025-03-05")
    if dv is not None:
        ws.add_data_validation(dv)
        dv.add(ref)


def countifs(register: RegisterSpec, conditions: Sequence[tuple[str, str]]) -> str:
    """``=COUNTIFS('台账'!$F:$F,"本年新收",…)`` for a cell's register conditions."""
    parts = []
    for field_id, value in conditions:
        letter = get_column_letter(register.column(field_id))
        label = value if value == YES else register.label_of(field_id, value)
        parts.append(f"'{register.sheet}'!${letter}:${letter},\"{label}\"")
    return f"=COUNTIFS({','.join(parts)})"


def _count_formulas(wb: Workbook, spec: FormatSpec) -> None:
    layout = workbook_layout(spec)
    for register, cells in ((application_register(spec), application_cells(spec)),
                            (case_register(spec), case_cells(spec))):
        for key, conditions in cells.items():
            sheet, address = layout.cell(key)
            cell = wb[sheet][address]
            cell.value = countifs(register, conditions)
            cell.fill = COUNTED_FILL
            cell.protection = Protection(locked=True)


def private_columns(top: Sequence[Sequence[object]], spec: FormatSpec = DEFAULT_FORMAT
                    ) -> list[tuple[int, frozenset[int]]]:
    """Where a sheet whose first rows are ``top`` (row 1 first) holds a register's 申请人 and
    申请内容摘要: (first data row, columns), both 1-based, for each register found."""
    found_all = []
    for register in registers(spec):
        found = find_header(register, top)
        if found is None:
            continue
        header, columns = found
        private = frozenset(columns[f.id] + 1 for f in register.fields
                            if f.kind is FieldKind.PRIVATE and f.id in columns)
        if private:
            found_all.append((header + 2, private))
    return found_all


def erase_private(wb: Workbook, spec: FormatSpec = DEFAULT_FORMAT) -> int:
    """Empty the 申请人 and 申请内容摘要 columns of every register sheet, in place.

    For copies that leave the office (the marked-up copy, 批注): nianbao never reads
    those columns, so nothing it reports needs them.  Returns the cells emptied.
    """
    emptied = 0
    for ws in wb.worksheets:
        top = [list(r) for r in ws.iter_rows(max_row=HEADER_ROWS, values_only=True)]
        for first, private in private_columns(top, spec):
            for r in range(first, ws.max_row + 1):
                for c in private:
                    cell = ws.cell(row=r, column=c)
                    if cell.value is not None:
                        cell.value = None
                        emptied += 1
    return emptied
