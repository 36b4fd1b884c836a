"""The marked-up copy made by editing the agency's own package, not by a spreadsheet library.

openpyxl reads the whole workbook into objects and writes all of it again: about
70 ms for the form, for a copy that changes the style of a few cells, adds their
comments and puts one sheet in front.  :class:`Book` makes exactly those edits in
the package's XML and leaves every other part byte for byte as the agency's
program saved it (live checks, extensions, formulas, print set-up): a few ms.

The edits are made on the bytes, element by element, not by parsing and writing
the XML again: a parser's copy would rename namespace prefixes and drop what it
does not know, which is what this module is here to avoid.  Each edit looks for
the unprefixed elements SpreadsheetML writers use (Excel, WPS, LibreOffice,
openpyxl).  A package written otherwise, or holding what an edit cannot change
safely (threaded comments, a sheet already named like the list, rows out of
order, ...), raises :class:`Unsupported` before anything is written, and
:mod:`nianbao.annotate` makes that copy with openpyxl instead.
"""

from __future__ import annotations

import html
import io
import posixpath
import re
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, partial
from xml.parsers import expat

from nianbao.package import sheet_parts

REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_T_WORKSHEET = REL_NS + "/worksheet"
_T_COMMENTS = REL_NS + "/comments"
_T_VML = REL_NS + "/vmlDrawing"
_T_SHARED_STRINGS = REL_NS + "/sharedStrings"
_CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
_CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
MAX_PACKAGE = 256 << 20  # uncompressed: more than any form; the copy is not made
MAX_ROW, MAX_COL = 1_048_576, 16_384


class Unsupported(Exception):
    """The package is outside what these edits change safely (openpyxl makes the copy)."""


@dataclass(frozen=True, slots=True)
class Note:
    """What one cell gets: the error or the warning fill, and its comment's text."""

    error: bool
    text: str
    findings: int = 1  # how many findings the text holds (the comment's height)


@dataclass(frozen=True, slots=True)
class ListRow:
    """One row of the list sheet: its six cells, the cell it links to, its level."""

    cells: tuple[int | str, ...]  # 序号, 级别, 位置, 问题, 怎样修改, 代码
    link: str | None  # a location in the workbook ("'表三 依申请公开'!B7"), or none
    error: bool
    height: float  # points


@dataclass(frozen=True, slots=True)
class Colours:
    """The fills and fonts the copy adds (RGB, no alpha)."""

    error: str
    warning: str
    link: str
    border: str
    font: str
    size: int


# ---------------------------------------------------------------- small XML helpers

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_TEXT = re.compile(rb"<t\b[^>]*?(?:/>|>(.*?)</t>)", re.S)
_PHONETIC = re.compile(rb"<rPh\b.*?</rPh>", re.S)


def esc(text: str) -> str:
    """``text`` for an XML attribute or element: escaped, without characters XML forbids."""
    return html.escape(_ILLEGAL.sub("", text), quote=True)


def _unesc(raw: bytes) -> str:
    text = raw.decode("utf-8")
    return html.unescape(text) if "&" in text else text


def _plain(raw: bytes) -> str:
    """The text of an ``<si>``, ``<is>`` or comment ``<text>``: its runs, no phonetic guide."""
    return "".join(_unesc(t.group(1) or b"") for t in _TEXT.finditer(_PHONETIC.sub(b"", raw)))


@cache
def _attr_pattern(name: str) -> re.Pattern[bytes]:
    return re.compile(rb"\s%s\s*=\s*(?:\"([^\"]*)\"|'([^']*)')" % name.encode())


def attr(tag: bytes, name: str) -> str | None:
    """The value of attribute ``name`` in a start tag, either quote."""
    found = _attr_pattern(name).search(tag)
    if found is None:
        return None
    return _unesc(found.group(1) if found.group(1) is not None else found.group(2))


def set_attr(tag: bytes, name: str, value: str) -> bytes:
    """The start tag ``tag`` (``<x ...>`` or ``<x .../>``) with ``name="value"``."""
    pattern = _attr_pattern(name)
    new = b' %s="%s"' % (name.encode(), esc(value).encode())
    if pattern.search(tag):
        return pattern.sub(lambda _: new, tag, count=1)
    end = len(tag) - (2 if tag.endswith(b"/>") else 1)
    return tag[:end].rstrip() + new + tag[end:]


def drop_attr(tag: bytes, name: str) -> bytes:
    return _attr_pattern(name).sub(b"", tag)


def _block(xml: bytes, tag: str) -> re.Match[bytes]:
    """The element ``<tag ...>...</tag>`` (unprefixed) in ``xml``; Unsupported if none."""
    found = re.search(rb"<%s\b[^>]*>(.*?)</%s>" % (tag.encode(), tag.encode()), xml, re.S)
    if found is None:
        raise Unsupported(tag)
    return found


