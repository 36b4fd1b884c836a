"""The coordinator's commands: ``init``, ``status``, ``summary``, ``run`` (added to ``nianbao``)."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from nianbao.exitcodes import Exit, ExitWith, exit_for, help_text

if TYPE_CHECKING:
    from rich.console import Console

    from nianbao.config import Config
    from nianbao.runner import Progress

RUN_EXIT_CODES = help_text()


@contextmanager
def edge() -> Iterator[None]:
    """Library exceptions become exits here, with the code from :mod:`nianbao.exitcodes`."""
    from nianbao.config import CycleError
    from nianbao.errors import NianbaoError

    try:
        yield
    except (NianbaoError, OSError) as exc:
        code = exit_for(exc)
        if code == Exit.USAGE:
            raise click.UsageError(str(exc)) from exc
        if isinstance(exc, OSError):
            from nianbao.atomic import describe_os_error
            from nianbao.safetext import path_text

            message = f"无法读写 {path_text(str(exc.filename or ''))}：{describe_os_error(exc)}。"
        else:
            message = str(exc) if isinstance(exc, CycleError) else f"错误：{exc}"
        raise ExitWith(message, code) from exc


def workspace_option(f: Callable[..., object]) -> Callable[..., object]:
    return click.option("-w", "--workspace", type=click.Path(file_okay=False, path_type=Path),
                        default=None, help="工作区文件夹（默认：当前文件夹或其上级中含 nianbao.toml 的文件夹）。"
                        )(f)


def rule_options(f: Callable[..., object]) -> Callable[..., object]:
    f = click.option("--carryover-error", is_flag=True, default=None,
                     help="本年“上年结转”与上年“结转下年度”不一致时按错误处理（默认警告）。")(f)
    f = click.option("--previous", type=click.Path(exists=True, path_type=Path), default=None,
                     help="上年数据：上年工作区、上年汇总表或上年填报表所在文件夹（覆盖 nianbao.toml）。")(f)
    return f


def _config(workspace: Path | None, **overrides: object) -> Config:
    from nianbao.config import load_config

    start = (workspace or Path.cwd()).resolve()
    config = load_config(start)
    if config is None:
        raise click.UsageError(f"{start} 不是 nianbao 工作区（找不到 nianbao.toml）。"
                               "请先运行 nianbao init，或用 -w 指定工作区文件夹。")
    if overrides.get("previous") is not None:
        overrides["previous"] = Path(str(overrides["previous"])).resolve()
    return config.override(**overrides)


def _interactive(quiet: bool, as_json: bool) -> bool:
    isatty = getattr(sys.stdout, "isatty", None)
    return not quiet and not as_json and bool(isatty and isatty())


@contextmanager
def progress_bar(enabled: bool, console: Console | None = None) -> Iterator[Progress | None]:
    """A rich progress bar on a terminal (stage, bar, n/N, time left); nothing when output
    goes to a file or pipe.  ``console``: a rich Console to draw on (default: the terminal)."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
    from rich.progress import Progress as Bar

    with Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
             TimeRemainingColumn(), transient=True, console=console) as bar:
        tasks: dict[str, object] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done)  # type: ignore[arg-type]

        yield update


def _echo_json(data: object) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


# ------------------------------------------------------------------------ commands

@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--year", type=click.IntRange(2000, 2100), required=True, help="报告年度，如 2025。")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              required=True, help="单位名单（.csv 或 .xlsx）：单位编码、单位全称、别名、层级、联系人、联系电话。")
@click.option("--force", is_flag=True,
              help="已是工作区时仍重新生成配置和填报表（原配置另存为 nianbao.toml.bak）。")
@click.option("--fee-decimals", type=click.IntRange(0, 6), default=4, show_default=True,
              help="收费金额（万元）保留的小数位数。")
