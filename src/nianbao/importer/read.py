"""Import one published or returned report: read it, map it, repair it, check it.

The result is an ordinary :class:`nianbao.model.FileReport` (values in the
2021 format's keys, every finding of the ordinary checks) plus a confidence
per table.  Findings name the table, row and column of the source document.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

from nianbao import kinds
from nianbao.check import sort_findings
from nianbao.importer.docx_source import SourceError, read_docx
from nianbao.importer.grid import Document
from nianbao.importer.html_source import read_html
from nianbao.importer.mapping import (
    INFO_SHEET,
    Mapped,
    detect_format,
    map_document,
    text_document,
)
from nianbao.importer.pdf_source import read_pdf
from nianbao.importer.repair import repair
from nianbao.importer.text_source import read_text
from nianbao.model import FileReport, Finding, Severity, Submission, Value
from nianbao.reader import ReadResult, read_grids
from nianbao.rules import Where, validate
from nianbao.schema import (
    GB2019,
    GB2019_OPTIONAL_TABLES,
    GB2019_TO_GB2021,
    GB2021,
    FormatSpec,
)
from nianbao.settings import DEFAULT_SETTINGS, Settings

READERS: dict[str, Callable[[Path], Document]] = {
    ".docx": read_docx, ".html": read_html, ".htm": read_html, ".shtml": read_html,
    ".pdf": read_pdf, ".txt": read_text,
}
SUFFIXES = frozenset(READERS)
KIND_ZH = {"docx": "Word", "html": "网页", "pdf": "PDF", "text": "文本"}


@dataclass(frozen=True, slots=True, kw_only=True)
class TableReading:
    """How surely one table of the format was read."""

    table: str  # schema table id
    name: str  # 表三, 表二（第二十条第（一）项）
    source: str  # 第3个表格 / 三、收到和处理… (guessed from text)
    cells: int  # input cells of the table
    exact: int  # read as printed, without doubt
    repaired: int  # filled in from the printed totals
    unreadable: int  # still unknown
    guessed: bool  # the cell structure was rebuilt from text, not given by the file

    @property
    def confidence(self) -> float:
        if not self.cells:
            return 0.0
        score = (self.exact + 0.5 * self.repaired) / self.cells
        return round(score * (0.9 if self.guessed else 1.0), 2)


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportResult:
    report: FileReport
    kind: str  # docx, html, pdf, text
    format_id: str  # the format the document was written in (gb2021, gb2019)
    tables: tuple[TableReading, ...] = ()

    @property
    def submission(self) -> Submission | None:
        return self.report.submission


def table_name(spec: FormatSpec, table_id: str) -> str:
    table = spec.table(table_id)
    short = spec.sheet_name(table.sheet).split()[0]
    return f"{short}（{table.caption}）" if table.caption else short


def import_file(path: Path, settings: Settings = DEFAULT_SETTINGS) -> ImportResult:
    """Read one report file of any supported kind.  Never raises for anything in the file."""
    reader = READERS.get(path.suffix.lower())
    kind = {".docx": "docx", ".pdf": "pdf", ".txt": "text"}.get(path.suffix.lower(), "html")
    if reader is None:
        return _failed(path, kind, f"不支持的文件类型“{path.suffix}”：可导入 .docx、.html、.htm、"
                                   ".pdf、.txt。旧版 .doc 请先另存为 .docx。")
    try:
        doc = reader(path)
    except SourceError as exc:
        return _failed(path, kind, str(exc))
    except OSError as exc:
        return _failed(path, kind, f"文件无法打开（{exc.strerror or type(exc).__name__}）。")
    except Exception as exc:  # noqa: BLE001 - last line of defence: one bad file, one finding
        return _failed(path, kind, f"读取文件时发生意外错误（{type(exc).__name__}），文件可能已损坏。")
    return import_document(doc, settings)


def _failed(path: Path, kind: str, message: str) -> ImportResult:
    finding = kinds.finding("file-unreadable:document", reason=message)
    return ImportResult(report=FileReport(file=path, submission=None, findings=(finding,)),
                        kind=kind, format_id="")


def import_document(doc: Document, settings: Settings = DEFAULT_SETTINGS) -> ImportResult:
    spec = detect_format(doc)
    mapped = map_document(doc, spec)
    read = read_grids(doc.path, mapped.grids, settings, spec)
    findings = [_in_source(f, mapped) for f in read.findings]
    if read.submission is None:
        return ImportResult(report=FileReport(file=doc.path, submission=None,
                                              findings=sort_findings(findings)),
                            kind=doc.kind, format_id=spec.id)
    positions = _positions(read, mapped)
    key_at = {where: key for key, where in positions.items()}
    findings = [f if f.key or _at(f) not in key_at
                else dataclasses.replace(f, key=key_at[_at(f)]) for f in findings]
    values: dict[str, Value | None] = dict(read.submission.values)
    lost = {positions[k] for k in mapped.unplaced if k in positions}
    findings = [f for f in findings if _at(f) not in lost]
    for key in mapped.unplaced:
        values[key] = None
    for note, keys in _grouped(mapped.guessed).items():
        findings.append(_cell_finding("import-realigned", spec, keys[0], positions, note=note))
    claims = dict(read.submission.claims)
    fixed = repair(spec, values, claims)
    values.update(fixed)
    repaired_at = {positions[k]: k for k in fixed if k in positions}
    shown = {repaired_at[_at(f)]: str(f.actual) for f in findings
             if f.severity is Severity.ERROR and _at(f) in repaired_at and f.actual}
    findings = [f for f in findings if not (f.severity is Severity.ERROR
                                            and _at(f) in repaired_at)]
    marked = {_at(f) for f in findings if f.severity is Severity.ERROR}
    for key in spec.input_keys:
        why = mapped.unplaced.get(key, "") or (f"原文为“{shown[key]}”" if key in shown else "")
        label = spec.cells[key].label
        why = f"（{why}）" if why else ""
        if key in fixed:
            findings.append(_cell_finding("import-repaired", spec, key, positions,
                                          actual=fixed[key], label=label, why=why,
                                          value=fixed[key]))
        elif values.get(key) is None and (key in mapped.unplaced or (
                key in positions and positions[key] not in marked)):
            findings.append(_cell_finding("import-unreadable", spec, key, positions,
                                          label=label, why=why))
    spec.recompute(values)
    tables = _readings(spec, mapped, values, positions, set(fixed))
    sub = dataclasses.replace(read.submission, values=values, claims=claims, source=doc.path)
    if spec is GB2019:
        unused = {positions[k] for k in GB2019.input_keys if k in positions
                  and not any(k in s for s in GB2019_TO_GB2021.values())}
        findings = [f for f in findings
                    if _at(f) not in unused and not _optional_missing(f)]
        sub, positions, notes = _to_2021(sub, positions)
        findings += notes
    info = {f.id: ("报告标题", "") for f in GB2021.info_fields}
    info |= {s.id: (s.heading, "") for s in GB2021.sections if s.narrative}
    where = Where(cells=positions, info=info)
    findings += validate(sub, where, settings=settings, spec=GB2021,
                         year_text=read.meta.get("year_text", ""),
                         document=text_document(doc.paragraphs, spec))
    findings = kinds.apply_switches(findings, settings)
    report = FileReport(file=doc.path, submission=sub, findings=sort_findings(findings),
                        positions=positions)
    return ImportResult(report=report, kind=doc.kind, format_id=spec.id, tables=tables)


def _at(finding: Finding) -> tuple[str, str]:
    """Where a finding points, comparable with the positions map."""
    return finding.sheet or "", finding.cell or ""


def _grouped(notes: Mapping[str, str]) -> dict[str, list[str]]:
    """Keys by note: one finding for a whole row read the same way."""
    out: dict[str, list[str]] = {}
    for key, note in notes.items():
        out.setdefault(note, []).append(key)
    return out


def _address(cell: str) -> tuple[int, int] | None:
    try:
        letters, row = coordinate_from_string(cell)
        return row - 1, column_index_from_string(letters) - 1
    except ValueError:
        return None


def _in_source(finding: Finding, mapped: Mapped) -> Finding:
    """A reader finding pointed at the document (table, row, column) instead of a sheet."""
    if finding.sheet == INFO_SHEET:
        return dataclasses.replace(finding, sheet="报告标题和正文", cell=None)
    source = mapped.sources.get(finding.sheet or "")
    if source is None:
        return finding
    rc = _address(finding.cell) if finding.cell else None
    cell = source.cells.get(rc) if rc else None
    return dataclasses.replace(finding, sheet=source.table, cell=cell or finding.cell)


def _positions(read: ReadResult, mapped: Mapped) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for key, (sheet, cell) in read.positions.items():
        source = mapped.sources.get(sheet)
        rc = _address(cell)
        if source is not None and rc is not None:
            out[key] = (source.table, source.cells.get(rc, cell))
    return out


def _cell_finding(kind_id: str, spec: FormatSpec, key: str,
                  positions: Mapping[str, tuple[str, str]], actual: Value | None = None,
                  **fields: Any) -> Finding:
    table_id = key.split(".")[0]
    sheet, cell = positions.get(key, (table_name(spec, table_id), ""))
    return kinds.finding(kind_id, sheet=sheet, cell=cell or None, key=key, actual=actual,
                         **fields)


def _readings(spec: FormatSpec, mapped: Mapped, values: Mapping[str, Value | None],
              positions: Mapping[str, tuple[str, str]], fixed: set[str]) -> tuple[TableReading, ...]:
    out = []
    guessed_sources = {s.table for name, s in mapped.sources.items()
                       if not name.startswith("第")}
    for table in spec.tables:
        keys = [k for k in spec.input_keys if k.split(".")[0] == table.id]
        sources = {positions[k][0] for k in keys if k in positions}
        unreadable = sum(1 for k in keys if values.get(k) is None)
        repaired = sum(1 for k in keys if k in fixed)
        realigned = sum(1 for k in keys if k in mapped.guessed)
        exact = len(keys) - unreadable - repaired - realigned
        exact -= sum(1 for k in keys if k not in positions and values.get(k) is not None
                     and k not in fixed and k not in mapped.guessed)
        out.append(TableReading(
            table=table.id, name=table_name(spec, table.id), source="、".join(sorted(sources)),
            cells=len(keys), exact=max(exact, 0), repaired=repaired + realigned,
            unreadable=unreadable, guessed=bool(sources & guessed_sources)))
    return tuple(out)


def _shown(value: Value | None) -> str:
    return "无法读取" if value is None else str(value)


def _optional_missing(finding: Finding) -> bool:
    """A 2019 table with no 2021 counterpart is missing: nothing is lost."""
    if finding.code != "table-missing":
        return False
    optional = {GB2019.table(t).caption for t in GB2019_OPTIONAL_TABLES}
    named = set(re.findall(r"“(第二十条[^”]*)”", finding.message))
    return bool(named) and named <= optional


def _to_2021(sub: Submission, positions: Mapping[str, tuple[str, str]]
             ) -> tuple[Submission, dict[str, tuple[str, str]], list[Finding]]:
    """A 2019-format report in the 2021 keys: what maps is carried over, the rest said."""
    values: dict[str, Value | None] = {}
    new_positions: dict[str, tuple[str, str]] = {}
    for key in GB2021.input_keys:
        sources = GB2019_TO_GB2021.get(key)
        if sources is None:
            values[key] = None
            continue
        parts = [sub.values.get(s) for s in sources]
        values[key] = None if None in parts else sum(p for p in parts if p is not None)
        if len(sources) == 1 and sources[0] in positions:
            new_positions[key] = positions[sources[0]]
    GB2021.recompute(values)
    unmapped = [k for k in GB2019.input_keys
                if not any(k in s for s in GB2019_TO_GB2021.values())]
    said = "；".join(f"{GB2019.cells[k].label} = {_shown(sub.values.get(k))}" for k in unmapped)
    notes = [kinds.finding("import-format-2019", sheet="表三"),
             kinds.finding("import-not-converted", sheet="表二", said=said)]
    claims = {k: v for k, v in sub.claims.items() if k in GB2021.cells}
    return (dataclasses.replace(sub, values=values, claims=claims, format_id=GB2021.id),
            new_positions, notes)
