"""What a coordinator sees on a terminal: build lists only what changed, progress n/N,
check in colour and in columns, help and usage in Chinese."""

from __future__ import annotations

import io
import re

import click
from rich.cells import cell_len
from rich.console import Console

from nianbao.build import SUMMARY_TXT
from nianbao.cli import main
from nianbao.cli_cycle import progress_bar

ENGLISH = ("Usage:", "Options:", "Commands:", "Show this message", "Show the version",
           "[OPTIONS]", "COMMAND [ARGS]", "Error:", "default:")


def test_build_lists_changed_units_and_counts_the_unchanged(runner, make_submission,
                                                            make_workbook, tmp_path) -> None:
    for seed in (1, 2, 3):
        make_workbook(make_submission(seed), name=f"单位{seed}.xlsx")
    make_workbook(make_submission(4), name="有错.xlsx", edits={"t3.r1.natural": -5})
    out = tmp_path / "out"
    folder = tmp_path

    first = runner.invoke(main, ["build", str(folder), "-o", str(out), "-j", "1"])
    again = runner.invoke(main, ["build", str(folder), "-o", str(out), "-j", "1"])

    assert first.stdout.count("[已生成]") == 3 and "[未生成]" in first.stdout
    assert first.stderr.count("：") >= 4 and "[4/4]" in first.stderr  # progress lines n/N
    assert "[未变化]" not in again.stdout and "[未生成]" in again.stdout
    assert "另有 3 个单位的报告未变化" in again.stdout and "未变化 3" in again.stdout
    assert "未变化：" not in again.stderr  # not one line per unchanged unit
    assert (out / SUMMARY_TXT).read_text("utf-8").count("[未变化]") == 3  # the file lists all


def test_progress_bar_shows_n_of_total() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)

    with progress_bar(True, console=console) as bar:
        assert bar is not None
        bar("生成报告", 37, 800)
        console.print()  # a refresh: the bar is drawn

    assert "37/800" in screen.getvalue() and "生成报告" in screen.getvalue()


def _check_files(make_submission, make_workbook):
    return [make_workbook(make_submission(1), name="甲.xlsx", edits={"t3.r1.natural": "x"}),
            make_workbook(make_submission(2), name="乙单位很长的名字.xlsx",
                          edits={"t2_6.penalty.decisions": None, "t4.rv_keep": -1})]


def test_check_colours_severities_on_a_terminal_only(runner, make_submission,
                                                     make_workbook) -> None:
    files = [str(p) for p in _check_files(make_submission, make_workbook)]

    coloured = runner.invoke(main, ["check", *files], color=True).stdout
    plain = runner.invoke(main, ["check", *files]).stdout

    assert click.style("错误", fg="red", bold=True) in coloured
    assert click.style("警告", fg="yellow", bold=True) in coloured
    assert "\x1b[" not in plain and " 错误 [" in plain and " 警告 [" in plain


def test_check_columns_are_aligned(runner, make_submission, make_workbook, tmp_path,
                                   monkeypatch) -> None:
    files = [p.name for p in _check_files(make_submission, make_workbook)]
    monkeypatch.chdir(tmp_path)  # short relative paths, as in a workspace
    lines = runner.invoke(main, ["check", *files]).stdout.splitlines()[:-1]

    severity = {cell_len(re.split(r" (?:错误|警告) \[", line)[0]) for line in lines}
    message = {cell_len(re.match(r".*?\] *", line).group(0)) for line in lines}
    assert len(lines) >= 3 and {f.split(".")[0] for f in files} <= {x.split(".")[0] for x in lines}
    assert len(severity) == 1 and len(message) == 1  # 错误/警告 and the messages in one column


def _commands(group: click.Group, path: tuple[str, ...] = ()):
    yield path
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name)


def test_help_and_usage_are_chinese(runner) -> None:
    for path in _commands(main):
        text = runner.invoke(main, [*path, "--help"], prog_name="nianbao").output
        assert text.startswith("用法：nianbao"), path
        assert "选项：" in text, path
        assert not [w for w in ENGLISH if w in text], (path, text)
    usage = runner.invoke(main, ["check", "--bogus"])
    missing = runner.invoke(main, ["form", "--year", "1800"])
    assert usage.exit_code == 2 and "没有选项 '--bogus'" in usage.stderr
    assert "不在 2000<=x<=2100 范围内" in missing.stderr


def test_help_wraps_chinese_by_display_width(runner) -> None:
    text = runner.invoke(main, ["build", "--help"], terminal_width=60).output

    assert all(cell_len(line) <= 60 for line in text.splitlines()), text
    assert "只重新生成 填报表" not in text.replace("\n", "")  # no space where a line was joined
