"""``nianbao register import``: an office's own register into the intake workbook (thin layer)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from nianbao.exitcodes import Exit

CHANGED_SHOWN = 12  # table cells listed whose typed number the register count replaced


@click.group("register")
def register_group() -> None:
    """依申请公开登记台账：表三、表四按台账逐件统计。"""


@register_group.command("import")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--into", "form", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="导入到这个填报表（nianbao form 生成的 .xlsx）。")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path),
              help="写到新文件（默认：直接更新 --into 的填报表，整体替换，不会写一半）。")
@click.option("--replace", is_flag=True, help="填报表的台账中已有数据时，用导入的台账替换。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（供程序使用）。")
def import_cmd(source: Path, form: Path, output: Path | None, replace: bool,
               as_json: bool) -> None:
    """把本单位自己的登记台账（.xlsx、.xls 或 .csv，UTF-8 或 GBK）导入填报表。

    \b
    表头在前 10 行中按列名识别，认常见写法：序号/编号/申请编号，申请日期/收到日期/受理日期，
    申请人类别，答复时间，处理结果（予以公开、部分公开、信息不存在、重复申请等常见说法
    对应到表三的 21 种办理结果）。无法识别的值逐一列出（文件、行、列），这时什么也不写；
    导入的文件只读不改。没有“来源”列时，上年收到的申请记为上年结转；没有“是否结转下年度”
    列时，没有办理结果和答复日期的申请（或办理结果为“办理中”）记为结转下年度。

    \b
    示例：
      nianbao register import 2025年依申请公开台账.xlsx --into 某局2025年报表.xlsx
      nianbao register import 台账.csv --into 填报表.xlsx -o 填报表-含台账.xlsx
    """
    from nianbao.register_import import import_register
    from nianbao.report import display_path, finding_line

    if output is not None and output.resolve() == source.resolve():
        raise click.BadParameter("不能写到要导入的台账文件本身（导入的文件只读不改）。",
                                     param_hint="-o")
    if output is not None and output.suffix.lower() != ".xlsx":
        raise click.BadParameter("填报表必须保存为 .xlsx 文件。", param_hint="-o")
    result = import_register(source, form, output, replace=replace)
    if as_json:
        click.echo(json.dumps(_json(result), ensure_ascii=False, indent=1))
        if not result.ok:
            sys.exit(Exit.FINDINGS)
        return
    for f in result.findings:  # each message names the file, row and column itself
        click.echo(f"{f.severity.zh} [{f.code}] {f.message}")
    if not result.ok:
        click.echo(f"未导入：{len(result.findings)} 处问题，填报表没有改动。", err=True)
        sys.exit(Exit.FINDINGS)
    assert result.written is not None
    for table in result.tables:
        where = f"工作表“{table.sheet}”" if table.sheet else "文件"
        click.echo(f"已从{where}（表头在第 {table.header_row} 行）导入 {len(table.rows)} 行到"
                   f"“{table.spec.sheet}”。")
        click.echo("    列对应：" + "；".join(f"{k} ← {v}" for k, v in table.columns.items()))
        if table.derived.get("source"):
            click.echo(f"    没有“来源”列：按收到日期推定来源 {table.derived['source']} 行"
                       "（上年收到的记为上年结转）。")
        if table.derived.get("carried"):
            click.echo(f"    {table.derived['carried']} 行尚未办结，已标记结转下年度。")
    if result.replaced:
        click.echo(f"填报表台账中原有的 {result.replaced} 行已被替换。")
    if result.changed:
        click.echo(f"表三、表四原来手工填写的数字有 {len(result.changed)} 格与台账统计不同，"
                   "现已改为按台账自动统计：")
        for label, before, now in result.changed[:CHANGED_SHOWN]:
            click.echo(f"    {label}：原 {'空' if before is None else before}，台账 {now}")
        if len(result.changed) > CHANGED_SHOWN:
            click.echo(f"    …… 共 {len(result.changed)} 格")
    click.echo(f"已写入：{display_path(result.written)}")
    report = result.report
    if report is not None:
        shown = [f for f in report.findings if f.code.startswith("reg-")]
        for f in shown:
            click.echo("    " + finding_line(report, f))
        errors = sum(1 for f in shown if f.severity.value == "error")
        click.echo(f"台账校验：{errors} 个错误，{len(shown) - errors} 个警告。" if shown
                   else "台账校验通过。")


def _json(result: object) -> dict[str, object]:
    from nianbao.register_import import ImportResult

    assert isinstance(result, ImportResult)
    report = result.report
    return {
        "source": str(result.source), "form": str(result.form),
        "written": str(result.written) if result.written else None,
        "tables": [{"sheet": t.sheet, "register": t.spec.sheet, "rows": len(t.rows),
                    "header_row": t.header_row, "columns": dict(t.columns),
                    "derived": dict(t.derived)} for t in result.tables],
        "findings": [f.to_dict() for f in result.findings],
        "replaced": result.replaced,
        "changed": [{"label": label, "before": before, "counted": now}
                    for label, before, now in result.changed],
        "register_findings": [f.to_dict() for f in (report.findings if report else ())
                              if f.code.startswith("reg-")],
    }


def register(group: click.Group) -> None:
    """Add the ``register`` commands to the ``nianbao`` group."""
    group.add_command(register_group)
