"""Review a region's published annual reports: import each one and list what is wrong.

For a 政务公开办 that must check the 年报 of its region before or after they are
published: one row per report (unit, year, verdict, counts, the main problems in
words), every finding on a second sheet, and the same as one HTML page.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from nianbao import kinds
from nianbao.atomic import atomic_write, write_text
from nianbao.importer.read import KIND_ZH, ImportResult
from nianbao.model import Finding
from nianbao.report import display_path
from nianbao.status_output import where_text

VERDICTS = {"pass": ("合格", "C6EFCE"), "warn": ("基本合格（有提示）", "FFEB9C"),
            "fail": ("不合格（有错误）", "FFC7CE"), "unreadable": ("无法读取", "D9D9D9")}
MAIN_PROBLEMS = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditRow:
    """One report's line of the review."""

    result: ImportResult

    @property
    def verdict(self) -> str:
        report = self.result.report
        if report.submission is None:
            return "unreadable"
        if report.errors:
            return "fail"
        return "warn" if report.warnings else "pass"

    @property
    def confidence(self) -> float | None:
        tables = self.result.tables
        return min(t.confidence for t in tables) if tables else None

    def main_problems(self, limit: int = MAIN_PROBLEMS) -> str:
        """The main problems in words: by rule, errors first; a rule met once in full,
        a rule met many times as its summary with a count and the first place."""
        report = self.result.report
        by_code: dict[str, list[Finding]] = {}
        for f in (*report.errors, *report.warnings):
            by_code.setdefault(f.code, []).append(f)
        parts = []
        for code, found in list(by_code.items())[:limit]:
            first = found[0]
            if len(found) == 1:
                parts.append(_clip(_placed(first, first.message)))
            else:
                parts.append(f"{_summary(code)}，共 {len(found)} 处（如 {where_text(first) or '全文'}）")
        rest = len(by_code) - len(parts)
        return "；".join(parts) + (f"；另有 {rest} 类问题" if rest > 0 else "")


def _placed(finding: Finding, text: str) -> str:
    where = where_text(finding)
    return f"{where}：{text}" if where else text


def _clip(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit] + "……"


def _summary(code: str) -> str:
    return next((k.summary for k in kinds.KINDS if k.code == code and k.summary), code)


def audit_rows(results: Iterable[ImportResult]) -> list[AuditRow]:
    rows = [AuditRow(result=r) for r in results]
    order = list(VERDICTS)
    return sorted(rows, key=lambda r: (order.index(r.verdict) * -1, r.result.report.agency))


def _header(ws: Worksheet, widths: Sequence[int]) -> None:
    for i, width in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + i)].width = width
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(horizontal="center", vertical="center")
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions


def write_audit_xlsx(rows: Sequence[AuditRow], path: Path, base: Path | None = None) -> Path:
    """The review workbook: 审查结果 (one row per report) and 问题明细 (every finding)."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "审查结果"
    ws.append(["单位", "年度", "结论", "错误数", "警告数", "主要问题", "文件", "类型", "格式",
               "表格最低可信度"])
    for line, row in enumerate(rows, 2):  # not ws.max_row: it scans every cell
        result, report = row.result, row.result.report
        sub = report.submission
        label, colour = VERDICTS[row.verdict]
        ws.append([sub.agency if sub else "", sub.year if sub else None, label,
                   len(report.errors), len(report.warnings), row.main_problems(),
                   display_path(report.file, base), KIND_ZH.get(result.kind, result.kind),
                   {"gb2019": "2019年格式", "gb2021": "2021年格式"}.get(result.format_id, ""),
                   row.confidence])
        ws.cell(row=line, column=3).fill = PatternFill("solid", fgColor=colour)
        ws.cell(row=line, column=6).alignment = Alignment(wrap_text=True, vertical="top")
        ws.cell(row=line, column=10).number_format = "0%"
    _header(ws, (30, 8, 18, 8, 8, 90, 40, 8, 12, 14))
    detail = wb.create_sheet("问题明细")
    detail.append(["单位", "年度", "文件", "级别", "规则代码", "位置", "说明"])
    for row in rows:
        report = row.result.report
        sub = report.submission
        for f in report.findings:
            detail.append([sub.agency if sub else "", sub.year if sub else None,
                           display_path(report.file, base), f.severity.zh, f.code,
                           where_text(f), f.message])
    _header(detail, (30, 8, 40, 6, 22, 30, 100))
    with atomic_write(path) as tmp:
        wb.save(tmp)
    return path


_CSS = """body{font-family:"Microsoft YaHei","PingFang SC",sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #999;padding:.25em .5em;
vertical-align:top;font-size:14px}th{background:#ddebf7}.n{text-align:right}
td:first-child{min-width:11em}td:nth-child(3),th{white-space:nowrap}
""" + "".join(f".v-{k}{{background:#{c}}}" for k, (_, c) in VERDICTS.items())


def audit_html(rows: Sequence[AuditRow], base: Path | None = None) -> str:
    """One self-contained page (inline CSS, no script): the review table with each report's findings."""
    e = html.escape
    counts = {k: sum(1 for r in rows if r.verdict == k) for k in VERDICTS}
    summary = "，".join(f"{VERDICTS[k][0]} {n} 份" for k, n in counts.items() if n)
    out = ['<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
           f"<title>年度报告审查结果</title><style>{_CSS}</style></head><body>",
           f"<h1>政府信息公开工作年度报告审查结果</h1><p>共审查 {len(rows)} 份报告：{e(summary)}。</p>",
           "<table><tr><th>单位</th><th>年度</th><th>结论</th><th>错误</th><th>警告</th>"
           "<th>主要问题</th><th>文件</th></tr>"]
    for row in rows:
        report = row.result.report
        sub = report.submission
        items = "".join(f"<li>{e(f.severity.zh)} {e(where_text(f))} [{e(f.code)}] {e(f.message)}"
                        "</li>" for f in report.findings)
        details = (f"<details><summary>全部 {len(report.findings)} 条</summary><ol>{items}</ol>"
                   "</details>" if report.findings else "")
        out.append(f"<tr><td>{e(sub.agency if sub else '')}</td>"
                   f"<td>{e(str(sub.year or '')) if sub else ''}</td>"
                   f'<td class="v-{row.verdict}">{e(VERDICTS[row.verdict][0])}</td>'
                   f'<td class="n">{len(report.errors)}</td><td class="n">{len(report.warnings)}</td>'
                   f"<td>{e(row.main_problems())}{details}</td>"
                   f"<td>{e(display_path(report.file, base))}</td></tr>")
    out.append("</table></body></html>\n")
    return "\n".join(out)


def write_audit(rows: Sequence[AuditRow], xlsx: Path, base: Path | None = None) -> tuple[Path, Path]:
    """The review workbook and, beside it, the same review as one HTML page."""
    page = xlsx.with_suffix(".html")
    write_audit_xlsx(rows, xlsx, base)
    write_text(page, audit_html(rows, base))
    return xlsx, page


def audit_counts(rows: Sequence[AuditRow]) -> dict[str, int]:
    return {VERDICTS[k][0]: sum(1 for r in rows if r.verdict == k) for k in VERDICTS}


def has_errors(rows: Sequence[AuditRow]) -> bool:
    return any(r.result.report.errors or r.result.report.submission is None for r in rows)
