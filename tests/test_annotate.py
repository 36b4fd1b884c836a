"""The marked-up copy: the agency's own workbook with each finding on its cell."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from cyclekit import YEAR, county_rows, submission, write_form, write_roster_xlsx
from openpyxl import load_workbook

from nianbao.annotate import ERROR_FILL, LIST_SHEET, WARNING_FILL, annotate, annotated_name
from nianbao.atomic import TMP_PREFIX
from nianbao.check import check_file
from nianbao.cli import main
from nianbao.model import Severity
from nianbao.reader import read_workbook

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
EDITS = {"t3.r4.natural": 999, "t2_5.licensing.decisions": "十二", "t4.rv_keep": None,
         "t2_1.rules.issued": 2}


def _broken(tmp_path: Path) -> Path:
    row = county_rows()[3]
    sub = submission(row, 3)
    return write_form(tmp_path / "in" / "年报.xlsx", sub, edits=EDITS)


def _marks(path: Path) -> dict[tuple[str, str], str]:
    """(sheet, cell) -> fill colour, for every cell with the error or warning fill."""
    wb = load_workbook(path)
    colours = {_rgb(ERROR_FILL), _rgb(WARNING_FILL)}
    return {(ws.title, c.coordinate): _rgb(c.fill) for ws in wb.worksheets
            if ws.title != LIST_SHEET for row in ws.iter_rows() for c in row
            if c.fill is not None and c.fill.fill_type == "solid" and _rgb(c.fill) in colours}


def _rgb(fill: object) -> str:
    """The fill's colour without alpha (LibreOffice writes FF, openpyxl 00)."""
    rgb = getattr(getattr(fill, "start_color", None), "rgb", None)
    return rgb[-6:] if isinstance(rgb, str) else ""


def test_annotate_marks_exactly_the_finding_cells_and_leaves_the_input_alone(
        tmp_path: Path) -> None:
    form = _broken(tmp_path)
    before = hashlib.sha256(form.read_bytes()).hexdigest()
    report = check_file(form)
    out = tmp_path / "out" / annotated_name("QS004", "青山县某局")
    out.parent.mkdir()

    assert annotate(report, out) == out

    assert hashlib.sha256(form.read_bytes()).hexdigest() == before
    cells = {(f.sheet, f.cell) for f in report.findings if f.sheet and f.cell}
    marks = _marks(out)
    assert set(marks) == cells
    for f in report.findings:
        if f.sheet and f.cell:
            worst = min((g.severity for g in report.findings if (g.sheet, g.cell) == (f.sheet, f.cell)),
                        key=lambda s: s is not Severity.ERROR)
            want = ERROR_FILL if worst is Severity.ERROR else WARNING_FILL
            assert marks[(f.sheet, f.cell)] == _rgb(want)
    wb = load_workbook(out)
    assert wb.sheetnames[0] == LIST_SHEET
    for f in report.findings:
        if f.sheet and f.cell:
            comment = wb[f.sheet][f.cell].comment
            assert comment is not None and f.message in comment.text and f.hint in comment.text
    listed = list(wb[LIST_SHEET].iter_rows(min_row=3, values_only=True))
    assert [r[3] for r in listed] == [f.message for f in report.findings]
    links = {c.hyperlink.location for row in wb[LIST_SHEET].iter_rows(min_row=3)
             for c in row if c.hyperlink is not None}
    assert links == {f"'{s}'!{c}" for s, c in cells}
    again, original = read_workbook(out), read_workbook(form)
    assert again.submission is not None and original.submission is not None
    assert dict(again.submission.values) == dict(original.submission.values)
    assert again.submission.narrative == original.submission.narrative
    assert {(f.code, f.cell) for f in check_file(out).findings} == {
        (f.code, f.cell) for f in report.findings}


