"""The file as a package: everything decided before a spreadsheet library sees it.

The file is read into memory once.  From those bytes: is it a real .xlsx (not
an .xls, a WPS .et, an encrypted file, a CSV or web page renamed, a truncated
download, a zip bomb)?  Then each sheet's XML is scanned (:func:`scan_sheet_xml`)
for what calamine hides or chokes on: error cells and formulas with no cached
value (calamine reads both as blank), and content far outside any form (a single
value in XFD1048576 makes calamine allocate the whole rectangle and abort the
process); far cells are dropped from an in-memory copy, never from the file.
Macros and external links are noted (nianbao never runs or follows them).
"""

from __future__ import annotations

import io
import posixpath
import re
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nianbao.atomic import describe_os_error
from nianbao.kinds import finding
from nianbao.layout import CHECK_SHEET, a1
from nianbao.model import Finding
from nianbao.register import APPLICATION_SHEET, CASE_SHEET
from nianbao.schema import FORMATS
from nianbao.settings import DEFAULT_SETTINGS, Settings

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
_ENCRYPTED_MARK = "EncryptionInfo".encode("utf-16-le")


@dataclass(slots=True)
class Package:
    """A workbook that passed the file-level checks, held in memory."""

    data: io.BytesIO  # what the spreadsheet library should read (maybe trimmed)
    scans: dict[str, SheetScan]
    notes: list[Finding]  # warnings: macros, external links, far-away cells
    # An .xls or .ods: read by calamine as it is; if that fails, this finding says
    # what to do (save as .xlsx) instead of a generic "corrupt".
    fallback: Finding | None = None
    # Sheets not to read: in nianbao's own form, the ones it writes for people
    # (填报说明, 校验结果), never data; they are half of the form's XML.
    skip: frozenset[str] = frozenset()


