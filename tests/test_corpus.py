"""The bad-input corpus: every way a user can break a workbook gives its own clear finding.

The files in tests/fixtures/bad/ and their expected findings (expected.json) are made
by tests/make_bad_corpus.py; see its docstring for how to regenerate them.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from nianbao.check import check_file, collect
from nianbao.model import Finding
from nianbao.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_bad_corpus  # noqa: E402 - the generator lives beside the tests

CORPUS = Path(__file__).resolve().parent / "fixtures" / "bad"
EXPECTED = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
CASES = EXPECTED["cases"]
SETTINGS = Settings(expected_year=EXPECTED["year"])
CHINESE = re.compile(r"[\u4e00-\u9fff]")
# check.py's last line of defence: seeing it means the reader raised, which it must not
LAST_RESORT = "file-unreadable"


def test_corpus_has_forty_distinct_bad_inputs() -> None:
    bad = [c for c in CASES if c["kind"] != "tolerated"]
    names = [c["file"] for c in CASES]

    assert len(bad) >= 40
    assert len(set(names)) == len(names)
    assert all(c["expect"] for c in bad)
    on_disk = {p.name for p in CORPUS.iterdir() if p.name != "expected.json"}
    assert on_disk == set(names)


def test_corpus_expected_json_matches_generator() -> None:
    made = make_bad_corpus.cases()

    assert make_bad_corpus.expected_json(made) == (CORPUS / "expected.json").read_text(
        encoding="utf-8")


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_corpus_case_gives_its_finding(case: dict) -> None:
    report = check_file(CORPUS / case["file"], SETTINGS)

    got = {(f.code, f.sheet, f.cell) for f in report.findings}
    for want in case["expect"]:
        assert (want["code"], want["sheet"], want["cell"]) in got, report.findings
    assert report.valid is case["valid"]
    if case["kind"] == "tolerated":
        assert report.findings == ()
    assert LAST_RESORT not in {f.code for f in report.findings}
    for finding in report.findings:
        assert CHINESE.search(finding.message), finding
        assert "Traceback" not in finding.message
        if finding.cell:
            assert finding.sheet, finding


def test_corpus_one_value_problem_one_finding() -> None:
    """A cell with a wrong value gives exactly one finding about that cell."""
    for case in CASES:
        if case["kind"] != "value" or not case["expect"][0]["cell"]:
            continue
        want = case["expect"][0]
        report = check_file(CORPUS / case["file"], SETTINGS)

        same_cell = [f for f in report.findings
                     if (f.sheet, f.cell) == (want["sheet"], want["cell"])]
        assert len(same_cell) == 1, (case["file"], same_cell)


def test_corpus_whole_folder_in_one_check_call() -> None:
    """One process over the whole folder: the batch goes on past every bad file.

    A subprocess, not CliRunner: one case used to abort the interpreter itself
    (calamine allocating 512 GB for a cell in XFD1048576), which no try/except sees.
    """
    result = subprocess.run(
        [sys.executable, "-m", "nianbao", "check", str(CORPUS), "--json",
         "--year", str(EXPECTED["year"])],
        capture_output=True, text=True, timeout=300)

    assert result.returncode == 1, result.stderr
    assert result.stderr == ""
    reports = json.loads(result.stdout)
    # every file in the folder is accounted for, expected.json included (not a workbook)
    assert sorted(Path(r["file"]).name for r in reports) == sorted(
        [c["file"] for c in CASES] + ["expected.json"])
    [listing] = [r for r in reports if r["file"].endswith("expected.json")]
    assert [f["code"] for f in listing["findings"]] == ["file-not-workbook"]
    assert all(r["findings"] or r["valid"] for r in reports)
    codes = {f["code"] for r in reports for f in r["findings"]}
    assert LAST_RESORT not in codes


def test_corpus_text_lines_name_file_sheet_and_cell() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "nianbao", "check", str(CORPUS), "--year",
         str(EXPECTED["year"])], capture_output=True, text=True, timeout=300)

    lines = result.stdout.splitlines()
    line = next(x for x in lines if "v01-text-in-count.xlsx" in x)
    where = str(CORPUS / "v01-text-in-count.xlsx").removeprefix(str(Path.cwd()) + "/")
    assert re.match(re.escape(where + ":表三 依申请公开!D6:") + r" +错误 \[not-a-number\] +“", line)
    assert all(any(c["file"] in x for x in lines) for c in CASES if c["expect"])


def test_corpus_scan_picks_up_every_file() -> None:
    assert {p.name for p in collect([CORPUS])} == {c["file"] for c in CASES} | {"expected.json"}


def test_corpus_generator_is_reproducible(tmp_path: Path) -> None:
    make_bad_corpus.generate(tmp_path, only_reproducible=True)

    for case in CASES:
        if case["external"]:
            continue
        assert (tmp_path / case["file"]).read_bytes() == (CORPUS / case["file"]).read_bytes(), \
            case["file"]


# ------------------------------------------------ what calamine does not tell the reader

def test_corpus_scan_sheet_xml_sees_errors_formulas_and_far_cells() -> None:
    from nianbao.package import MAX_ROWS, scan_sheet_xml

    xml = (b'<x:worksheet xmlns:x="main"><x:sheetData>'
           b'<x:row r="2"><x:c r="A2" t="e"><x:v>#N/A</x:v></x:c>'
           b'<x:c r="B2"><x:f>A2*2</x:f><x:v></x:v></x:c>'
           b'<x:c r="C2"><x:f t="shared" si="0"/><x:v>3</x:v></x:c>'
           b'<x:c r="D2" s="4"/></x:row>'
           b'<x:row r="' + str(MAX_ROWS + 1).encode() + b'"><x:c><x:v>1</x:v></x:c></x:row>'
           b'<row r="3"><c r="XFD3" t="inlineStr"><is><t>x</t></is></c></row>'
           b"</x:sheetData></x:worksheet>")

    scan = scan_sheet_xml(xml)

    assert scan.errors == {(1, 0): "#N/A"}
    assert scan.uncalculated == {(1, 1): "A2*2"}
    assert sorted(scan.far) == [(2, 16383), (MAX_ROWS, 0)]
    assert scan.trimmed is not None and b"XFD3" not in scan.trimmed
    assert b'<x:c r="A2"' in scan.trimmed


def test_corpus_scan_sheet_xml_leaves_a_normal_sheet_alone() -> None:
    from nianbao.package import scan_sheet_xml

    scan = scan_sheet_xml(b'<worksheet><sheetData><row r="1"><c r="A1"><v>1</v></c></row>'
                          b"</sheetData></worksheet>")

    assert (scan.errors, scan.uncalculated, scan.far, scan.trimmed) == ({}, {}, [], None)


FAST_CASES = {
    "formulas and errors": (
        b'<worksheet><cols><col min="2" max="3" hidden="1" width="9"/></cols><sheetData>'
        b'<row r="1" hidden="1"><c r="A1" t="e"><v>#DIV/0!</v></c><c r="B1" t="e"/>'
        b'<c r="C1" s="2"/><c r="D1"><f>SUM(A1:C1)</f></c>'
        b'<c r="E1"><f t="shared" ref="E1:E3" si="0">A1&amp;"x"</f><v>7</v></c></row>'
        b'<row r="2"><c r="E2"><f t="shared" si="0"/></c><c r="F2" t="e"><f>1/0</f></c>'
        b'<c r="G2" t="str"><f>"a"</f><v></v></c><c r="H2" t="inlineStr"><is><t>t="e"</t></is></c>'
        b"</row></sheetData></worksheet>", True),
    "a cell without its reference": (
        b'<worksheet><sheetData><row r="1"><c><f>1+1</f></c><c r="B1" t="e"><v>#N/A</v></c>'
        b"</row></sheetData></worksheet>", False),
    "a far cell": (
        b'<worksheet><sheetData><row r="1"><c r="A1"><f>1</f></c></row><row r="5000">'
        b'<c r="A5000"><v>1</v></c></row></sheetData></worksheet>', False),
    "a far column": (
        b'<worksheet><sheetData><row r="1"><c r="ZZ1"><v>1</v></c></row>'
        b"</sheetData></worksheet>", False),
    "namespace prefixes": (
        b'<x:worksheet><x:sheetData><x:row r="1"><x:c r="A1"><x:f>1</x:f></x:c></x:row>'
        b"</x:sheetData></x:worksheet>", False),
}


@pytest.mark.parametrize("case", FAST_CASES)
def test_corpus_the_fast_sheet_scan_finds_what_the_cell_by_cell_scan_finds(case: str) -> None:
    """The whole-text scan (most sheets) and the cell-by-cell one (the unusual) agree; the
    unusual sheets go the careful way."""
    from nianbao.package import MAX_ROWS, _scan_cells, _scan_fast, scan_sheet_xml

    xml, fast = FAST_CASES[case]
    quick, careful = _scan_fast(xml, MAX_ROWS), _scan_cells(xml, MAX_ROWS)
    assert (quick is not None) == fast
    got = scan_sheet_xml(xml)
    for scan in (got, quick) if quick is not None else (got,):
        assert (scan.errors, scan.uncalculated, scan.far, scan.hidden_rows, scan.hidden_cols,
                scan.trimmed) == (careful.errors, careful.uncalculated, careful.far,
                                  careful.hidden_rows, careful.hidden_cols, careful.trimmed)
    if case == "formulas and errors":
        assert careful.errors == {(0, 0): "#DIV/0!"}
        assert careful.uncalculated == {(0, 3): "SUM(A1:C1)", (1, 4): "", (1, 5): "1/0",
                                        (1, 6): '"a"'}
        assert careful.hidden_rows == {0} and careful.hidden_cols == {1, 2}


def test_corpus_nianbaos_own_sheets_are_not_read_in_its_form_only(tmp_path: Path) -> None:
    """填报说明 and 校验结果 in nianbao's form are for people and are skipped; a sheet of
    the same name in another workbook is read like any other."""
    from openpyxl import Workbook

    from nianbao.intake import IntakeData, write_intake
    from nianbao.package import OWN_SHEETS, open_package

    form = write_intake(tmp_path / "form.xlsx", IntakeData(agency="青山县教育局", year=2025))
    package = open_package(form)
    assert not isinstance(package, Finding)
    assert package.skip == OWN_SHEETS and not OWN_SHEETS & package.scans.keys()

    other = Workbook()
    ws = other.active
    assert ws is not None
    ws.title = "填报说明"
    ws["A1"] = 1
    other.save(tmp_path / "other.xlsx")
    package = open_package(tmp_path / "other.xlsx")
    assert not isinstance(package, Finding)
    assert package.skip == frozenset() and "填报说明" in package.scans
