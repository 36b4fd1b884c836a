"""Live checks in the form agree with `nianbao check`, as LibreOffice calculates them.

Two hundred forms (valid agencies, single-cell mutations, real-world-like cases)
are written, recalculated and saved by LibreOffice headless in ONE conversion
call, and every check cell's verdict is compared with what nianbao finds.

nianbao's verdict for a check: it fails when nianbao reports the check's rule
on the check's cells, or a problem with what one of its input cells holds
(values.Issue) other than an empty cell read as 0 (blank cells have their own
check, "没有空白").
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from nianbao.check import check_file
from nianbao.intake import IntakeData, intake_from, write_intake
from nianbao.layout import CHECK_FIRST_ROW, CHECK_SHEET, CHECK_VERDICT_ROW, workbook_layout
from nianbao.livechecks import OK, LiveCheck, plan
from nianbao.model import FileReport, Finding, Severity
from nianbao.reader import read_workbook
from nianbao.schema import DEFAULT_FORMAT, ValueType
from nianbao.synth import random_submission
from nianbao.values import Issue

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
SPEC = DEFAULT_FORMAT
LAYOUT = workbook_layout()
CHECKS = plan()
COUNT_MUTATIONS: dict[str, object] = {
    "plus": 1, "minus": -1, "blank": None, "text-number": "text", "garbage": "十二",
    "negative": -3, "decimal": 2.5, "placeholder": "/", "huge": 2_000_000_000, "zero": 0,
}
AMOUNT_MUTATIONS: dict[str, object] = {
    "digits": 0.123456, "yuan": 32500.0, "negative": -0.5, "blank": None, "text-number": "0.5",
}
CELL_CODES = {str(i) for i in Issue} | {"input-merged"}
FORMULA_NAMES = {"SUM", "IF", "ABS", "ROUND", "COUNTBLANK", "ISNUMBER", "AND", "OR", "LEN"}


def _mutated(rng: random.Random, data: IntakeData) -> IntakeData:
    key = rng.choice(SPEC.input_keys)
    amount = SPEC.cells[key].type is ValueType.AMOUNT
    name, change = rng.choice(list((AMOUNT_MUTATIONS if amount else COUNT_MUTATIONS).items()))
    values = dict(data.values)
    old = values.get(key) or 0
    if name in ("plus", "minus"):
        assert isinstance(change, int) and isinstance(old, int)
        values[key] = max(0, old + change * rng.randint(1, 5)) if name == "minus" else old + 3
    elif name == "text-number" and not amount:
        values[key] = str(old)
    else:
        values[key] = change  # type: ignore[assignment]
    return replace(data, values=values)


def corpus() -> Iterator[tuple[str, IntakeData]]:
    """200 forms: 70 valid, 100 single-cell mutations, 30 real-world-like."""
    rng = random.Random(2025)
    for i in range(70):
        yield f"valid-{i}", intake_from(random_submission(random.Random(i), index=i))
    for i in range(100):
        base = intake_from(random_submission(random.Random(1000 + i), index=i))
        yield f"mutated-{i}", _mutated(rng, base)
    for i in range(30):
        data = intake_from(random_submission(random.Random(5000 + i), index=i))
        values = dict(data.values)
        case = i % 6
        if case == 0:  # handed back empty
            values = {}
        elif case == 1:  # half filled
            values = {k: v for j, (k, v) in enumerate(values.items()) if j % 2}
        elif case == 2:  # forgot the carry-over: 上年结转 left blank, 结转下年度 kept
            values = {k: v for k, v in values.items() if not k.startswith("t3.r2.")}
        elif case == 3:  # all zeros
            values = {k: 0 if SPEC.cells[k].type is ValueType.COUNT else Decimal(0)
                      for k in values}
        elif case == 4:  # two mistakes at once
            data = _mutated(rng, _mutated(rng, data))
            values = dict(data.values)
        else:  # no agency name, no level, 规章 typed by a county office
            data = replace(data, agency="", level="乡镇人民政府")
            values["t2_1.rules.issued"] = 1
            values["t2_1.rules.in_force"] = 0
        yield f"real-{i}", replace(data, values=values)


def _about_content(finding: Finding) -> bool:
    """A finding on what a cell holds, other than "empty, read as 0"."""
    return finding.code in CELL_CODES and not (finding.code == "blank-as-zero"
                                               and finding.actual is None)


def _input_findings(report: FileReport) -> dict[str, int]:
    """Per sheet: input cells with anything to say other than "empty, read as 0"."""
    inputs = {LAYOUT.cell(k) for k in SPEC.input_keys}
    flagged = {(f.sheet, f.cell) for f in report.findings if (f.sheet, f.cell) in inputs
               and _about_content(f)}
    return {name: sum(1 for s, _ in flagged if s == name) for _, name in SPEC.sheets}


def expected(check: LiveCheck, report: FileReport) -> str | int:
    """What the check should show, from nianbao's findings: "✓", "✗", or a count."""
    if check.sheet_id is None and check.inputs and check.kind_id in ("blank-as-zero",
                                                                       "not-a-number"):
        sheet_name = LAYOUT.cell(check.inputs[0])[0]
        if check.kind_id == "blank-as-zero":
            count = sum(1 for f in report.findings if f.code == "blank-as-zero"
                        and f.actual is None and f.sheet == sheet_name)
        else:
            count = _input_findings(report)[sheet_name]
        return count or OK
    if not check.anchor:  # 基本信息 and 规章: the rule is reported or not
        return "✗" if any(f.code == check.kind_id for f in report.findings) else OK
    cells = {LAYOUT.cell(k) for k in check.inputs}
    rule = any(f.code == check.kind_id and f.key == check.anchor for f in report.findings)
    bad = any((f.sheet, f.cell) in cells and _about_content(f) for f in report.findings)
    return "✗" if rule or bad else OK