def _splice(data: bytes, edits: Sequence[tuple[int, int, bytes]]) -> bytes:
    """``data`` with each (start, end) span replaced; spans must not overlap."""
    pieces, at = [], 0
    for start, end, new in sorted(edits, key=lambda e: (e[0], e[1])):
        if start < at:
            raise Unsupported("overlapping edits")
        pieces += [data[at:start], new]
        at = end
    pieces.append(data[at:])
    return b"".join(pieces)


_ADDRESS = re.compile(r"([A-Z]{1,3})([1-9][0-9]{0,6})")


def split_address(address: str) -> tuple[int, int] | None:
    """``"B7"`` -> (7, 2), 1-based; None for anything that is not one cell of a sheet."""
    found = _ADDRESS.fullmatch(address.strip().upper())
    if found is None:
        return None
    col = 0
    for ch in found.group(1):
        col = col * 26 + ord(ch) - 64
    row = int(found.group(2))
    return (row, col) if row <= MAX_ROW and col <= MAX_COL else None


def letters(col: int) -> str:
    out = ""
    while col:
        col, rest = divmod(col - 1, 26)
        out = chr(65 + rest) + out
    return out


def address(row: int, col: int) -> str:
    return f"{letters(col)}{row}"


# ---------------------------------------------------------------- relationships

_REL = re.compile(rb"<Relationship\b[^>]*>")


@dataclass(slots=True)
class _Rels:
    """A relationships part: (Id, Type, Target) of each, and how to add one."""

    part: str
    xml: bytes
    items: list[tuple[str, str, str]]

    @classmethod
    def read(cls, part: str, xml: bytes | None) -> _Rels:
        if xml is None:
            xml = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                   b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                   b'relationships"></Relationships>')
        if re.search(rb"<Relationships\b", xml) is None or b"</Relationships>" not in xml:
            raise Unsupported(part)
        items = [(attr(tag, "Id") or "", attr(tag, "Type") or "", attr(tag, "Target") or "")
                 for tag in _REL.findall(xml)]
        return cls(part, xml, items)

    def of_type(self, kind: str) -> list[tuple[str, str]]:
        return [(rid, target) for rid, typ, target in self.items if typ == kind]

    def add(self, kind: str, target: str) -> str:
        taken = {rid for rid, _, _ in self.items}
        n = len(taken) + 1
        while f"rId{n}" in taken:
            n += 1
        rid = f"rId{n}"
        self.items.append((rid, kind, target))
        new = f'<Relationship Id="{rid}" Type="{esc(kind)}" Target="{esc(target)}"/>'.encode()
        at = self.xml.rindex(b"</Relationships>")
        self.xml = self.xml[:at] + new + self.xml[at:]
        return rid


