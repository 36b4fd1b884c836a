"""Where things go: the official table grids and the intake workbook's coordinates.

This is the only module that knows coordinates.  :func:`section_grid` lays a
section's tables out as the official format does (merged headers, stub label
columns, spans), relative to the table's top-left corner; the Word template,
the HTML output and the intake workbook all draw from it.  :class:`WorkbookLayout`
places those grids on the intake workbook's sheets and answers "which cell holds
key X" in both directions.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import cache

from openpyxl.utils import get_column_letter

from nianbao.schema import DEFAULT_FORMAT, FormatSpec, HeaderNode, Section, Table


class Role(enum.StrEnum):
    CAPTION = "caption"  # 第二十条第（一）项
    CORNER = "corner"  # 信息内容, or 表三's 勾稽关系 note
    HEADER = "header"  # a column header (group or leaf)
    LABEL = "label"  # a row label
    VALUE = "value"  # a data cell


@dataclass(frozen=True, slots=True, kw_only=True)
class Block:
    """A rectangle of the grid (0-based, relative to the grid's top-left)."""

    row: int
    col: int
    rowspan: int = 1
    colspan: int = 1
    role: Role
    text: str = ""
    key: str | None = None  # VALUE blocks: the schema key
    computed: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Grid:
    width: int
    height: int
    blocks: tuple[Block, ...]
    label_columns: int  # how many leading columns are stub labels

    def rows(self) -> list[list[Block]]:
        """Blocks grouped by their top row, for renderers that emit rows of cells."""
        out: list[list[Block]] = [[] for _ in range(self.height)]
        for block in self.blocks:
            out[block.row].append(block)
        for row in out:
            row.sort(key=lambda b: b.col)
        return out


def _tree_depth(nodes: tuple[HeaderNode, ...]) -> int:
    return max((1 + _tree_depth(n.children) if n.children else 1 for n in nodes), default=0)


def _leaves(node: HeaderNode) -> int:
    return sum(_leaves(c) for c in node.children) if node.children else 1


def _header_blocks(nodes: tuple[HeaderNode, ...], row: int, col: int, depth: int,
                   widths: dict[str, int]) -> list[Block]:
    blocks: list[Block] = []
    for node in nodes:
        if node.children:
            span = sum(_span(c, widths) for c in node.children)
            blocks.append(Block(row=row, col=col, colspan=span, role=Role.HEADER, text=node.label))
            blocks += _header_blocks(node.children, row + 1, col, depth - 1, widths)
        else:
            span = widths.get(node.column or "", 1)
            blocks.append(Block(row=row, col=col, rowspan=depth, colspan=span, role=Role.HEADER,
                                text=node.label))
        col += _span(node, widths)
    return blocks


def _span(node: HeaderNode, widths: dict[str, int]) -> int:
    if node.children:
        return sum(_span(c, widths) for c in node.children)
    return widths.get(node.column or "", 1)


def table_grid(table: Table, value_width: int | None = None) -> Grid:
    """The official grid of one table.

    ``value_width`` stretches a table with fewer value columns to a common width:
    in section 二 the four sub-tables share one 4-column grid, so 行政许可's single
    value column spans three grid columns.
    """
    labels = table.label_depth
    natural = len(table.columns)
    width_total = value_width or natural
    widths = {c.id: 1 for c in table.columns}
    if width_total > natural:  # stretch the last column
        widths[table.columns[-1].id] += width_total - natural
    blocks: list[Block] = []
    top = 0
    if table.caption:
        blocks.append(Block(row=0, col=0, colspan=labels + width_total, role=Role.CAPTION,
                            text=table.caption))
        top = 1
    depth = _tree_depth(table.header)
    if labels:
        blocks.append(Block(row=top, col=0, rowspan=depth, colspan=labels, role=Role.CORNER,
                            text=table.corner_note or table.stub_header or ""))
    blocks += [Block(row=b.row + top, col=b.col + labels, rowspan=b.rowspan, colspan=b.colspan,
                     role=b.role, text=b.text)
               for b in _header_blocks(table.header, 0, 0, depth, widths)]
    first = top + depth
    col_of: dict[str, int] = {}
    col = labels
    for column in table.columns:
        col_of[column.id] = col
        col += widths[column.id]
    data_rows = table.data_rows
    index = {row.id: i for i, row in enumerate(data_rows)}
    for row in table.rows:
        depth_r = table.row_depth(row)
        if row.group:
            members = table.descendant_data_rows(row.id)
            blocks.append(Block(row=first + index[members[0].id], col=depth_r,
                                rowspan=len(members), role=Role.LABEL, text=row.label))
        else:
            blocks.append(Block(row=first + index[row.id], col=depth_r,
                                colspan=labels - depth_r, role=Role.LABEL, text=row.label))
    for i, row_or_none in enumerate(data_rows or (None,)):
        for column in table.columns:
            row_id = row_or_none.id if row_or_none else None
            computed = column.computed or bool(row_or_none and row_or_none.computed)
            blocks.append(Block(row=first + i, col=col_of[column.id], colspan=widths[column.id],
                                role=Role.VALUE, key=table.key(row_id, column.id),
                                computed=computed))
    return Grid(width=labels + width_total, height=first + max(len(data_rows), 1),
                blocks=tuple(blocks), label_columns=labels)


def section_grid(section: Section, spec: FormatSpec = DEFAULT_FORMAT) -> Grid:
    """A section's tables stacked into one grid of a common width (the official layout)."""
    tables = [spec.table(t) for t in section.tables]
    value_width = max(len(t.columns) for t in tables)
    label_width = max(t.label_depth for t in tables)
    blocks: list[Block] = []
    offset = 0
    for table in tables:
        grid = table_grid(table, value_width + label_width - table.label_depth)
        blocks += [Block(row=b.row + offset, col=b.col, rowspan=b.rowspan, colspan=b.colspan,
                         role=b.role, text=b.text, key=b.key, computed=b.computed)
                   for b in grid.blocks]
        offset += grid.height
    return Grid(width=label_width + value_width, height=offset, blocks=tuple(blocks),
                label_columns=label_width)


# --------------------------------------------------------------------- the workbook

BANNER_ROW = 1  # 填报单位：…（编码：…） 报告年度：…
TITLE_ROW = 2  # 二、主动公开政府信息情况
FIRST_TABLE_ROW = 3
INFO_FIRST_ROW = 3  # 基本信息: label in column A, value in column B
INFO_VALUE_WIDTH = 8  # value cells span B:I
META_SHEET = "_meta"
REGISTER_HEADER_ROW = 2  # register sheets: a note in row 1, the header in row 2
REGISTER_LIST_COLUMN = 4  # _meta: the registers' dropdown lists start in column D
META_KEYS = ("form_id", "form_version", "format", "year", "agency_code", "agency_name")
CHECK_SHEET = "校验结果"  # the live checks' summary sheet, right after 填报说明
CHECK_VERDICT_ROW = 2  # 校验结果: "可以报送" / "还有 N 处需要修改"
CHECK_FIRST_ROW = 4  # 校验结果: the first rule (row 3 holds the headers)


def a1(row: int, col: int) -> str:
    """1-based row and column to an A1 address."""
    return f"{get_column_letter(col)}{row}"


@dataclass(frozen=True, slots=True, kw_only=True)
class PlacedGrid:
    sheet_id: str
    grid: Grid
    top: int  # 1-based sheet row of grid row 0
    left: int = 1

    def address(self, block: Block) -> str:
        return a1(self.top + block.row, self.left + block.col)

    def range(self, block: Block) -> str:
        start = self.address(block)
        if block.rowspan == 1 and block.colspan == 1:
            return start
        end = a1(self.top + block.row + block.rowspan - 1, self.left + block.col + block.colspan - 1)
        return f"{start}:{end}"


class WorkbookLayout:
    """The canonical positions in the intake workbook written by :mod:`nianbao.intake`."""

    def __init__(self, spec: FormatSpec = DEFAULT_FORMAT) -> None:
        self.spec = spec
        self.grids: dict[str, PlacedGrid] = {}
        for section in spec.sections:
            if section.tables:
                sheet_id = spec.table(section.tables[0]).sheet
                self.grids[sheet_id] = PlacedGrid(sheet_id=sheet_id, top=FIRST_TABLE_ROW,
                                                  grid=section_grid(section, spec))
        self._cell: dict[str, tuple[str, str]] = {}
        for placed in self.grids.values():
            for block in placed.grid.blocks:
                if block.key:
                    self._cell[block.key] = (placed.sheet_id, placed.address(block))
        self.info_rows: dict[str, int] = {}
        row = INFO_FIRST_ROW
        for info in spec.info_fields:
            self.info_rows[info.id] = row
            row += 1
        for section in spec.sections:
            if section.narrative:
                self.info_rows[section.id] = row
                row += 1

    def cell(self, key: str) -> tuple[str, str]:
        """(sheet name, A1 address) of a value cell."""
        sheet_id, address = self._cell[key]
        return self.spec.sheet_name(sheet_id), address

    def check_row(self, sheet_id: str) -> int:
        """The locked row of live checks right under a table sheet's grid (1-based)."""
        placed = self.grids[sheet_id]
        return placed.top + placed.grid.height

    def check_column(self, sheet_id: str) -> int:
        """The column of live checks right of a table sheet's grid (1-based)."""
        placed = self.grids[sheet_id]
        return placed.left + placed.grid.width

    def info_cell(self, field_id: str) -> str:
        return a1(self.info_rows[field_id], 2)

    def info_range(self, field_id: str) -> str:
        row = self.info_rows[field_id]
        return f"{a1(row, 2)}:{a1(row, 1 + INFO_VALUE_WIDTH)}"

    @staticmethod
    def meta_cell(name: str) -> str:
        return a1(1 + META_KEYS.index(name), 2)


@cache
def workbook_layout(spec: FormatSpec = DEFAULT_FORMAT) -> WorkbookLayout:
    return WorkbookLayout(spec)
