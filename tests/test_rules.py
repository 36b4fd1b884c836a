"""Each rule with a failing and a passing case, asserting code, sheet and cell."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from nianbao.check import check_file
from nianbao.intake import intake_from
from nianbao.layout import workbook_layout
from nianbao.model import Severity
from nianbao.settings import Settings

L = workbook_layout()


def at(key: str) -> tuple[str, str]:
    return L.cell(key)


def info(field: str) -> tuple[str, str]:
    return "基本信息", L.info_cell(field)


def _codes(report) -> set[tuple[str, str, str | None, str | None]]:
    return {(f.code, str(f.severity), f.sheet, f.cell) for f in report.findings}


# (id, edits on a valid workbook computed from its values, expected (code, severity, where))
CASES = [
    ("balance", lambda v: {"t3.r1.natural": v["t3.r1.natural"] + 1},
     ("t3-balance", "error", at("t3.r4.natural"))),
    ("balance-total-column", lambda v: {"t3.r2.legal": v["t3.r2.legal"] + 2},
     ("t3-balance", "error", at("t3.r4.total"))),
    ("row-total-typed", lambda v: {"t3.r1.total": v["t3.r1.total"] + 5},
     ("t3-row-total", "error", at("t3.r1.total"))),
    ("result-total-typed", lambda v: {"t3.r3_7.social": v["t3.r3_7.social"] + 1},
     ("t3-result-total", "error", at("t3.r3_7.social"))),
    ("t4-total-typed", lambda v: {"t4.ld_total": v["t4.ld_total"] + 3},
     ("t4-total", "error", at("t4.ld_total"))),
    ("not-a-number", lambda v: {"t2_5.licensing.decisions": "约100"},
     ("not-a-number", "error", at("t2_5.licensing.decisions"))),
    ("negative", lambda v: {"t2_6.penalty.decisions": -1},
     ("negative-value", "error", at("t2_6.penalty.decisions"))),
    ("fee-negative", lambda v: {"t2_8.fees.amount": -0.5},
     ("negative-value", "error", at("t2_8.fees.amount"))),
    ("count-decimal", lambda v: {"t4.rv_keep": 1.5},
     ("not-an-integer", "error", at("t4.rv_keep"))),
    ("blank", lambda v: {"t2_6.coercion.decisions": None},
     ("blank-as-zero", "warning", at("t2_6.coercion.decisions"))),
    ("slash", lambda v: {"t2_6.coercion.decisions": "/"},
     ("blank-as-zero", "warning", at("t2_6.coercion.decisions"))),
    ("text-number", lambda v: {"t2_1.normative.issued": f" {v['t2_1.normative.issued']} "},
     ("number-as-text", "warning", at("t2_1.normative.issued"))),
    ("fee-precision", lambda v: {"t2_8.fees.amount": 0.123456},
     ("fee-precision", "warning", at("t2_8.fees.amount"))),
    ("fee-yuan", lambda v: {"t2_8.fees.amount": 32500},
     ("fee-too-large", "warning", at("t2_8.fees.amount"))),
    ("rules-authority", lambda v: {"t2_1.rules.issued": 2, "t2_1.rules.in_force": 2},
     ("rules-authority", "warning", at("t2_1.rules.issued"))),
    ("in-force-lower-bound", lambda v: {"t2_1.normative.issued": 50, "t2_1.normative.repealed": 0,
                                        "t2_1.normative.in_force": 3},
     ("in-force-lower-bound", "warning", at("t2_1.normative.in_force"))),
]


@pytest.mark.parametrize("edit,expected", [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_rule_fails_with_code_sheet_cell(make_submission, make_workbook, edit, expected) -> None:
    sub = make_submission(21, scale=200)
    code, severity, (sheet, cell) = expected

    report = check_file(make_workbook(sub, edits=edit(dict(sub.values))))

    assert (code, severity, sheet, cell) in _codes(report)


def test_rule_passes_on_valid_workbook_with_typed_correct_totals(make_submission,
                                                                  make_workbook) -> None:
    sub = make_submission(21, scale=200)
    typed = {k: sub.values[k] for k in ("t3.r1.total", "t3.r3_7.social", "t4.ld_total")}

    report = check_file(make_workbook(sub, edits=typed))

    assert report.valid
    assert report.findings == ()


@pytest.mark.parametrize("change,code,field", [
    ({"agency": ""}, "agency-missing", "agency"),
    ({"year": None}, "year-missing", "year"),
])
def test_rule_header_fields(make_submission, make_workbook, change, code, field) -> None:
    data = dataclasses.replace(intake_from(make_submission(3)), **change)

    report = check_file(make_workbook(data=data))

    assert (code, "error", *info(field)) in _codes(report)


def test_rule_year_mismatch_only_when_expected(make_submission, make_workbook) -> None:
    path = make_workbook(make_submission(4, year=2024))

    assert check_file(path).valid
    report = check_file(path, Settings(expected_year=2025))
    assert ("year-mismatch", "error", *info("year")) in _codes(report)
    finding = next(f for f in report.findings if f.code == "year-mismatch")
    assert (finding.expected, finding.actual) == (2025, 2024)


def _with_narrative(sub, **sections):
    data = intake_from(sub)
    return dataclasses.replace(data, narrative={**data.narrative, **sections})


def test_rule_narrative_empty_sections(make_submission, make_workbook) -> None:
    data = _with_narrative(make_submission(5), s1=(), s5=("无",), s6=())

    found = _codes(check_file(make_workbook(data=data)))

    for section in ("s1", "s5", "s6"):
        assert ("narrative-empty", "warning", *info(section)) in found


def test_rule_text_contradicts_tables(make_submission, make_workbook) -> None:
    sub = make_submission(6, scale=300)
    new = sub.values["t3.r1.total"]
    assert new > 0
    zero = _with_narrative(sub, s1=("2025年，本机关未收到政府信息公开申请。",))
    wrong = _with_narrative(sub, s1=(f"2025年共收到政府信息公开申请{new + 7}件。",))
    right = _with_narrative(sub, s1=(f"2025年共收到政府信息公开申请{new}件。",))
    both = _with_narrative(sub, s1=(
        f"2025年收到申请{new + sub.values['t3.r2.total']}件（含上年结转）。",))

    assert ("text-zero-claim", "warning", *info("s1")) in _codes(check_file(make_workbook(data=zero)))
    assert ("text-number-mismatch", "warning", *info("s1")) in _codes(
        check_file(make_workbook(data=wrong)))
    assert "text-number-mismatch" not in {f.code for f in check_file(make_workbook(data=right)).findings}
    assert "text-number-mismatch" not in {f.code for f in check_file(make_workbook(data=both)).findings}


def test_rule_review_and_litigation_numbers_in_text(make_submission, make_workbook) -> None:
    sub = make_submission(8)
    review = sub.values["t4.rv_total"]
    data = _with_narrative(sub, s1=(f"全年被申请行政复议{review + 4}件。",))

    report = check_file(make_workbook(data=data))

    finding = next(f for f in report.findings if f.code == "text-number-mismatch")
    assert (finding.sheet, finding.cell, finding.actual) == (*info("s1"), review + 4)


def test_rule_fee_notice_text(make_submission, make_workbook) -> None:
    sub = make_submission(9, scale=300)
    values = dict(sub.values)
    edits = {"t3.r3_6_2.natural": values["t3.r3_6_2.natural"] + 1,
             "t3.r3_1.natural": values["t3.r3_1.natural"] - 1}
    assert values["t3.r3_1.natural"] >= 1
    data = _with_narrative(sub, s6=("本年度无其他需要报告的事项。",))
    path = make_workbook(data=data)
    from openpyxl import load_workbook
    wb = load_workbook(path)
    for key, value in edits.items():
        sheet, cell = L.cell(key)
        wb[sheet][cell] = value
    wb.save(path)

    report = check_file(path)

    assert report.valid  # moving one application between result rows breaks no sum
    assert ("fee-notice-text", "warning", *info("s6")) in _codes(report)


def test_rule_amount_is_decimal_never_float(make_submission, make_workbook) -> None:
    sub = make_submission(10)
    path = make_workbook(sub, edits={"t2_8.fees.amount": 12.3456})

    value = check_file(path).submission.values["t2_8.fees.amount"]

    assert value == Decimal("12.3456") and isinstance(value, Decimal)


def test_rule_all_findings_collected_not_first_only(make_submission, make_workbook) -> None:
    sub = make_submission(12, scale=200)
    edits = {"t3.r1.natural": sub.values["t3.r1.natural"] + 1, "t4.rv_keep": -2,
             "t2_5.licensing.decisions": "许多"}

    report = check_file(make_workbook(sub, edits=edits))

    assert {"t3-balance", "negative-value", "not-a-number"} <= {f.code for f in report.errors}
    assert all(f.severity is Severity.ERROR for f in report.errors)
