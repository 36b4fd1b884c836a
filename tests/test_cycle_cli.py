"""End to end through the CLI: a 50-unit county, 45 messy returned files, status, 汇总, run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from cyclekit import YEAR, anonymous, county_rows, submission, write_form, write_roster_xlsx
from openpyxl import load_workbook

from nianbao.aggregate import MEMBERS_SHEET, aggregate, check_aggregate
from nianbao.check import check_file
from nianbao.cli import main
from nianbao.intake import write_intake
from nianbao.reader import read_workbook
from nianbao.schema import GB2021

ROWS = county_rows()
PATTERNS = ("{short}年报(1).xlsx", "副本 {short}.xlsx", "{name}2025年报数据.xlsx",
            "{code}_{name}_2025年政府信息公开年报填报表.xlsx", "邮件{i}/新建 Microsoft Excel 工作表.xlsx",
            "政务网/{i}/附件2.xlsx", "{short}（2）.xlsx", "县{short}2025年度政府信息公开年报填报表 - 副本.xlsx")
ERRORS = {10: {"t3.r4.natural": 999}, 11: {"t3.r1.commercial": "abc"},
          12: {"t2_1.normative.issued": -1}}
WARNINGS = {13: {"t2_6.coercion.decisions": None}, 14: {"t2_6.penalty.decisions": None}}
UNREADABLE = 15
DUPLICATE = 9  # 交通运输局 sends a second, newer file
COPIED = {40: "微信/教育局年报.xlsx", 41: "微信/公安局-年报.xlsx"}  # metadata of 40/41, names of 0/1
MISSING = [r.code for r in ROWS[42:]]


def invoke(runner, *args: object):
    return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    """A workspace made by ``nianbao init`` with 45 returned files in inputs/."""
    from click.testing import CliRunner

    base = tmp_path_factory.mktemp("county")
    roster = write_roster_xlsx(base / "名单.xlsx", ROWS)
    ws = base / "2025年报"
    result = CliRunner().invoke(main, ["init", str(ws), "--year", str(YEAR), "--roster", str(roster)])
    assert result.exit_code == 0, result.output
    inputs = ws / "inputs"
    old = time.time() - 3600
    for i, row in enumerate(ROWS[:40]):
        name = PATTERNS[i % len(PATTERNS)].format(short=row.short, name=row.name, code=row.code, i=i)
        if i == UNREADABLE:
            (inputs / f"{row.short}年报.xls").write_bytes(b"not a workbook at all")
            continue
        edits = ERRORS.get(i) or WARNINGS.get(i)
        write_form(inputs / name, submission(row, i), edits=edits, mtime=old)
    write_form(inputs / "交通局年报(1).xlsx", submission(ROWS[DUPLICATE], 999))  # newer
    for i, name in COPIED.items():
        write_form(inputs / name, submission(ROWS[i], i), mtime=old)
    off = submission(ROWS[16], 77)
    write_form(inputs / "白水县审计局年报.xlsx",
               off.__class__(**{**{f: getattr(off, f) for f in off.__slots__},
                                "agency": "白水县审计局", "code": "BS017"}))
    write_intake(inputs / "附件3.xlsx", anonymous(submission(ROWS[44], 44)))
    return ws


def status_json(runner, ws: Path, *extra: object) -> dict:
    result = invoke(runner, "status", "-w", ws, "--json", *extra)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def test_init_writes_config_folders_and_one_form_per_unit(county):
    forms = sorted((county / "forms").glob("*.xlsx"))

    report = check_file(county / "forms" / f"QS010_青山县交通运输局_{YEAR}年政府信息公开年报填报表.xlsx")

    assert len(forms) == 50
    assert (county / "nianbao.toml").is_file() and (county / "inputs").is_dir()
    assert report.form_code == "QS010"
    assert report.submission.agency == "青山县交通运输局" and report.submission.year == YEAR
    assert report.submission.level == "县级部门"


def test_init_refuses_an_existing_workspace(county, runner):
    result = invoke(runner, "init", county, "--year", YEAR, "--roster", county / "单位名单.xlsx")

    assert result.exit_code == 3
    assert "已经是一个 nianbao 工作区" in result.stderr


def test_status_counts_every_state(county, runner):
    data = status_json(runner, county)

    assert data["counts"] == {"未报送": 8, "空表": 0, "无法读取": 1, "归属冲突": 2, "数据有误": 3,
                              "有警告": 2, "已通过": 34, "已生成": 0}
    assert [u["code"] for u in data["units"] if u["state"] == "未报送"] == MISSING
    assert data["all_good"] is False


def test_status_matches_messy_names_by_metadata_and_names(county, runner):
    units = {u["code"]: u for u in status_json(runner, county)["units"]}

    assert units["QS005"]["file"] == "inputs/邮件4/新建 Microsoft Excel 工作表.xlsx"
    assert units["QS005"]["matched_by"] == "code"
    assert units["QS016"]["file"] == "inputs/退役军人事务局年报.xls"
    assert units["QS016"]["matched_by"] == "file-name" and units["QS016"]["state"] == "无法读取"
    assert units["QS011"]["label"] == "数据有误（2 个错误）"  # 自然人 and 总计 columns
    assert units["QS012"]["label"] == "数据有误（1 个错误）"


def test_status_reports_duplicates_conflicts_and_unknown_files(county, runner):
    data = status_json(runner, county)
    units = {u["code"]: u for u in data["units"]}

    assert data["duplicates"] == {"QS010": ["inputs/交通局年报(1).xlsx", "inputs/副本 交通运输局.xlsx"]}
    assert units["QS010"]["file"] == "inputs/交通局年报(1).xlsx"  # newest counts
    conflicts = {c["file"]: c for c in data["conflicts"]}
    assert set(conflicts) == {"inputs/微信/教育局年报.xlsx", "inputs/微信/公安局-年报.xlsx"}
    assert "文件名像 QS001（青山县教育局）" in conflicts["inputs/微信/教育局年报.xlsx"]["message"]
    assert conflicts["inputs/微信/教育局年报.xlsx"]["codes"] == ["QS041", "QS001"]
    assert units["QS041"]["state"] == "归属冲突"  # a copied form counts for nobody …
    assert units["QS001"]["state"] == "已通过"  # … and never displaces the unit's own file
    assert [x["file"] for x in data["off_roster"]] == ["inputs/白水县审计局年报.xlsx"]
    assert "BS017" in data["off_roster"][0]["reason"]
    assert [x["file"] for x in data["unmatched"]] == ["inputs/附件3.xlsx"]


def test_status_text_has_one_line_per_unit_and_totals(county, runner):
    result = invoke(runner, "status", "-w", county)

    lines = result.stdout.splitlines()
    assert result.exit_code == 1
    assert sum(1 for line in lines if line.startswith("QS")) == 50
    assert any(line.startswith("QS012") and "数据有误（1 个错误）" in line for line in lines)
    assert ("共 50 个单位：未报送 8，空表 0，无法读取 1，归属冲突 2，数据有误 3，有警告 2，已通过 34，已生成 0"
            in result.stdout)
    assert "未识别：inputs/附件3.xlsx" in result.stdout


def test_status_xlsx_html_feedback_and_reminder(county, runner):
    invoke(runner, "status", "-w", county, "-q")
    out = county / "outputs"

    wb = load_workbook(out / "status.xlsx")
    units, findings = wb["各单位状态"], wb["问题明细"]
    rows = [r for r in units.iter_rows(min_row=2, values_only=True) if r[0]]
    detail = list(findings.iter_rows(min_row=2, values_only=True))
    html = (out / "status.html").read_text(encoding="utf-8")
    feedback = (out / "feedback" / "QS012_青山县农业农村局.txt").read_text(encoding="utf-8")
    reminder = (out / "催报名单.txt").read_text(encoding="utf-8")

    assert [r[0] for r in rows][:50] == [r.code for r in ROWS]
    assert rows[11][3] == "数据有误（1 个错误）" and rows[11][6] == 1
    assert units.auto_filter.ref and findings.auto_filter.ref
    assert ("QS012", "表三 依申请公开", "E6") in [(d[0], d[3], d[4]) for d in detail]
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html
    assert "青山县农业农村局" in html and "数据有误（1 个错误）" in html
    assert "【表三 依申请公开 E6】" in feedback and "有 1 处错误需要修改" in feedback
    assert all(ROWS[i].name in reminder for i in range(42, 50))
    assert ROWS[0].name not in reminder


def test_pin_assigns_an_unidentified_file(county, runner):
    toml = county / "nianbao.toml"
    original = toml.read_text(encoding="utf-8")
    toml.write_text(original + '"附件3.xlsx" = "QS045"\n', encoding="utf-8")
    try:
        data = status_json(runner, county)
    finally:
        toml.write_text(original, encoding="utf-8")

    unit = next(u for u in data["units"] if u["code"] == "QS045")
    assert unit["matched_by"] == "pin"
    assert unit["state"] == "数据有误"  # assigned, but the form still lacks 单位全称 (agency-missing)
    assert data["unmatched"] == [] and data["counts"]["未报送"] == 7


def test_summary_is_the_cell_by_cell_sum_and_passes_the_checks(county, runner):
    result = invoke(runner, "summary", "-w", county, "--json")
    data = json.loads(result.stdout)
    status = status_json(runner, county)
    included = [u for u in status["units"] if u["state"] in ("有警告", "已通过", "已生成")]
    members = [check_file(county / u["file"]).submission for u in included]
    summary = read_workbook(county / data["workbook"]).submission

    assert result.exit_code == 1  # 8 units missing, 4 not usable: not all included
    # the 2 copied forms count for nobody: 归属冲突, excluded
    assert data["included"] == [u["code"] for u in included] and len(included) == 36
    assert len(data["excluded"]) == 14
    assert {x["code"]: x["reason"] for x in data["excluded"]}["QS041"] == "归属冲突"
    for key, cell in GB2021.cells.items():
        expected = sum((m.values[key] for m in members),
                       Decimal(0) if cell.type == "amount" else 0)
        assert summary.values[key] == expected, key
    assert isinstance(summary.values["t2_8.fees.amount"], Decimal)
    assert not [f for f in data["findings"] if f["severity"] == "error"]
    assert not [f for f in check_aggregate(aggregate(members, year=YEAR)) if f.severity == "error"]
    assert data["report"] and (county / data["report"]).is_file()


def test_summary_workbook_lists_units_and_key_figures(county, runner):
    data = json.loads(invoke(runner, "summary", "-w", county, "--json", "--no-report").stdout)

    ws = load_workbook(county / data["workbook"])[MEMBERS_SHEET]
    values = list(ws.iter_rows(values_only=True))

    assert values[1][:5] == ("序号", "单位编码", "单位名称", "层级", "报送文件")
    assert "本年新收申请" in values[1] and "收费金额（万元）" in values[1]
    assert values[2][1] == "QS001"
    total = next(v for v in values if v[2] and str(v[2]).startswith("合计"))
    assert total[5] == data["figures"]["本年新收申请"]
    assert data["report"] is None


def test_summary_scope_by_level_and_unknown_scope(county, runner):
    towns = json.loads(invoke(runner, "summary", "-w", county, "--json", "--no-report",
                              "--scope", "乡镇").stdout)
    bad = invoke(runner, "summary", "-w", county, "--scope", "不存在的层级")

    assert {c for c in towns["included"]} <= {r.code for r in ROWS if r.level == "乡镇"}
    assert len(towns["included"]) + len(towns["excluded"]) == 22
    assert bad.exit_code == 2 and "不存在的层级" in bad.stderr


@pytest.fixture(scope="module")
def last_year(county, tmp_path_factory):
    """Last year's workbooks for two units: QS003 consistent, QS004 with 上年结转 ≠ 结转下年度."""
    folder = tmp_path_factory.mktemp("prev")
    for i, shift in ((2, 0), (3, 3)):
        this = check_file(next((county / "inputs").rglob(
            PATTERNS[i % len(PATTERNS)].format(short=ROWS[i].short, name=ROWS[i].name,
                                               code=ROWS[i].code, i=i)))).submission
        last = submission(ROWS[i], 500 + i, year=YEAR - 1)
        values = dict(last.values)
        for col in ("natural", "commercial", "research", "social", "legal", "other"):
            values[f"t3.r4.{col}"] = this.values[f"t3.r2.{col}"] + (shift if col == "natural" else 0)
        for row in ("rules", "normative"):
            values[f"t2_1.{row}.in_force"] = (this.values[f"t2_1.{row}.in_force"]
                                              - this.values[f"t2_1.{row}.issued"]
                                              + this.values[f"t2_1.{row}.repealed"])
        write_form(folder / f"{ROWS[i].short}2024.xlsx",
                   last.__class__(**{**{f: getattr(last, f) for f in last.__slots__},
                                     "values": values}))
    return folder


