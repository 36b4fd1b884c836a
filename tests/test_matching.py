"""Matching returned files to roster units: metadata, names, fuzzy file names, pins."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from nianbao.matching import How, NameIndex, core, match_reports, pin_for, without_code
from nianbao.model import FileReport, Submission
from nianbao.roster import Roster, Unit

ROSTER = Roster(units=(
    Unit(code="D001", name="青山县教育局"),
    Unit(code="D002", name="青山县交通运输局", aliases=("交通局",)),
    Unit(code="D003", name="青山县市场监督管理局"),
    Unit(code="D004", name="青山县人力资源和社会保障局", aliases=("人社局",)),
    Unit(code="T001", name="青山县城关镇人民政府"),
    Unit(code="T002", name="青山县河口镇人民政府"),
))


def report(path: Path, *, code: str = "", agency: str = "", form_code: str | None = None,
           readable: bool = True) -> FileReport:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_bytes(b"")
    sub = Submission(agency=agency, code=code) if readable else None
    return FileReport(file=path, submission=sub, findings=(),
                      form_code=code if form_code is None else form_code)


@pytest.mark.parametrize(("name", "code"), [
    ("交通局年报(1).xlsx", "D002"),
    ("副本 教育局.xlsx", "D001"),
    ("县教育局2025年度政府信息公开年报填报表 - 副本.xlsx", "D001"),
    ("青山县市场监督管理局2025年报数据（2）.xlsx", "D003"),
    ("市场监管局.xlsx", "D003"),
    ("人社局年报.xlsx", "D004"),
    ("城关镇.xlsx", "T001"),
    ("河口镇政府信息公开年报.xlsx", "T002"),
], ids=lambda x: x)
def test_fuzzy_file_name_finds_the_unit(name, code):
    unit, score, _ = NameIndex.of(ROSTER).best(Path(name).stem)

    assert unit is not None and unit.code == code, score


@pytest.mark.parametrize("name", ["新建 Microsoft Excel 工作表", "附件2", "年报", "镇"])
def test_meaningless_file_names_match_nothing(name):
    assert NameIndex.of(ROSTER).best(name)[0] is None


def test_core_strips_place_years_copies_and_suffixes():
    places = ("青山县", "青山", "县")

    assert core("青山县交通运输局", places) == "交通运输"
    assert core("副本 2025年交通局年报（1）", places) == "交通"
    assert core("青山县城关镇人民政府", places) == "城关镇"


def test_match_order_metadata_then_name_then_file_name(tmp_path):
    reports = [
        report(tmp_path / "新建 Microsoft Excel 工作表.xlsx", code="D001", agency="青山县教育局"),
        report(tmp_path / "x.xlsx", agency="交通局"),  # no code, alias name
        report(tmp_path / "a" / "城关镇.xls", readable=False),  # unreadable: file name
        report(tmp_path / "y.xlsx", agency="青山县市场监管局"),  # fuzzy name
        report(tmp_path / "附件2.xlsx", readable=False),
    ]

    matching = match_reports(reports, ROSTER)

    assert {c: m[0].how for c, m in matching.by_unit.items()} == {
        "D001": How.CODE, "D002": How.NAME, "T001": How.FILE_NAME, "D003": How.FUZZY_NAME}
    assert [m.file.name for m in matching.unmatched] == ["附件2.xlsx"]


def test_copied_form_is_a_conflict_filed_under_no_unit(tmp_path):
    copied = report(tmp_path / "教育局年报.xlsx", code="D002", agency="青山县交通运输局")

    matching = match_reports([copied], ROSTER)

    assert matching.chosen("D002") is None and matching.chosen("D001") is None
    [conflict] = matching.conflicts
    assert [u.code for u in conflict.conflict_units] == ["D002", "D001"]
    assert conflict.conflict.startswith("文件名像 D001（青山县教育局），但表内隐藏的单位编码是 D002（青山县交通运输局）")
    assert '[pins] 中指定，如："教育局年报.xlsx" = "D002"' in conflict.conflict


def test_code_and_name_disagreeing_is_a_conflict_naming_both_units(tmp_path):
    odd = report(tmp_path / "a.xlsx", code="D002", agency="青山县教育局")

    matching = match_reports([odd], ROSTER)

    assert matching.by_unit == {}
    assert "单位全称填的是“青山县教育局”（名单中的 D001（青山县教育局））" in matching.conflicts[0].conflict
    assert {u.code for u in matching.conflicts_of("D001")[0].conflict_units} == {"D001", "D002"}


def test_a_units_own_consistent_file_is_never_displaced_by_a_borrowed_one(tmp_path):
    import os

    own = report(tmp_path / "交通局.xlsx", code="D002", agency="青山县交通运输局")
    borrowed = report(tmp_path / "教育局.xlsx", code="D002", agency="青山县教育局")  # newer
    os.utime(own.file, (1000, 1000))

    matching = match_reports([own, borrowed], ROSTER)

    assert matching.chosen("D002").file == own.file
    assert matching.chosen("D001") is None
    assert [m.file for m in matching.conflicts_of("D001")] == [borrowed.file]


def test_alias_in_the_form_gives_the_roster_name_and_a_warning(tmp_path):
    alias = report(tmp_path / "x.xlsx", agency="交通局")

    match = match_reports([alias], ROSTER).chosen("D002")

    assert match.report.submission.agency == "青山县交通运输局"
    assert [f.code for f in match.report.findings] == ["agency-alias"]
    assert "“交通局”" in match.report.findings[0].message


def test_newest_readable_file_counts(tmp_path):
    import os

    good = report(tmp_path / "交通局.xlsx", code="D002")
    newer_bad = report(tmp_path / "交通局.xls", code="D002", readable=False)
    os.utime(good.file, (1000, 1000))

    assert [m.file for m in match_reports([newer_bad, good], ROSTER).by_unit["D002"]] == [
        good.file, newer_bad.file]


@pytest.mark.parametrize("written", ["邮件1\\附件2.xlsx", "inputs/邮件1/附件2.xlsx",
                                     "./邮件1/附件2.xlsx", "邮件1/附件2.XLSX"])
def test_pins_accept_either_slash_and_unused_pins_are_reported(tmp_path, written):
    from nianbao.matching import case_insensitive

    inputs = tmp_path / "inputs"
    a = report(inputs / "邮件1" / "附件2.xlsx", readable=False)
    pins = {written: "T002", "不存在.xlsx": "D001"}

    matching = match_reports([a], ROSTER, pins=pins, base=inputs)

    if written.endswith("XLSX") and not case_insensitive(inputs):
        assert matching.chosen("T002") is None
        assert set(matching.unused_pins) == {written, "不存在.xlsx"}
    else:
        assert matching.chosen("T002").file == a.file
        assert matching.unused_pins == ("不存在.xlsx",)


def test_duplicates_newest_first(tmp_path):
    import os

    old = report(tmp_path / "old.xlsx", code="D001")
    new = report(tmp_path / "new.xlsx", code="D001")
    os.utime(old.file, (1000, 1000))

    matching = match_reports([old, new], ROSTER)

    assert [m.file.name for m in matching.by_unit["D001"]] == ["new.xlsx", "old.xlsx"]
    assert list(matching.duplicates) == ["D001"]


def test_off_roster_codes_and_names(tmp_path):
    reports = [report(tmp_path / "a.xlsx", code="BS017", agency="白水县审计局"),
               report(tmp_path / "b.xlsx", agency="白水县审计局")]

    matching = match_reports(reports, ROSTER)

    assert [m.off_roster for m in matching.off_roster] == [
        "表内单位编码“BS017”（白水县审计局）不在名单中。", "表内单位名称“白水县审计局”不在名单中。"]


def test_pins_by_relative_path_or_file_name(tmp_path):
    inputs = tmp_path / "inputs"
    a = report(inputs / "邮件1" / "附件2.xlsx", readable=False)
    b = report(inputs / "邮件2" / "附件2.xlsx", readable=False)
    pins = {"邮件1/附件2.xlsx": "T002", "附件2.xlsx": "D001", "zzz.xlsx": "NOPE"}
    c = report(inputs / "zzz.xlsx", readable=False)

    matching = match_reports([a, b, c], ROSTER, pins=pins, base=inputs)

    assert matching.chosen("T002").file == a.file
    assert matching.chosen("D001").file == b.file
    assert matching.off_roster[0].off_roster == "[pins] 指定的单位编码“NOPE”不在名单中。"
    assert pin_for(a.file, pins, None) == "D001"  # without a base only the name counts


def test_online_folder_pins_the_unit_whatever_the_workbook_says(tmp_path):
    inputs = tmp_path / "inputs"
    online = report(inputs / "online" / "D002" / "20260105-101010_0123abcd.xlsx",
                    code="D001", agency="青山县教育局")
    elsewhere = report(inputs / "other" / "D002" / "x.xlsx", code="D001", agency="青山县教育局")

    got = match_reports([online, elsewhere], ROSTER, base=inputs)

    assert [m.file for m in got.by_unit["D002"]] == [online.file]
    assert got.by_unit["D002"][0].how is How.PIN
    assert [m.file for m in got.by_unit["D001"]] == [elsewhere.file]


def test_indexed_name_search_answers_like_comparing_every_unit():
    """A province-sized roster is searched through a character index: same answers as brute force."""
    import random

    from nianbao.matching import SCAN_ALL, NameIndex
    from nianbao.roster import Roster, Unit

    rng = random.Random(5)
    pool = "青白临东安长永清平和新兴宁远河山阳城南北交通运输教育公安民政财政水利镇乡街道办事处局委"
    names = sorted({"".join(rng.choices(pool, k=rng.randint(3, 9))) + rng.choice(("局", "镇", ""))
                    for _ in range(SCAN_ALL * 2)})
    roster = Roster(units=tuple(Unit(code=f"P{i:04d}", name=n) for i, n in enumerate(names)))
    index = NameIndex.of(roster)
    brute = NameIndex(index.cores, index.places)  # no postings: compares every core
    assert index.postings and not brute.postings
    texts = [n[rng.randint(0, 2):] for n in rng.sample(names, 150)] + [
        "".join(rng.choices(pool, k=rng.randint(1, 8))) for _ in range(150)] + ["", "年报", "附件3"]
    for text in texts:
        got, want = index.best(text), brute.best(text)
        assert (got[0], got[2]) == (want[0], want[2]), text
        if want[0] is not None:  # below any threshold the score itself decides nothing
            assert got[1] == want[1]


def test_without_code_is_the_boundary_aware_replacement() -> None:
    """What matching used to do with one compiled pattern per unit code, exactly."""
    assert without_code("B0101_交通局", "B0101") == " _交通局"
    assert without_code("XB0101交通局B0101", "B0101") == "XB0101交通局 "
    assert without_code("B01011", "B0101") == "B01011"  # part of a longer code
    assert without_code("交通局", "") == "交通局"
    rng = random.Random(7)
    for _ in range(20_000):
        code = "".join(rng.choice("AB01") for _ in range(rng.randint(1, 3)))
        text = "".join(rng.choice("AB01_-交 x9") for _ in range(rng.randint(0, 12)))
        expected = re.sub(rf"(?<![0-9A-Za-z]){re.escape(code)}(?![0-9A-Za-z])", " ", text)
        assert without_code(text, code) == expected, (text, code)
