"""`nianbao register import`: an office's own register (.xlsx / .csv, GBK or UTF-8) into the form."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook

from nianbao.check import check_file
from nianbao.cli import main
from nianbao.intake import IntakeData, write_intake
from nianbao.register import APPLICATION_SHEET, RESULT_WORDING, application_register, parse_choice
from nianbao.register_import import import_register

D = dt.date
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
HEADER = ["序号", "申请编号", "申请人", "申请人类别", "申请日期", "申请内容", "答复时间", "处理结果",
          "备注"]


def office_xlsx(path: Path, rows: list[list[object]], *, title: bool = True) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "2025年台账"
    if title:
        ws.append(["某局2025年政府信息公开申请登记台账"])
    ws.append(HEADER)
    for row in rows:
        ws.append(row)
    ws.append([f"合计：共 {len(rows)} 件"])
    wb.save(path)
    return path


def blank_form(tmp_path: Path, name: str = "form.xlsx") -> Path:
    path = tmp_path / name
    write_intake(path, IntakeData(agency="测试局", code="T1", year=2025))
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


ROWS: list[list[object]] = [
    [1, "YS2025-001", "张秘密", "个人", D(2025, 3, 3), "征地补偿方案", D(2025, 3, 20), "予以公开", ""],
    [2, "YS2025-002", "某某有限公司", "企业", "2025/4/1", "规划许可", "2025年4月20日", "部分公开", ""],
    [3, "YS2024-099", "李隐私", "公民", D(2024, 12, 20), "环评批复", D(2025, 1, 10), "信息不存在", ""],
    [4, "YS2025-003", "王律师", "律师事务所", "2025-12-25", "预算", None, "办理中", ""],
    [5, "YS2025-004", "赵某", "个人", "20250506", "低保名单", "2025-05-08", "重复申请", ""],
]


def test_office_register_with_common_headers_is_counted_into_table_3(tmp_path: Path) -> None:
    source = office_xlsx(tmp_path / "台账.xlsx", ROWS)
    form = blank_form(tmp_path)
    before_source, before_form = digest(source), digest(form)
    out = tmp_path / "out.xlsx"

    result = import_register(source, form, out)

    assert result.ok and result.findings == ()
    assert digest(source) == before_source and digest(form) == before_form  # inputs untouched
    (table,) = result.tables
    assert (table.sheet, table.header_row, len(table.rows)) == ("2025年台账", 2, 5)
    assert table.columns["编号"] == "申请编号"  # the better name wins over 序号
    assert table.derived == {"source": 5, "carried": 1}
    report = check_file(out)
    assert [f.code for f in report.findings if f.code.startswith("reg-")] == []
    v = report.submission.values if report.submission else {}
    assert (v["t3.r1.total"], v["t3.r2.total"], v["t3.r4.total"]) == (4, 1, 1)
    assert (v["t3.r3_1.natural"], v["t3.r3_2.commercial"], v["t3.r3_4_1.natural"],
            v["t3.r3_5_2.natural"], v["t3.r4.legal"]) == (1, 1, 1, 1, 1)
    ws = load_workbook(out)[APPLICATION_SHEET]
    assert ws["A3"].value == "YS2025-001" and ws["D3"].value == "张秘密"  # kept for the office
    assert ws["F5"].value == "上年结转" and ws["N6"].value == "是"


def test_gbk_csv_with_unknown_values_names_file_row_and_column_and_writes_nothing(
        tmp_path: Path) -> None:
    lines = ["编号,受理日期,申请人姓名,申请人类型,处理结果,答复日期",
             "C1,2025-05-06,赵六,自然人,重复申请,2025-05-08",
             "C2,2025-05-07,钱七,个体户,公开吧,2025-05-08",
             "C3,三月五号,孙八,自然人,予以公开,2025-05-08",
             ",2025-05-09,周九,自然人,予以公开,2025-05-10"]
    source = tmp_path / "台账.csv"
    source.write_bytes("\r\n".join(lines).encode("gbk"))
    form = blank_form(tmp_path)
    before = digest(form)

    result = import_register(source, form)

    assert not result.ok and result.written is None
    assert digest(form) == before
    got = {(f.code, f.cell) for f in result.findings}
    assert got == {("reg-import-unknown", "D3"), ("reg-import-unknown", "E3"),
                   ("reg-import-unknown", "B4"), ("reg-import-unknown", "A5")}
    message = next(f.message for f in result.findings if f.cell == "E3")
    assert "台账.csv" in message and "第 3 行" in message and "E 列（处理结果）" in message
    assert "公开吧" in message
    assert not any("钱七" in f.message or "赵六" in f.message for f in result.findings)


def test_utf8_csv_with_source_and_carried_columns_is_taken_as_written(tmp_path: Path) -> None:
    lines = ["登记编号;收到申请日期;申请主体类型;来源;答复结果;办结日期;延期;是否结转",
             "A1;2024-12-30;科研院所;上年结转;不予公开（国家秘密）;2025-01-06;否;否",
             "A2;2025-12-29;社会组织;新收;;;;是",
             "A3;2025-06-02;其他组织;本年新收;逾期未补正;2025-06-30;是;否"]
    source = tmp_path / "register.csv"
    source.write_text("\ufeff" + "\n".join(lines), "utf-8")
    out = tmp_path / "out.xlsx"

    result = import_register(source, blank_form(tmp_path), out)

    assert result.ok, result.findings
    assert result.tables[0].derived == {}
    v = check_file(out).submission.values  # type: ignore[union-attr]
    assert (v["t3.r2.research"], v["t3.r3_3_1.research"], v["t3.r4.social"],
            v["t3.r3_6_1.other"]) == (1, 1, 1, 1)


def test_existing_register_rows_are_replaced_only_when_asked(tmp_path: Path) -> None:
    source = office_xlsx(tmp_path / "台账.xlsx", ROWS)
    form = blank_form(tmp_path)
    assert import_register(source, form).ok  # in place: the form gains its register
    smaller = office_xlsx(tmp_path / "台账2.xlsx", ROWS[:2], title=False)
    before = digest(form)

    refused = import_register(smaller, form)
    replaced = import_register(smaller, form, replace=True)

    assert not refused.ok and [f.code for f in refused.findings] == ["reg-import-form"]
    assert "已经登记了 5 行" in refused.findings[0].message and "--replace" in refused.findings[0].message
    assert digest(form) != before and replaced.ok and replaced.replaced == 5
    v = check_file(form).submission.values  # type: ignore[union-attr]
    assert v["t3.r1.total"] == 2 and v["t3.r4.total"] == 0


def test_only_a_nianbao_form_receives_a_register(tmp_path: Path) -> None:
    source = office_xlsx(tmp_path / "台账.xlsx", ROWS)
    other = office_xlsx(tmp_path / "别的表.xlsx", ROWS)
    nothing = tmp_path / "空.csv"
    nothing.write_text("甲,乙\n1,2\n", "utf-8")

    wrong_target = import_register(source, other, tmp_path / "o.xlsx")
    no_header = import_register(nothing, blank_form(tmp_path), tmp_path / "o.xlsx")

    assert [f.code for f in wrong_target.findings] == ["reg-import-form"]
    assert [f.code for f in no_header.findings] == ["reg-import-no-header"]
    assert not (tmp_path / "o.xlsx").exists()


def test_every_common_result_wording_maps_to_its_row() -> None:
    reg = application_register()
    for row_id, wordings in RESULT_WORDING.items():
        for text in wordings:
            assert parse_choice(reg, "result", text, strict=False) == row_id, text
    assert parse_choice(reg, "result", "予以公开", strict=True) is None  # the form is strict


def test_cli_register_import_exit_codes_and_lines(tmp_path: Path) -> None:
    source = office_xlsx(tmp_path / "台账.xlsx", ROWS)
    form = blank_form(tmp_path)
    runner = CliRunner()

    ok = runner.invoke(main, ["register", "import", str(source), "--into", str(form),
                              "-o", str(tmp_path / "new.xlsx")])
    again = runner.invoke(main, ["register", "import", str(source), "--into",
                                 str(tmp_path / "new.xlsx")])
    onto_source = runner.invoke(main, ["register", "import", str(source), "--into", str(form),
                                       "-o", str(source)])

    assert ok.exit_code == 0, ok.output
    assert "导入 5 行" in ok.stdout and "1 行尚未办结，已标记结转下年度" in ok.stdout
    assert "台账校验通过" in ok.stdout
    assert again.exit_code == 1 and "reg-import-form" in again.stdout
    assert onto_source.exit_code == 2


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_an_old_xls_register_saved_by_libreoffice_imports_the_same(tmp_path: Path) -> None:
    source = office_xlsx(tmp_path / "台账.xlsx", ROWS)
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([str(SOFFICE), f"-env:UserInstallation=file://{profile}", "--headless",
                        "--norestore", "--convert-to", "xls", "--outdir", str(tmp_path / "xls"),
                        str(source)], check=True, capture_output=True, timeout=300)
    xls = tmp_path / "xls" / "台账.xls"

    from_xlsx = import_register(source, blank_form(tmp_path, "a.xlsx"), tmp_path / "a-out.xlsx")
    from_xls = import_register(xls, blank_form(tmp_path, "b.xlsx"), tmp_path / "b-out.xlsx")

    assert from_xls.ok, from_xls.findings
    assert from_xls.tables[0].rows == from_xlsx.tables[0].rows
    assert from_xls.report and from_xlsx.report and from_xls.report.submission \
        and from_xlsx.report.submission
    assert from_xls.report.submission.values == from_xlsx.report.submission.values