def test_previous_year_carryover_mismatch_names_both_values(county, runner, last_year):
    units = {u["code"]: u for u in status_json(runner, county, "--previous", last_year)["units"]}
    report = json.loads(invoke(runner, "check", "--json", county / "inputs").stdout)  # unchanged
    strict = {u["code"]: u for u in status_json(runner, county, "--previous", last_year,
                                                "--carryover-error")["units"]}
    feedback = (county / "outputs" / "feedback" / "QS004_青山县司法局.txt").read_text("utf-8")

    assert units["QS003"]["state"] == "已通过"
    assert units["QS004"]["state"] == "有警告" and units["QS004"]["warnings"] == 1
    assert strict["QS004"]["state"] == "数据有误"
    assert "上年结转" in feedback and "2024年" in feedback and "司法局2024.xlsx" in feedback
    assert "xyear" not in json.dumps(report, ensure_ascii=False)


def test_previous_year_finding_is_anchored_on_this_years_cell(county, last_year):
    from nianbao.config import load_config
    from nianbao.runner import gather

    config = load_config(county).override(previous=last_year)
    match = gather(config).matching.chosen("QS004")
    finding = next(f for f in match.report.findings if f.code == "xyear-carryover")
    this = match.report.submission.values["t3.r2.natural"]

    assert (finding.sheet, finding.cell, finding.key) == ("表三 依申请公开", "D7", "t3.r2.natural")
    assert finding.actual == this and finding.expected == this + 3
    assert f"为 {this}" in finding.message and f"为 {this + 3}" in finding.message


