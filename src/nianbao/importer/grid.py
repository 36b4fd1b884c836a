"""The table-grid model every source is read into: cells with row and column spans.

A Word table, an HTML table, a table rebuilt from a PDF's text positions and a
table found in plain text all become a :class:`TableGrid`; the text around them
becomes paragraphs.  :class:`Document` keeps both in reading order, which is all
the mapping onto the schema needs.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path


@dataclass(frozen=True, slots=True)
class GridCell:
    """One cell of a table (0-based top-left position and spans)."""

    row: int
    col: int
    text: str
    rowspan: int = 1
    colspan: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class TableGrid:
    """A table as a rectangle of cells.

    ``exact`` says whether the cell structure came from the file itself (Word,
    HTML, ruled PDF tables) or had to be guessed (plain text, unruled PDF):
    guessed tables are read by label and position in row, with lower confidence.
    ``where`` names each grid row in the source (a line number for text).
    """

    cells: tuple[GridCell, ...]
    exact: bool = True
    where: tuple[str, ...] = ()

    @property
    def height(self) -> int:
        return max((c.row + c.rowspan for c in self.cells), default=0)

    @property
    def width(self) -> int:
        return max((c.col + c.colspan for c in self.cells), default=0)

    def texts(self) -> list[str]:
        return [c.text for c in self.cells if c.text.strip()]

    def row_name(self, row: int) -> str:
        """How a person finds this row in the source document."""
        if row < len(self.where) and self.where[row]:
            return self.where[row]
        return f"第{row + 1}行"

    def appended(self, other: TableGrid) -> TableGrid:
        """This table continued by ``other`` (a table broken across pages)."""
        top = self.height
        moved = tuple(GridCell(c.row + top, c.col, c.text, c.rowspan, c.colspan)
                      for c in other.cells)
        return TableGrid(cells=self.cells + moved, exact=self.exact and other.exact,
                         where=self.where + other.where if self.where or other.where else ())


Block = str | TableGrid


@dataclass(frozen=True, slots=True, kw_only=True)
class Document:
    """What a source file holds, in reading order: paragraphs (str) and tables."""

    path: Path
    kind: str  # docx, html, pdf, text
    blocks: tuple[Block, ...] = ()
    notes: tuple[str, ...] = field(default=())  # problems met while reading the file itself

    @property
    def tables(self) -> tuple[TableGrid, ...]:
        return tuple(b for b in self.blocks if isinstance(b, TableGrid))

    @property
    def paragraphs(self) -> tuple[str, ...]:
        return tuple(b for b in self.blocks if isinstance(b, str))


_NUMBER = re.compile(r"^\d+(\.\d+)?$")
_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")


def number_of(text: str) -> int | Decimal | None:
    """A cell's text as a number when it is plainly one (spaces, full-width digits,
    thousands separators and a trailing 件/万元 folded away), else None."""
    folded = unicodedata.normalize("NFKC", text)
    folded = "".join(ch for ch in folded if not ch.isspace() and unicodedata.category(ch) != "Cf")
    for unit in ("万元", "件"):  # never 元: an amount in 元 is not a number of 万元
        folded = folded.removesuffix(unit)
    if _THOUSANDS.match(folded):
        folded = folded.replace(",", "")
    if not _NUMBER.match(folded):
        return None
    if "." in folded:
        return Decimal(folded)
    return int(folded)