def shown(value: object) -> str | int:
    text = "" if value is None else str(value)
    if text == OK:
        return OK
    number = re.search(r"✗ (\d+) 处", text)
    if number and not text.startswith("✗ 差"):
        return int(number.group(1))
    return "✗" if text.startswith("✗") else f"?{text}"


def _convert(files: list[Path], out_dir: Path) -> None:
    assert SOFFICE is not None
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless",
                        "--norestore", "--convert-to", "xlsx", "--outdir", str(out_dir),
                        *map(str, files)], check=True, capture_output=True, timeout=1200)


def test_livechecks_use_only_portable_functions_and_own_sheet_formatting(tmp_path: Path) -> None:
    path = write_intake(tmp_path / "form.xlsx", IntakeData(agency="某某县财政局", year=2025))
    wb = load_workbook(path)

    used = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    used |= set(re.findall(r"([A-Z]+)\(", cell.value))
        for cf in ws.conditional_formatting:
            for rule in cf.rules:
                for formula in rule.formula:
                    assert "!" not in formula, (ws.title, formula)
                    used |= set(re.findall(r"([A-Z]+)\(", formula))
    assert used <= FORMULA_NAMES, used - FORMULA_NAMES
    assert wb.sheetnames[:2] == [SPEC.sheet_name("guide"), CHECK_SHEET]
    assert all(len(c.formula) < 8000 for c in CHECKS)  # Excel's formula length limit is 8192


def test_livechecks_reader_ignores_the_checks(tmp_path: Path) -> None:
    sub = random_submission(random.Random(7), index=7)
    path = write_intake(tmp_path / "form.xlsx", intake_from(sub))

    result = read_workbook(path)
    report = check_file(path)

    assert result.submission is not None and dict(result.submission.values) == dict(sub.values)
    assert report.findings == ()


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_livechecks_agree_with_nianbao_on_200_libreoffice_recalculated_forms(
        tmp_path: Path) -> None:
    forms = tmp_path / "forms"
    forms.mkdir()
    files = []
    for name, data in corpus():
        files.append(write_intake(forms / f"{name}.xlsx", data))
    assert len(files) >= 200
    saved = tmp_path / "saved"

    _convert(files, saved)

    agree = disagree = 0
    problems = []
    for path in files:
        report = check_file(path)
        wb = load_workbook(saved / path.name, data_only=True)
        summary = wb[CHECK_SHEET]
        want_todo = 0
        for i, check in enumerate(CHECKS):
            got = shown(summary.cell(row=CHECK_FIRST_ROW + i, column=4).value)
            if check.sheet_id is not None:
                on_sheet = wb[SPEC.sheet_name(check.sheet_id)][check.address].value
                assert shown(on_sheet) == got
            want = expected(check, report)
            if got == want:
                agree += 1
            else:
                disagree += 1
                problems.append((path.name, check.where, check.kind_id, got, want))
            if check.counted:
                want_todo += want if isinstance(want, int) else int(want != OK)
        verdict = summary.cell(row=CHECK_VERDICT_ROW, column=1).value
        assert verdict == ("可以报送" if want_todo == 0 else f"还有 {want_todo} 处需要修改"), \
            (path.name, verdict, want_todo)
        if want_todo == 0:
            assert not [f for f in report.findings if f.severity is Severity.ERROR]
    print(f"live checks: {agree} agree, {disagree} disagree over {len(files)} workbooks")
    assert problems == []
    keep = load_workbook(saved / files[0].name)
    t3 = keep[SPEC.sheet_name("t3")]
    assert list(t3.conditional_formatting) and t3.data_validations.dataValidation


def test_form_text_areas_grow_and_sheets_print_whole(tmp_path: Path) -> None:
    long_text = ["2025年，本机关认真贯彻落实《中华人民共和国政府信息公开条例》。" * 3] * 6
    blank = load_workbook(write_intake(tmp_path / "blank.xlsx", IntakeData(year=2025)))
    filled = load_workbook(write_intake(tmp_path / "filled.xlsx", IntakeData(
        year=2025, narrative={"s1": long_text})))

    info = SPEC.sheet_name("info")
    for section in ("s1", "s5", "s6"):
        address = LAYOUT.info_cell(section)
        row = int(address[1:])
        assert blank[info].row_dimensions[row].height is None  # grows as the agency types
        assert not any(address in r for r in map(str, blank[info].merged_cells.ranges))
        prompts = [dv.prompt for dv in blank[info].data_validations.dataValidation
                   if address in str(dv.sqref)]
        assert prompts == ["每段之间换行（Alt+Enter），可直接粘贴。"]
    s1_row = int(LAYOUT.info_cell("s1")[1:])
    assert filled[info].row_dimensions[s1_row].height >= 14 * 6 * 2  # six 2-line paragraphs
    counts = [c.value for row in blank[info].iter_rows() for c in row
              if isinstance(c.value, str) and "LEN(" in c.value]
    assert len(counts) == 1 and all(LAYOUT.info_cell(s) in counts[0] for s in ("s1", "s5", "s6"))
    guide = blank[SPEC.sheet_name("guide")]
    assert guide.page_setup.scale == 80 and not guide.sheet_properties.pageSetUpPr.fitToPage
    t3 = blank[SPEC.sheet_name("t3")]
    assert t3.page_setup.orientation == "landscape"
    assert (t3.page_setup.fitToWidth, t3.page_setup.fitToHeight) == (1, 1)
    assert read_workbook(tmp_path / "filled.xlsx").submission.narrative["s1"] == tuple(long_text)
