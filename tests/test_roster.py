"""The roster: header variants, CSV encodings, aliases, and every bad row named."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from nianbao.cli import main
from nianbao.roster import RosterError, intake_level, read_roster


def write_csv(path: Path, text: str, encoding: str = "utf-8-sig") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_roster_reads_csv_with_header_variants_and_aliases(tmp_path):
    path = write_csv(tmp_path / "名单.csv",
                     "编码,单位名称,简称,级别,联系人,电话\n"
                     "D001,青山县交通运输局,交通局；县交通局、交通,县级部门,李四,123\n"
                     "\n"
                     "T001,青山县城关镇人民政府,,乡镇,,\n")

    roster = read_roster(path)

    assert [u.code for u in roster] == ["D001", "T001"]
    assert roster.units[0].aliases == ("交通局", "县交通局", "交通")
    assert roster.by_name("县交通局") is roster.units[0]
    assert roster.by_name(" 青山县 交通运输局") is roster.units[0]
    assert roster.by_code("d001") is roster.units[0]
    assert roster.levels == ("县级部门", "乡镇")


def test_roster_reads_gbk_csv_saved_by_excel(tmp_path):
    path = write_csv(tmp_path / "名单.csv", "单位编码,单位全称\nD001,青山县教育局\n", "gbk")

    assert read_roster(path).units[0].name == "青山县教育局"


def test_roster_numeric_codes_from_xlsx_keep_their_digits(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["单位编码", "单位全称"])
    wb.active.append([1001, "青山县教育局"])
    wb.save(tmp_path / "r.xlsx")

    assert read_roster(tmp_path / "r.xlsx").units[0].code == "1001"


def test_roster_lists_every_bad_row_with_file_and_row(tmp_path):
    path = write_csv(tmp_path / "名单.csv",
                     "单位编码,单位全称,别名\n"
                     "D001,青山县教育局,教育局\n"
                     ",青山县公安局,\n"
                     "D003,,\n"
                     "D001,青山县民政局,\n"
                     "D005,青山县教育分局,教育局\n"
                     "D/6,青山县财政局,\n")

    with pytest.raises(RosterError) as info:
        read_roster(path)

    problems = info.value.problems
    assert "第 3 行：缺少单位编码（单位：青山县公安局）。" in problems
    assert "第 4 行：缺少单位全称（编码：D003）。" in problems
    assert "第 5 行：单位编码“D001”与第 2 行（青山县教育局）重复。" in problems
    assert any(p.startswith("第 6 行：名称“教育局”与第 2 行") for p in problems)
    assert any(p.startswith("第 7 行：单位编码“D/6”") for p in problems)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("text", ["名称,联系人\n教育局,张三\n", ""], ids=["no-code-column", "empty"])
def test_roster_without_a_header_is_refused(tmp_path, text):
    with pytest.raises(RosterError, match="找不到表头"):
        read_roster(write_csv(tmp_path / "r.csv", text))


def test_roster_other_formats_are_refused(tmp_path):
    (tmp_path / "r.xls").write_bytes(b"\xd0\xcf\x11\xe0")

    with pytest.raises(RosterError, match="另存为 .xlsx"):
        read_roster(tmp_path / "r.xls")


def test_intake_level_maps_common_roster_levels():
    assert intake_level("乡镇") == "乡镇（街道）"
    assert intake_level("县级部门") == "县级部门"
    assert intake_level("事业单位") == "事业单位"


def test_init_with_a_bad_roster_exits_3_and_writes_nothing(tmp_path, runner):
    roster = write_csv(tmp_path / "名单.csv", "单位编码,单位全称\nD001,\n")

    result = runner.invoke(main, ["init", str(tmp_path / "ws"), "--year", "2025",
                                  "--roster", str(roster)])

    assert result.exit_code == 3
    assert "名单.csv" in result.stderr and "第 2 行：缺少单位全称" in result.stderr
    assert not (tmp_path / "ws").exists()


def test_init_force_keeps_inputs_and_backs_up_the_config(tmp_path, runner):
    roster = write_csv(tmp_path / "名单.csv", "单位编码,单位全称,层级\nD001,青山县教育局,县级部门\n"
                                              "D002,青山县公安局,县级部门\n")
    ws = tmp_path / "ws"
    runner.invoke(main, ["init", str(ws), "--year", "2025", "--roster", str(roster)])
    (ws / "inputs" / "a.xlsx").write_bytes(b"x")

    result = runner.invoke(main, ["init", str(ws), "--year", "2025", "--roster", str(roster),
                                  "--force"])

    assert result.exit_code == 0, result.output
    assert (ws / "inputs" / "a.xlsx").read_bytes() == b"x"
    assert (ws / "nianbao.toml.bak").is_file()
    assert sorted(p.name for p in (ws / "forms").iterdir()) == [
        "D001_青山县教育局_2025年政府信息公开年报填报表.xlsx",
        "D002_青山县公安局_2025年政府信息公开年报填报表.xlsx"]


def test_run_with_a_missing_template_is_a_tool_failure(tmp_path, runner):
    roster = write_csv(tmp_path / "名单.csv", "单位编码,单位全称\nD001,青山县教育局\n")
    ws = tmp_path / "ws"
    runner.invoke(main, ["init", str(ws), "--year", "2025", "--roster", str(roster)])
    toml = ws / "nianbao.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        'template = "templates/report.docx"', 'template = "templates/没有这个.docx"'), encoding="utf-8")

    result = runner.invoke(main, ["run", "-w", str(ws)])

    assert result.exit_code == 3
    assert "找不到 Word 模板" in result.stderr
    log = next((ws / "outputs" / "logs").glob("run-*.log")).read_text(encoding="utf-8")
    assert "[错误] 运行失败" in log


def test_cycle_commands_outside_a_workspace_are_usage_errors(tmp_path, runner):
    result = runner.invoke(main, ["status", "-w", str(tmp_path)])

    assert result.exit_code == 2 and "不是 nianbao 工作区" in result.stderr


@pytest.mark.parametrize("agency,contact,phone", [
    ("青山县交通运输局", "李四", "0373-1234567"),
    ("青山县A&B<局>“测试”", "", ""),  # XML-special characters, empty fields (other fills)
    (" 青山县教育局", "王五", ""),  # an edge space: written by openpyxl itself
])
def test_stamped_forms_read_like_forms_written_one_by_one(tmp_path, agency, contact, phone):
    import dataclasses
    import zipfile
    from xml.etree.ElementTree import canonicalize

    from nianbao.check import check_file
    from nianbao.intake import IntakeData, write_intake
    from nianbao.workspace import FormStamp

    data = IntakeData(agency=agency, code="D007", year=2025, level="乡镇", contact=contact,
                      phone=phone)
    stamp = FormStamp(year=2025)
    stamp.write(tmp_path / "other.xlsx", IntakeData(agency="青山县公安局", code="D001", year=2025,
                                                    level="乡镇", contact="甲", phone="1"))
    stamped = stamp.write(tmp_path / "stamped.xlsx", data)
    direct = write_intake(tmp_path / "direct.xlsx", data)

    a, b = check_file(stamped), check_file(direct)
    assert a.submission is not None and b.submission is not None
    assert dataclasses.replace(a.submission, source=None) == dataclasses.replace(b.submission,
                                                                                 source=None)
    assert a.form_code == b.form_code == "D007"
    assert [f.code for f in a.findings] == [f.code for f in b.findings]
    with zipfile.ZipFile(stamped) as s, zipfile.ZipFile(direct) as d:
        assert s.namelist() == d.namelist()
        for name in s.namelist():
            if name.endswith(".xml") and name != "docProps/core.xml":  # core: creation time
                assert canonicalize(s.read(name).decode()) == canonicalize(d.read(name).decode())


def _xlsx_roster(path: Path) -> Path:
    """A roster as coordinators keep one: a title row, the table from B3, a numeric code,
    a phone typed as a number, a blank line."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws["A1"] = "2025年度政府信息公开工作年度报告报送单位名单"
    ws.append([])
    ws.append([None, "单位编码", "单位全称", "别名", "联系电话"])
    ws.append([None, 1001, "青山县教育局", "教育局、县教育局", 13800000000])
    ws.append([])
    ws.append([None, "T002", "青山县城关镇人民政府", None, "0571-1234"])
    wb.save(path)
    return path


