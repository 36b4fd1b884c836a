"""Findings as text and JSON: the only place that formats check results for people."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from nianbao.model import FileReport, Finding
from nianbao.safetext import path_text


def display_path(path: Path, base: Path | None = None) -> str:
    """``path`` relative to ``base`` (default: the current folder) if inside it, with /.

    Always printable: a name in GBK bytes is decoded, control characters are neutralised.
    """
    base = base or Path.cwd()
    try:
        return path_text(path.resolve().relative_to(base.resolve()).as_posix())
    except ValueError:
        return path_text(path)


def finding_line(report: FileReport, finding: Finding, base: Path | None = None) -> str:
    """``文件:工作表!单元格: 错误 [code] 说明`` (file-level findings have no sheet part)."""
    where = display_path(report.file, base)
    if finding.location:
        where = f"{where}:{finding.location}"
    return f"{where}: {finding.severity.zh} [{finding.code}] {finding.message}"


def totals_line(reports: Sequence[FileReport]) -> str:
    errors = sum(len(r.errors) for r in reports)
    warnings = sum(len(r.warnings) for r in reports)
    bad = sum(1 for r in reports if not r.valid)
    warned = sum(1 for r in reports if r.valid and r.warnings)
    clean = len(reports) - bad - warned
    return (f"共检查 {len(reports)} 个文件：{bad} 个有错误，{warned} 个仅有警告，{clean} 个完全通过；"
            f"错误 {errors} 条，警告 {warnings} 条。")


def to_text(reports: Sequence[FileReport], base: Path | None = None) -> str:
    lines = [finding_line(r, f, base) for r in reports for f in r.findings]
    lines.append(totals_line(reports))
    return "\n".join(lines) + "\n"


def to_json(reports: Sequence[FileReport]) -> str:
    return json.dumps([r.to_dict() for r in reports], ensure_ascii=False, indent=2) + "\n"
