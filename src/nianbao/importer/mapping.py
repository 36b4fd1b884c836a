"""Put a document's tables and text onto the schema, through the workbook reader.

Each exact table (Word, HTML, ruled PDF) becomes a sheet grid that
:func:`nianbao.reader.read_grids` reads by its labels, exactly as it reads a
returned workbook.  A guessed table (plain text, unruled PDF) is read row by
row: a row's label, then its values in the format's column order, laid onto
the official grid of :mod:`nianbao.layout`.  The title, the 统计期限 sentence and
the section headings give the unit, the year and the narrative of 一/五/六.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from nianbao.importer.grid import Document, TableGrid, number_of
from nianbao.layout import Role, section_grid
from nianbao.reader import SheetGrid
from nianbao.schema import (
    GB2019,
    GB2021,
    FormatSpec,
    Section,
    Table,
    normalize_label,
)
from nianbao.textchecks import TextDocument
from nianbao.values import PLACEHOLDERS

INFO_SHEET = "基本信息"
_TITLE = re.compile(r"^(?P<agency>.*?)\s*(?P<year>(?:19|20)\d{2})\s*年度?\s*(?:政府)?信息公开"
                    r"(?:工作)?年度?报告")
_PERIOD = re.compile(r"统计期限为\s*(?P<year>(?:19|20)\d{2})\s*年")
_PLACEHOLDER_TEXT = re.compile(r"^[（(]文字描述.*[）)]$")


@dataclass(slots=True)
class Source:
    """Where a value of the sheet grids came from, for findings in the document's terms."""

    table: str  # 第2个表格
    cells: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, col) -> 第5行第3列


@dataclass(slots=True)
class Mapped:
    """The grids the reader reads, and how to name their cells in the source."""

    spec: FormatSpec
    grids: list[SheetGrid]
    sources: dict[str, Source]  # sheet grid name -> source
    guessed: dict[str, str]  # key -> how a guessed table's value was placed
    unplaced: dict[str, str]  # key -> why a guessed table's value could not be placed
    agency: str = ""
    year: str = ""


def detect_format(doc: Document) -> FormatSpec:
    """gb2019 when the document shows a label only the 2019 format has (FORMAT.md §3)."""
    texts = {normalize_label(t) for table in doc.tables for t in table.texts()}
    texts |= {normalize_label(p) for p in doc.paragraphs}
    old = {normalize_label(label) for label in GB2021.forbidden_labels}
    return GB2019 if texts & old else GB2021


def map_document(doc: Document, spec: FormatSpec) -> Mapped:
    grids: list[SheetGrid] = []
    sources: dict[str, Source] = {}
    guessed_rows: list[Line] = []
    for number, table in enumerate(doc.tables, 1):
        name = f"第{number}个表格"
        if table.exact:
            grid, source = _exact(name, table)
            grids.append(grid)
            sources[name] = source
        else:
            guessed_rows += _rows(table)
    mapped = Mapped(spec=spec, grids=grids, sources=sources, guessed={}, unplaced={})
    if guessed_rows:
        _place_guessed(guessed_rows, mapped)
    agency, year = title_of(doc.paragraphs)
    mapped.agency, mapped.year = agency, year
    info_rows: list[list[object]] = [["单位全称", agency], ["报告年度", year]]
    for section_id, paragraphs in narrative_of(doc.paragraphs, spec).items():
        heading = spec.section(section_id).heading
        info_rows.append([heading, "\n".join(paragraphs)])
    grids.append(SheetGrid(INFO_SHEET, info_rows, (), True))
    return mapped


def _raw(text: str) -> object:
    number = number_of(text)
    return number if number is not None else text


def _exact(name: str, table: TableGrid) -> tuple[SheetGrid, Source]:
    rows: list[list[object]] = [[""] * table.width for _ in range(table.height)]
    merged = []
    source = Source(table=name)
    for cell in table.cells:
        rows[cell.row][cell.col] = _raw(cell.text)
        if cell.rowspan > 1 or cell.colspan > 1:
            merged.append(((cell.row, cell.col),
                           (cell.row + cell.rowspan - 1, cell.col + cell.colspan - 1)))
        source.cells[(cell.row, cell.col)] = f"{table.row_name(cell.row)}第{cell.col + 1}列"
    return SheetGrid(name, rows, merged, True), source


# ------------------------------------------------------------------- guessed tables

def _is_value(text: str) -> bool:
    folded = normalize_label(text)
    return number_of(text) is not None or folded in PLACEHOLDERS or folded.startswith("-")


@dataclass(slots=True)
class Line:
    """One row of a guessed table: its label (the last text), the values after it."""

    label: str
    values: list[str]
    where: str
    words: set[str]  # every text of the row, folded


def _rows(table: TableGrid) -> list[Line]:
    """The rows of a guessed table; a values-only row continues a row that has none."""
    by_row: dict[int, list[str]] = {}
    for cell in sorted(table.cells, key=lambda c: (c.row, c.col)):
        by_row.setdefault(cell.row, []).append(cell.text)
    out: list[Line] = []
    for row, pieces in sorted(by_row.items()):
        while pieces and not pieces[-1].strip():
            pieces.pop()
        labels = [i for i, p in enumerate(pieces) if p.strip() and not _is_value(p)]
        label = pieces[labels[-1]] if labels else ""
        values = pieces[labels[-1] + 1:] if labels else [p for p in pieces if p.strip()]
        where = table.row_name(row)
        words = {normalize_label(pieces[i]) for i in labels}
        if not label and out and not out[-1].values and values:
            out[-1].values, out[-1].where = values, where
        else:
            out.append(Line(label, values, where, words))
    return out


