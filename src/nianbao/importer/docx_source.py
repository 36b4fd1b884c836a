"""Word (.docx) reports: paragraphs and tables from ``word/document.xml``, read with lxml.

Merged cells come from ``w:gridSpan`` (columns), ``w:vMerge`` (rows) and
``w:gridBefore`` (cells left out at the start of a row); a table nested in a
cell becomes a table of its own, after the table around it.  Content controls
and inserted text are read; deleted text is not.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from lxml import etree

from nianbao.importer.grid import Block, Document, GridCell, TableGrid

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MAX_XML = 64 * 1024 * 1024


class SourceError(Exception):
    """The file cannot be read at all; the message is for the user (Chinese)."""


def read_docx(path: Path) -> Document:
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("word/document.xml")
            if info.file_size > _MAX_XML:
                raise SourceError("Word 文件的正文过大，无法读取。")
            xml = archive.read(info)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise SourceError("不是有效的 Word（.docx）文件，无法读取；若是旧版 .doc 文件，"
                          "请用 Word 或 WPS 另存为 .docx 后再导入。") from exc
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        raise SourceError("Word 文件已损坏（正文 XML 无法解析）。") from exc
    body = root.find(f"{W}body")
    blocks: list[Block] = []
    if body is not None:
        _walk(body, blocks)
    return Document(path=path, kind="docx", blocks=tuple(blocks))


def _walk(parent: etree._Element, blocks: list[Block]) -> None:
    for child in parent:
        if child.tag == f"{W}p":
            blocks.append(_paragraph_text(child))
        elif child.tag == f"{W}tbl" and _is_layout(child):
            for tc in child.iter(f"{W}tc"):  # a layout table: its cells are the body
                if next(tc.iterancestors(f"{W}tbl"), None) is child:
                    _walk(tc, blocks)
        elif child.tag == f"{W}tbl":
            nested: list[Block] = []
            blocks.append(_table(child, nested))
            blocks.extend(nested)
        elif child.tag in (f"{W}sdt", f"{W}sdtContent", f"{W}customXml"):
            _walk(child, blocks)


def _is_layout(tbl: etree._Element) -> bool:
    """A table used to lay out the page: a cell holds a table or more text than any label."""
    for tc in tbl.iter(f"{W}tc"):
        if next(tc.iterancestors(f"{W}tbl"), None) is not tbl:
            continue
        if tc.find(f"{W}tbl") is not None or len("".join(
                t.text or "" for t in tc.iter(f"{W}t"))) > 200:
            return True
    return False


def _paragraph_text(p: etree._Element) -> str:
    out: list[str] = []
    for node in p.iter(f"{W}t", f"{W}tab", f"{W}br", f"{W}cr", f"{W}del"):
        if node.tag == f"{W}t":
            if not any(a.tag == f"{W}del" for a in node.iterancestors()):
                out.append(node.text or "")
        elif node.tag == f"{W}tab":
            out.append("\t")
        elif node.tag in (f"{W}br", f"{W}cr"):
            out.append("\n")
    return "".join(out)


def _val(element: etree._Element | None, default: str) -> str:
    """An element's ``w:val`` (``default`` when the element or the attribute is absent)."""
    if element is None:
        return default
    return str(element.get(f"{W}val") or default)


def _int(text: str, default: int) -> int:
    try:
        return max(int(text), 0)
    except ValueError:
        return default


def _table(tbl: etree._Element, nested: list[Block]) -> TableGrid:
    """The grid of one ``w:tbl``; tables inside its cells go to ``nested``."""
    cells: list[GridCell] = []
    open_merges: dict[int, int] = {}  # grid column -> index in cells of the vMerge start
    for r, tr in enumerate(tbl.findall(f"{W}tr")):
        col = 0
        tr_pr = tr.find(f"{W}trPr")
        if tr_pr is not None:
            col += _int(_val(tr_pr.find(f"{W}gridBefore"), "0"), 0)
        for tc in _row_cells(tr):
            pr = tc.find(f"{W}tcPr")
            span = _int(_val(pr.find(f"{W}gridSpan"), "1"), 1) if pr is not None else 1
            vmerge = pr.find(f"{W}vMerge") if pr is not None else None
            text = _cell_text(tc, nested)
            if vmerge is not None and _val(vmerge, "continue") == "continue" \
                    and col in open_merges:
                start = cells[open_merges[col]]
                cells[open_merges[col]] = GridCell(start.row, start.col, start.text,
                                                   r - start.row + 1, start.colspan)
            else:
                cells.append(GridCell(r, col, text, 1, max(span, 1)))
                if vmerge is not None:
                    open_merges[col] = len(cells) - 1
                else:
                    open_merges.pop(col, None)
            col += max(span, 1)
    return TableGrid(cells=tuple(cells))


def _row_cells(tr: etree._Element) -> list[etree._Element]:
    out: list[etree._Element] = []
    for child in tr:
        if child.tag == f"{W}tc":
            out.append(child)
        elif child.tag in (f"{W}sdt", f"{W}customXml"):
            out += [tc for tc in child.iter(f"{W}tc")]
    return out


def _cell_text(tc: etree._Element, nested: list[Block]) -> str:
    parts: list[str] = []
    for child in tc:
        if child.tag == f"{W}p":
            parts.append(_paragraph_text(child))
        elif child.tag == f"{W}tbl":
            nested.append(_table(child, nested))
        elif child.tag in (f"{W}sdt", f"{W}sdtContent"):
            for p in child.iter(f"{W}p"):
                parts.append(_paragraph_text(p))
    return "\n".join(p for p in parts if p.strip())