def init_cmd(directory: Path, year: int, roster: Path, force: bool, fee_decimals: int) -> None:
    """新建一个年度工作区：配置文件、文件夹和各单位的填报表。

    生成 nianbao.toml（年度、名单、校验规则、汇总范围、时间节点等，带中文注释）、
    inputs/（放收到的报表）、outputs/、templates/（Word 模板）和 forms/
    （每个单位一份已填好单位名称、编码、年度的填报表，直接下发即可）。

    \b
    示例：
      nianbao init 2025年报 --year 2025 --roster 单位名单.xlsx
      cd 2025年报 && nianbao status
    """
    from nianbao.workspace import init_workspace

    with edge(), progress_bar(_interactive(False, False)) as bar:
        result = init_workspace(directory, year=year, roster_file=roster, force=force,
                                fee_decimals=fee_decimals, progress=bar)
    click.echo(f"已创建工作区：{result.root}")
    click.echo(f"  配置：{result.config.name}（可用记事本修改）")
    click.echo(f"  填报表：forms/ 下 {len(result.forms)} 份，请分别下发给各单位")
    click.echo("  收到的报表请放入 inputs/（文件名不限，可建子文件夹），然后运行 nianbao status")
    for note in result.notes:
        click.echo(f"  提示：{note}")


@click.command("status")
@workspace_option
@rule_options
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（供程序使用）。")
@click.option("-q", "--quiet", is_flag=True, help="只写文件，不在屏幕上列出各单位。")
def status_cmd(workspace: Path | None, previous: Path | None, carryover_error: bool | None,
               as_json: bool, quiet: bool) -> None:
    """查看各单位报送情况，并写出状态表、反馈意见和催报名单。

    每个单位一行：未报送 / 无法读取 / 数据有误（N 个错误）/ 有警告 / 已通过 / 已生成。
    同时写出 outputs/status.xlsx、outputs/status.html、outputs/feedback/（每个单位一份
    可直接发微信或邮件的修改意见）和 outputs/催报名单.txt。
    有单位未报送或数据有误时退出码为 1。

    \b
    示例：
      nianbao status
      nianbao status --previous ../2024年报
      nianbao status --json > 状态.json
    """
    from nianbao.runner import board_for, gather, run_lock, write_status
    from nianbao.status_output import status_text

    config = _config(workspace, previous=previous, carryover_error=carryover_error)
    with edge(), run_lock(config.lock_file), progress_bar(_interactive(quiet, as_json)) as bar:
        gathered = gather(config, progress=bar)
        board = board_for(gathered)
        write_status(gathered, board)
    if as_json:
        _echo_json(board.to_dict(config.root))
    elif not quiet:
        click.echo(status_text(board, config.root), nl=False)
        click.echo(f"详见 {config.outputs / 'status.xlsx'}；修改意见在 {config.outputs / 'feedback'}。")
    sys.exit(0 if board.all_good else 1)


@click.command("summary")
@workspace_option
@rule_options
@click.option("--scope", multiple=True,
              help="汇总范围：单位编码、单位名称或层级（可多次使用或用逗号分隔）；默认取 nianbao.toml 的设置，"
                   "“全部”表示名单中所有单位。")
@click.option("--no-report", is_flag=True, help="只写汇总数据表，不生成 Word 报告。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（供程序使用）。")
def summary_cmd(workspace: Path | None, previous: Path | None, carryover_error: bool | None,
                scope: tuple[str, ...], no_report: bool, as_json: bool) -> None:
    """汇总各单位数据：逐格相加、重新计算合计、校验，并生成汇总数据表和汇总报告。

    只汇总已通过校验的单位；范围内未报送或数据有误的单位列为“未纳入”，
    此时汇总报告按草稿生成。写到 outputs/汇总/。汇总数据有错误或有单位未纳入时退出码为 1。

    \b
    示例：
      nianbao summary
      nianbao summary --scope 县级部门
      nianbao summary --scope 乡镇,QS001 --no-report
    """
    from nianbao.runner import board_for, gather, run_lock, summarize
    from nianbao.status_output import where_text

    tokens = tuple(t.strip() for s in scope for t in s.replace("，", ",").split(",") if t.strip())
    config = _config(workspace, previous=previous, carryover_error=carryover_error)
    with edge(), run_lock(config.lock_file):
        gathered = gather(config)
        result = summarize(gathered, board_for(gathered), scope=tokens or None,
                           render=not no_report)
    if as_json:
        _echo_json(result.to_dict(config.root))
    else:
        click.echo(f"汇总单位：{result.submission.agency}，纳入 {len(result.included)} 个单位，"
                   f"未纳入 {len(result.excluded)} 个。")
        for row in result.excluded:
            click.echo(f"  未纳入：{row.unit.code} {row.unit.name}（{row.reason}）")
        for f in result.findings:
            click.echo(f"  {f.severity.zh} {where_text(f)} [{f.code}] {f.message}")
        click.echo(f"汇总数据表：{result.workbook}")
        if result.report:
            click.echo(f"汇总报告：{result.report}")
        if result.note:
            click.echo(f"提示：{result.note}")
    sys.exit(1 if result.errors or result.excluded else 0)