def test_run_checks_builds_and_writes_everything_without_a_terminal(county, runner):
    result = invoke(runner, "run", "-w", county, "-j", "2")
    data = status_json(runner, county)
    logs = sorted((county / "outputs" / "logs").glob("run-*.log"), key=lambda p: p.stat().st_mtime_ns)

    assert result.exit_code == 1  # units missing or with errors
    assert "━" not in result.output and "%" not in result.output  # no progress bar
    assert data["counts"]["已生成"] == 36 and data["counts"]["已通过"] == 0
    assert len(list((county / "outputs").glob("*年政府信息公开工作年度报告.docx"))) == 36
    assert logs and "结束，退出码 1" in logs[-1].read_text(encoding="utf-8")
    assert not (county / "outputs" / ".nianbao.lock").exists()


def test_run_json_and_quiet(county, runner):
    quiet = invoke(runner, "run", "-w", county, "--quiet", "--skip-build")
    data = json.loads(invoke(runner, "run", "-w", county, "--json").stdout)

    assert quiet.exit_code == 1 and quiet.stdout == ""
    assert data["exit_code"] == 1 and data["build"]["counts"]["built"] == 0
    assert data["status"]["counts"]["未报送"] == 8 and data["summary"]["included"]
    skipped = json.loads(invoke(runner, "run", "-w", county, "--json", "--skip-summary").stdout)
    assert skipped["summary"] is None and skipped["status"]["counts"]["未报送"] == 8


