"""The register of applications: 表三 counted from it, its checks and the 条例's deadlines."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest
from openpyxl import load_workbook

from nianbao.check import check_file
from nianbao.intake import IntakeData
from nianbao.layout import workbook_layout
from nianbao.model import FileReport, Severity
from nianbao.register import application_register, case_register
from nianbao.register_form import RegisterRows, write_register_form
from nianbao.register_synth import random_register
from nianbao.schema import DEFAULT_FORMAT
from nianbao.workdays import UnknownYear, add_workdays, covered_years, is_workday

D = dt.date
REG = application_register()
LABEL = {f: {c.value: c.label for c in REG.choices[f]} for f in REG.choices}


def app(no: str, received: D, *, who: str = "natural", source: str = "本年新收",
        result: str | None = "r3_1", replied: D | None = None, **extra: object) -> dict[str, object]:
    row: dict[str, object] = {"no": no, "received": received,
                              "applicant_type": LABEL["applicant_type"][who], "source": source,
                              "applicant": "测试申请人", "summary": "测试内容"}
    if result:
        row["result"] = LABEL["result"][result]
        row["replied"] = replied or add_workdays(received, 5)
    row.update(extra)
    return row


def form(tmp_path: Path, rows: list[dict[str, object]], cases: list[dict[str, object]] = (),
         year: int = 2025, name: str = "f.xlsx") -> Path:
    path = tmp_path / name
    write_register_form(path, IntakeData(agency="测试局", code="T1", year=year),
                        RegisterRows(applications=rows, cases=list(cases)))
    return path


def codes(report: FileReport, prefix: str = "reg-") -> list[str]:
    return [f.code for f in report.findings if f.code.startswith(prefix)]


def only(report: FileReport, code: str) -> list[str]:
    return [f"{f.location} {f.message}" for f in report.findings if f.code == code]


# ------------------------------------------------------------------ the calendar

def test_workdays_spring_festival_2025_counts_the_sunday_and_saturday_worked() -> None:
    # 2025 春节: 1月28日–2月4日 off; Sunday 26 Jan and Saturday 8 Feb worked (调休)
    assert is_workday(D(2025, 1, 26)) and is_workday(D(2025, 2, 8))
    assert not is_workday(D(2025, 1, 28)) and not is_workday(D(2025, 2, 4))

    # received Friday 24 Jan: 26, 27 Jan, then 5–8 Feb (8 Feb a Saturday), …
    assert add_workdays(D(2025, 1, 24), 2) == D(2025, 1, 27)
    assert add_workdays(D(2025, 1, 24), 6) == D(2025, 2, 8)
    assert add_workdays(D(2025, 1, 24), 20) == D(2025, 2, 27)


def test_workdays_national_day_2024_and_its_working_saturday() -> None:
    # 2024 国庆: 1–7 Oct off; Sunday 29 Sep and Saturday 12 Oct worked
    assert is_workday(D(2024, 9, 29)) and is_workday(D(2024, 10, 12))
    assert add_workdays(D(2024, 9, 27), 1) == D(2024, 9, 29)
    assert add_workdays(D(2024, 9, 30), 1) == D(2024, 10, 8)
    assert add_workdays(D(2024, 9, 30), 5) == D(2024, 10, 12)
    assert add_workdays(D(2024, 9, 30), 7) == D(2024, 10, 15)


def test_workdays_unknown_year_is_an_error_not_a_guess() -> None:
    last = covered_years()[1]

    with pytest.raises(UnknownYear):
        is_workday(D(last + 1, 3, 3))


# ---------------------------------------------------------- deadlines in the workbook

def test_reply_on_the_20th_working_day_across_spring_festival_is_in_time(tmp_path: Path) -> None:
    rows = [app("A1", D(2025, 1, 24), replied=D(2025, 2, 27)),
            app("A2", D(2025, 1, 24), replied=D(2025, 2, 28))]

    report = check_file(form(tmp_path, rows))

    late = only(report, "reg-reply-late")
    assert len(late) == 1 and "编号 A2" in late[0] and "2025-02-27" in late[0]
    assert "H4" in late[0]  # the 答复日期 cell of row 4


def test_extension_allows_40_working_days_across_national_day(tmp_path: Path) -> None:
    # 2025 国庆+中秋: 1–8 Oct off; Sunday 28 Sep and Saturday 11 Oct worked
    due = add_workdays(D(2025, 9, 1), 40)
    rows = [app("B1", D(2025, 9, 1), replied=due, extended="是"),
            app("B2", D(2025, 9, 1), replied=due + dt.timedelta(days=1), extended="是"),
            app("B3", D(2025, 9, 1), replied=add_workdays(D(2025, 9, 1), 21))]

    report = check_file(form(tmp_path, rows))

    assert due == D(2025, 10, 31)  # 2 调休 days worked; a weekday-only count gives 4 Nov
    late = only(report, "reg-reply-late")
    assert [m.split("编号 ")[1][:2] for m in late] == ["B2", "B3"]


def test_correction_within_7_working_days_and_reply_counted_from_the_corrected_application(
        tmp_path: Path) -> None:
    # received Thursday 26 Sep 2024: 27, 29 (Sunday worked), 30 Sep, 8, 9, 10, 11 Oct = 7th
    rows = [app("C1", D(2024, 9, 26), correction=D(2024, 10, 11), corrected=D(2024, 10, 14),
                replied=add_workdays(D(2024, 10, 14), 20)),
            app("C2", D(2024, 9, 26), correction=D(2024, 10, 12))]

    report = check_file(form(tmp_path, rows, year=2024))

    late = only(report, "reg-correction-late")
    assert len(late) == 1 and "编号 C2" in late[0] and "2024-10-11" in late[0]
    assert only(report, "reg-reply-late") == []


def test_third_party_time_is_not_counted_but_capped_at_15_working_days(tmp_path: Path) -> None:
    start = D(2025, 3, 3)
    consult, back = add_workdays(start, 2), add_workdays(start, 2 + 10)
    slow_back = add_workdays(consult, 18)
    rows = [app("T1", start, consult=consult, consult_reply=back,
                replied=add_workdays(start, 30)),  # 20 + the 10 days waited
            app("T2", start, consult=consult, consult_reply=slow_back,
                replied=add_workdays(start, 20 + 18))]  # only 15 of the 18 are excused

    report = check_file(form(tmp_path, rows))

    assert [m for m in only(report, "reg-reply-late") if "T1" in m] == []
    assert len([m for m in only(report, "reg-reply-late") if "T2" in m]) == 1
    assert len(only(report, "reg-third-party-late")) == 1


def test_year_the_calendar_does_not_know_gives_one_clear_finding(tmp_path: Path) -> None:
    last = covered_years()[1]
    rows = [app("U1", D(last, 12, 20), result=None, carried="是"),
            app("U2", D(last, 12, 21), result=None, carried="是")]

    report = check_file(form(tmp_path, rows, year=last))

    unknown = only(report, "reg-calendar-unknown")
    assert len(unknown) == 1 and f"{last + 1} 年" in unknown[0] and "2 件" in unknown[0]
    assert only(report, "reg-reply-late") == []


# --------------------------------------------------------------- the other checks

def test_register_checks_name_the_row_and_never_the_applicant(tmp_path: Path) -> None:
    rows = [app("E1", D(2025, 3, 3)),
            app("E1", D(2025, 3, 4)),  # duplicate 编号
            app("E3", D(2024, 3, 4)),  # new but received last year
            app("E4", D(2025, 11, 3), result=None),  # unfinished, not carried
            app("E5", D(2025, 12, 1), carried="是"),  # carried over with a result
            app("E6", D(2025, 5, 6), replied=D(2025, 5, 1)),  # reply before receipt
            {**app("E7", D(2025, 5, 6)), "applicant_type": "个体户"},  # not a dropdown label
            {**app("E8", D(2025, 5, 6)), "received": "三月五号"}]

    report = check_file(form(tmp_path, rows))

    found = {f.code: f for f in report.findings if f.code.startswith("reg-")}
    assert {"reg-duplicate-no", "reg-date-outside-year", "reg-unfinished",
            "reg-carried-with-result", "reg-date-order", "reg-field-invalid"} <= found.keys()
    assert found["reg-unfinished"].cell == "G6" and "E4" in found["reg-unfinished"].message
    assert found["reg-duplicate-no"].cell == "A4"
    assert all(f.severity is Severity.ERROR for f in found.values())
    assert not any("测试申请人" in f.message or "测试内容" in f.message for f in report.findings)
    assert not report.valid


def test_tables_are_counted_from_the_register(tmp_path: Path) -> None:
    rows = [app("N1", D(2025, 2, 10)),
            app("N2", D(2025, 2, 11), who="legal", result="r3_4_1"),
            app("N3", D(2024, 12, 25), source="上年结转", result="r3_2"),
            app("N4", D(2025, 12, 22), who="commercial", result=None, carried="是")]
    cases = [{"no": "K1", "kind": "行政复议", "result": "结果纠正"},
             {"no": "K2", "kind": "行政诉讼：复议后起诉", "result": "尚未审结", "application": "N9"}]

    report = check_file(form(tmp_path, rows, cases))

    v = report.submission.values if report.submission else {}
    assert (v["t3.r1.total"], v["t3.r2.total"], v["t3.r3_7.total"], v["t3.r4.total"]) == (3, 1, 3, 1)
    assert (v["t3.r3_4_1.legal"], v["t3.r4.commercial"], v["t3.r2.natural"]) == (1, 1, 1)
    assert (v["t4.rv_correct"], v["t4.la_pending"], v["t4.la_total"]) == (1, 1, 1)
    assert codes(report) == ["reg-case-unknown-application"]


def test_a_number_typed_over_the_count_is_a_claim_naming_the_register_rows(
        tmp_path: Path) -> None:
    rows = [app("M1", D(2025, 2, 10)), app("M2", D(2025, 2, 12)), app("M3", D(2025, 2, 13))]
    path = form(tmp_path, rows)
    sheet, cell = workbook_layout().cell("t3.r3_1.natural")
    wb = load_workbook(path)
    wb[sheet][cell] = 2  # the agency typed 2 over the COUNTIFS
    wb.save(path)

    report = check_file(path)

    mismatch = [f for f in report.findings if f.code == "reg-count-mismatch"]
    assert len(mismatch) == 1
    assert (mismatch[0].sheet, mismatch[0].cell, mismatch[0].expected, mismatch[0].actual) == (
        sheet, cell, 3, 2)
    assert all(f"编号 M{i}" in mismatch[0].message for i in (1, 2, 3))
    assert report.submission and report.submission.values["t3.r3_1.natural"] == 3


def test_random_registers_count_to_a_balanced_table(tmp_path: Path) -> None:
    for seed in range(3):
        syn = random_register(random.Random(seed), 2025, 150, carried_in=("2024-1", "2024-2"),
                              cases=5)
        report = check_file(form(tmp_path, list(syn.rows.applications), list(syn.rows.cases),
                                 name=f"r{seed}.xlsx"))

        assert [f.code for f in report.findings if f.severity is Severity.ERROR] == []
        assert report.submission
        values = report.submission.values
        assert values["t3.r4.total"] == len(syn.carried_out)
        assert values["t3.r1.total"] == 150 and values["t3.r2.total"] == 2
        for rule in DEFAULT_FORMAT.balances:
            assert (sum(values[k] or 0 for k in rule.left)
                    == sum(values[k] or 0 for k in rule.right)), rule


def test_register_dropdowns_come_from_the_schema() -> None:
    t3 = DEFAULT_FORMAT.table("t3")
    results = REG.choices["result"]

    assert len(results) == 21
    assert [c.value for c in REG.choices["applicant_type"]] == [
        c.id for c in t3.columns if not c.computed]
    assert results[0].label == "（一）予以公开"
    assert "（三）不予公开：1.属于国家秘密" in [c.label for c in results]
    assert [c.label for c in case_register().choices["kind"]] == [
        "行政复议", "行政诉讼：未经复议直接起诉", "行政诉讼：复议后起诉"]


def test_case_register_feeds_table_4_and_its_rows_are_checked(tmp_path: Path) -> None:
    cases = [{"no": "K1", "kind": "行政复议", "result": "结果维持"},
             {"no": "K1", "kind": "行政复议", "result": "结果纠正"},  # duplicate 案件编号
             {"no": "K3", "kind": "行政诉讼", "result": "维持"},  # not the dropdown's labels
             {"no": "K4", "kind": "行政诉讼：未经复议直接起诉", "result": "其他结果",
              "application": "N1"}]
    path = form(tmp_path, [app("N1", D(2025, 2, 10))], cases)
    sheet, cell = workbook_layout().cell("t4.rv_keep")
    wb = load_workbook(path)
    wb[sheet][cell] = 3  # typed over the COUNTIFS
    wb.save(path)

    report = check_file(path)

    v = report.submission.values if report.submission else {}
    assert (v["t4.rv_keep"], v["t4.rv_correct"], v["t4.rv_total"], v["t4.ld_other"],
            v["t4.ld_total"], v["t4.la_total"]) == (1, 1, 2, 1, 1, 0)
    found = {(f.code, f.sheet, f.cell) for f in report.findings if f.code.startswith("reg-")}
    assert found == {("reg-duplicate-no", "复议诉讼案件登记", "A4"),
                     ("reg-field-invalid", "复议诉讼案件登记", "B5"),
                     ("reg-field-invalid", "复议诉讼案件登记", "C5"),
                     ("reg-count-mismatch", sheet, cell)}
    mismatch = next(f for f in report.findings if f.code == "reg-count-mismatch")
    assert "编号 K1" in mismatch.message and (mismatch.expected, mismatch.actual) == (1, 3)


def test_only_sheets_naming_every_required_column_are_searched_for_a_header() -> None:
    """The quick look before the search: a header row with marks (必填, *) still counts;
    a sheet lacking one required column anywhere in its first rows is passed over, and
    then :func:`find_header` could not have found a header there either."""
    from nianbao.register import find_header, may_hold, top_texts

    spec = application_register()
    labels = [f"{f.label}（必填）" if f.required else f.label for f in spec.fields]
    rows: list[list[object]] = [["申请登记表"], [], labels, ["2025-001", 3]]
    assert may_hold(spec, top_texts(rows)) and find_header(spec, rows) is not None
    first_required = next(f.label for f in spec.fields if f.required)
    short = [[v for v in row if not (isinstance(v, str) and v.startswith(first_required))]
             for row in rows]
    assert not may_hold(spec, top_texts(short)) and find_header(spec, short) is None
    below = [[], [], [], [], [], [], [], [], [], [], labels]  # header below the first rows
    assert not may_hold(spec, top_texts(below)) and find_header(spec, below) is None
    table3 = [["三、收到和处理政府信息公开申请情况"], ["本列数据的勾稽关系为", "自然人", "商业企业"]]
    assert not may_hold(spec, top_texts(table3))
