"""Findings as text and JSON: the only place that formats check results for people."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.cells import cell_len

from nianbao.model import FileReport, Finding, Severity
from nianbao.safetext import path_text, relative_posix


def display_path(path: Path, base: Path | None = None) -> str:
    """``path`` relative to ``base`` (default: the current folder) if inside it, with /.

    Always printable: a name in GBK bytes is decoded, control characters are neutralised.
    """
    rel = relative_posix(path, base or Path.cwd())
    return path_text(rel if rel is not None else path)


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


ALIGN_MAX = 64  # columns: a longer file:sheet!cell is not padded, nor pads the others


def to_text(reports: Sequence[FileReport], base: Path | None = None, *,
            style: Callable[[str, Severity], str] | None = None) -> str:
    """One line per finding, as :func:`finding_line`, with the severity, code and message
    columns aligned (up to :data:`ALIGN_MAX` columns of file and cell); then the totals.

    ``style(text, severity)`` may decorate the severity word (colour on a terminal).
    """
    rows = [(display_path(r.file, base) + (f":{f.location}" if f.location else "") + ":", f)
            for r in reports for f in r.findings]
    wide = max((w for w in (cell_len(h) for h, _ in rows) if w <= ALIGN_MAX), default=0)
    code_wide = max((len(f.code) for _, f in rows), default=0)
    lines: list[str] = []
    for head, f in rows:
        word = style(f.severity.zh, f.severity) if style else f.severity.zh
        lines.append(f"{head}{' ' * max(0, wide - cell_len(head))} {word} "
                     f"[{f.code}]{' ' * (code_wide - len(f.code))} {f.message}")
    lines.append(totals_line(reports))
    return "\n".join(lines) + "\n"


def to_json(reports: Sequence[FileReport]) -> str:
    return json.dumps([r.to_dict() for r in reports], ensure_ascii=False, indent=2) + "\n"
