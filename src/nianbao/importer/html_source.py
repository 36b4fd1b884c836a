"""Web pages (.html/.htm) as published on a 政府信息公开专栏: tables with rowspan/colspan.

The encoding is taken from a byte-order mark or the page's ``charset``; a page
without one is read as UTF-8, else as GB18030 (a superset of GBK and GB2312).
Parsed with lxml.html; scripts and styles are dropped.
"""

from __future__ import annotations

import re
from pathlib import Path

import lxml.html
from lxml import etree

from nianbao.importer.docx_source import SourceError
from nianbao.importer.grid import Block, Document, GridCell, TableGrid

_CHARSET = re.compile(rb"""charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
_BLOCKS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "pre", "blockquote",
                     "dt", "dd", "caption"})
_CONTAINERS = frozenset({"div", "section", "article", "td", "th", "center", "font", "span",
                         "body"})
_MAX_SPAN = 1000


def decode(data: bytes) -> str:
    """The page's text, whatever its declared or undeclared Chinese encoding."""
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"),
                       (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(codec, errors="replace")
    declared = _CHARSET.search(data[:4096])
    if declared:
        name = declared.group(1).decode("ascii").lower()
        if name in ("gb2312", "gbk", "gb18030", "x-gbk"):
            name = "gb18030"
        try:
            return data.decode(name)
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def read_html(path: Path, data: bytes | None = None) -> Document:
    raw = path.read_bytes() if data is None else data
    text = decode(raw)
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
    try:
        root = lxml.html.document_fromstring(text or "<html></html>")
    except (etree.ParserError, ValueError) as exc:
        raise SourceError("网页文件无法解析。") from exc
    for bad in root.xpath("//script|//style|//noscript|//template"):
        bad.drop_tree()
    body = root.find("body")
    blocks: list[Block] = []
    _walk(body if body is not None else root, blocks)
    return Document(path=path, kind="html", blocks=tuple(blocks))


def _walk(element: lxml.html.HtmlElement, blocks: list[Block]) -> None:
    """Tables and text blocks in document order; text directly in a container is a paragraph."""
    pending: list[str] = []

    def flush() -> None:
        text = "".join(pending).strip()
        if text:
            blocks.extend(line for line in text.split("\n") if line.strip())
        pending.clear()

    if element.text:
        pending.append(element.text)
    for child in element:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag == "table" and _is_layout(child):
            flush()
            _walk(child, blocks)  # a page layout table: its cells are the page's body
        elif tag == "table":
            flush()
            nested: list[Block] = []
            blocks.append(_table(child, nested))
            blocks.extend(nested)
        elif tag in _BLOCKS and not child.xpath(".//table"):
            flush()
            blocks.append(_text(child))
        elif tag == "br":
            pending.append("\n")
        elif tag in _CONTAINERS or tag in _BLOCKS or child.xpath(".//table|.//p|.//div"):
            flush()
            _walk(child, blocks)
        else:
            pending.append(_text(child))
        if child.tail:
            pending.append(child.tail)
    flush()


def _text(element: lxml.html.HtmlElement) -> str:
    """Visible text of an element; ``<br>`` is a line break; nested tables are left out."""
    out: list[str] = []
    if element.text:
        out.append(element.text)
    for child in element:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag == "br":
            out.append("\n")
        elif tag in ("p", "div", "li") and out:
            out.append("\n" + _text(child))
        elif tag != "table":
            out.append(_text(child))
        if child.tail:
            out.append(child.tail)
    return "".join(out).replace("\xa0", " ")


def _is_layout(table: lxml.html.HtmlElement) -> bool:
    """A table used to lay out a page, not to hold data: a cell holds a table, a heading
    or more text than any label of the format."""
    for cell in table.iter("td", "th"):
        if next(cell.iterancestors("table"), None) is not table:
            continue
        if cell.xpath(".//table|.//h1|.//h2|.//h3|.//h4") or len(cell.text_content()) > 200:
            return True
    return False


def _span(cell: lxml.html.HtmlElement, name: str) -> int:
    try:
        return min(max(int(str(cell.get(name, "1")).strip() or 1), 1), _MAX_SPAN)
    except ValueError:
        return 1


def _table(table: lxml.html.HtmlElement, nested: list[Block]) -> TableGrid:
    rows = [tr for tr in table.iter("tr")
            if next(tr.iterancestors("table"), None) is table]
    taken: set[tuple[int, int]] = set()
    cells: list[GridCell] = []
    for r, tr in enumerate(rows):
        col = 0
        for cell in tr:
            if cell.tag not in ("td", "th"):
                continue
            while (r, col) in taken:
                col += 1
            rowspan = min(_span(cell, "rowspan"), len(rows) - r)
            colspan = _span(cell, "colspan")
            for inner in cell.iter("table"):
                if next(inner.iterancestors("table"), None) is table:
                    nested.append(_table(inner, nested))
            cells.append(GridCell(r, col, _text(cell).strip(), rowspan, colspan))
            for dr in range(rowspan):
                for dc in range(colspan):
                    taken.add((r + dr, col + dc))
            col += colspan
    return TableGrid(cells=tuple(cells))
