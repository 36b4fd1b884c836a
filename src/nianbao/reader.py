"""Read a returned workbook by its labels, never by fixed coordinates.

The reader finds each table by its row and column labels (accepting the
variants the schema lists), so a workbook whose rows or columns were inserted,
whose sheets were renamed or reordered, or that an agency re-typed in its own
layout still reads.  Cached formula values are never trusted: totals are
recomputed, and a total present in the file is kept as a *claim* to check.

Files that cannot be read at all give one file-level finding each; the
file-level checks and the sheet XML scan live in :mod:`nianbao.package`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook

from nianbao.kinds import finding
from nianbao.layout import META_KEYS, a1
from nianbao.model import Finding, Submission, Value
from nianbao.package import REGISTER_SHEETS, Package, SheetScan, open_package
from nianbao.register import top_texts as register_top_texts
from nianbao.register_read import apply_registers
from nianbao.schema import (
    DEFAULT_FORMAT,
    FORM_ID,
    FORMATS,
    FormatSpec,
    HeaderNode,
    Table,
    normalize_label,
)
from nianbao.settings import DEFAULT_SETTINGS, Settings
from nianbao.values import Issue, Uncalculated, parse_cell

_BANNER = re.compile(r"填报单位[:：]\s*(?P<name>[^（(]*?)\s*(?:[（(]编码[:：]\s*(?P<code>[^）)]*)[）)])?"
                     r"\s*(?:报告年度[:：]\s*(?P<year>\d{4}))?\s*$")


@dataclass(slots=True)
class ReadResult:
    """What the reader got from one file: the submission (None if unreadable) and findings."""

    submission: Submission | None
    findings: list[Finding] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    positions: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (sheet, A1)
    info_positions: dict[str, tuple[str, str]] = field(default_factory=dict)  # field -> (sheet, A1)


# ------------------------------------------------------------------------ the grids

WIDE_MERGE = 4096  # cells: a merged range larger than this is not listed cell by cell


class SheetGrid:
    """The values of one sheet with a label index and merged ranges."""

    def __init__(self, name: str, rows: list[list[Any]],
                 merged: Iterable[tuple[tuple[int, int], tuple[int, int]]], visible: bool,
                 hidden: tuple[set[int], set[int]] = (set(), set())) -> None:
        self.name = name
        self.rows = rows
        self.visible = visible
        self.hidden_rows, self.hidden_cols = hidden  # 0-based
        self.width = max((len(r) for r in rows), default=0)
        self.merged: dict[tuple[int, int], tuple[int, int]] = {}
        for (r0, c0), (r1, c1) in merged:
            self.merged[(r0, c0)] = (r1, c1)
        self.index: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, str) and value.strip():
                    self.index[normalize_label(value)].append((r, c))

    def get(self, r: int, c: int) -> object:
        if r < len(self.rows) and c < len(self.rows[r]):
            value = self.rows[r][c]
            return None if value == "" else value
        return None

    def find(self, labels: Iterable[str]) -> list[tuple[int, int]]:
        hits: list[tuple[int, int]] = []
        for label in labels:
            hits += self.index.get(normalize_label(label), [])
        return sorted(set(hits))

    @cached_property
    def covered(self) -> tuple[dict[tuple[int, int], str], list[tuple[int, int, int, int]]]:
        """Each cell a merged range covers without starting there -> the range (A1:B2);
        and the ranges too large to list that way (a stray range over a whole sheet)."""
        cells: dict[tuple[int, int], str] = {}
        wide: list[tuple[int, int, int, int]] = []
        for (r0, c0), (r1, c1) in self.merged.items():
            if (r1 - r0 + 1) * (c1 - c0 + 1) > WIDE_MERGE:
                wide.append((r0, c0, r1, c1))
                continue
            ref = f"{a1(r0 + 1, c0 + 1)}:{a1(r1 + 1, c1 + 1)}"
            for r in range(r0, r1 + 1):
                for c in range(c0, c1 + 1):
                    if (r, c) != (r0, c0):
                        cells.setdefault((r, c), ref)
        return cells, wide

    @cached_property
    def top_texts(self) -> frozenset[str]:
        """Its first rows' texts as a register's header is matched (:mod:`nianbao.register`)."""
        return register_top_texts(self.rows)

    def end(self, r: int, c: int) -> tuple[int, int]:
        return self.merged.get((r, c), (r, c))

    def text_right_of(self, r: int, c: int) -> object:
        """The first non-empty value right of (r, c) on the same row."""
        _, c_end = self.end(r, c)
        for cc in range(c_end + 1, len(self.rows[r])):
            value = self.get(r, cc)
            if value is not None:
                return value
        return None


# What a real form never exceeds; content beyond it is a stray keystroke far away
# (Ctrl+End) and would make calamine allocate the whole rectangle up to it: a
# single value in XFD1048576 asks for 512 GB and aborts the process.
class SheetUnreadable(Exception):
    """One sheet of an otherwise well-formed package cannot be parsed."""


def _load(package: Package) -> list[SheetGrid]:
    wb = CalamineWorkbook.from_filelike(package.data)
    try:
        grids = []
        visible = {m.name: str(m.visible).endswith("Visible") and "Hidden" not in str(m.visible)
                   for m in wb.sheets_metadata}
        for name in wb.sheet_names:
            if name in package.skip:
                continue
            try:
                sheet = wb.get_sheet_by_name(name)
                rows = sheet.to_python(skip_empty_area=False)
            except Exception as exc:  # noqa: BLE001 - calamine's errors have no common base
                raise SheetUnreadable(name) from exc
            scan = package.scans.get(name)
            if scan:
                _overlay(rows, scan)
            merged = getattr(sheet, "merged_cell_ranges", None) or []
            hidden = (scan.hidden_rows, scan.hidden_cols) if scan else (set(), set())
            grids.append(SheetGrid(name, rows, merged, visible.get(name, True), hidden))
        return grids
    finally:
        wb.close()


def _overlay(rows: list[list[Any]], scan: SheetScan) -> None:
    """Put back what calamine reads as blank: error values and uncalculated formulas."""
    marks: dict[tuple[int, int], object] = dict(scan.errors)
    marks |= {pos: Uncalculated(text) for pos, text in scan.uncalculated.items()}
    for (r, c), mark in marks.items():
        while len(rows) <= r:
            rows.append([])
        row = rows[r]
        if len(row) <= c:
            row.extend([""] * (c + 1 - len(row)))
        if row[c] in ("", None):
            row[c] = mark


# -------------------------------------------------------------------- table finding

@dataclass(slots=True)
class Located:
    sheet: SheetGrid
    cells: dict[str, tuple[int, int]]  # key -> (row, col), 0-based
    missing: list[str]  # labels not found
    variants: list[str]  # non-canonical labels used


def _row_positions(grid: SheetGrid, table: Table,
                   variants: list[str]) -> tuple[dict[str, int], list[str]]:
    rows: dict[str, int] = {}
    missing: list[str] = []
    for row in table.data_rows:
        hits = grid.find((row.label,))
        if not hits:
            hits = grid.find(row.aliases)
            if hits:
                variants.append(str(grid.get(*hits[0]) or row.label))
        if hits:
            rows[row.id] = hits[0][0]
        else:
            missing.append(row.label)
    return rows, missing


def _resolve_header(grid: SheetGrid, nodes: tuple[HeaderNode, ...], col_lo: int, col_hi: int,
                    row_lo: int, row_hi: int, out: dict[str, tuple[int, int]],
                    missing: list[str], variants: list[str], table: Table,
                    nearest_bottom: bool) -> None:
    """Find each node's cell within columns [col_lo, col_hi] and rows [row_lo, row_hi)."""
    found: list[tuple[HeaderNode, tuple[int, int] | None]] = []
    for node in nodes:
        labels = [node.label]
        aliases: tuple[str, ...] = ()
        if node.column:
            aliases = table.column(node.column).aliases
        hits = [h for h in grid.find(labels) if col_lo <= h[1] <= col_hi and row_lo <= h[0] < row_hi]
        if not hits and aliases:
            hits = [h for h in grid.find(aliases)
                    if col_lo <= h[1] <= col_hi and row_lo <= h[0] < row_hi]
            if hits:
                variants.append(str(grid.get(*hits[0])))
        if not hits and not node.children:
            # A merge that was not widened when a column was inserted: look further right.
            taken = {c for _, c in out.values()}
            hits = [h for h in grid.find(labels)
                    if h[1] >= col_lo and h[1] not in taken and row_lo <= h[0] < row_hi]
        if hits:
            pick = max(hits) if nearest_bottom else min(hits)
            # among several on the chosen row, the leftmost not already used
            same_row = sorted(h for h in hits if h[0] == pick[0])
            used = {pos for _, pos in found if pos}
            pick = next((h for h in same_row if h not in used), same_row[0])
            found.append((node, pick))
        else:
            found.append((node, None))
    starts = sorted(pos[1] for _, pos in found if pos)
    for node, pos in found:
        if pos is None:
            if node.children:  # a group label left out: look for its leaves in the parent range
                _resolve_header(grid, node.children, col_lo, col_hi, row_lo, row_hi, out,
                                missing, variants, table, nearest_bottom)
            else:
                missing.append(node.label)
            continue
        r, c = pos
        r_end, c_end = grid.end(r, c)
        if c_end == c:  # not merged: the node reaches to the next sibling
            c_end = min((s - 1 for s in starts if s > c), default=col_hi)
        if node.children:
            _resolve_header(grid, node.children, c, c_end, r + 1, row_hi, out, missing,
                            variants, table, nearest_bottom=False)
        elif node.column:
            out[node.column] = (r_end, c)


