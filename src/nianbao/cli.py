"""The ``nianbao`` command: a thin layer over the library.

Exit codes: one table, :mod:`nianbao.exitcodes`.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any

import click

from nianbao import __version__
from nianbao.cli_zh import install as _chinese_click
from nianbao.exitcodes import Exit, help_text

_chinese_click()  # before any command is declared: help, usage and click's errors in Chinese

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_TOOL = Exit.OK, Exit.FINDINGS, Exit.USAGE, Exit.TOOL
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class CliError(click.ClickException):
    """A failure to run (not bad data): exit code 3."""

    exit_code = EXIT_TOOL

    def format_message(self) -> str:
        return self.message

    def show(self, file: object = None) -> None:
        click.echo(self.message, err=True)


def console_safe() -> None:
    """A GBK (cp936) Windows console or pipe cannot show every character: replace, never crash."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", "") or "").lower().replace("-", "")
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None:
            continue
        with contextlib.suppress(ValueError, OSError):
            # a stray surrogate (undecodable file-name bytes) never crashes a UTF-8 stream
            reconfigure(errors="backslashreplace" if encoding in ("utf8", "utf8sig") else "replace")


class NianbaoGroup(click.Group):
    """Where every command ends: each exception becomes one Chinese line and the exit code
    of :mod:`nianbao.exitcodes` (the one table); SIGINT/SIGTERM end cleanly (130/143)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        from nianbao.exitcodes import ExitWith, Interrupted, exit_for, interruptible

        kwargs["standalone_mode"] = False
        console_safe()
        try:
            with interruptible():
                return super().main(*args, **kwargs)
        except click.UsageError as exc:
            command = exc.ctx.command_path if exc.ctx else "nianbao"
            click.echo(f"用法错误：{exc.format_message()}\n查看用法：{command} --help", err=True)
            sys.exit(Exit.USAGE)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("已取消。", err=True)
            sys.exit(Exit.INTERRUPTED)
        except (Interrupted, ExitWith) as exc:
            click.echo(exc.message, err=True)
            sys.exit(exc.code)
        except Exception as exc:  # noqa: BLE001 - the last edge: one line, never a traceback
            click.echo(_unexpected(exc), err=True)
            sys.exit(exit_for(exc))

    def invoke(self, ctx: click.Context) -> object:
        from nianbao.errors import NianbaoError

        try:
            return super().invoke(ctx)
        except NianbaoError as exc:
            raise CliError(f"错误：{exc}") from exc


def _unexpected(exc: BaseException) -> str:
    from nianbao.atomic import describe_os_error
    from nianbao.safetext import clean

    if isinstance(exc, OSError):
        where = f" {clean(str(exc.filename), 0)}" if exc.filename else ""
        return f"错误：无法读写{where}：{describe_os_error(exc)}。"
    if isinstance(exc, MemoryError):
        return "错误：内存不足，无法完成。请关闭其他程序，或用 -j 1 减少并行进程后重试。"
    return (f"错误：nianbao 内部错误（{type(exc).__name__}：{clean(str(exc))}）。"
            "请把这条信息和所用命令告诉维护人员。")


@click.group(cls=NianbaoGroup, context_settings=CONTEXT, epilog=help_text())
@click.version_option(__version__, "-V", "--version", message="nianbao %(version)s")
def main() -> None:
    """政府信息公开工作年度报告：下发填报表、校验报送数据、批量生成报告。"""


def severity_colour(text: str, severity: object) -> str:
    """错误 in red, 警告 in yellow; click.echo drops the colour when not on a terminal."""
    from nianbao.model import Severity

    return click.style(text, fg="red" if severity is Severity.ERROR else "yellow", bold=True)


def _workspace_settings(year: int | None, fee_decimals: int | None) -> tuple[object, object]:
    """(Config or None, Settings): nianbao.toml's settings when run inside a workspace,
    with the command-line options (when given) taking precedence."""
    import dataclasses

    from nianbao.config import load_config
    from nianbao.settings import Settings

    config = load_config(Path.cwd())
    settings = config.settings if config is not None else Settings()
    changes: dict[str, Any] = {}
    if config is not None and settings.expected_year is None:
        changes["expected_year"] = config.year
    if year is not None:
        changes["expected_year"] = year
    if fee_decimals is not None:
        changes["fee_decimals"] = fee_decimals
    return config, dataclasses.replace(settings, **changes)


def _previous(config: object, settings: object) -> object:
    """Last year's data named in nianbao.toml (None outside a workspace or when not set)."""
    from nianbao.previous import load_previous
    from nianbao.settings import Settings

    path = getattr(config, "previous", None)
    if path is None:  # last year from the archive, when it holds it
        from nianbao.archive import previous_for
        from nianbao.config import Config

        return previous_for(config) if isinstance(config, Config) else None
    assert isinstance(settings, Settings)
    previous = load_previous(path, settings)
    if not len(previous):
        click.echo(f"注意：上年数据 {path} 中没有读到任何单位的填报表，跨年度核对未进行。", err=True)
        return None
    return previous


