"""``nianbao import`` and ``nianbao audit``: last year's and published reports (thin layer)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--output", "output", type=click.Path(file_okay=False, path_type=Path),
              default=Path("导入结果"), show_default=True, help="填好的填报表写到这个文件夹。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（供程序使用）。")
@click.option("-q", "--quiet", is_flag=True, help="只输出每个文件一行和最后的汇总行。")
def import_cmd(paths: tuple[Path, ...], output: Path, as_json: bool, quiet: bool) -> None:
    """导入已发布或已报送的年度报告（Word、PDF、网页、文本），每份生成一个填好的填报表。

    \b
    支持 .docx（官方30号模板手工填写、nianbao 模板或自制表格）、.html/.htm（GBK 或 UTF-8）、
    有文字层的 .pdf、.txt；2019年格式的报告读取能对应的数据，并说明未能转入的栏目。
    每张表给出可信度；读不准的单元格逐格列出（表、行、列），不会悄悄填错数字。
    导入后的数据按与报送填报表相同的规则校验。

    \b
    示例：
      nianbao import 去年报告/ -o 导入结果
      nianbao import 某局2024年报.docx 某局2024年报.pdf
    """
    from nianbao.config import load_config
    from nianbao.importer.run import import_paths
    from nianbao.report import display_path, finding_line

    config = load_config(Path.cwd())
    results = []
    failed = False
    for imported in import_paths(paths, output):
        result = imported.result
        report = result.report
        results.append(imported)
        failed = failed or not report.valid
        if as_json:
            continue
        head = f"{display_path(report.file)}：{_summary(imported)}"
        click.echo(head)
        if quiet:
            continue
        for table in result.tables:
            click.echo(f"    {table.name}：可信度 {table.confidence:.0%}（{table.cells} 格中"
                       f"确定 {table.exact}、推算 {table.repaired}、无法读取 {table.unreadable}）")
        for finding in report.findings:
            click.echo("    " + finding_line(report, finding))
    note = ""
    if config is not None:  # inside a workspace: the values go to its archive
        from nianbao.archive import archive_reports_of

        note = archive_reports_of(config, (i.result.report for i in results), "import")
    if as_json:
        click.echo(json.dumps([_as_dict(i) for i in results], ensure_ascii=False, indent=2))
    else:
        bad = sum(1 for i in results if not i.result.report.valid)
        click.echo(f"共导入 {len(results)} 个文件，{bad} 个有错误；填报表在 {display_path(output)}。")
        if note:
            click.echo(note)
    sys.exit(1 if failed else 0)


def _summary(imported: object) -> str:
    from nianbao.importer.read import KIND_ZH
    from nianbao.importer.run import Imported
    from nianbao.report import display_path

    assert isinstance(imported, Imported)
    result = imported.result
    sub = result.submission
    if sub is None:
        return f"无法导入（{result.report.findings[0].message}）" if result.report.findings \
            else "无法导入"
    fmt = "2019年格式" if result.format_id == "gb2019" else "2021年格式"
    where = f" → {display_path(imported.workbook)}" if imported.workbook else ""
    return (f"{sub.agency or '（单位不详）'} {sub.year or '（年度不详）'}年，"
            f"{KIND_ZH[result.kind]}，{fmt}，错误 {len(result.report.errors)} 条、"
            f"警告 {len(result.report.warnings)} 条{where}")


def _as_dict(imported: object) -> dict[str, object]:
    from nianbao.importer.run import Imported

    assert isinstance(imported, Imported)
    data = imported.result.report.to_dict()
    data["format"] = imported.result.format_id
    data["kind"] = imported.result.kind
    data["workbook"] = str(imported.workbook) if imported.workbook else None
    data["tables"] = [{"table": t.table, "name": t.name, "confidence": t.confidence,
                       "cells": t.cells, "exact": t.exact, "repaired": t.repaired,
                       "unreadable": t.unreadable} for t in imported.result.tables]
    return data


@click.command("audit")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("审查结果.xlsx"), show_default=True,
              help="审查结果工作簿；同名 .html 网页写在旁边。")
@click.option("--workbooks", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="同时把每份报告的数据写成填报表，放到这个文件夹。")
def audit_cmd(paths: tuple[Path, ...], output: Path, workbooks: Path | None) -> None:
    """审查一批已发布的年度报告：逐份导入、按全部规则校验，写出审查结果。

    \b
    审查结果.xlsx：“审查结果”每份报告一行（单位、年度、结论、错误和警告数、主要问题），
    “问题明细”列出全部问题；审查结果.html 是同样内容的网页，可直接转发。
    有报告不合格或无法读取时退出码为 1。

    \b
    示例：
      nianbao audit 已发布年报/ -o 审查结果.xlsx
      nianbao audit 各乡镇2024年报/ --workbooks 导入填报表
    """
    from nianbao.audit import audit_counts, audit_rows, has_errors, write_audit
    from nianbao.importer.run import import_paths
    from nianbao.report import display_path

    rows = audit_rows(i.result for i in import_paths(paths, workbooks))
    xlsx, page = write_audit(rows, output)
    for row in rows:
        sub = row.result.report.submission
        name = sub.agency if sub and sub.agency else display_path(row.result.report.file)
        click.echo(f"{name}：{row.main_problems() or '未发现问题'}")
    counts = "，".join(f"{k} {n} 份" for k, n in audit_counts(rows).items() if n)
    click.echo(f"共审查 {len(rows)} 份报告：{counts or '无'}。结果：{display_path(xlsx)}、"
               f"{display_path(page)}")
    sys.exit(1 if has_errors(rows) else 0)


@click.group("archive")
def archive_group() -> None:
    """归档数据：工作区数据库中各单位各年度的数值（由 build、run、import 存入）。"""


@archive_group.command("export")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("归档数据.csv"), show_default=True,
              help="输出文件：.csv（UTF-8，Excel 可直接打开）或 .xlsx。")
def archive_export_cmd(output: Path) -> None:
    """把归档数据导出为长表：每个数值一行（单位、编码、名称、年度、栏目键名、数值）。

    \b
    须在工作区中运行。无法读取的数值导出为空。栏目键名见 README“Word 模板与变量”，
    如 t3.r1.total 为表三本年新收总计。

    \b
    示例：
      nianbao archive export -o 归档数据.xlsx
    """
    from nianbao.archive import existing_engine, long_rows, write_long
    from nianbao.config import load_config
    from nianbao.report import display_path

    config = load_config(Path.cwd())
    if config is None:
        raise click.UsageError("不在工作区中：请在含有 nianbao.toml 的文件夹中运行。")
    engine = existing_engine(config)
    if engine is None:
        raise click.UsageError("工作区的归档中还没有数据（运行 build、run 或 import 后会存入）。")
    try:
        rows = list(long_rows(engine))
    finally:
        engine.dispose()
    write_long(rows, output)
    click.echo(f"已导出 {len(rows)} 个数值到 {display_path(output)}。")


def register(group: click.Group) -> None:
    """Add the import, audit and archive commands to the ``nianbao`` group."""
    group.add_command(import_cmd)
    group.add_command(audit_cmd)
    group.add_command(archive_group)