def test_annotate_skips_clean_and_unreadable_files(tmp_path: Path) -> None:
    row = county_rows()[0]
    clean = write_form(tmp_path / "clean.xlsx", submission(row, 1))
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"PK\x03\x04 not really")

    assert check_file(clean).findings == ()
    assert annotate(check_file(clean), tmp_path / "a.xlsx") is None
    assert annotate(check_file(junk), tmp_path / "b.xlsx") is None
    assert not (tmp_path / "a.xlsx").exists() and not (tmp_path / "b.xlsx").exists()


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_annotate_copy_opens_in_libreoffice_with_the_same_marks(tmp_path: Path) -> None:
    form = _broken(tmp_path)
    out = annotate(check_file(form), tmp_path / "批注.xlsx")
    assert out is not None
    saved = tmp_path / "saved"

    with tempfile.TemporaryDirectory() as profile:
        for target in ("xlsx", "pdf"):
            subprocess.run([SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless",
                            "--norestore", "--convert-to", target, "--outdir", str(saved),
                            str(out)], check=True, capture_output=True, timeout=300)

    assert (saved / "批注.pdf").stat().st_size > 10_000
    assert set(_marks(saved / "批注.xlsx")) == set(_marks(out))
    wb = load_workbook(saved / "批注.xlsx")
    assert wb.sheetnames[0] == LIST_SHEET
    first = check_file(out).findings[0]
    assert first.message in wb[first.sheet][first.cell].comment.text
    assert dict(read_workbook(saved / "批注.xlsx").submission.values) == dict(
        read_workbook(form).submission.values)


def test_check_annotate_writes_one_copy_per_file_with_findings(tmp_path: Path) -> None:
    form = _broken(tmp_path)
    write_form(tmp_path / "in" / "好的.xlsx", submission(county_rows()[1], 2))

    result = CliRunner().invoke(main, ["check", "--annotate", str(tmp_path / "批注"),
                                       str(tmp_path / "in")])

    assert result.exit_code == 1
    sub = read_workbook(form).submission
    assert sub is not None
    assert sorted(p.name for p in (tmp_path / "批注").iterdir()) == [
        f"{sub.code}_{sub.agency}_批注.xlsx"]
    assert "已写出 1 份批注副本" in result.output


def test_status_writes_the_marked_up_copy_beside_the_feedback(tmp_path: Path) -> None:
    rows = county_rows()[:3]
    roster = write_roster_xlsx(tmp_path / "名单.xlsx", rows)
    ws = tmp_path / "ws"
    runner = CliRunner()
    assert runner.invoke(main, ["init", str(ws), "--year", str(YEAR), "--roster",
                                str(roster)]).exit_code == 0
    write_form(ws / "inputs" / "a.xlsx", submission(rows[0], 1), edits={"t3.r4.natural": 999})
    write_form(ws / "inputs" / "b.xlsx", submission(rows[1], 2))

    result = runner.invoke(main, ["status", "-w", str(ws), "-q"])

    feedback = ws / "outputs" / "feedback"
    assert result.exit_code == 1, result.output
    assert (feedback / f"{rows[0].code}_{rows[0].name}.txt").is_file()
    assert sorted(p.name for p in feedback.glob("*_批注.xlsx")) == [
        f"{rows[0].code}_{rows[0].name}_批注.xlsx"]
    write_form(ws / "inputs" / "a.xlsx", submission(rows[0], 1))  # fixed: the copy goes
    runner.invoke(main, ["status", "-w", str(ws), "-q"])
    assert list(feedback.glob("*_批注.xlsx")) == []


def test_the_copy_keeps_every_merged_range_and_cell_as_saved(tmp_path: Path) -> None:
    """The marked-up copy is opened without openpyxl's re-working of merged cells (half its
    time): the ranges are all there, and every other cell is as the agency's file has it."""
    form = _broken(tmp_path)
    report = check_file(form)
    out = tmp_path / "copy.xlsx"
    assert annotate(report, out) == out

    source, copy = load_workbook(form), load_workbook(out)
    marked = {(f.sheet, f.cell) for f in report.findings if f.sheet and f.cell}
    merged_any = False
    for ws in source.worksheets:
        other = copy[ws.title]
        ranges = {str(r) for r in ws.merged_cells.ranges}
        merged_any = merged_any or bool(ranges)
        assert ranges == {str(r) for r in other.merged_cells.ranges}, ws.title
        for row in ws.iter_rows():
            for cell in row:
                twin = other[cell.coordinate]
                assert twin.value == cell.value, (ws.title, cell.coordinate)
                assert repr(twin.border) == repr(cell.border), (ws.title, cell.coordinate)
                if (ws.title, cell.coordinate) not in marked:
                    assert repr(twin.fill) == repr(cell.fill), (ws.title, cell.coordinate)
        # the live checks are put back as the file has them, their styles the same
        assert _live_checks(other) == _live_checks(ws), ws.title
    assert merged_any
    assert sum(len(_live_checks(ws)[0]) for ws in source.worksheets) > 10