def test_run_refuses_while_a_live_process_holds_the_lock(county, runner):
    lock = county / "outputs" / ".nianbao.lock"
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock.write_text(json.dumps({"pid": holder.pid, "started": "2026-01-20T02:00:00",
                                    "host": os.uname().nodename}), encoding="utf-8")
        result = invoke(runner, "run", "-w", county, "--skip-build")
        status = invoke(runner, "status", "-w", county)
    finally:
        holder.kill()
        holder.wait()

    assert result.exit_code == 4 and status.exit_code == 4
    assert f"进程 {holder.pid}" in result.stderr and "另一个 nianbao 任务正在运行" in result.stderr
    assert lock.exists()  # not ours to remove
    lock.unlink()


def test_run_takes_over_a_stale_lock(county, runner):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock = county / "outputs" / ".nianbao.lock"
    lock.write_text(json.dumps({"pid": dead.pid, "started": "2026-01-19T02:00:00",
                                "host": os.uname().nodename}), encoding="utf-8")

    result = invoke(runner, "run", "-w", county, "--skip-build")
    logs = (county / "outputs" / "logs").glob("run-*.log")
    log = max(logs, key=lambda p: p.stat().st_mtime_ns).read_text(encoding="utf-8")

    assert result.exit_code == 1
    assert f"接管了失效的锁：进程 {dead.pid}" in log
    assert not lock.exists()


