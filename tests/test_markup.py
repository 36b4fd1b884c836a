"""The marked-up copy made by editing the package's XML (nianbao.markup), and its fallback."""

from __future__ import annotations

import dataclasses
import io
import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from cyclekit import county_rows, submission, write_form
from openpyxl import load_workbook

from nianbao import annotate as copies
from nianbao import markup
from nianbao.check import check_file
from nianbao.model import FileReport, Finding, Severity
from nianbao.reader import read_workbook

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
EDITS = {"t3.r4.natural": 999, "t2_5.licensing.decisions": "十二", "t4.rv_keep": None,
         "t2_1.rules.issued": 2}


def _broken(folder: Path, name: str = "年报.xlsx") -> Path:
    return write_form(folder / name, submission(county_rows()[3], 3), edits=EDITS)


def _with(report: FileReport, *extra: Finding) -> FileReport:
    return dataclasses.replace(report, findings=report.findings + extra)


def _extra(sheet: str, cell: str, message: str = "这里有一个测试用的问题。") -> Finding:
    return Finding(code="test-extra", severity=Severity.WARNING, message=message, sheet=sheet, cell=cell,
                   hint="测试用的修改方法。")


def _look(data: bytes) -> dict[str, Any]:
    """What an agency sees in a copy: sheet order, each marked cell's fill and comment,
    the list's rows and links."""
    wb = load_workbook(io.BytesIO(data))
    marks = {}
    for ws in wb.worksheets:
        if ws.title == copies.LIST_SHEET:
            continue
        for row in ws.iter_rows():
            for c in row:
                rgb = c.fill.start_color.rgb if c.fill is not None and c.fill.fill_type else None
                if isinstance(rgb, str) and rgb[-6:] in (copies._RED, copies._AMBER):
                    marks[(ws.title, c.coordinate)] = (rgb[-6:], c.comment.text if c.comment else None)
    listed = wb[copies.LIST_SHEET]
    return {"sheets": wb.sheetnames, "marks": marks,
            "rows": [tuple(r) for r in listed.iter_rows(min_row=1, values_only=True)],
            "links": sorted((c.coordinate, c.hyperlink.location) for row in listed.iter_rows()
                            for c in row if c.hyperlink is not None),
            "active": wb.active.title if wb.active else None}


def test_both_ways_of_making_the_copy_show_the_agency_the_same(tmp_path: Path) -> None:
    form = _broken(tmp_path)
    raw = form.read_bytes()
    report = _with(check_file(form), _extra("基本信息", "B9"), _extra("表二 主动公开", "Z200"))

    edited = copies._edited_copy(raw, report)  # raises Unsupported if it fell outside
    saved = copies._openpyxl_copy(raw, report)

    mine, theirs = _look(edited), _look(saved)
    assert mine == theirs
    assert mine["sheets"][0] == copies.LIST_SHEET and mine["active"] == copies.LIST_SHEET
    assert len(mine["marks"]) == len({(f.sheet, f.cell) for f in report.findings if f.cell})
    assert [r[3] for r in mine["rows"][2:]] == [f.message for f in report.findings]


def test_the_edited_copy_keeps_every_other_part_byte_for_byte(tmp_path: Path) -> None:
    form = _broken(tmp_path)
    raw = form.read_bytes()
    report = check_file(form)
    marked = {f.sheet for f in report.findings if f.sheet}

    copy = zipfile.ZipFile(io.BytesIO(copies._edited_copy(raw, report)))
    source = zipfile.ZipFile(io.BytesIO(raw))
    parts = copies.sheet_parts(source)
    untouched = {parts[name] for name in parts if name not in marked} | {"xl/theme/theme1.xml"}
    for name in untouched:
        original = source.read(name)
        if b"tabSelected" in original:  # the list is the selected sheet now
            continue
        assert copy.read(name) == original, name
    assert set(source.namelist()) <= set(copy.namelist())


def test_a_cell_with_a_comment_of_its_own_keeps_it_under_the_finding(tmp_path: Path) -> None:
    form = _broken(tmp_path)
    report = _with(check_file(form), _extra("基本信息", "B9"))
    before = load_workbook(form)["基本信息"]["B9"].comment
    assert before is not None  # the form's own hint on 一、总体情况

    wb = load_workbook(io.BytesIO(copies._edited_copy(form.read_bytes(), report)))

    text = wb["基本信息"]["B9"].comment.text
    assert text.startswith("【警告】这里有一个测试用的问题。") and f"（原批注）{before.text}" in text
    assert wb["基本信息"]["B10"].comment.text == load_workbook(form)["基本信息"]["B10"].comment.text