def _place_guessed(rows: list[Line], mapped: Mapped) -> None:
    """Lay the guessed rows onto each section's official grid, by row label."""
    spec = mapped.spec
    by_label: dict[str, Line] = {}
    for line in rows:
        if line.label:
            by_label.setdefault(normalize_label(line.label), line)
    for section in spec.sections:
        if not section.tables:
            continue
        grid = section_grid(section, spec)
        cells: list[list[object]] = [[""] * grid.width for _ in range(grid.height)]
        merged = []
        source = Source(table=_section_name(section))
        for block in grid.blocks:
            if block.role is not Role.VALUE:
                cells[block.row][block.col] = block.text
            if block.rowspan > 1 or block.colspan > 1:
                merged.append(((block.row, block.col),
                               (block.row + block.rowspan - 1, block.col + block.colspan - 1)))
        for table_id in section.tables:
            table = spec.table(table_id)
            found = _table_values(table, rows, by_label, mapped)
            for block in grid.blocks:
                if block.key is None or block.key.split(".")[0] != table.id:
                    continue
                text, where = found.get(block.key, ("", _section_name(section)))
                if block.key not in found and not block.computed:
                    mapped.unplaced[block.key] = "报告中找不到这一行"
                cells[block.row][block.col] = _raw(text)
                source.cells[(block.row, block.col)] = where
        name = source.table
        mapped.grids.append(SheetGrid(name, cells, merged, True))
        mapped.sources[name] = source


def _section_name(section: Section) -> str:
    return f"{section.no}、{section.title}"


def _table_values(table: Table, rows: list[Line], by_label: dict[str, Line],
                  mapped: Mapped) -> dict[str, tuple[str, str]]:
    """key -> (cell text, where) for one table read from guessed rows."""
    out: dict[str, tuple[str, str]] = {}
    columns = table.columns
    width = len(columns)
    lines: list[tuple[str | None, list[str], str]] = []
    if table.data_rows:
        for row in table.data_rows:
            hit = None
            for label in (row.label, *row.aliases):
                hit = by_label.get(normalize_label(label))
                if hit:
                    break
            if hit:
                lines.append((row.id, hit.values, hit.where))
    else:  # 表四: one row of values after the header words
        first = normalize_label(table.header[0].label)
        start = next((i for i, line in enumerate(rows) if first in line.words), None)
        if start is not None:
            hit = next((line for line in rows[start:] if len(line.values) == width), None)
            if hit:
                lines.append((None, hit.values, hit.where))
    for row_id, values, where in lines:
        keys = [table.key(row_id, c.id) for c in columns]
        while len(values) > width and not values[0].strip():
            values = values[1:]  # an empty cell left by a label that spanned two columns
        if len(values) == width:
            for i, (key, text) in enumerate(zip(keys, values, strict=True)):
                out[key] = (text, f"{where}第{i + 1}个数")
            continue
        if len(values) < width and all(number_of(v) == 0 for v in values if v.strip()) \
                and any(v.strip() for v in values):
            for key in keys:
                out[key] = ("0", where)
                mapped.guessed[key] = (f"{where}只有 {len(values)} 个数（应有 {width} 个），"
                                       "均为 0，已按整行为 0 读取")
            continue
        why = (f"{where}没有数字" if not any(v.strip() for v in values) else
               f"{where}有 {len(values)} 个数，应有 {width} 个，无法确定每个数属于哪一列")
        for key in keys:
            mapped.unplaced[key] = why
            out[key] = ("", where)
    return out


# ------------------------------------------------------------------ title, narrative

def title_of(paragraphs: Sequence[str]) -> tuple[str, str]:
    """The unit and the year from the title (or the 统计期限 sentence for the year)."""
    agency = year = ""
    head = list(paragraphs[:12])
    candidates = head + [a + b for a, b in zip(head, head[1:], strict=False)]  # a wrapped title
    for text in candidates:
        # the unit as typed (full-width brackets kept), the digits folded only if need be
        match = _TITLE.search(re.sub(r"\s+", "", text)) or _TITLE.search(normalize_label(text))
        if match:
            agency, year = match.group("agency"), match.group("year")
            break
    if not year:
        for text in paragraphs:
            period = _PERIOD.search(text)
            if period:
                year = period.group("year")
                break
    return agency, year


def _heading_forms(section: Section) -> set[str]:
    titles = (section.title, *section.aliases)
    out = set()
    for title in titles:
        for sep in ("、", ".", "．", ""):
            out.add(normalize_label(f"{section.no}{sep}{title}"))
    return out


def section_of(text: str, spec: FormatSpec) -> str | None:
    folded = normalize_label(text)
    for section in spec.sections:
        if folded in _heading_forms(section):
            return section.id
    return None


def text_document(paragraphs: Sequence[str], spec: FormatSpec) -> TextDocument:
    """What the text checks read beyond the narrative: the preface after the title
    (up to the first section heading) and the sections whose headings are present."""
    found: list[str] = []
    preface: list[str] = []
    for number, text in enumerate(paragraphs):
        section = section_of(text, spec)
        if section:
            found.append(section)
        elif not found and text.strip() and not (number < 3 and _TITLE.search(normalize_label(text))):
            preface.append(text.strip())
    return TextDocument(preface=tuple(preface), sections=tuple(dict.fromkeys(found)))


def narrative_of(paragraphs: Sequence[str], spec: FormatSpec) -> dict[str, list[str]]:
    """The paragraphs under each narrative section's heading (placeholders dropped)."""
    out: dict[str, list[str]] = {s.id: [] for s in spec.sections if s.narrative}
    current: str | None = None
    for text in paragraphs:
        found = section_of(text, spec)
        if found:
            current = found
            continue
        if current in out and text.strip() and not _PLACEHOLDER_TEXT.match(
                normalize_label(text)):
            out[current].extend(line.strip() for line in text.split("\n") if line.strip())
    return out