def _batch_text(reports: list[Any], config: object, settings: object,
                previous: object) -> list[Any]:
    """The text checks across the files checked together (the roster's names when in a workspace)."""
    from nianbao.config import Config, CycleError
    from nianbao.model import FileReport, Submission
    from nianbao.previous import PreviousData
    from nianbao.roster import read_roster
    from nianbao.settings import Settings
    from nianbao.textchecks import with_batch_text

    assert isinstance(settings, Settings)
    names: list[tuple[str, ...]] = []
    if isinstance(config, Config):
        try:
            names = [u.names for u in read_roster(config.roster)]
        except (CycleError, OSError):
            names = []  # `status` reports a bad roster; here the names only widen the check

    def last_of(report: FileReport) -> Submission | None:
        sub = report.submission
        if not isinstance(previous, PreviousData) or sub is None:
            return None
        return previous.find(report.form_code or sub.code, (sub.agency,))

    return with_batch_text(reports, settings, roster_names=names, last_of=last_of)


@main.command("form")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path),
              required=True, help="输出的填报表文件（.xlsx）。")
@click.option("--agency", required=True, help="单位全称，写入表头并锁定。")
@click.option("--code", default="", help="单位编码（可选），用于自动识别报送的文件。")
@click.option("--year", type=click.IntRange(2000, 2100), required=True, help="报告年度，如 2025。")
@click.option("--fee-decimals", type=click.IntRange(0, 6), default=4, show_default=True,
              help="收费金额（万元）保留的小数位数。")
@click.option("--force", is_flag=True, help="输出文件已存在时覆盖它。")
@click.option("--register", "with_register", is_flag=True,
              help="同时生成依申请公开登记台账和复议诉讼案件登记，表三、表四按台账自动统计。")
def form_cmd(output: Path, agency: str, code: str, year: int, fee_decimals: int,
             force: bool, with_register: bool) -> None:
    """生成一个单位的数据填报表（Excel）。

    \b
    示例：
      nianbao form -o 获嘉县民政局.xlsx --agency 获嘉县民政局 --code 410724-012 --year 2025
      nianbao form -o 某局.xlsx --agency 某局 --year 2025 --register
    """
    from nianbao.intake import IntakeData, write_intake
    from nianbao.register_form import write_register_form

    if output.suffix.lower() != ".xlsx":
        raise click.BadParameter("填报表必须保存为 .xlsx 文件。", param_hint="-o")
    if not agency.strip():
        raise click.BadParameter("单位全称不能为空。", param_hint="--agency")
    if output.exists() and not force:
        raise click.UsageError(f"{output} 已存在（可能是已收到的报表），未覆盖；确需覆盖请加 --force。")
    try:
        data = IntakeData(agency=agency, code=code, year=year)
        if with_register:
            write_register_form(output, data, fee_decimals=fee_decimals)
        else:
            write_intake(output, data, fee_decimals=fee_decimals)
    except OSError as exc:
        from nianbao.atomic import describe_os_error

        raise CliError(f"无法写入 {output}：{describe_os_error(exc)}。") from exc
    click.echo(f"已生成填报表：{output}")


@main.command("check")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--year", type=click.IntRange(2000, 2100), default=None,
              help="应报年度；报送文件的年度不同时报错（工作区中默认取 nianbao.toml 的年度）。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（供程序使用）。")