def _live_checks(ws) -> tuple[list[tuple[str, str, tuple[str, ...], str]], list[str]]:  # type: ignore[no-untyped-def]
    rules = sorted((str(cf.sqref), r.type or "", tuple(r.formula or ()), repr(r.dxf))
                   for cf in ws.conditional_formatting for r in cf.rules)
    validations = sorted(repr(dv) for dv in ws.data_validations.dataValidation)
    return rules, validations


def test_prefixed_live_checks_are_left_to_openpyxl() -> None:
    """Validations written with a prefix (Excel's ``xr:uid``) would lose their namespace
    in openpyxl's copy: such a sheet keeps them for openpyxl to read and write."""
    from nianbao.annotate import _take_formats

    plain = (b'<worksheet xmlns="m"><sheetData/><conditionalFormatting sqref="A1"><cfRule '
             b'type="expression" priority="1"><formula>A1&lt;0</formula></cfRule>'
             b'</conditionalFormatting><dataValidations count="1"><dataValidation sqref="B2"/>'
             b'</dataValidations><pageMargins/></worksheet>')
    kept: dict[str, bytes] = {}
    assert _take_formats(plain, "s1", kept) == (b'<worksheet xmlns="m"><sheetData/>'
                                                 b'<pageMargins/></worksheet>')
    assert kept["s1"].startswith(b"<conditionalFormatting") and kept["s1"].endswith(
        b"</dataValidations>")
    prefixed = plain.replace(b'<dataValidation sqref', b'<dataValidation xr:uid="{1}" sqref')
    kept = {}
    assert _take_formats(prefixed, "s1", kept) == prefixed and not kept
    broken = plain.replace(b"</cfRule>", b"")  # never copied verbatim into a marked-up copy
    assert _take_formats(broken, "s1", kept) == broken and not kept


def test_stopping_the_copies_stops_the_workers_and_leaves_no_record(tmp_path: Path) -> None:
    """`run` makes the copies while it writes status.xlsx; Ctrl+C there sets ``stop``: the
    worker processes end, the record is not written, no half-made copy is left."""
    import multiprocessing
    import threading

    from nianbao.annotate import ANNOTATED_MANIFEST, annotate_board
    from nianbao.config import load_config
    from nianbao.runner import board_for, gather

    rows = county_rows()[:20]
    ws = tmp_path / "ws"
    roster = write_roster_xlsx(tmp_path / "名单.xlsx", rows)
    assert CliRunner().invoke(main, ["init", str(ws), "--year", str(YEAR), "--roster",
                                     str(roster)]).exit_code == 0
    for i, row in enumerate(rows):
        write_form(ws / "inputs" / f"{row.code}.xlsx", submission(row, i),
                   edits={"t3.r4.natural": 999})
    config = load_config(ws)
    assert config is not None
    board = board_for(gather(config, jobs=1))
    folder = ws / "outputs" / "feedback"
    folder.mkdir(parents=True)
    # what a worker killed mid-write leaves (whether one is caught writing is a race):
    # a temporary copy named for a process that no longer runs
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    half = folder / f"{TMP_PREFIX}{ended.stdout.strip()}-half.xlsx"
    half.write_bytes(b"PK\x03\x04")

    stop = threading.Event()
    stop.set()
    made = annotate_board(board, folder, jobs=2, stop=stop)

    assert len(made) < len(rows)
    assert not (folder / ANNOTATED_MANIFEST).exists()
    assert multiprocessing.active_children() == []
    assert [p.name for p in folder.iterdir() if not p.name.endswith("_批注.xlsx")] == []

    made = annotate_board(board, folder, jobs=2, stop=threading.Event())
    assert len(made) == len(rows)
    assert (folder / ANNOTATED_MANIFEST).is_file()