def test_run_as_a_scheduled_job_in_the_workspace_folder(county):
    exe = Path(sys.executable).with_name("nianbao")

    done = subprocess.run([str(exe), "run", "--quiet", "--skip-build"], cwd=county / "forms",
                          capture_output=True, text=True, timeout=120)

    assert done.returncode == 1
    assert done.stdout == "" and done.stderr == ""


def test_check_and_build_inside_a_workspace_take_nianbao_toml(county, runner, monkeypatch,
                                                               tmp_path):
    monkeypatch.chdir(county)
    other_year = tmp_path / "2024.xlsx"
    write_form(other_year, submission(ROWS[0], 5, year=YEAR - 1))

    checked = invoke(runner, "check", "--json")
    wrong_year = invoke(runner, "check", other_year)
    overridden = invoke(runner, "check", "--year", YEAR - 1, other_year)

    files = {Path(r["file"]).resolve().parent for r in json.loads(checked.stdout)}
    assert files and all(str(f).startswith(str((county / "inputs").resolve())) for f in files)
    assert wrong_year.exit_code == 1 and "[year-mismatch]" in wrong_year.stdout
    assert overridden.exit_code == 0
    out = tmp_path / "报告"
    built = invoke(runner, "build", "-o", out, "--json")
    assert built.exit_code == 1  # the county has units with errors
    counts = json.loads(built.stdout)["counts"]
    assert counts["built"] >= 30 and len(list(out.glob("*.docx"))) == counts["built"]


def _small_workspace(tmp_path, **toml_changes):
    rows = county_rows()[:3]
    roster = write_roster_xlsx(tmp_path / "名单.xlsx", rows)
    ws = tmp_path / "ws"
    from click.testing import CliRunner

    result = CliRunner().invoke(main, ["init", str(ws), "--year", str(YEAR), "--roster",
                                       str(roster), "--fee-decimals", "2"])
    assert result.exit_code == 0, result.output
    config = ws / "nianbao.toml"
    text = config.read_text("utf-8")
    for key, value in toml_changes.items():
        text = "\n".join(f"{key} = {value}" if line.split("=")[0].strip() == key else line
                         for line in text.splitlines()) + "\n"
    config.write_text(text, "utf-8")
    return ws, rows


def test_check_and_build_in_a_workspace_apply_last_years_data(tmp_path, runner, monkeypatch):
    ws, rows = _small_workspace(tmp_path, previous='"../prev"', carryover_error="true")
    this = submission(rows[0], 1)
    write_form(ws / "inputs" / "教育局.xlsx", this)
    last = submission(rows[0], 2, year=YEAR - 1)
    values = dict(last.values)
    values["t3.r4.natural"] = this.values["t3.r2.natural"] + 5
    write_form(tmp_path / "prev" / "教育局2024.xlsx",
               last.__class__(**{**{f: getattr(last, f) for f in last.__slots__},
                                 "values": values}))
    monkeypatch.chdir(ws)

    checked = invoke(runner, "check")
    built = invoke(runner, "build", "--json")

    assert checked.exit_code == 1 and "[xyear-carryover]" in checked.stdout
    assert "教育局2024.xlsx" in checked.stdout
    assert built.exit_code == 1
    assert json.loads(built.stdout)["counts"]["refused"] == 1
    assert not list((ws / "outputs").glob("*.docx"))


def test_init_fee_decimals_reaches_the_config(tmp_path):
    from nianbao.config import load_config

    ws, _ = _small_workspace(tmp_path)

    assert load_config(ws).settings.fee_decimals == 2


@pytest.mark.parametrize("key,value", [("fee_max", '"NaN"'), ("fee_max", "-5"),
                                       ("fee_decimals", "9")])
def test_config_values_are_range_checked(tmp_path, runner, monkeypatch, key, value):
    ws, _ = _small_workspace(tmp_path, **{key: value})
    monkeypatch.chdir(ws)

    result = runner.invoke(main, ["status"])

    assert result.exit_code in (2, 3)
    assert key in result.output and "Traceback" not in result.output