def open_package(path: Path, settings: Settings = DEFAULT_SETTINGS, *,
                 data: bytes | None = None) -> Package | Finding:
    """Read the file once and check it as a package; a finding says why it cannot be read.

    ``data`` is the file's content when the caller has read it already (the build
    hashes it first), so the file is not read a second time.
    """
    try:
        size = len(data) if data is not None else path.stat().st_size
        if size > settings.max_file_bytes:
            return finding("file-too-large", size_mb=size / 1048576,
                           limit_mb=settings.max_file_bytes // 1048576)
        if data is None:
            data = path.read_bytes()
    except OSError as exc:
        return finding("file-unreadable", reason=describe_os_error(exc))
    bad = _check_bytes(data, path.suffix.lower())
    if bad:
        if bad.code == "file-old-format" and path.suffix.lower() not in (".et", ".ett"):
            return _other_format(data, bad, "旧版 Excel（.xls）")
        return bad
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return finding("file-corrupt")
    with zf:
        names = {i.filename for i in infos}
        if len(names) != len(infos):
            return finding("file-corrupt:duplicate-part")
        unpacked = sum(i.file_size for i in infos)
        if unpacked > settings.max_unzipped_bytes:
            return finding("file-too-large:unzipped", unzipped_mb=unpacked / 1048576)
        if "xl/workbook.xml" not in names:
            not_xlsx = _not_a_workbook(names)
            if "mimetype" in names and "content.xml" in names:
                return _other_format(data, not_xlsx, "ODS（OpenDocument 表格）")
            return not_xlsx
        try:
            scans, trimmed, skip = _scan_sheets(zf, names)
        except (zipfile.BadZipFile, ET.ParseError, KeyError, OSError, ValueError, EOFError):
            return finding("file-corrupt")
        notes = _notes(sorted(names)) + _far_findings(scans)
        stream = io.BytesIO(data) if trimmed is None else trimmed
    return Package(data=stream, scans=scans, notes=notes, skip=skip)


def _other_format(data: bytes, fallback: Finding, program: str) -> Package:
    """An .xls or .ods: calamine reads it as it is; a warning asks for .xlsx next time."""
    note = finding("file-old-format:read", program=program)
    return Package(data=io.BytesIO(data), scans={}, notes=[note], fallback=fallback)


def _check_bytes(data: bytes, suffix: str) -> Finding | None:
    if not data:
        return finding("file-empty")
    if data.startswith(OLE2_MAGIC):
        if _ENCRYPTED_MARK in data[:4 * 1024 * 1024]:
            return finding("file-encrypted")
        program = "WPS 表格（.et）" if suffix == ".et" else "旧版 Excel（.xls）"
        return finding("file-old-format", program=program)
    if not data.startswith(ZIP_MAGIC):
        start = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        if start.startswith((b"<html", b"<!doctype html", b"<table", b"<?xml")):
            return finding("file-not-xlsx:html")
        return finding("file-not-xlsx:renamed-xls" if suffix in (".xls", ".et")
                       else "file-not-xlsx:renamed")
    return None


def _not_a_workbook(names: set[str]) -> Finding:
    if "mimetype" in names and "content.xml" in names:
        return finding("file-not-xlsx:ods")
    if "word/document.xml" in names:
        return finding("file-not-xlsx:docx")
    return finding("file-not-xlsx")


MAX_ROWS = 2000
MAX_COLS = 200
REGISTER_MAX_ROWS = 200_000  # a register sheet has one row per application
REGISTER_SHEETS = frozenset({APPLICATION_SHEET, CASE_SHEET})
#: What nianbao's form shows people and never holds data: 填报说明 and 校验结果.
OWN_SHEETS = frozenset({*(spec.sheet_name("guide") for spec in FORMATS.values()), CHECK_SHEET})
_FORM_MARK = b'"NB_FORM_ID"'  # the defined name of the form's hidden identity cell

_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_ROW_OR_CELL = re.compile(
    rb"<(?:[\w.-]+:)?row\b(?P<row>[^>]*)>"
    rb"|<(?:[\w.-]+:)?c\b(?P<attrs>[^>]*?)(?:/>|>(?P<body>.*?)</(?:[\w.-]+:)?c>)", re.S)
_ATTR_R = re.compile(rb'\br="([A-Za-z]{0,3})(\d*)"')
_ATTR_T = re.compile(rb'\bt="(\w+)"')
_FORMULA = re.compile(rb"<(?:[\w.-]+:)?f\b[^>]*?(?:/>|>(.*?)</(?:[\w.-]+:)?f>)", re.S)
_HIDDEN = re.compile(rb'\bhidden="(?:1|true)"')
_COL = re.compile(rb"<(?:[\w.-]+:)?col\b([^>]*)/?>")
_MIN_MAX = re.compile(rb'\b(min|max)="(\d+)"')
_VALUE = re.compile(rb"<(?:[\w.-]+:)?(?:v|is)\b[^>]*?(?:/>|>(.*?)</(?:[\w.-]+:)?(?:v|is)>)", re.S)


@dataclass(slots=True)
class SheetScan:
    """What calamine does not tell: error cells, uncalculated formulas, the used extent."""

    errors: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, col) 0-based
    uncalculated: dict[tuple[int, int], str] = field(default_factory=dict)
    far: list[tuple[int, int]] = field(default_factory=list)  # cells beyond MAX_ROWS/MAX_COLS
    trimmed: bytes | None = None  # the sheet XML without the far cells, if there were any
    hidden_rows: set[int] = field(default_factory=set)  # 0-based
    hidden_cols: set[int] = field(default_factory=set)  # 0-based


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


def scan_sheet_xml(xml: bytes, max_rows: int = MAX_ROWS) -> SheetScan:
    """Find error cells, formulas with no cached value and cells far outside any form."""
    fast = _scan_fast(xml, max_rows)
    return fast if fast is not None else _scan_cells(xml, max_rows)


_PREFIXED = re.compile(rb"<[\w.-]+:(?:c|row|f|v|is)\b")
_ROW_TAG = re.compile(rb"<row\b([^>]*)>")
_CELL_ROW = re.compile(rb'<c r="[A-Z]{1,3}(\d+)"')
_CELL_COL = re.compile(rb'<c r="([A-Z]{1,3})\d')
_FORMULA_CELL = re.compile(  # <f> comes first in a cell
    rb'<c r="([A-Z]{1,3})(\d+)"[^>]*(?<!/)>\s*<f\b[^>]*?(?:/>|>(.*?)</f>)(.*?)</c>', re.S)
_ERROR_CELL = re.compile(rb'<c r="([A-Z]{1,3})(\d+)"[^>]*?\bt="e"[^>]*(?<!/)>(.*?)</c>', re.S)