def _expect_units(path: Path) -> None:
    roster = read_roster(path)
    assert [(u.code, u.name, u.aliases, u.phone, u.row) for u in roster] == [
        ("1001", "青山县教育局", ("教育局", "县教育局"), "13800000000", 4),
        ("T002", "青山县城关镇人民政府", (), "0571-1234", 6)]


def test_roster_xlsx_is_read_from_its_header_wherever_it_starts(tmp_path):
    _expect_units(_xlsx_roster(tmp_path / "名单.xlsx"))


@pytest.mark.skipif(not (shutil.which("soffice") or shutil.which("libreoffice")),
                    reason="LibreOffice is not installed")
def test_roster_saved_by_libreoffice_reads_the_same(tmp_path):
    (tmp_path / "源").mkdir()
    source = _xlsx_roster(tmp_path / "源" / "名单.xlsx")
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    out = tmp_path / "lo"
    subprocess.run([str(soffice), f"-env:UserInstallation=file://{tmp_path / 'profile'}",
                    "--headless", "--convert-to", "xlsx:Calc MS Excel 2007 XML",
                    "--outdir", str(out), str(source)],
                   check=True, capture_output=True, timeout=120)

    _expect_units(out / "名单.xlsx")


def test_roster_with_content_far_outside_the_list_is_refused_naming_the_cell(tmp_path):
    """A stray value in the sheet's last cell would make the spreadsheet library build a
    table of 17 billion cells; the roster names the cell instead."""
    path = _xlsx_roster(tmp_path / "名单.xlsx")
    from openpyxl import load_workbook

    wb = load_workbook(path)
    wb.active["XFD1048576"] = "x"
    wb.save(path)
    before = path.read_bytes()

    with pytest.raises(RosterError) as info:
        read_roster(path)

    assert info.value.problems == (
        "第一张工作表的 XFD1048576 单元格有内容，超出名单的范围（最多 200000 行、200 列）；"
        "请删除名单以外的内容后再试。",)
    assert path.read_bytes() == before


def test_roster_that_is_not_a_workbook_says_so(tmp_path):
    path = tmp_path / "名单.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")

    with pytest.raises(RosterError, match="无法打开名单文件.*请确认是 .xlsx 格式") as caught:
        read_roster(path)
    assert "BadZipFile" not in str(caught.value) and "Error" not in str(caught.value)


def test_roster_whose_sheet_unpacks_too_large_is_refused(tmp_path, monkeypatch):
    from nianbao import package

    path = _xlsx_roster(tmp_path / "名单.xlsx")
    monkeypatch.setattr(package, "FIRST_SHEET_MAX_BYTES", 1024)  # the sheet is ~1.3 KB

    with pytest.raises(RosterError) as info:
        read_roster(path)

    (problem,) = info.value.problems
    assert problem.startswith("第一张工作表解压后超过 ") and problem.endswith("请只保留名单本身后再试。")