def locate(grid: SheetGrid, table: Table) -> Located:
    """Find a table's value cells in one sheet by its labels."""
    variants: list[str] = []
    rows, missing = _row_positions(grid, table, variants)
    columns: dict[str, tuple[int, int]] = {}
    if rows:
        first = min(rows.values())
        _resolve_header(grid, table.header, 0, max(grid.width - 1, 0), 0, first, columns,
                        missing, variants, table, nearest_bottom=True)
    else:
        _resolve_header(grid, table.header, 0, max(grid.width - 1, 0), 0, len(grid.rows),
                        columns, missing, variants, table, nearest_bottom=False)
    cells: dict[str, tuple[int, int]] = {}
    if table.rows:
        for row_id, r in rows.items():
            for col_id, (_, c) in columns.items():
                cells[table.key(row_id, col_id)] = (r, c)
    elif columns:
        data_row = max(r for r, _ in columns.values()) + 1
        for col_id, (_, c) in columns.items():
            cells[table.key(None, col_id)] = (data_row, c)
    return Located(grid, cells, missing, variants)


def _min_score(table: Table) -> int:
    """How many of a table's labels a sheet must show to be that table (half, at least one).

    One shared word such as “总计” must not make 表四 pass for a deleted 表三.
    """
    labels = len(table.data_rows) + len(table.columns)
    return max(1, (labels + 1) // 2)


def _merged_into(grid: SheetGrid, r: int, c: int) -> str | None:
    """The merged range (A1:B2) that covers (r, c) without starting there, if any."""
    cells, wide = grid.covered
    if (r, c) in cells:
        return cells[(r, c)]
    for r0, c0, r1, c1 in wide:
        if r0 <= r <= r1 and c0 <= c <= c1 and (r0, c0) != (r, c):
            return f"{a1(r0 + 1, c0 + 1)}:{a1(r1 + 1, c1 + 1)}"
    return None


def _raw(grid: SheetGrid, pos: tuple[int, int] | None) -> object:
    return None if pos is None else grid.get(*pos)


_POSITIONS: dict[tuple[str, str], tuple[str, str]] = {}


def _position(sheet: str, address: str) -> tuple[str, str]:
    """One shared (sheet, A1) tuple per place: a batch of 50,000 reports keeps one copy."""
    if len(_POSITIONS) > 100_000:  # renamed sheets everywhere: never grow without bound
        _POSITIONS.clear()
    return _POSITIONS.setdefault((sheet, address), (sheet, address))


def _cell_list(cells: list[str], limit: int = 8) -> str:
    """``D7、E7、F7`` (at most ``limit``, then ``等 N 个单元格``)."""
    shown = "、".join(cells[:limit])
    return f"{shown} 等 {len(cells)} 个单元格" if len(cells) > limit else shown


def _missing_table_finding(spec: FormatSpec, sheet_id: str, tables: list[Table],
                           grids: list[SheetGrid]) -> Finding:
    """The table is not there: say which of its labels no sheet shows (at most six)."""
    sheet = spec.sheet_name(sheet_id)
    on_sheet = [t for t in spec.tables if t.sheet == sheet_id]
    absent: list[str] = []
    for table in tables:
        best = max(grids, key=lambda g: _score(g, table, spec), default=None)
        absent += [label for label, key in spec.table_labels[table.id]
                   if best is None or key not in best.index]
    unique = list(dict.fromkeys(absent))
    labels = "、".join(f"“{_clip(label, 30)}”" for label in unique[:6])
    if len(unique) > 6:
        labels += f" 等 {len(unique)} 个"
    if len(tables) == len(on_sheet):
        return finding("table-missing", sheet_name=sheet, labels=labels)
    return finding("table-missing:captions", sheet_name=sheet, labels=labels,
                   captions="、".join(f"“{t.caption}”" for t in tables if t.caption))


def _score(grid: SheetGrid, table: Table, spec: FormatSpec) -> int:
    """How many of the table's labels the sheet shows."""
    index = grid.index
    return sum(1 for _, key in spec.table_labels[table.id] if key in index)


# ----------------------------------------------------------------------- the reader

def read_workbook(path: Path, settings: Settings = DEFAULT_SETTINGS,
                  spec: FormatSpec = DEFAULT_FORMAT, *, data: bytes | None = None) -> ReadResult:
    """Read one returned workbook (``data``: its bytes, if already read).

    Never raises for anything in the file.
    """
    package = open_package(path, settings, data=data)
    if isinstance(package, Finding):
        return ReadResult(None, [package])
    try:
        grids = _load(package)
    except Exception as exc:  # noqa: BLE001 - calamine raises several types for broken files
        if package.fallback is not None:  # an .xls/.ods it cannot read: say what to do
            return ReadResult(None, [package.fallback])
        # calamine's own (English) text is never shown: the message says what to do
        if isinstance(exc, SheetUnreadable):
            return ReadResult(None, [finding("file-corrupt:sheet", sheet_name=str(exc))])
        return ReadResult(None, [finding("file-corrupt:content")])
    if package.fallback is not None and not grids:
        return ReadResult(None, [package.fallback])
    result = read_grids(path, grids, settings, spec)
    apply_registers(result, grids, spec)  # 表三/表四 counted from the registers, if any
    result.findings[:0] = package.notes
    return result


def _read_meta(grids: list[SheetGrid]) -> dict[str, str]:
    meta: dict[str, str] = {}
    for grid in grids:
        hits = grid.find(("form_id",))
        if not hits:
            continue
        for key in META_KEYS:
            for r, c in grid.find((key,)):
                value = grid.text_right_of(r, c)
                if value is not None:
                    meta[key] = _text(value)
        break
    return meta


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_grids(path: Path, grids: list[SheetGrid], settings: Settings,
               spec: FormatSpec) -> ReadResult:
    """Read the format's tables and 基本信息 from sheet grids, by their labels.

    Used for workbooks and for the grids :mod:`nianbao.importer` builds from
    Word, PDF, HTML and text reports.
    """
    findings: list[Finding] = []
    meta = _read_meta(grids)
    if meta.get("form_id") == FORM_ID and meta.get("form_version") != spec.form_version:
        other_version = meta.get("form_version", "未知")
        if meta.get("format") in FORMATS and meta.get("format") != spec.id:
            spec = FORMATS[meta["format"]]
        else:
            findings.append(finding("form-version", other=other_version,
                                    wanted=spec.form_version))
            return ReadResult(None, findings, meta)
    for grid in grids:
        old = [label for label in spec.forbidden_labels if grid.find((label,))]
        if old:
            findings.append(finding("format-version", sheet=grid.name, label=old[0],
                                    first_year=spec.first_year, name=spec.name,
                                    document=spec.document))
            return ReadResult(None, findings, meta)

    values: dict[str, Value | None] = {}
    claims: dict[str, Value] = {}
    positions: dict[str, tuple[str, str]] = {}
    found_any = False
    blanks: list[Finding] = []
    missing_tables: dict[str, list[Table]] = defaultdict(list)
    duplicates: dict[tuple[str, str], bool] = {}  # (read, other) -> values differ
    candidates = [g for g in grids if g.name != "_meta" and g.name not in REGISTER_SHEETS]
    for table in spec.tables:
        scores = {g.name: _score(g, table, spec) for g in candidates}
        best = max(candidates, key=lambda g: scores[g.name], default=None)
        if best is None or scores[best.name] < _min_score(table):
            missing_tables[table.sheet].append(table)
            continue
        located = locate(best, table)
        found_any = found_any or bool(located.cells)
        for other in candidates:
            if other is not best and scores[other.name] >= _min_score(table):
                copy = locate(other, table)
                differ = any(_raw(best, located.cells.get(k)) != _raw(other, pos)
                             for k, pos in copy.cells.items())
                pair = (best.name, other.name)
                duplicates[pair] = duplicates.get(pair, False) or differ
        if not best.visible and located.cells:
            findings.append(finding("sheet-hidden", sheet=best.name, sheet_name=best.name))
        for label in located.missing:
            findings.append(finding("label-missing", sheet=best.name, sheet_name=best.name,
                                    label=label))
        if located.variants:
            findings.append(finding(
                "label-variant", sheet=best.name, sheet_name=best.name,
                variants="、".join(f"“{v}”" for v in dict.fromkeys(located.variants))))
        hidden: list[str] = []
        for found_key, (r, c) in located.cells.items():
            cell = spec.cells[found_key]
            key = cell.key  # the format's own string, shared by every workbook read
            address = a1(r + 1, c + 1)
            positions[key] = _position(best.name, address)
            raw = best.get(r, c)
            if (raw is not None and cell.kind != "computed"
                    and (r in best.hidden_rows or c in best.hidden_cols)):
                hidden.append(address)
            parsed = parse_cell(raw, cell.type, fee_decimals=settings.fee_decimals,
                                fee_max=settings.fee_max)
            if cell.kind == "computed":
                if raw is not None and parsed.value is not None and not parsed.issues:
                    claims[key] = parsed.value
                elif set(parsed.issues) & {Issue.FORMULA_ERROR, Issue.NOT_NUMBER}:
                    findings.append(finding(
                        "total-unreadable", sheet=best.name, cell=address, key=key,
                        actual=_clip(parsed.shown), label=cell.label, shown=_clip(parsed.shown)))
                continue
            values[key] = parsed.value
            if (merged_into := _merged_into(best, r, c)) is not None:
                findings.append(finding(
                    "input-merged", sheet=best.name, cell=address, key=key, label=cell.label,
                    address=address, merged_into=merged_into))
                continue
            issues = parsed.issues
            if parsed.value is None:  # an error: how the text was read no longer matters
                issues = tuple(i for i in issues if i is not Issue.TEXT_NUMBER)
            for issue in issues:
                problem = _value_finding(issue, best.name, address, cell.label, parsed.shown,
                                         settings)
                (blanks if issue is Issue.BLANK and not parsed.shown else findings).append(problem)
        if hidden:
            findings.append(finding("values-hidden", sheet=best.name, cell=hidden[0],
                                    sheet_name=best.name, cells=_cell_list(hidden)))
    if not found_any:
        findings.append(finding("tables-missing"))
        return ReadResult(None, findings, meta)
    for sheet_id, tables in missing_tables.items():
        findings.append(_missing_table_finding(spec, sheet_id, tables, candidates))
    for (read, copy_name), differ in duplicates.items():
        findings.append(finding("table-duplicate:differ" if differ else "table-duplicate:same",
                                sheet=copy_name, copy=copy_name, read=read))
    inputs_located = sum(1 for k in positions if spec.cells[k].kind == "input")
    if blanks and len(blanks) == inputs_located:
        # A warning, not an error: the project decided a blank form checks with warnings only
        # (tests/test_intake.py); this line says what the per-cell warnings below add up to.
        findings.append(finding("form-blank"))
    findings += blanks
    for key in spec.input_keys:
        values.setdefault(key, None)
    spec.recompute(values)

    info, narrative, info_where = _read_info(grids, spec)
    banner = _read_banner(grids)
    agency = info.get("agency") or banner.get("name") or meta.get("agency_name", "")
    code = info.get("code") or banner.get("code") or meta.get("agency_code", "")
    year_text = info.get("year") or banner.get("year") or meta.get("year", "")
    year = _year(year_text)
    sub = Submission(
        agency=agency, code=code, year=year, level=info.get("level", ""),
        contact=info.get("contact", ""), phone=info.get("phone", ""), format_id=spec.id,
        values=values, claims=claims, narrative=narrative, source=path,
    )
    mismatch = _meta_mismatch(meta, agency, code, info_where)
    if mismatch:
        findings.append(mismatch)
    result = ReadResult(sub, findings, meta, positions, info_where)
    result.meta.setdefault("year_text", year_text)
    return result


def _meta_mismatch(meta: dict[str, str], agency: str, code: str,
                   where: dict[str, tuple[str, str]]) -> Finding | None:
    """The form was issued to one unit (hidden metadata) but names another in 基本信息."""
    issued_name = meta.get("agency_name", "").strip()
    issued_code = meta.get("agency_code", "").strip()
    name_differs = bool(issued_name and agency) and normalize_label(issued_name) != normalize_label(agency)
    code_differs = bool(issued_code and code) and issued_code != code.strip()
    if not (name_differs or code_differs):
        return None
    issued = issued_name + (f"（编码 {issued_code}）" if issued_code else "")
    given = agency + (f"（编码 {code}）" if code else "")
    sheet, cell = where.get("code" if code_differs else "agency", (None, None))
    return finding("agency-mismatch", sheet=sheet, cell=cell or None, expected=issued,
                   actual=given, issued=issued, given=given)


def _year(text: str) -> int | None:
    match = re.search(r"(19|20)\d{2}", text or "")
    return int(match.group(0)) if match else None


def _value_finding(issue: Issue, sheet: str, address: str, label: str, content: str,
                   settings: Settings) -> Finding:
    content = _clip(content)
    kind_id = str(issue) + (":shown" if issue is Issue.BLANK and content else "")
    return finding(kind_id, settings=settings, sheet=sheet, cell=address, actual=content or None,
                   what=f"“{label}”", content=content, got=f"“{content}”" if content else "空白",
                   decimals=settings.fee_decimals)


def _clip(text: str, limit: int = 40) -> str:
    """A cell's content short enough for a one-line message."""
    text = " ".join(text.split()) if len(text) > limit else text
    return text if len(text) <= limit else text[:limit] + f"…（共 {len(text)} 字）"


def _read_banner(grids: list[SheetGrid]) -> dict[str, str]:
    for grid in grids:
        for r in range(min(3, len(grid.rows))):
            for c in range(min(3, len(grid.rows[r]))):
                value = grid.get(r, c)
                if isinstance(value, str):
                    match = _BANNER.search(value.strip())
                    if match and match.group("name") and "请在" not in match.group("name"):
                        return {k: v for k, v in match.groupdict().items() if v}
    return {}


def _read_info(grids: list[SheetGrid], spec: FormatSpec
               ) -> tuple[dict[str, str], dict[str, tuple[str, ...]], dict[str, tuple[str, str]]]:
    """The 基本信息 fields and the narrative sections, each found by its label.

    Returns the field values, the narrative paragraphs and where each field's
    value cell is (sheet, A1), so findings can point at it.  The sheet with the
    most of these labels is searched first, then the others.
    """
    labels = {f.id: (f.label, *f.aliases) for f in spec.info_fields}
    labels |= {s.id: (s.heading, s.title, *s.aliases, *(f"{s.no}、{a}" for a in s.aliases))
               for s in spec.sections if s.narrative}
    order = sorted(grids, key=lambda g: -sum(bool(g.find(v)) for v in labels.values()))
    info: dict[str, str] = {}
    narrative: dict[str, tuple[str, ...]] = {}
    where: dict[str, tuple[str, str]] = {}
    for field_id, names in labels.items():
        for grid in order:
            hits = grid.find(names)
            if not hits:
                continue
            r, c = hits[0]
            value = grid.text_right_of(r, c)
            _, c_end = grid.end(r, c)
            where[field_id] = (grid.name, a1(r + 1, c_end + 2))
            if field_id in spec.info_ids:
                if value is not None:
                    info[field_id] = _text(value)
            else:
                narrative[field_id] = paragraphs(value)
            break
    if order:  # unfound fields point at the likeliest sheet
        for field_id in labels:
            where.setdefault(field_id, (order[0].name, ""))
    for section in spec.sections:
        if section.narrative:
            narrative.setdefault(section.id, ())
    return info, narrative, where


def paragraphs(value: object) -> tuple[str, ...]:
    """A narrative cell as a list of paragraphs (one per non-empty line)."""
    if value is None:
        return ()
    text = _text(value).replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n")
    return tuple(line.strip() for line in text.split("\n") if line.strip())