def _rels_part(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _resolve(source: str, target: str) -> str:
    """The part a relationship of ``source`` points at."""
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


def _relative(source: str, part: str) -> str:
    return posixpath.relpath(part, posixpath.dirname(source))


# ---------------------------------------------------------------- styles


class _Styles:
    """styles.xml, with fonts, fills, borders and cell formats added at the ends of their lists."""

    _LISTS = (("fonts", "font"), ("fills", "fill"), ("borders", "border"), ("cellXfs", "xf"))

    def __init__(self, xml: bytes) -> None:
        self.xml = xml
        self.items: dict[str, list[bytes]] = {}
        self.spans: dict[str, tuple[int, int, int]] = {}  # list -> (start tag end, close, count)
        for name, child in self._LISTS:
            found = _block(xml, name)
            items = re.findall(rb"<%s\b[^>]*?(?:/>|>.*?</%s>)" % (child.encode(), child.encode()),
                               found.group(1), re.S)
            self.items[name] = items
            self.spans[name] = (found.start(1), found.end(1), len(items))
        self.has_style_xfs = re.search(rb"<cellStyleXfs\b[^>]*>.*?<xf\b", xml, re.S) is not None
        self._filled: dict[tuple[int, int], int] = {}

    def add(self, name: str, item: str) -> int:
        self.items[name].append(item.encode())
        return len(self.items[name]) - 1

    def xf(self, *, font: int = 0, fill: int = 0, border: int = 0, wrap: bool = True) -> int:
        """A new cell format (top-aligned, wrapped text)."""
        xf_id = ' xfId="0"' if self.has_style_xfs else ""
        applied = "".join(f' apply{k}="1"' for k, v in (("Font", font), ("Fill", fill),
                                                          ("Border", border)) if v)
        body = '<alignment vertical="top" wrapText="1"/>' if wrap else ""
        return self.add("cellXfs", f'<xf numFmtId="0" fontId="{font}" fillId="{fill}" '
                                   f'borderId="{border}"{xf_id}{applied} applyAlignment="1">'
                                   f"{body}</xf>")

    def filled(self, style: int, fill: int) -> int:
        """The cell format ``style`` with the fill ``fill``: a new format, made once."""
        key = (style, fill)
        if key not in self._filled:
            xfs = self.items["cellXfs"]
            if not 0 <= style < self.spans["cellXfs"][2]:
                raise Unsupported(f"style {style}")
            start = re.match(rb"<xf\b[^>]*?/?>", xfs[style])
            if start is None:
                raise Unsupported("xf")
            tag = set_attr(set_attr(start.group(0), "fillId", str(fill)), "applyFill", "1")
            xfs.append(tag + xfs[style][start.end():])
            self._filled[key] = len(xfs) - 1
        return self._filled[key]

    def dumps(self) -> bytes:
        edits = []
        for name, _ in self._LISTS:
            start, end, count = self.spans[name]
            added = self.items[name][count:]
            if added:
                edits.append((end, end, b"".join(added)))
                open_at = self.xml.rindex(b"<", 0, start)
                tag = self.xml[open_at:start]
                edits.append((open_at, start, set_attr(tag, "count", str(len(self.items[name])))))
        return _splice(self.xml, edits)


def _filled(styles: _Styles, fill: int, style: int) -> int:
    return styles.filled(style, fill)


# ---------------------------------------------------------------- cells of a sheet

_SHEET_DATA = re.compile(rb"<sheetData\b[^>]*?(?:/>|>(.*?)</sheetData>)", re.S)
_ROW = re.compile(rb"(<row\b[^>]*?)(/>|>(.*?)</row>)", re.S)
_CELL = re.compile(rb"(<c\b[^>]*?)(/>|>(.*?)</c>)", re.S)
_COL = re.compile(rb"<col\b[^>]*>")
_MERGE_REF = re.compile(rb'<mergeCell\b[^>]*?\bref="([A-Za-z]{1,3}\d+(?::[A-Za-z]{1,3}\d+)?)"')

Restyle = Callable[[int], int]  # a cell's style index -> its new one


@dataclass(frozen=True, slots=True)
class Erase:
    """Cells whose values go: these 1-based columns, from this row down (a register's
    private columns)."""

    first_row: int
    columns: frozenset[int]


def _row_number(tag: bytes, last: int) -> int:
    value = attr(tag, "r")
    if value is None or not value.isdigit() or int(value) <= last:
        raise Unsupported("row without a number, or out of order")
    return int(value)


def _cell_column(tag: bytes, row: int, last: int) -> int:
    where = split_address(attr(tag, "r") or "")
    if where is None or where[0] != row or where[1] <= last:
        raise Unsupported("cell without an address, or out of order")
    return where[1]


def edit_cells(xml: bytes, restyle: Mapping[tuple[int, int], Restyle],
               erase: Sequence[Erase] = (), *, default_style: Callable[[bytes, int], int]
               ) -> bytes:
    """The sheet ``xml`` with the cells of ``restyle`` given their new style (made when
    missing) and the values of ``erase``'s cells taken out (styles kept).

    ``default_style(row tag, column)``: the style a cell not written yet shows.
    """
    data = _SHEET_DATA.search(xml)
    if data is None:
        raise Unsupported("sheetData")
    body = data.group(1) or b""
    wanted: dict[int, dict[int, Restyle]] = {}
    for (row, col), change in restyle.items():
        wanted.setdefault(row, {})[col] = change
    pending = sorted(wanted)
    first_erased = min((e.first_row for e in erase), default=MAX_ROW + 1)
    pieces: list[bytes] = []
    at = last = 0
    for found in _ROW.finditer(body):
        row = _row_number(found.group(1), last)
        last = row
        while pending and pending[0] < row:
            pieces += [body[at:found.start()], _new_row(pending[0], wanted[pending[0]],
                                                        default_style)]
            at = found.start()
            pending.pop(0)
        changes = wanted.get(row, {}) if pending and pending[0] == row else {}
        if changes:
            pending.pop(0)
        erased = frozenset().union(*(e.columns for e in erase if row >= e.first_row)
                                   ) if row >= first_erased else frozenset()
        if changes or erased:
            pieces += [body[at:found.start()],
                       _edit_row(row, found, changes, erased, default_style)]
            at = found.end()
    pieces.append(body[at:])
    pieces += [_new_row(row, wanted[row], default_style) for row in pending]
    new_body = b"".join(pieces)
    if data.group(1) is None:  # <sheetData/>
        return xml[:data.start()] + b"<sheetData>" + new_body + b"</sheetData>" + xml[data.end():]
    return xml[:data.start(1)] + new_body + xml[data.end(1):]


def _new_row(row: int, changes: Mapping[int, Restyle],
             default_style: Callable[[bytes, int], int]) -> bytes:
    cells = b"".join(b'<c r="%s" s="%d"/>' % (address(row, col).encode(),
                                              change(default_style(b"", col)))
                     for col, change in sorted(changes.items()))
    return b'<row r="%d">%s</row>' % (row, cells)


def _edit_row(row: int, found: re.Match[bytes], changes: Mapping[int, Restyle],
              erased: frozenset[int], default_style: Callable[[bytes, int], int]) -> bytes:
    start, content = found.group(1), found.group(3) or b""
    pending = sorted(changes)
    pieces: list[bytes] = []
    at = last = 0
    inserted = False
    for cell in _CELL.finditer(content):
        col = _cell_column(cell.group(1), row, last)
        last = col
        while pending and pending[0] < col:
            pieces += [content[at:cell.start()], _blank_cell(
                row, pending[0], changes[pending[0]](default_style(start, pending[0])))]
            inserted, at = True, cell.start()
            pending.pop(0)
        change = changes.get(col) if pending and pending[0] == col else None
        if change is not None:
            pending.pop(0)
        if change is None and col not in erased:
            continue
        tag, value = cell.group(1), cell.group(2)
        if change is not None:
            tag = set_attr(tag + b">", "s", str(change(int(attr(tag + b">", "s") or 0))))[:-1]
        if col in erased and cell.group(3):
            if re.search(rb"<f\b[^>]*\bt=[\"']shared", cell.group(3)):
                raise Unsupported("shared formula in a column to erase")
            tag, value = drop_attr(drop_attr(drop_attr(tag, "t"), "cm"), "vm"), b"/>"
        pieces += [content[at:cell.start()], tag + value]
        at = cell.end()
    pieces.append(content[at:])
    for col in pending:
        pieces.append(_blank_cell(row, col, changes[col](default_style(start, col))))
        inserted = True
    if inserted:
        start = drop_attr(start + b">", "spans")[:-1]  # the cells it declares are more now
    return start + b">" + b"".join(pieces) + b"</row>"


def _blank_cell(row: int, col: int, style: int) -> bytes:
    return b'<c r="%s" s="%d"/>' % (address(row, col).encode(), style)


def column_styles(xml: bytes) -> Callable[[bytes, int], int]:
    """The style a cell not written yet shows: its row's, else its column's, else 0."""
    cols: list[tuple[int, int, int]] = []
    for tag in _COL.findall(xml):
        low, high, index = attr(tag, "min"), attr(tag, "max"), attr(tag, "style")
        if low and high and index and low.isdigit() and high.isdigit() and index.isdigit():
            cols.append((int(low), int(high), int(index)))

    def shown(row_tag: bytes, col: int) -> int:
        own = attr(row_tag + b">", "s") if row_tag else None
        if own and own.isdigit() and attr(row_tag + b">", "customFormat") in ("1", "true"):
            return int(own)
        return next((s for low, high, s in cols if low <= col <= high), 0)
    return shown


_TEXT_CELL = re.compile(rb"<c\b[^>]*?\st=[\"'](?:s|inlineStr|str)[\"']")


def top_rows(xml: bytes, strings: Callable[[], list[str]], limit: int, min_texts: int = 0
             ) -> list[list[object]]:
    """The values of a sheet's first ``limit`` rows (row 1 first), as a reader gives them:
    text, numbers, booleans; None where blank.  A row with fewer than ``min_texts``
    text cells is left empty (not decoded)."""
    data = _SHEET_DATA.search(xml)
    rows: list[list[object]] = [[] for _ in range(limit)]
    for found in _ROW.finditer(data.group(1) or b"" if data else b""):
        row = int(attr(found.group(1), "r") or 0)
        if row > limit:
            break
        content = found.group(3) or b""
        if row < 1 or (min_texts and len(_TEXT_CELL.findall(content)) < min_texts):
            continue
        for cell in _CELL.finditer(content):
            where = split_address(attr(cell.group(1), "r") or "")
            if where is None or where[0] != row:
                continue
            value = _cell_value(cell.group(1), cell.group(3) or b"", strings)
            line = rows[row - 1]
            line.extend([None] * (where[1] - len(line)))
            line[where[1] - 1] = value
    return rows


def _cell_value(tag: bytes, content: bytes, strings: Callable[[], list[str]]) -> object:
    kind = attr(tag, "t") or "n"
    if kind == "inlineStr":
        inline = re.search(rb"<is\b[^>]*>(.*?)</is>", content, re.S)
        return _plain(inline.group(1)) if inline else None
    value = re.search(rb"<v\b[^>]*>(.*?)</v>", content, re.S)
    if value is None:
        return None
    text = _unesc(value.group(1))
    if kind == "s":
        table = strings()
        return table[int(text)] if text.strip().isdigit() and int(text) < len(table) else None
    if kind in ("str", "e"):
        return text
    if kind == "b":
        return text.strip() in ("1", "true")
    try:
        return float(text)
    except ValueError:
        return text


# ---------------------------------------------------------------- comments

_VML_NS = ('xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
           'xmlns:x="urn:schemas-microsoft-com:office:excel"')
_VML_HEAD = (f'<xml {_VML_NS}><o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{{block}}"/>'
             '</o:shapelayout><v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" '
             'path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/>'
             '<v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>')
_VML_SHAPE = ('<v:shape {ns}id="_x0000_s{id}" type="#_x0000_t202" style="position:absolute;'
              'margin-left:59.25pt;margin-top:1.5pt;width:{width}px;height:{height}px;z-index:{z};'
              'visibility:hidden" fillcolor="#ffffe1" o:insetmode="auto"><v:fill color2="#ffffe1"/>'
              '<v:shadow color="black" obscured="t"/><v:path o:connecttype="none"/>'
              '<v:textbox style="mso-direction-alt:auto"><div style="text-align:left"/></v:textbox>'
              '<x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
              '<x:AutoFill>False</x:AutoFill><x:Row>{row}</x:Row><x:Column>{col}</x:Column>'
              '</x:ClientData></v:shape>')
_COMMENT = re.compile(rb"<comment\b[^>]*?(?:/>|>.*?</comment>)", re.S)
_AUTHOR = re.compile(rb"<author\b[^>]*?(?:/>|>(.*?)</author>)", re.S)
_SHAPE_ID = re.compile(rb'id="_x0000_s(\d+)"')
_ID_BLOCK = re.compile(rb'<[\w:]*idmap\b[^>]*?\bdata="([\d,\s]+)"')


def comment_size(text: str, findings: int) -> tuple[int, int]:
    """A comment box's (width, height) in px: wide enough to read a message at a glance."""
    return 320, min(600, 60 + 18 * (len(text) // 22 + findings))


def _comment_xml(ref: str, author: int, text: str) -> bytes:
    return (f'<comment ref="{ref}" authorId="{author}"><text><t xml:space="preserve">'
            f"{esc(text)}</t></text></comment>").encode()


def _shape(shape_id: int, row: int, col: int, note: Note, text: str, *, declare: bool) -> bytes:
    width, height = comment_size(text, note.findings)
    return _VML_SHAPE.format(ns=_VML_NS + " " if declare else "", id=shape_id, width=width,
                             height=height, z=shape_id % 1024, row=row - 1, col=col - 1).encode()


# ---------------------------------------------------------------- the package


class Book:
    """A workbook package held as its parts' bytes, edited in place, written once."""

    def __init__(self, raw: bytes) -> None:
        source = zipfile.ZipFile(io.BytesIO(raw))
        infos = source.infolist()
        names = [i.filename for i in infos]
        if len(set(names)) != len(names):  # two copies of one part: corrupt, never guessed
            raise zipfile.BadZipFile("duplicate part")
        if sum(i.file_size for i in infos) > MAX_PACKAGE:
            raise Unsupported("package too large")
        self.infos = infos
        self.parts: dict[str, bytes] = {i.filename: source.read(i) for i in infos}
        self._original = dict(self.parts)
        workbook = self.parts.get("xl/workbook.xml", b"")
        if (re.search(rb"<workbook\b", workbook) is None or b"purl.oclc.org" in workbook
                or re.search(rb"<sheets\b", workbook) is None or "xl/styles.xml" not in self.parts
                or "[Content_Types].xml" not in self.parts):
            raise Unsupported("not a transitional workbook written without prefixes")
        self.sheets = sheet_parts(source)  # name -> part, in the workbook's order
        self._merges: dict[str, list[tuple[int, int, int, int]]] = {}
        self._strings: list[str] | None = None

    @property
    def sheetnames(self) -> list[str]:
        return list(self.sheets)

    # ------------------------------------------------------------ reading

    def top_left(self, sheet: str, cell: str) -> str | None:
        """The cell that shows ``cell``: the top-left one of a merged range covering it."""
        where = split_address(cell) if sheet in self.sheets else None
        if where is None:
            return None
        row, col = where
        for top, left, bottom, right in self._merged(sheet):
            if top <= row <= bottom and left <= col <= right:
                return address(top, left)
        return address(row, col)

    def _merged(self, sheet: str) -> list[tuple[int, int, int, int]]:
        if sheet not in self._merges:
            ranges = []
            for ref in _MERGE_REF.findall(self.parts.get(self.sheets[sheet], b"")):
                ends = [split_address(p) for p in ref.decode("ascii").split(":")]
                if all(ends):
                    (r1, c1), (r2, c2) = ends[0], ends[-1]  # type: ignore[misc]
                    ranges.append((min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)))
            self._merges[sheet] = ranges
        return self._merges[sheet]

    def strings(self) -> list[str]:
        """The shared strings (read once, when a cell needs them)."""
        if self._strings is None:
            rels = _Rels.read("xl/_rels/workbook.xml.rels",
                              self.parts.get("xl/_rels/workbook.xml.rels"))
            targets = [_resolve("xl/workbook.xml", t) for _, t in rels.of_type(_T_SHARED_STRINGS)]
            xml = self.parts.get(targets[0] if targets else "xl/sharedStrings.xml", b"")
            self._strings = [_plain(si) for si in
                             re.findall(rb"<si\b[^>]*?(?:/>|>(.*?)</si>)", xml, re.S)]
        return self._strings

    def top_rows(self, sheet: str, limit: int, min_texts: int = 0) -> list[list[object]]:
        return top_rows(self.parts.get(self.sheets[sheet], b""), self.strings, limit, min_texts)

    def comment_at(self, sheet: str, cell: str) -> tuple[str, str] | None:
        """(author, text) of the comment already on ``cell``, if any."""
        comments = self._comments_part(sheet)
        if comments is None:
            return None
        xml = self.parts.get(comments, b"")
        authors = [_unesc(a or b"") for a in _AUTHOR.findall(_block(xml, "authors").group(1))] \
            if b"<authors" in xml else []
        for found in _COMMENT.finditer(xml):
            start = re.match(rb"<comment\b[^>]*>", found.group(0))
            tag = start.group(0) if start else b""
            if (attr(tag, "ref") or "").upper() == cell:
                index = attr(tag, "authorId") or "0"
                author = authors[int(index)] if index.isdigit() and int(index) < len(authors) else ""
                return author, _plain(found.group(0))
        return None

    def _comments_part(self, sheet: str) -> str | None:
        part = self.sheets[sheet]
        rels = _Rels.read(_rels_part(part), self.parts.get(_rels_part(part)))
        if any(typ.endswith("/threadedComment") for _, typ, _ in rels.items):
            raise Unsupported("threaded comments")
        found = rels.of_type(_T_COMMENTS)
        if len(found) > 1:
            raise Unsupported("two comment parts")
        return _resolve(part, found[0][1]) if found else None

    # ------------------------------------------------------------ editing

    def mark(self, notes: Mapping[tuple[str, str], Note], fills: tuple[int, int],
             styles: _Styles, author: str, erase: Mapping[str, Sequence[Erase]]) -> None:
        """Fill and comment each noted cell; take the erased cells' values out."""
        by_sheet: dict[str, dict[str, Note]] = {}
        for (sheet, cell), note in notes.items():
            by_sheet.setdefault(sheet, {})[cell] = note
        for sheet in dict.fromkeys([*by_sheet, *erase]):
            part = self.sheets[sheet]
            xml = self.parts[part]
            cells = by_sheet.get(sheet, {})
            restyle: dict[tuple[int, int], Restyle] = {}
            for cell, note in cells.items():
                where = split_address(cell)
                if where is None:
                    raise Unsupported(cell)
                restyle[where] = partial(_filled, styles, fills[0] if note.error else fills[1])
            xml = edit_cells(xml, restyle, erase.get(sheet, ()), default_style=column_styles(xml))
            if cells:
                xml = self._comment(sheet, part, xml, cells, author)
            self.parts[part] = xml

    def _comment(self, sheet: str, part: str, xml: bytes, cells: Mapping[str, Note],
                 author: str) -> bytes:
        rels_name = _rels_part(part)
        rels = _Rels.read(rels_name, self.parts.get(rels_name))
        existing = self._comments_part(sheet)
        vmls = rels.of_type(_T_VML)
        if existing is None:
            if vmls or re.search(rb"<legacyDrawing\b", xml):
                raise Unsupported("a VML drawing that holds no comments")
            comments_part = self._free_name("xl/comments{}.xml")
            vml_part = self._free_name("xl/drawings/vmlDrawing{}.vml")
            block = 1 + max((int(n) for p, data in self.parts.items() if p.endswith(".vml")
                             for found in _ID_BLOCK.findall(data)
                             for n in re.findall(rb"\d+", found)), default=0)
            self._add(comments_part, (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<comments xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                f"<authors><author>{esc(author)}</author></authors><commentList>"
                "</commentList></comments>").encode(), _CT_COMMENTS)
            self._add(vml_part, _VML_HEAD.format(block=block).encode() + b"</xml>",
                      None if self._has_default("vml") else _CT_VML)
            rels.add(_T_COMMENTS, _relative(part, comments_part))
            vml_id = rels.add(_T_VML, _relative(part, vml_part))
            xml = _insert_legacy_drawing(xml, vml_id)
            self.parts[rels_name] = rels.xml
            first_shape = block * 1024 + 1
            declare = False
        else:
            if len(vmls) != 1 or re.search(rb"<legacyDrawing\b", xml) is None:
                raise Unsupported("comments without their drawing")
            vml_part = _resolve(part, vmls[0][1])
            comments_part = existing
            vml = self.parts.get(vml_part)
            if vml is None or b"_x0000_t202" not in vml or b"</xml>" not in vml:
                raise Unsupported("a comment drawing written otherwise")
            first_shape = 1 + max((int(n) for n in _SHAPE_ID.findall(vml)), default=1024)
            declare = True
        self._put_comments(comments_part, vml_part, cells, author, first_shape, declare)
        return xml

    def _put_comments(self, comments_part: str, vml_part: str, cells: Mapping[str, Note],
                      author: str, first_shape: int, declare: bool) -> None:
        xml = self.parts[comments_part]
        authors_block = _block(xml, "authors")
        authors = [_unesc(a or b"") for a in _AUTHOR.findall(authors_block.group(1))]
        edits: list[tuple[int, int, bytes]] = []
        if author in authors:
            author_id = authors.index(author)
        else:
            author_id = len(authors)
            edits.append((authors_block.end(1), authors_block.end(1),
                          f"<author>{esc(author)}</author>".encode()))
        at_ref: dict[str, re.Match[bytes]] = {}
        for found in _COMMENT.finditer(xml):
            start = re.match(rb"<comment\b[^>]*>", found.group(0))
            ref = (attr(start.group(0), "ref") or "").upper() if start else ""
            at_ref.setdefault(ref, found)
        listed = _block(xml, "commentList")
        added: list[bytes] = []
        shapes: list[bytes] = []
        shape_id = first_shape
        for cell, note in cells.items():
            new = _comment_xml(cell, author_id, note.text)
            if cell in at_ref:  # its shape is in the drawing already
                edits.append((at_ref[cell].start(), at_ref[cell].end(), new))
                continue
            added.append(new)
            row, col = split_address(cell)  # type: ignore[misc]
            shapes.append(_shape(shape_id, row, col, note, note.text, declare=declare))
            shape_id += 1
        edits.append((listed.end(1), listed.end(1), b"".join(added)))
        self.parts[comments_part] = _splice(xml, edits)
        if shapes:
            vml = self.parts[vml_part]
            end = vml.rindex(b"</xml>")
            self.parts[vml_part] = vml[:end] + b"".join(shapes) + vml[end:]

    def add_sheet_first(self, name: str, xml: bytes) -> None:
        """Put a new sheet ``name`` in front of the others, shown when the file opens."""
        if name in self.sheets:
            raise Unsupported("a sheet with the list's name already")
        part = self._free_name("xl/worksheets/sheet{}.xml")
        self._add(part, xml, _CT_WORKSHEET)
        rels = _Rels.read("xl/_rels/workbook.xml.rels", self.parts.get("xl/_rels/workbook.xml.rels"))
        rid = rels.add(_T_WORKSHEET, _relative("xl/workbook.xml", part))
        self.parts["xl/_rels/workbook.xml.rels"] = rels.xml
        book = self.parts["xl/workbook.xml"]
        ids = [int(i) for i in re.findall(rb"<sheet\b[^>]*?\ssheetId=[\"'](\d+)", book)]
        sheets = re.search(rb"<sheets\b[^>]*>", book)
        if sheets is None or sheets.group(0).endswith(b"/>"):
            raise Unsupported("sheets")
        entry = (f'<sheet xmlns:r="{REL_NS}" name="{esc(name)}" sheetId="{max(ids, default=0) + 1}" '
                 f'r:id="{rid}"/>').encode()
        book = book[:sheets.end()] + entry + book[sheets.end():]
        book = re.sub(rb"(<definedName\b[^>]*?\slocalSheetId=[\"'])(\d+)",
                      lambda m: m.group(1) + str(int(m.group(2)) + 1).encode(), book)
        for key in (b"activeTab", b"firstSheet"):
            book = re.sub(rb"(<workbookView\b[^>]*?\s%s=[\"'])\d+" % key,
                          lambda m: m.group(1) + b"0", book)
        self.parts["xl/workbook.xml"] = book
        for other in self.sheets.values():
            if other in self.parts:
                self.parts[other] = re.sub(
                    rb"(<sheetView\b[^>]*?)\stabSelected=[\"'](?:1|true)[\"']", rb"\1",
                    self.parts[other])
        self.sheets = {name: part, **self.sheets}

    def _free_name(self, pattern: str) -> str:
        taken = {p.lower() for p in self.parts}
        n = 1
        while pattern.format(n).lower() in taken:
            n += 1
        return pattern.format(n)

    def _has_default(self, extension: str) -> bool:
        types = self.parts["[Content_Types].xml"]
        return any((attr(tag, "Extension") or "").lower() == extension
                   for tag in re.findall(rb"<Default\b[^>]*>", types))

    def _add(self, part: str, xml: bytes, content_type: str | None) -> None:
        self.parts[part] = xml
        if content_type:
            types = self.parts["[Content_Types].xml"]
            end = types.rfind(b"</Types>")
            if end < 0:
                raise Unsupported("content types")
            entry = f'<Override PartName="/{esc(part)}" ContentType="{content_type}"/>'.encode()
            self.parts["[Content_Types].xml"] = types[:end] + entry + types[end:]

    def dumps(self) -> bytes:
        """The package with its edits, as a new .xlsx file's bytes.

        Every XML part must be well-formed: a copy is never made of a broken package,
        nor broken by an edit (Unsupported, and openpyxl judges the file).
        """
        self._check_well_formed()
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy:
            for name, stamp in self._order():
                info = zipfile.ZipInfo(name, date_time=stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                copy.writestr(info, self.parts[name])
        return out.getvalue()

    def _check_well_formed(self) -> None:
        for name, data in self.parts.items():
            # a drawing of Excel's own may be loose VML (``<br>``): only those edited here
            if name.endswith((".xml", ".rels")) or (name.endswith(".vml")
                                                     and data is not self._original.get(name)):
                try:
                    expat.ParserCreate().Parse(data, True)
                except expat.ExpatError as exc:
                    raise Unsupported(f"{name} is not well-formed") from exc

    def _order(self) -> Iterator[tuple[str, tuple[int, int, int, int, int, int]]]:
        for info in self.infos:
            yield info.filename, info.date_time
        stamp = max((i.date_time for i in self.infos), default=(1980, 1, 1, 0, 0, 0))
        known = {info.filename for info in self.infos}
        for name in self.parts:  # added: new comments, drawings, relationships, the list
            if name not in known:
                yield name, stamp


_AFTER_LEGACY = re.compile(rb"<(?:legacyDrawingHF|drawingHF|picture|oleObjects|controls|"
                           rb"webPublishItems|tableParts|extLst)\b|</worksheet>")


def _insert_legacy_drawing(xml: bytes, rid: str) -> bytes:
    """``<legacyDrawing>`` where CT_Worksheet has it: after the sheet's cells, formats and
    links, before the elements that follow it (none of which may hide inside another)."""
    start = max(xml.rfind(end) for end in (b"</sheetData>", b"</conditionalFormatting>",
                                            b"</dataValidations>", b"</hyperlinks>"))
    tail = xml[max(start, 0):]
    if b"AlternateContent" in tail:
        raise Unsupported("alternate content after the cells")
    place = _AFTER_LEGACY.search(xml, max(start, 0))
    if place is None:
        raise Unsupported("worksheet end")
    tag = f'<legacyDrawing xmlns:r="{REL_NS}" r:id="{rid}"/>'.encode()
    return xml[:place.start()] + tag + xml[place.start():]


# ---------------------------------------------------------------- the list sheet


def list_sheet(title: str, headers: Sequence[str], rows: Sequence[ListRow], widths: Sequence[int],
               styles: _Styles, fills: tuple[int, int], colours: Colours) -> bytes:
    """The list sheet's XML: a title, a header row, one row per finding, each linked
    to its cell; frozen under the header, printed landscape one page wide."""
    font = styles.add("fonts", f'<font><sz val="{colours.size}"/><name val="{esc(colours.font)}"/>'
                               "</font>")
    link_font = styles.add("fonts", f'<font><u/><sz val="{colours.size}"/><color rgb="FF'
                                    f'{colours.link}"/><name val="{esc(colours.font)}"/></font>')
    side = f'style="thin"><color rgb="FF{colours.border}"/>'
    border = styles.add("borders", f"<border><left {side}</left><right {side}</right>"
                                   f"<top {side}</top><bottom {side}</bottom><diagonal/></border>")
    title_style = styles.xf()
    body = styles.xf(font=font, border=border)
    link = styles.xf(font=link_font, border=border)
    level = {True: styles.xf(font=font, fill=fills[0], border=border),
             False: styles.xf(font=font, fill=fills[1], border=border)}
    width = len(headers)
    last = letters(width)
    lines = [f'<row r="1" ht="32" customHeight="1">{_text_cell(1, 1, title, title_style)}</row>',
             "<row r=\"2\">" + "".join(_text_cell(2, c, h, body) for c, h in
                                      enumerate(headers, 1)) + "</row>"]
    links = []
    for r, item in enumerate(rows, 3):
        cells = []
        for c, value in enumerate(item.cells, 1):
            style = level[item.error] if c == 2 else link if (c == 3 and item.link) else body
            cells.append(_text_cell(r, c, value, style))
        lines.append(f'<row r="{r}" ht="{item.height:g}" customHeight="1">{"".join(cells)}</row>')
        if item.link:
            links.append(f'<hyperlink ref="C{r}" location="{esc(item.link)}" '
                         f'display="{esc(str(item.cells[2]))}"/>')
    cols = "".join(f'<col min="{c}" max="{c}" width="{w}" customWidth="1"/>'
                   for c, w in enumerate(widths, 1))
    xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
           f'<dimension ref="A1:{last}{max(2, len(rows) + 2)}"/>'
           '<sheetViews><sheetView tabSelected="1" workbookViewId="0"><pane ySplit="2" '
           'topLeftCell="A3" activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft" '
           'activeCell="A3" sqref="A3"/></sheetView></sheetViews>'
           '<sheetFormatPr defaultRowHeight="15"/>'
           f"<cols>{cols}</cols><sheetData>{''.join(lines)}</sheetData>"
           f'<mergeCells count="1"><mergeCell ref="A1:{last}1"/></mergeCells>'
           + (f"<hyperlinks>{''.join(links)}</hyperlinks>" if links else "")
           + '<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/>'
           '<pageSetup orientation="landscape" fitToWidth="1" fitToHeight="0"/></worksheet>')
    return xml.encode("utf-8")


def _text_cell(row: int, col: int, value: int | str, style: int) -> str:
    ref = address(row, col)
    if isinstance(value, int):
        return f'<c r="{ref}" s="{style}"><v>{value}</v></c>'
    if not value:
        return f'<c r="{ref}" s="{style}"/>'
    return (f'<c r="{ref}" s="{style}" t="inlineStr"><is><t xml:space="preserve">{esc(value)}'
            "</t></is></c>")