@click.command("run", epilog=RUN_EXIT_CODES)
@workspace_option
@rule_options
@click.option("--force", is_flag=True, help="重新生成所有报告（即使没有变化）。")
@click.option("-j", "--jobs", type=click.IntRange(1, 64), default=None,
              help="并行生成报告的进程数（默认取 nianbao.toml，未设置则自动）。")
@click.option("--drafts", is_flag=True, help="数据有误的单位也生成带“草稿”标记的报告。")
@click.option("--html", "html_out", is_flag=True, help="同时生成可粘贴到网站的 HTML。")
@click.option("--pdf", is_flag=True, help="同时生成 PDF（需要安装 LibreOffice）。")
@click.option("--skip-build", is_flag=True, help="只校验、写状态和汇总数据，不生成 Word 报告。")
@click.option("--skip-summary", is_flag=True, help="不做汇总（收表初期单位很少时）。")
@click.option("-q", "--quiet", is_flag=True, help="不输出（供定时任务使用；结果看退出码和日志）。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出结果（供程序使用）。")
def run_cmd(workspace: Path | None, previous: Path | None, carryover_error: bool | None,
            force: bool, jobs: int | None, drafts: bool, html_out: bool, pdf: bool,
            skip_build: bool, skip_summary: bool, quiet: bool, as_json: bool) -> None:
    """一次完成：校验收到的报表、生成报告、更新状态表和反馈意见、汇总。

    适合每天定时运行。同一工作区同时只能有一个任务运行（锁文件
    outputs/.nianbao.lock）；上次任务异常退出留下的锁会被自动接管。
    每次运行的日志写在 outputs/logs/ 下。

    \b
    示例：
      nianbao run
      nianbao run --quiet        # 定时任务
      nianbao run --json > 结果.json
    """
    from nianbao.errors import NianbaoError
    from nianbao.runner import RunLog, RunOptions, build_counts_text, run_cycle, run_lock
    from nianbao.status_output import status_text

    config = _config(workspace, previous=previous, carryover_error=carryover_error)
    options = RunOptions(force=force, jobs=jobs, drafts=drafts, html=html_out, pdf=pdf,
                         skip_build=skip_build, skip_summary=skip_summary)
    log = RunLog.start(config.logs)
    with edge(), run_lock(config.lock_file) as stale:
        log(f"开始运行：{config.root}（{config.year} 年度）。")
        if stale is not None:
            log(f"接管了失效的锁：进程 {stale.pid}（{stale.started} 开始）已不存在。", "注意")
        try:
            with progress_bar(_interactive(quiet, as_json)) as bar:
                result = run_cycle(config, options, progress=bar, log=log)
        except BaseException as exc:  # noqa: BLE001 - logged, then ended by the one exit table
            from nianbao.exitcodes import Interrupted

            if isinstance(exc, Interrupted):
                log(exc.message, "错误")
            else:
                log(f"运行失败：{type(exc).__name__}: {exc}", "错误")
            with contextlib.suppress(OSError):  # a full disk must not hide the real error
                log.save()
            if isinstance(exc, Exception | Interrupted) and not isinstance(
                    exc, NianbaoError | OSError | Interrupted):
                raise ExitWith(f"运行失败（程序内部错误 {type(exc).__name__}），详情已写入日志 {log.path}",
                               exit_for(exc)) from exc
            raise
        log(f"结束，退出码 {result.exit_code}。")
        log.save()
    if as_json:
        _echo_json(result.to_dict(config.root))
    elif not quiet:
        click.echo(status_text(result.board, config.root), nl=False)
        if result.build is not None:
            click.echo(f"报告生成：{build_counts_text(result.build)}")
        if result.summary is not None:
            click.echo(f"汇总：纳入 {len(result.summary.included)} 个单位 → {result.summary.workbook}")
        click.echo(f"日志：{log.path}")
    sys.exit(result.exit_code)


def register(group: click.Group) -> None:
    """Add the cycle commands to the ``nianbao`` group."""
    for command in (init_cmd, status_cmd, summary_cmd, run_cmd):
        group.add_command(command)