def test_a_cell_the_file_never_wrote_is_added_in_its_place(tmp_path: Path) -> None:
    form = _broken(tmp_path)
    report = _with(check_file(form), _extra("表二 主动公开", "Z200"), _extra("表二 主动公开", "AA7"))

    data = copies._edited_copy(form.read_bytes(), report)

    ws = load_workbook(io.BytesIO(data))["表二 主动公开"]
    assert ws["Z200"].comment is not None and ws["AA7"].comment is not None
    assert ws["Z200"].fill.start_color.rgb.endswith(copies._AMBER)
    xml = zipfile.ZipFile(io.BytesIO(data)).read(copies.sheet_parts(
        zipfile.ZipFile(io.BytesIO(data)))["表二 主动公开"]).decode()
    rows = [int(n) for n in re.findall(r'<row r="(\d+)"', xml)]
    assert rows == sorted(rows) and 200 in rows
    assert read_workbook(io_path(tmp_path, data)).submission.values == read_workbook(
        form).submission.values


def io_path(folder: Path, data: bytes) -> Path:
    path = folder / "copy.xlsx"
    path.write_bytes(data)
    return path


def test_edit_cells_inserts_restyles_and_erases_in_document_order() -> None:
    xml = (b'<worksheet xmlns="m"><cols><col min="3" max="3" style="7"/></cols><sheetData>'
           b'<row r="2" spans="1:2"><c r="A2" s="1"><v>5</v></c><c r="B2" t="s"><v>0</v></c></row>'
           b'<row r="5"><c r="C5" s="2"/></row></sheetData></worksheet>')
    restyle = {(2, 2): lambda s: 100 + s, (2, 3): lambda s: 100 + s,
               (4, 1): lambda s: 100 + s, (9, 3): lambda s: 100 + s}

    out = markup.edit_cells(xml, restyle, [markup.Erase(5, frozenset({3}))],
                            default_style=markup.column_styles(xml))

    assert out == (b'<worksheet xmlns="m"><cols><col min="3" max="3" style="7"/></cols><sheetData>'
                   b'<row r="2"><c r="A2" s="1"><v>5</v></c><c r="B2" t="s" s="100"><v>0</v></c>'
                   b'<c r="C2" s="107"/></row><row r="4"><c r="A4" s="100"/></row>'
                   b'<row r="5"><c r="C5" s="2"/></row><row r="9"><c r="C9" s="107"/></row>'
                   b'</sheetData></worksheet>')
    erased = markup.edit_cells(b'<sheetData><row r="6"><c r="C6" s="3" t="s"><v>4</v></c>'
                               b'<c r="D6"><v>1</v></c></row></sheetData>', {},
                               [markup.Erase(5, frozenset({3}))],
                               default_style=markup.column_styles(b""))
    assert erased == b'<sheetData><row r="6"><c r="C6" s="3"/><c r="D6"><v>1</v></c></row></sheetData>'
    empty = markup.edit_cells(b"<x><sheetData/></x>", {(1, 1): lambda s: 9},
                              default_style=markup.column_styles(b""))
    assert empty == b'<x><sheetData><row r="1"><c r="A1" s="9"/></row></sheetData></x>'


@pytest.mark.parametrize("sheet_data", [
    b'<sheetData><row r="3"/><row r="2"/></sheetData>',  # rows out of order
    b'<sheetData><row><c r="A1"/></row></sheetData>',  # a row without its number
    b'<sheetData><row r="1"><c s="1"/></row></sheetData>',  # a cell without its address
])
def test_edit_cells_refuses_what_it_cannot_place(sheet_data: bytes) -> None:
    with pytest.raises(markup.Unsupported):
        markup.edit_cells(sheet_data, {(1, 2): lambda s: s},
                          default_style=markup.column_styles(b""))


def _rewrite(src: Path, dst: Path, part: str, change) -> Path:  # type: ignore[no-untyped-def]
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            zout.writestr(info.filename, change(data) if info.filename == part else data)
    return dst


