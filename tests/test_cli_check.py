"""`nianbao check`: text lines, JSON equal to the library, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from nianbao.check import check_paths
from nianbao.cli import main


def test_cli_check_json_equals_library(runner, make_submission, make_workbook, tmp_path) -> None:
    good = make_workbook(make_submission(1), name="good.xlsx")
    bad = make_workbook(make_submission(2), name="bad.xlsx", edits={"t4.rv_keep": -1})
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 truncated")

    result = runner.invoke(main, ["check", "--json", str(tmp_path)])

    assert result.exit_code == 1
    got = json.loads(result.stdout)
    assert got == [r.to_dict() for r in check_paths([tmp_path])]
    by_file = {Path(r["file"]).name: r for r in got}
    assert set(by_file) == {"good.xlsx", "bad.xlsx", "broken.xlsx"}
    assert by_file["good.xlsx"]["valid"] and not by_file["bad.xlsx"]["valid"]
    finding = by_file["bad.xlsx"]["findings"][0]
    assert set(finding) >= {"severity", "code", "sheet", "cell", "message", "expected", "actual"}
    assert (finding["severity"], finding["code"], finding["sheet"], finding["cell"]) == (
        "error", "negative-value", "表四 复议诉讼", "A6")
    assert by_file["broken.xlsx"]["findings"][0]["code"] == "file-corrupt"
    assert by_file["good.xlsx"]["values"]["t3.r1.total"] == make_submission(1).values["t3.r1.total"]
    assert good.exists() and bad.exists()


def test_cli_check_text_lines_and_total(runner, make_submission, make_workbook) -> None:
    path = make_workbook(make_submission(3), name="民政局.xlsx", edits={"t4.rv_keep": "x"})

    result = runner.invoke(main, ["check", str(path)])

    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == (f"{path}:表四 复议诉讼!A6: 错误 [not-a-number] "
                        "“行政复议·结果维持”应填写数字，实际为 “x”。")
    assert lines[-1].startswith("共检查 1 个文件：1 个有错误")


def test_cli_check_exit_zero_and_year(runner, make_submission, make_workbook) -> None:
    path = make_workbook(make_submission(4, year=2025))

    assert runner.invoke(main, ["check", str(path)]).exit_code == 0
    result = runner.invoke(main, ["check", "--year", "2024", str(path)])
    assert result.exit_code == 1
    assert "[year-mismatch]" in result.stdout


def test_cli_check_usage_errors(runner, tmp_path) -> None:
    assert runner.invoke(main, ["check"]).exit_code == 2
    assert runner.invoke(main, ["check", str(tmp_path / "missing.xlsx")]).exit_code == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(main, ["check", str(empty)])
    assert result.exit_code == 2
    assert "没有找到" in result.output


def test_cli_check_one_bad_file_does_not_stop_the_batch(runner, make_submission,
                                                         make_workbook, tmp_path) -> None:
    (tmp_path / "a.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    (tmp_path / "b.xlsx").write_bytes(b"")
    make_workbook(make_submission(5), name="c.xlsx")

    result = runner.invoke(main, ["check", str(tmp_path)])

    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "a.xls: 错误 [file-old-format]" in result.stdout
    assert "b.xlsx: 错误 [file-empty]" in result.stdout
    assert "共检查 3 个文件" in result.stdout
