"""Last year's data: loading from a folder, a workspace or a 汇总; the cross-year findings."""

from __future__ import annotations

import dataclasses
import random

from nianbao.aggregate import MemberRow, aggregate, write_summary_workbook
from nianbao.intake import intake_from, write_intake
from nianbao.model import Severity
from nianbao.previous import cross_year_findings, load_previous
from nianbao.roster import Unit
from nianbao.settings import Settings
from nianbao.synth import random_submission


def sub(seed, **kw):
    return dataclasses.replace(random_submission(random.Random(seed), index=seed), **kw)


def carried_from(this, last, shift=0):
    values = dict(last.values)
    for col in ("natural", "commercial", "research", "social", "legal", "other"):
        values[f"t3.r4.{col}"] = this.values[f"t3.r2.{col}"] + (shift if col == "legal" else 0)
    values["t2_1.normative.in_force"] = (this.values["t2_1.normative.in_force"]
                                         - this.values["t2_1.normative.issued"]
                                         + this.values["t2_1.normative.repealed"])
    return dataclasses.replace(last, values=values)


def test_consistent_years_give_no_findings():
    this = sub(1, year=2025)
    last = carried_from(this, sub(2, year=2024))

    assert cross_year_findings(this, last) == []


def test_carryover_mismatch_is_a_warning_or_an_error_by_setting(tmp_path):
    this = sub(1, year=2025)
    last = carried_from(this, sub(2, year=2024, source=tmp_path / "去年.xlsx"), shift=2)

    soft = cross_year_findings(this, last)
    hard = cross_year_findings(this, last, settings=Settings(carryover_error=True))

    assert [(f.code, f.severity, f.cell) for f in soft] == [
        ("xyear-carryover", Severity.WARNING, "H7")]
    assert hard[0].severity is Severity.ERROR
    now = this.values["t3.r2.legal"]
    assert soft[0].expected == now + 2 and soft[0].actual == now
    assert f"“法律服务机构”列为 {now}，但2024年报表“四、结转下年度继续办理”为 {now + 2}" \
        in soft[0].message
    assert "上年文件：去年.xlsx" in soft[0].message
    assert soft[0].related == ("2024年:去年.xlsx:表三 依申请公开!H30",)


def test_in_force_mismatch_is_a_warning():
    this = sub(1, year=2025)
    last = carried_from(this, sub(2, year=2024))
    values = dict(last.values)
    values["t2_1.normative.in_force"] += 5
    last = dataclasses.replace(last, values=values)

    findings = cross_year_findings(this, last)

    assert [(f.code, f.severity, f.key) for f in findings] == [
        ("xyear-in-force", Severity.WARNING, "t2_1.normative.in_force")]
    assert findings[0].expected == this.values["t2_1.normative.in_force"] + 5


def test_load_previous_from_a_folder_finds_units_by_code_then_name(tmp_path):
    a = sub(1, year=2024, code="D001", agency="青山县教育局")
    b = sub(2, year=2024, code="", agency="青山县公安局")
    write_intake(tmp_path / "a.xlsx", intake_from(a))
    write_intake(tmp_path / "sub" / "b.xlsx", intake_from(b))

    prev = load_previous(tmp_path)

    assert prev.find("D001", ()).agency == "青山县教育局"
    assert prev.find("X", ("青山县公安局",)).values == b.values
    assert prev.find("X", ("别的单位",)) is None and prev.summary is None


def test_load_previous_from_a_summary_workbook(tmp_path):
    members = [sub(i, year=2024) for i in range(3)]
    total = aggregate(members, agency="青山县人民政府", year=2024)
    path = write_summary_workbook(tmp_path / "汇总.xlsx", total,
                                  [MemberRow(unit=Unit(code=f"D{i}", name=m.agency), submission=m)
                                   for i, m in enumerate(members)])

    prev = load_previous(path)

    assert prev.summary is not None and prev.summary.values == total.values
    assert prev.summary.agency == "青山县人民政府"


def test_cross_year_finding_points_at_the_cell_the_agency_used(tmp_path):
    from openpyxl import load_workbook

    from nianbao.check import check_file

    this = sub(1, year=2025)
    last = carried_from(this, sub(2, year=2024), shift=2)
    path = tmp_path / "本年.xlsx"
    write_intake(path, intake_from(this))
    wb = load_workbook(path)
    wb["表三 依申请公开"].insert_rows(3, 2)  # two note rows above the table
    wb.save(path)
    report = check_file(path)

    found = cross_year_findings(report.submission, last, positions=report.positions)

    assert [(f.code, f.sheet, f.cell) for f in found] == [
        ("xyear-carryover", "表三 依申请公开", "H9")]