@click.option("--fee-decimals", type=click.IntRange(0, 6), default=None,
              help="收费金额（万元）允许的小数位数（默认 4）。")
@click.option("--annotate", "annotate_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="为每个有问题的文件写出批注副本（{编码}_{单位}_批注.xlsx）到此目录。")
def check_cmd(paths: tuple[Path, ...], year: int | None, as_json: bool,
              fee_decimals: int | None, annotate_dir: Path | None) -> None:
    """校验报送的填报表（文件或文件夹），逐条列出问题。

    每条问题一行：文件:工作表!单元格: 错误/警告 [规则代码] 说明。
    有任何错误时退出码为 1。在年度工作区中运行时，默认校验 inputs/，
    并使用 nianbao.toml 中的年度和校验设置。

    \b
    示例：
      nianbao check inputs/
      nianbao check --year 2025 --json 收到的报表/ > 结果.json
      nianbao check --annotate 批注/ 收到的报表/
    """
    from nianbao.check import check_paths
    from nianbao.report import to_json, to_text
    from nianbao.settings import Settings

    config, settings = _workspace_settings(year, fee_decimals)
    assert isinstance(settings, Settings)
    if not paths:
        if config is None:
            raise click.UsageError("请指定要校验的文件或文件夹（不在年度工作区中）。")
        paths = (config.inputs,)  # type: ignore[attr-defined]
    reports = check_paths(paths, settings)
    previous = _previous(config, settings)
    if previous is not None:
        from nianbao.previous import PreviousData, with_cross_year

        assert isinstance(previous, PreviousData)
        reports = [with_cross_year(r, previous, settings) for r in reports]
    if not reports:
        raise click.UsageError("没有找到要校验的 .xlsx 文件。")
    reports = _batch_text(reports, config, settings, previous)
    click.echo(to_json(reports) if as_json else to_text(reports, style=severity_colour), nl=False)
    if annotate_dir is not None:
        from nianbao.annotate import annotate_all
        from nianbao.atomic import describe_os_error

        try:
            annotate_dir.mkdir(parents=True, exist_ok=True)
            written = annotate_all(reports, annotate_dir)
        except OSError as exc:
            raise CliError(f"无法写入 {annotate_dir}：{describe_os_error(exc)}。") from exc
        click.echo(f"已写出 {len(written)} 份批注副本到 {annotate_dir}。", err=as_json)
    sys.exit(EXIT_OK if all(r.valid for r in reports) else EXIT_FINDINGS)


@main.command("build")
@click.argument("inputs", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--output", "output", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="报告输出目录（默认 outputs/）。")
@click.option("--template", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Word 模板（默认使用内置模板）。")
@click.option("-j", "--jobs", type=click.IntRange(1, 64), default=None,
              help="并行进程数（默认为 CPU 核数）。")
@click.option("--force", is_flag=True, help="全部重新生成（默认只生成有变化的）。")
@click.option("--drafts", is_flag=True, help="数据有错误的单位也生成报告，标注“草稿”。")
@click.option("--html", is_flag=True, help="同时生成 HTML（用于粘贴到网站政府信息公开专栏）。")
@click.option("--pdf", is_flag=True, help="同时用 LibreOffice 转换 PDF（较慢，在 Word 文件全部生成后进行）。")
@click.option("--year", type=click.IntRange(2000, 2100), default=None, help="应报年度。")
@click.option("--fee-decimals", type=click.IntRange(0, 6), default=None,
              help="收费金额（万元）允许的小数位数（默认 4）。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出生成结果。")
@click.option("-q", "--quiet", is_flag=True, help="只输出最后的汇总行。")
def build_cmd(inputs: tuple[Path, ...], output: Path | None, template: Path | None,
              jobs: int | None, force: bool, drafts: bool, html: bool, pdf: bool,
              year: int | None, fee_decimals: int | None, as_json: bool, quiet: bool) -> None:
    """校验全部填报表，并为每个通过校验的单位生成年度报告（Word）。

    报告文件名为“单位全称+年度+年政府信息公开工作年度报告.docx”。只重新生成
    填报表、模板或设置有变化的报告；数据有错误的单位不生成（列出原因），
    加 --drafts 则生成标注“草稿”的报告。结果同时写入输出目录的“生成情况.txt”。
    在年度工作区中运行时，输入、输出目录、模板和校验设置取自 nianbao.toml，
    命令行选项优先。

    \b
    示例：
      nianbao build                      # inputs/ → outputs/
      nianbao build 收到的报表/ -o 报告/ --html --pdf
    """
    import json as _json

    from nianbao.build import build_all
    from nianbao.settings import Settings

    config, settings = _workspace_settings(year, fee_decimals)
    assert isinstance(settings, Settings)
    if config is not None:
        output = output or config.outputs  # type: ignore[attr-defined]
        template = template or config.template  # type: ignore[attr-defined]
        jobs = jobs or config.jobs  # type: ignore[attr-defined]
    output = output or Path("outputs")
    sources = list(inputs) or [config.inputs if config is not None  # type: ignore[attr-defined]
                               else Path("inputs")]
    if not inputs and not sources[0].is_dir():
        raise click.UsageError("没有指定填报表，且当前目录下没有 inputs/ 文件夹。")
    from nianbao.build import STATUS_ZH, Outcome, Status
    from nianbao.cli_cycle import progress_bar
    from nianbao.model import FileReport

    chatty = not quiet and not as_json
    with progress_bar(chatty and sys.stderr.isatty()) as bar:

        def progress(done: int, total: int, outcome: Outcome) -> None:
            if bar is not None:  # a bar on a terminal, plain lines otherwise
                bar("生成报告", done, total)
            elif chatty and outcome.status != Status.UNCHANGED:  # unchanged: only counted
                click.echo(f"[{done}/{total}] {STATUS_ZH[outcome.status]}："
                           f"{outcome.agency or outcome.file.name}", err=True)

        from nianbao.cli_cycle import edge
        from nianbao.runner import gather, lock_for

        with edge(), lock_for(output):
            if config is not None and not inputs:  # the workspace's inputs: matched to the roster
                gathered = gather(config)  # type: ignore[arg-type]
                chosen: list[Path] | list[FileReport] = gathered.chosen_reports()
                previous = gathered.previous
            else:
                chosen, previous = sources, _previous(config, settings)  # type: ignore[assignment]
            summary = build_all(chosen, output, template=template, jobs=jobs, force=force,
                                drafts=drafts, html=html, pdf=pdf, settings=settings,
                                progress=progress, previous=previous)
    if config is not None:  # inside a workspace: what was read goes to the archive
        from nianbao.archive import archive_read

        note = archive_read(config, summary.read(), "build")  # type: ignore[arg-type]
        if note and not quiet and not as_json:
            click.echo(note, err=True)
    if as_json:
        click.echo(_json.dumps(summary.to_dict(), ensure_ascii=False, indent=1))
    elif quiet:
        click.echo(summary.to_text().splitlines()[-1 - len(summary.notes)])
    else:
        click.echo(summary.to_text(unchanged=False), nl=False)
    if not summary.outcomes:
        click.echo("没有找到填报表（.xlsx）。", err=True)
    if summary.pdf_failed or summary.count(Status.FAILED):
        sys.exit(EXIT_TOOL)  # a report could not be made or written: not a data problem
    if not summary.ok:
        sys.exit(EXIT_FINDINGS)


@main.group("template")
def template_group() -> None:
    """Word 模板相关命令。"""


@template_group.command("check")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def template_check_cmd(path: Path) -> None:
    """在批量生成前检查 Word 模板：未知变量、语法错误、手工编辑的常见陷阱。

    \b
    示例：
      nianbao template check templates/report.docx
    """
    from nianbao.engine import lint_template

    problems = lint_template(path)
    for problem in problems:
        click.echo(str(problem))
    if problems:
        click.echo(f"模板有 {len(problems)} 处问题，请修改后再生成报告。")
        sys.exit(EXIT_FINDINGS)
    click.echo("模板检查通过。")

from nianbao.cli_cycle import register as _register_cycle  # noqa: E402
from nianbao.cli_serve import register as _register_serve  # noqa: E402

_register_cycle(main)

from nianbao.cli_import import register as _register_import  # noqa: E402

_register_import(main)
_register_serve(main)

from nianbao.cli_register import register as _register_register  # noqa: E402

_register_register(main)