def test_a_package_written_with_prefixes_is_copied_by_openpyxl(tmp_path: Path) -> None:
    form = _broken(tmp_path)
    prefixed = _rewrite(form, tmp_path / "prefixed.xlsx", "xl/workbook.xml", lambda xml: re.sub(
        rb"<(/?)(?!\?)(\w+)", rb"<\1x:\2", xml).replace(
        b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"',
        b'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'))
    report = check_file(prefixed)
    assert not report.errors or report.submission is not None
    with pytest.raises(markup.Unsupported):
        copies._edited_copy(prefixed.read_bytes(), report)

    out = copies.annotate(check_file(prefixed), tmp_path / "copy.xlsx")

    assert out is not None
    seen = _look(out.read_bytes())
    assert seen["sheets"][0] == copies.LIST_SHEET
    assert {cell for cell in seen["marks"]} == {(f.sheet, f.cell) for f in report.findings
                                                if f.sheet and f.cell}


def test_a_copy_sent_back_as_it_was_gets_one_fresh_list(tmp_path: Path) -> None:
    form = _broken(tmp_path)
    first = copies.annotate(check_file(form), tmp_path / "first.xlsx")
    assert first is not None
    returned = check_file(first)

    again = copies.annotate(returned, tmp_path / "again.xlsx")

    assert again is not None
    wb = load_workbook(again)
    assert wb.sheetnames.count(copies.LIST_SHEET) == 1 and wb.sheetnames[0] == copies.LIST_SHEET
    assert len(list(wb[copies.LIST_SHEET].iter_rows(min_row=3))) == len(returned.findings)


def test_a_broken_sheet_gets_no_copy_rather_than_a_broken_one(tmp_path: Path) -> None:
    form = _broken(tmp_path)
    parts = copies.sheet_parts(zipfile.ZipFile(form))
    broken = _rewrite(form, tmp_path / "broken.xlsx", parts["表四 复议诉讼"],
                      lambda xml: xml.replace(b"</sheetData>", b"</sheetDat>"))
    report = _with(check_file(form), _extra("表二 主动公开", "B5"))

    with pytest.raises(markup.Unsupported):
        copies._edited_copy(broken.read_bytes(), report)
    assert copies.annotate(dataclasses.replace(report, file=broken), tmp_path / "c.xlsx") is None


def test_text_that_xml_forbids_never_breaks_the_copy(tmp_path: Path) -> None:
    form = _broken(tmp_path)
    report = _with(check_file(form), _extra("表二 主动公开", "B6", "名称里有\x07控制字符 & <尖括号> \udcb5"))

    wb = load_workbook(io.BytesIO(copies._edited_copy(form.read_bytes(), report)))

    assert "名称里有控制字符 & <尖括号>" in wb["表二 主动公开"]["B6"].comment.text


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_a_form_saved_by_libreoffice_is_marked_by_editing_its_xml(tmp_path: Path) -> None:
    """A client's package (shared strings, its own styles and comment drawings) is edited,
    not loaded by openpyxl, and the copy opens in LibreOffice with the same marks."""
    form = _broken(tmp_path / "in")
    with tempfile.TemporaryDirectory() as profile:
        def convert(src: Path, target: str, out: Path) -> None:
            subprocess.run([SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless",
                            "--norestore", "--convert-to", target, "--outdir", str(out),
                            str(src)], check=True, capture_output=True, timeout=300)
        convert(form, "xlsx", tmp_path / "saved")
        saved = tmp_path / "saved" / form.name
        assert b"sharedStrings" in saved.read_bytes()
        report = _with(check_file(saved), _extra("基本信息", "B9"))

        data = copies._edited_copy(saved.read_bytes(), report)
        copy = io_path(tmp_path, data)
        convert(copy, "xlsx", tmp_path / "again")

    seen, reopened = _look(data), _look((tmp_path / "again" / copy.name).read_bytes())
    assert set(seen["marks"]) == {(f.sheet, f.cell) for f in report.findings if f.cell}
    assert set(reopened["marks"]) == set(seen["marks"])
    assert reopened["sheets"] == seen["sheets"] and seen["sheets"][0] == copies.LIST_SHEET
    for cell, (_, text) in seen["marks"].items():
        assert reopened["marks"][cell][1] == text
    assert dict(read_workbook(copy).submission.values) == dict(read_workbook(saved).submission.values)