def _scan_fast(xml: bytes, max_rows: int) -> SheetScan | None:
    """:func:`scan_sheet_xml` for the usual sheet, by whole-text searches (a few times faster
    than visiting every cell): every row and cell carries its reference, no namespace
    prefix, nothing far away.  None when the sheet is not like that."""
    if _PREFIXED.search(xml):
        return None
    rows = _CELL_ROW.findall(xml)
    if len(rows) != xml.count(b"<c ") + xml.count(b"<c>") + xml.count(b"<c/>"):
        return None  # a cell without its reference: count them one by one
    if rows and max(map(int, rows)) > max_rows:
        return None
    if any(_col_number(letters) > MAX_COLS for letters in set(_CELL_COL.findall(xml))):
        return None
    scan = SheetScan(hidden_cols=_hidden_cols(xml))
    for match in _ROW_TAG.finditer(xml):
        attrs = match.group(1)
        if _HIDDEN.search(attrs):
            got = _ATTR_R.search(attrs)
            if not got or not got.group(2):
                return None
            scan.hidden_rows.add(int(got.group(2)) - 1)
    if b"<f" in xml:
        for letters, row, text, rest in _FORMULA_CELL.findall(xml):
            value = _VALUE.search(rest)
            if not (value and value.group(1)):
                position = (int(row) - 1, _col_number(letters) - 1)
                scan.uncalculated[position] = _xml_unescape(text.decode("utf-8", "replace"))
    if b't="e"' in xml:
        for letters, row, body in _ERROR_CELL.findall(xml):
            value = _VALUE.search(body)
            if value and value.group(1):
                position = (int(row) - 1, _col_number(letters) - 1)
                scan.errors[position] = value.group(1).decode("utf-8", "replace").strip()
    return scan


def _hidden_cols(xml: bytes) -> set[int]:
    """The hidden columns (0-based) of a sheet: ``<cols><col min="3" max="4" hidden="1"/>``."""
    hidden: set[int] = set()
    for match in _COL.finditer(xml.split(b"sheetData", 1)[0]):
        bounds = dict(_MIN_MAX.findall(match.group(1)))
        if _HIDDEN.search(match.group(1)) and b"min" in bounds:
            low = int(bounds[b"min"])
            high = min(int(bounds.get(b"max") or bounds[b"min"]), MAX_COLS)
            hidden.update(range(low - 1, high))
    return hidden


def _scan_cells(xml: bytes, max_rows: int) -> SheetScan:
    scan = SheetScan(hidden_cols=_hidden_cols(xml))
    row, col = 0, 0
    far_spans: list[tuple[int, int]] = []
    for match in _ROW_OR_CELL.finditer(xml):
        if match.group("row") is not None:
            got = _ATTR_R.search(match.group("row"))
            row = int(got.group(2)) if got and got.group(2) else row + 1
            col = 0
            if _HIDDEN.search(match.group("row")):
                scan.hidden_rows.add(row - 1)
            continue
        attrs = match.group("attrs") or b""
        got = _ATTR_R.search(attrs)
        if got and got.group(1):
            col = _col_number(got.group(1))
            if got.group(2):
                row = int(got.group(2))
        else:
            col += 1
        body = match.group("body") or b""
        value = _VALUE.search(body)
        has_value = bool(value and value.group(1))
        formula = _FORMULA.search(body)
        if not has_value and not formula:
            continue  # formatting only: calamine skips these too
        if row > max_rows or col > MAX_COLS:
            scan.far.append((row - 1, col - 1))
            far_spans.append(match.span())
            continue
        kind = _ATTR_T.search(attrs)
        if kind and kind.group(1) == b"e" and value and value.group(1):
            scan.errors[(row - 1, col - 1)] = value.group(1).decode("utf-8", "replace").strip()
        elif formula and not has_value:
            text = (formula.group(1) or b"").decode("utf-8", "replace")
            scan.uncalculated[(row - 1, col - 1)] = _xml_unescape(text)
    if far_spans:
        pieces, last = [], 0
        for start, end in far_spans:
            pieces.append(xml[last:start])
            last = end
        pieces.append(xml[last:])
        scan.trimmed = b"".join(pieces)
    return scan


def _xml_unescape(text: str) -> str:
    return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
            .replace("&apos;", "'").replace("&amp;", "&"))


def sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> its XML part in the package (``xl/worksheets/sheet1.xml``)."""
    return _sheet_parts(zf)[0]


def _sheet_parts(zf: zipfile.ZipFile) -> tuple[dict[str, str], bool]:
    """Sheet name -> its XML part, from xl/workbook.xml and its relationships; and whether
    the workbook is nianbao's own form (it names the form's hidden identity cells)."""
    xml = zf.read("xl/workbook.xml")
    ours = _FORM_MARK in xml
    book = ET.fromstring(xml)
    try:
        rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    except KeyError:
        return {}, ours
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels}
    parts: dict[str, str] = {}
    for sheet in book.iter():
        if not sheet.tag.endswith("}sheet"):
            continue
        target = targets.get(sheet.get(_NS_REL), "")
        if not target:
            continue
        part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
            posixpath.join("xl", target))
        parts[sheet.get("name", "")] = part
    return parts, ours


def _scan_sheets(zf: zipfile.ZipFile, names: set[str]
                 ) -> tuple[dict[str, SheetScan], io.BytesIO | None, frozenset[str]]:
    """Scan every sheet to be read; if any has far-away cells, an in-memory copy without
    them; and the sheets not to read (nianbao's own, in its form)."""
    parts, ours = _sheet_parts(zf)
    skip = frozenset(name for name in parts if ours and name in OWN_SHEETS)
    parts = {name: part for name, part in parts.items() if part in names and name not in skip}
    scans = {name: scan_sheet_xml(zf.read(part), REGISTER_MAX_ROWS if name in REGISTER_SHEETS
                                  else MAX_ROWS) for name, part in parts.items()}
    trimmed = {parts[name]: scan.trimmed for name, scan in scans.items() if scan.trimmed}
    return scans, _with_parts(zf, trimmed) if trimmed else None, skip


def _with_parts(zf: zipfile.ZipFile, replaced: dict[str, bytes]) -> io.BytesIO:
    """An in-memory copy of the package with some parts replaced."""
    copy = io.BytesIO()
    with zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as out:
        for info in zf.infolist():
            out.writestr(info, replaced.get(info.filename) or zf.read(info.filename))
    copy.seek(0)
    return copy


FIRST_SHEET_MAX_BYTES = 256 << 20  # unpacked: a 200,000-row roster is some 30 MB


class SheetTooLarge(ValueError):
    """The first sheet unpacks to more than :data:`FIRST_SHEET_MAX_BYTES`."""


def first_sheet_rows(data: bytes, max_rows: int) -> tuple[list[list[Any]], list[tuple[int, int]]]:
    """The first sheet of an .xlsx as rows of values (read by calamine, from A1), and the
    cells (0-based row, column) left out because they lie beyond ``max_rows`` rows or
    :data:`MAX_COLS` columns: calamine would make the whole rectangle up to them.

    For the files people keep beside the forms (the 单位名单): many rows, few columns.
    Raises :class:`SheetTooLarge`, or what zipfile, the XML scan and calamine raise for
    a file that is not a workbook; the caller says so in its own words.
    """
    from python_calamine import CalamineWorkbook

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        parts = [part for part in sheet_parts(zf).values() if part in zf.NameToInfo]
        if not parts:
            raise KeyError("no sheet")
        if zf.getinfo(parts[0]).file_size > FIRST_SHEET_MAX_BYTES:
            raise SheetTooLarge(parts[0])
        scan = scan_sheet_xml(zf.read(parts[0]), max_rows)
        stream = _with_parts(zf, {parts[0]: scan.trimmed}) if scan.trimmed else io.BytesIO(data)
    workbook = CalamineWorkbook.from_filelike(stream)
    try:
        rows = workbook.get_sheet_by_name(workbook.sheet_names[0]).to_python(
            skip_empty_area=False)
    finally:
        workbook.close()
    return rows, scan.far


def _notes(names: list[str]) -> list[Finding]:
    """Warnings about parts of a readable workbook that nianbao ignores: macros, external links."""
    notes: list[Finding] = []
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        notes.append(finding("macros-ignored"))
    links = [n for n in names if n.lower().startswith("xl/externallinks/") and n.endswith(".xml")]
    if links:
        notes.append(finding("external-links-ignored", count=len(links)))
    return notes


def _far_findings(scans: dict[str, SheetScan]) -> list[Finding]:
    out: list[Finding] = []
    for name, scan in scans.items():
        if not scan.far:
            continue
        r, c = max(scan.far)
        far = a1(r + 1, c + 1)
        out.append(finding("stray-far-cells", sheet=name, cell=far, sheet_name=name, far=far,
                           count=len(scan.far), max_rows=MAX_ROWS, max_cols=MAX_COLS))
    return out
