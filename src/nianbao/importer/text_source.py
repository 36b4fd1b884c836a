"""Plain text (.txt), e.g. a report copied from a web page: tables arrive flattened.

A run of lines holding tabs (or several wide gaps) is a table; every other
line is a paragraph.  The cell structure of such a table is lost, so it is a
guessed grid (``exact=False``): the mapping reads each row as "label, then
values in the format's column order" and lets the printed totals confirm it.
"""

from __future__ import annotations

import re
from pathlib import Path

from nianbao.importer.grid import Block, Document, GridCell, TableGrid
from nianbao.importer.html_source import decode

_GAP = re.compile(r"\t| {3,}|\u3000{2,}")


def read_text(path: Path, data: bytes | None = None) -> Document:
    raw = path.read_bytes() if data is None else data
    return Document(path=path, kind="text", blocks=tuple(text_blocks(decode(raw).splitlines())))


def text_blocks(lines: list[str], where: str = "第{}行") -> list[Block]:
    """Paragraphs and guessed tables from lines of text (also used for unruled PDF pages)."""
    blocks: list[Block] = []
    rows: list[tuple[int, list[str]]] = []

    def flush() -> None:
        if rows:
            blocks.append(_grid(rows, where))
            rows.clear()

    for number, line in enumerate(lines, 1):
        pieces = _GAP.split(line.rstrip())
        if len(pieces) > 1:
            rows.append((number, [p.strip() for p in pieces]))
        elif not line.strip():
            continue  # a blank line neither ends a table nor makes a paragraph
        else:
            flush()
            blocks.append(line.strip())
    flush()
    return blocks


def _grid(rows: list[tuple[int, list[str]]], where: str) -> TableGrid:
    cells = tuple(GridCell(r, c, text) for r, (_, pieces) in enumerate(rows)
                  for c, text in enumerate(pieces))
    return TableGrid(cells=cells, exact=False,
                     where=tuple(where.format(number) for number, _ in rows))
