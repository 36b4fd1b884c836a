"""The ``nianbao`` command: a thin layer over the library.

退出码：0 没有错误；1 数据有错误；2 命令用法错误；3 无法运行（如模板或输出目录不可用）。
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from nianbao import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_TOOL = 0, 1, 2, 3
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class CliError(click.ClickException):
    """A failure to run (not bad data): exit code 3."""

    exit_code = EXIT_TOOL

    def format_message(self) -> str:
        return self.message


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", message="nianbao %(version)s")
def main() -> None:
    """政府信息公开工作年度报告：下发填报表、校验报送数据、批量生成报告。

    \b
    退出码：
      0  没有发现错误
      1  数据有错误（或有单位未通过校验）
      2  命令用法错误
      3  无法运行（模板、输出目录等不可用）
    """


@main.command("form")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path),
              required=True, help="输出的填报表文件（.xlsx）。")
@click.option("--agency", required=True, help="单位全称，写入表头并锁定。")
@click.option("--code", default="", help="单位编码（可选），用于自动识别报送的文件。")
@click.option("--year", type=click.IntRange(2000, 2100), required=True, help="报告年度，如 2025。")
@click.option("--fee-decimals", type=click.IntRange(0, 6), default=4, show_default=True,
              help="收费金额（万元）保留的小数位数。")
def form_cmd(output: Path, agency: str, code: str, year: int, fee_decimals: int) -> None:
    """生成一个单位的数据填报表（Excel）。

    \b
    示例：
      nianbao form -o 获嘉县民政局.xlsx --agency 获嘉县民政局 --code 410724-012 --year 2025
    """
    from nianbao.intake import IntakeData, write_intake

    if output.suffix.lower() != ".xlsx":
        raise click.BadParameter("填报表必须保存为 .xlsx 文件。", param_hint="-o")
    try:
        write_intake(output, IntakeData(agency=agency, code=code, year=year),
                     fee_decimals=fee_decimals)
    except OSError as exc:
        raise CliError(f"无法写入 {output}：{exc.strerror or exc}") from exc
    click.echo(f"已生成填报表：{output}")


@main.command("check")
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(exists=True, path_type=Path))
@click.option("--year", type=click.IntRange(2000, 2100), default=None,
              help="应报年度；报送文件的年度不同时报错。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（供程序使用）。")
@click.option("--fee-decimals", type=click.IntRange(0, 6), default=4, show_default=True,
              help="收费金额（万元）允许的小数位数。")
def check_cmd(paths: tuple[Path, ...], year: int | None, as_json: bool, fee_decimals: int) -> None:
    """校验报送的填报表（文件或文件夹），逐条列出问题。

    每条问题一行：文件:工作表!单元格: 错误/警告 [规则代码] 说明。
    有任何错误时退出码为 1。

    \b
    示例：
      nianbao check inputs/
      nianbao check --year 2025 --json 收到的报表/ > 结果.json
    """
    from nianbao.check import check_paths
    from nianbao.report import to_json, to_text
    from nianbao.settings import Settings

    reports = check_paths(paths, Settings(expected_year=year, fee_decimals=fee_decimals))
    if not reports:
        raise click.UsageError("没有找到要校验的 .xlsx 文件。")
    click.echo(to_json(reports) if as_json else to_text(reports), nl=False)
    sys.exit(EXIT_OK if all(r.valid for r in reports) else EXIT_FINDINGS)
