"""PDF reports with a text layer: tables rebuilt from the ruling lines and word positions.

pdfplumber (on pdfminer.six) finds each table's cells from the drawn lines;
the grid's rows and columns are the distinct cell edges, so a merged cell spans
the edges it covers.  Words are put in the cell holding their centre.  A table
broken across pages is joined again (a header repeated on the next page is
dropped) before its grid is built, on the union of both parts' column edges.
Lines outside ruled tables are paragraphs, or a guessed table
(:mod:`nianbao.importer.text_source`) when they hold wide gaps.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nianbao.importer.docx_source import SourceError
from nianbao.importer.grid import Block, Document, GridCell, TableGrid
from nianbao.importer.text_source import text_blocks
from nianbao.schema import normalize_label

_PAGE_NUMBER = re.compile(r"^[—\-－–\s第页/共]*\d+[—\-－–\s页/共\d]*$")
_HEADING = re.compile(r"^[一二三四五六七八九十]+[、.．]")
_TOLERANCE = 2.0
_PAGE_OFFSET = 10000.0  # page n's tops are shifted by n × this, so pages stack


@dataclass(slots=True)
class _Box:
    x0: float
    top: float
    x1: float
    bottom: float
    text: str
    page: int


@dataclass(slots=True)
class _Line:
    top: float
    x0: float
    x1: float
    text: str
    size: float = 16.0


def read_pdf(path: Path) -> Document:
    import pdfplumber
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfplumber.utils.exceptions import PdfminerException

    try:
        pdf = pdfplumber.open(path)
    except (PdfminerException, PDFSyntaxError, OSError, ValueError, TypeError) as exc:
        raise SourceError("PDF 文件已损坏或已加密，无法读取。") from exc
    items: list[list[_Box] | str] = []
    chars = 0
    with pdf:
        for number, page in enumerate(pdf.pages, 1):
            chars += len(page.chars)
            page_items = _page(page, number)
            first = page_items[0] if page_items else None
            last = items[-1] if items else None
            if isinstance(first, list) and isinstance(last, list) and _continues(last, first):
                items[-1] = last + _without_repeated_header(last, first)
                page_items.pop(0)
            items += page_items
    if not chars:
        raise SourceError("PDF 中没有文字层（可能是扫描件或图片），无法读取数字；"
                          "请提供 Word 版或网页版报告。")
    blocks: list[Block] = []
    pending: list[str] = []
    for item in items:
        if isinstance(item, str):
            pending.append(item)
            continue
        blocks += text_blocks(pending, where="第{}行（表格外）")
        pending = []
        blocks.append(_grid(item))
    blocks += text_blocks(pending, where="第{}行（表格外）")
    return Document(path=path, kind="pdf", blocks=tuple(blocks))


def _page(page: Any, number: int) -> list[list[_Box] | str]:
    tables = page.find_tables()
    words = page.extract_words(x_tolerance=1.5, y_tolerance=2)
    boxes = [t.bbox for t in tables]
    outside = [w for w in words if not any(
        x0 <= (w["x0"] + w["x1"]) / 2 <= x1 and y0 <= (w["top"] + w["bottom"]) / 2 <= y1
        for x0, y0, x1, y1 in boxes)]
    placed: list[tuple[float, list[_Box] | str]] = []
    for table in tables:
        placed.append((table.bbox[1], _boxes(table, words, number)))
    lines = [line for line in _lines(outside) if not _PAGE_NUMBER.match(line.text)]
    for top, text in _paragraphs(lines, first_page=number == 1):
        placed.append((top, text))
    placed.sort(key=lambda item: item[0])
    return [item for _, item in placed]


def _boxes(table: Any, words: list[dict[str, Any]], page: int) -> list[_Box]:
    texts: dict[int, list[dict[str, Any]]] = {}
    cells = [tuple(c) for c in table.cells]
    for word in words:
        cx, cy = (word["x0"] + word["x1"]) / 2, (word["top"] + word["bottom"]) / 2
        for i, (x0, y0, x1, y1) in enumerate(cells):
            if x0 <= cx <= x1 and y0 <= cy <= y1:
                texts.setdefault(i, []).append(word)
                break
    out = []
    offset = page * _PAGE_OFFSET
    for i, (x0, y0, x1, y1) in enumerate(cells):
        inside = sorted(texts.get(i, []), key=lambda w: (round(w["top"] / 3), w["x0"]))
        out.append(_Box(x0, y0 + offset, x1, y1 + offset, "".join(w["text"] for w in inside),
                        page))
    return out


def _continues(last: list[_Box], first: list[_Box]) -> bool:
    """The next page's first table continues the previous page's last: same outer width."""
    return (abs(min(b.x0 for b in last) - min(b.x0 for b in first)) <= _TOLERANCE
            and abs(max(b.x1 for b in last) - max(b.x1 for b in first)) <= _TOLERANCE)


def _without_repeated_header(last: list[_Box], first: list[_Box]) -> list[_Box]:
    """The continuation without the header rows the word processor repeated on the new page."""
    seen = {normalize_label(b.text) for b in last if b.text.strip()}
    tops = sorted({round(b.top, 1) for b in first})
    drop: set[float] = set()
    for top in tops:
        row = [b for b in first if round(b.top, 1) == top and b.text.strip()]
        if row and all(normalize_label(b.text) in seen for b in row) and not any(
                b.text.strip().isdigit() for b in row):
            drop.add(top)
        else:
            break
    return [b for b in first if round(b.top, 1) not in drop]


def _lines(words: list[dict[str, Any]]) -> list[_Line]:
    """Words grouped into lines; a wide gap between words becomes a tab."""
    rows: list[list[dict[str, Any]]] = []
    for word in sorted(words, key=lambda w: (round(w["top"]), w["x0"])):
        if rows and abs(rows[-1][0]["top"] - word["top"]) <= _TOLERANCE:
            rows[-1].append(word)
        else:
            rows.append([word])
    out: list[_Line] = []
    for row in rows:
        row.sort(key=lambda w: w["x0"])
        text = row[0]["text"]
        for prev, word in zip(row, row[1:], strict=False):
            size = max(word["bottom"] - word["top"], 1.0)
            gap = word["x0"] - prev["x1"]
            separator = "\t" if gap > 1.5 * size else (" " if gap > size / 4 else "")
            text += separator + word["text"]
        size = max(w["bottom"] - w["top"] for w in row)
        out.append(_Line(row[0]["top"], row[0]["x0"], row[-1]["x1"], text, size))
    return out


def _paragraphs(lines: list[_Line], *, first_page: bool = False) -> list[tuple[float, str]]:
    """Lines of a wrapped paragraph joined again: a line continues the previous one when
    that one reached the right margin and this one starts at the left margin.  On the
    first page, the centred lines of one size that open it are one title wrapped over
    several lines ("青山县……管理局" / "第2分局2024年" / "政府信息公开工作年度报告")."""
    if not lines:
        return []
    left = min(line.x0 for line in lines)
    right = max(line.x1 for line in lines)
    middle = (left + right) / 2
    out: list[tuple[float, str]] = []
    prev: _Line | None = None
    in_title, title_seen = first_page, False
    for number, line in enumerate(lines):
        size = 16.0
        centred = (line.x0 > left + line.size and "\t" not in line.text
                   and abs((line.x0 + line.x1) / 2 - middle) <= line.size)
        title_goes_on = (in_title and centred and title_seen and prev is not None and out
                         and abs(prev.size - line.size) <= 0.5
                         and line.top - prev.top <= 2.5 * line.size)
        title_seen = title_seen or centred
        in_title = in_title and number < 6 and (centred or not title_seen)
        joins = (prev is not None and out and "\t" not in line.text and "\t" not in prev.text
                 and prev.x1 >= right - 2 * size and line.x0 <= left + size / 2
                 and not _HEADING.match(line.text))
        if title_goes_on or joins:
            out[-1] = (out[-1][0], out[-1][1] + line.text)
        else:
            out.append((line.top, line.text))
        prev = line
    return out


def _edges(values: list[float]) -> list[float]:
    out: list[float] = []
    for value in sorted(values):
        if not out or value - out[-1] > _TOLERANCE:
            out.append(value)
    return out


def _index(edges: list[float], value: float) -> int:
    i = bisect.bisect_left(edges, value - _TOLERANCE)
    return min(i, len(edges) - 1)


def _grid(boxes: list[_Box]) -> TableGrid:
    xs = _edges([b.x0 for b in boxes] + [b.x1 for b in boxes])
    ys = _edges([b.top for b in boxes] + [b.bottom for b in boxes])
    cells: list[GridCell] = []
    pages: dict[int, int] = {}
    for box in boxes:
        r0, r1 = _index(ys, box.top), _index(ys, box.bottom)
        c0, c1 = _index(xs, box.x0), _index(xs, box.x1)
        cells.append(GridCell(r0, c0, box.text, max(r1 - r0, 1), max(c1 - c0, 1)))
        pages.setdefault(r0, box.page)
    rows = max((c.row + c.rowspan for c in cells), default=0)
    where, page, first = [], 0, 0
    for r in range(rows):
        if pages.get(r, page) != page:
            page, first = pages[r], r
        where.append(f"第{page}页表格第{r - first + 1}行")
    return TableGrid(cells=tuple(cells), where=tuple(where))
