"""How a worksheet prints: A4, fit to the page's width, repeated header rows, a title.

Used by the intake form (:func:`fit_to_width` alone) and by the coordinator's
tables: :func:`print_table` styles a sheet already filled (the 汇总 workbook's unit
sheet); :class:`TableSheet` styles each row as it is appended, so that a table of
50,000 units streams through a write-only workbook in constant memory (status.xlsx,
the indicator sheets).  Both draw borders, wrap text and put the title and page
numbers in the page header and footer, so every printed page says what it is.

On a write-only sheet the rows of a :class:`TableSheet` go to the sheet's XML as
text (:func:`_row_stream`): openpyxl builds a cell object and an XML element for
every value, some 15 µs a cell, which for the tables of 50,000 units was most of
the time status.xlsx and the 汇总 workbook took.  A row holding anything but
numbers, booleans and plain text goes through openpyxl as before.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import unicodedata
from collections.abc import Generator, Mapping, Sequence
from typing import NamedTuple

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.compat import safe_string
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.styles.numbers import is_date_format
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.xml.functions import fromstring

_THIN = Side(style="thin", color="000000")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
WRAP = Alignment(vertical="top", wrap_text=True)
PAGE_FOOTER = "第 &P 页，共 &N 页"
LINE_POINTS = 14.5  # one line of 11 pt text


SHEET_ROWS = 1_048_576  # the last row of a sheet in Excel, WPS and LibreOffice


def rows_left_out(total: int, shown: int, where: str) -> list[str]:
    """The row that ends a sheet cut at :data:`SHEET_ROWS`: how many rows it could not hold."""
    return [f"……其余 {total - shown} 行超出了电子表格的行数上限（{SHEET_ROWS} 行），未列出；"
            f"全部内容见{where}。"]


def text_width(text: str) -> float:
    """Width in column units: a CJK (wide or full-width) character counts two, others 0.9."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 0.9 for ch in text)


def lines_needed(text: str, width: float) -> int:
    """Lines ``text`` takes wrapped in a column ``width`` units wide (a slight overestimate)."""
    usable = max(1.0, width - 0.5)
    return sum(max(1, math.ceil(text_width(part) / usable)) for part in text.split("\n"))


def fit_to_width(ws: Worksheet | WriteOnlyWorksheet, *, landscape: bool,
                 title_rows: str) -> None:
    """A4, as many pages down as needed but one page across; ``title_rows`` repeat.

    On a write-only sheet, :func:`fit_to_width_before_rows` must come before its first row.
    """
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    fit_to_width_before_rows(ws)
    ws.print_title_rows = title_rows


def fit_to_width_before_rows(ws: Worksheet | WriteOnlyWorksheet) -> None:
    """The part of :func:`fit_to_width` a write-only sheet writes with its first row."""
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def box(ws: Worksheet, first_row: int, last_row: int, columns: int, *,
        wrap_from: int | None = None) -> None:
    """Borders on the non-empty rows of a block; text from ``wrap_from`` on wraps, and each
    row is made tall enough for it (no spreadsheet measures wrapped text on opening)."""
    start_wrap = first_row if wrap_from is None else wrap_from
    widths = [ws.column_dimensions[get_column_letter(i)].width or 8.43
              for i in range(1, columns + 1)]
    for row in ws.iter_rows(min_row=first_row, max_row=last_row, max_col=columns):
        if all(c.value is None or c.value == "" for c in row):
            continue
        lines = 1
        for cell, width in zip(row, widths, strict=True):
            cell.border = BORDER
            if cell.row >= start_wrap:
                cell.alignment = Alignment(horizontal=cell.alignment.horizontal,
                                           vertical="top", wrap_text=True)
                if isinstance(cell.value, str) and not cell.value.startswith("="):
                    lines = max(lines, lines_needed(cell.value, width))
        if lines > 1:
            ws.row_dimensions[row[0].row].height = min(409.0, LINE_POINTS * lines + 3)


def print_table(ws: Worksheet, *, title: str, header_row: int, first_row: int = 1,
                last_row: int | None = None, columns: int | None = None,
                wrap_from: int | None = None) -> None:
    """Print ``ws`` as a bordered table on A4 landscape, one page wide.

    Rows ``first_row``..``last_row`` (default: to the last one; every row prints)
    and the first ``columns`` columns get borders; empty rows are left without (they separate
    blocks).  Cells from ``wrap_from`` (default: the row after ``header_row``)
    wrap their text at the top of the cell.  Rows ``header_row`` and above
    repeat on every page; ``title`` is the page header, page numbers the footer.
    """
    last_row = ws.max_row if last_row is None else last_row
    columns = ws.max_column if columns is None else columns
    box(ws, first_row, last_row, columns, wrap_from=header_row + 1 if wrap_from is None
        else wrap_from)
    fit_to_width(ws, landscape=True, title_rows=f"1:{header_row}")
    _print_page(ws, title, columns, ws.max_row)


def _print_page(ws: Worksheet | WriteOnlyWorksheet, title: str, columns: int,
                rows: int) -> None:
    """Margins, the title and page numbers; the print area is ``columns`` wide (0: none set)."""
    if columns:
        ws.print_area = f"A1:{get_column_letter(columns)}{max(rows, 1)}"
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.page_margins.header = ws.page_margins.footer = 0.25
    ws.print_options.horizontalCentered = True
    ws.oddHeader.center.text = title
    ws.oddHeader.center.size = 12
    ws.oddHeader.center.font = "黑体,Regular"
    ws.oddFooter.center.text = PAGE_FOOTER
    ws.oddFooter.center.size = 9


@functools.cache
def _wrap(horizontal: str) -> Alignment:
    return Alignment(horizontal=horizontal, vertical="top", wrap_text=True)


HEAD_FONT = Font(bold=True)
HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
HEAD_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)


_NOT_STARTED = object()  # a TableSheet's stream before its first row


class _Styled(tuple[tuple[object, int], ...]):
    """A row for :func:`_row_stream`: ``(value, style id)`` pairs, all of them plain."""

    __slots__ = ()


def plain_value(value: object) -> bool:
    """Whether openpyxl writes ``value`` as a plain number, boolean or text (not a formula,
    an error code, a date, a text it would cut or refuse)."""
    if value is None or type(value) in (int, float, bool):
        return True
    return (type(value) is str and len(value) <= 32_767
            and not (len(value) > 1 and value[0] == "=") and value not in ERROR_CODES
            and ILLEGAL_CHARACTERS_RE.search(value) is None)


def _naive_datetime(value: object) -> bool:
    return type(value) is dt.datetime and value.tzinfo is None


def _text(value: str) -> str:
    """Text as lxml escapes it in an element."""
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\r", "&#13;"))


def _cell_xml(ref: str, value: object, style: int, epoch: dt.datetime) -> str:
    """One plain cell (:func:`plain_value`, or a date in a date format) as openpyxl writes it."""
    s = f' s="{style}"' if style else ""
    if isinstance(value, dt.datetime):  # a serial number, as openpyxl (not its ISO dates)
        return f'<c r="{ref}"{s} t="n"><v>{safe_string(to_excel(value, epoch))}</v></c>'
    if value is None:
        return f'<c r="{ref}"{s} t="n"/>' if style else ""
    if type(value) is str:
        if not value:
            return f'<c r="{ref}"{s} t="inlineStr"/>'
        space = ' xml:space="preserve"' if value != value.strip() else ""
        return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{_text(value)}</t></is></c>'
    kind = "b" if type(value) is bool else "n"
    return f'<c r="{ref}"{s} t="{kind}"><v>{safe_string(value)}</v></c>'


@functools.cache
def _letters(col: int) -> str:
    return str(get_column_letter(col))


def _row_stream(ws: WriteOnlyWorksheet) -> Generator[None, object, None]:
    """The rows of a write-only sheet, as openpyxl's own stream writes them, but a
    :class:`_Styled` row is written from text (one parse of the row) rather than a cell
    object and an element per value.  Anything else appended goes through openpyxl."""
    writer = ws._writer  # noqa: SLF001 - openpyxl's stream of the sheet (pinned <3.2)
    epoch = ws.parent.epoch
    xf = writer.xf.send(True)
    with xf.element("sheetData"):
        row_idx = 1
        try:
            while True:
                row = yield
                if isinstance(row, _Styled):
                    attrs = "".join(f' {k}="{v}"'
                                    for k, v in ws.row_dimensions.get(row_idx, {}))
                    cells = "".join(_cell_xml(f"{_letters(col)}{row_idx}", value, style, epoch)
                                    for col, (value, style) in enumerate(row, 1))
                    xf.write(fromstring(f'<row r="{row_idx}"{attrs}>{cells}</row>'))
                else:
                    writer.write_row(xf, ws._values_to_row(row, row_idx), row_idx)  # noqa: SLF001
                row_idx += 1
        except GeneratorExit:
            pass
    writer.xf.send(None)


class _Style(NamedTuple):
    """A cell style a table uses: openpyxl's array of it, its id in the workbook (0: none),
    and the style objects themselves (kept alive: the cache is keyed by their ids)."""

    array: StyleArray
    id: int
    objects: tuple[object, ...]
    date: bool  # its number format shows a date


def _styled_cell(ws: Worksheet | WriteOnlyWorksheet, value: object, style: _Style) -> Cell:
    cell = WriteOnlyCell(ws, value)
    cell._style = StyleArray(style.array)  # noqa: SLF001 - a copy: openpyxl may change it
    return cell


class TableSheet:
    """A printable table written row by row, each row styled as it is appended.

    Works on a write-only worksheet (the rows go to disk as they come: a season of
    50,000 units in constant memory) and on an ordinary one alike.  What a
    write-only sheet writes before its first row (column widths, frozen panes,
    fit to page) is set here, in the constructor; the page header, print area and
    filter in :meth:`close`.  ``widths`` gives the table's columns; rows from the
    header on are boxed, text wraps at the top of the cell, and each row is made
    tall enough for its wrapped text (no spreadsheet measures it on opening).
    """

    def __init__(self, ws: Worksheet | WriteOnlyWorksheet, widths: Sequence[float], *,
                 freeze: str | None = "A2", landscape: bool = True) -> None:
        self.ws = ws
        self.widths = tuple(widths)
        self.rows = 0  # rows appended so far
        self.header_row = 0
        self.boxed_to = 0  # the last row of the table (its borders)
        self.landscape = landscape
        self._styles: dict[tuple[object, ...], _Style] = {}
        # rows as text down the sheet's XML stream (a write-only sheet not yet begun)
        self._stream: object = (
            _NOT_STARTED if isinstance(ws, WriteOnlyWorksheet) and ws._rows is None  # noqa: SLF001
            else None)
        for i, width in enumerate(self.widths, 1):
            ws.column_dimensions[get_column_letter(i)].width = width
        if freeze:
            ws.freeze_panes = freeze
        fit_to_width_before_rows(ws)

    def _style(self, *, font: Font | None = None, fill: PatternFill | None = None,
               alignment: Alignment | None = None, border: bool = False,
               number_format: str | None = None) -> _Style:
        # by identity: hashing a style object walks all its parts (a million cells a sheet);
        # the cache holds the objects, so an id is never reused while it is a key
        key = (id(font), id(fill), id(alignment), border, number_format)
        cached = self._styles.get(key)
        if cached is None:  # registering a style is slow; a table has a handful of them
            cell = WriteOnlyCell(self.ws)
            if font is not None:
                cell.font = font
            if fill is not None:
                cell.fill = fill
            if alignment is not None:
                cell.alignment = alignment
            if border:
                cell.border = BORDER
            if number_format is not None:
                cell.number_format = number_format
            cached = self._styles[key] = _Style(StyleArray(cell._style),
                                                cell.style_id if cell.has_style else 0,
                                                (font, fill, alignment),
                                                is_date_format(cell.number_format))
        return cached

    def _emit(self, values: Sequence[object], styles: Sequence[_Style | None]) -> None:
        """Append a row: ``values`` with their styles (None: unstyled), as text down the
        sheet's stream when it can be (:func:`_row_stream`), through openpyxl otherwise."""
        if self._stream is not None and all(
                plain_value(v) or (st is not None and st.date and _naive_datetime(v))
                for v, st in zip(values, styles, strict=True)):
            rows = self.ws._rows  # noqa: SLF001 - None until the first row
            if rows is None:
                self.ws._get_writer()  # noqa: SLF001 - what ``append`` does first
                rows = self.ws._rows = self._stream = _row_stream(self.ws)  # noqa: SLF001
                next(rows)
            if rows is self._stream:
                assert isinstance(rows, Generator)
                rows.send(_Styled((v, st.id if st else 0) for v, st in zip(values, styles,
                                                                          strict=True)))
                return
            self._stream = None  # someone else started the sheet's rows: openpyxl's way
        self.ws.append([v if st is None else _styled_cell(self.ws, v, st)
                        for v, st in zip(values, styles, strict=True)])

    def line(self, values: Sequence[object] = (), *, font: Font | None = None) -> None:
        """A row outside the table (a title above it, a note below): no borders."""
        self.rows += 1
        style = self._style(font=font) if font is not None else None
        self._emit(values, [style if v not in (None, "") else None for v in values])

    def head(self, values: Sequence[object], *, columns: int | None = None,
             font: Font = HEAD_FONT) -> None:
        """A header row: bold on blue, centred; the first one repeats on every printed page."""
        self.rows += 1
        self.header_row = self.header_row or self.rows
        self.boxed_to = self.rows
        lines = max((lines_needed(v, w) for v, w in zip(values, self.widths, strict=False)
                     if isinstance(v, str)), default=1)
        if lines > 1:  # no spreadsheet program grows a row for wrapped text on opening
            self.ws.row_dimensions[self.rows].height = min(409.0, LINE_POINTS * lines + 3)
        padded = self._padded(values, columns or len(self.widths))
        style = self._style(font=font, fill=HEAD_FILL, alignment=HEAD_ALIGN, border=True)
        self._emit(padded, [style] * len(padded))

    def row(self, values: Sequence[object], *, fills: Mapping[int, PatternFill] | None = None,
            formats: Mapping[int, str] | None = None, font: Font | None = None,
            align: Mapping[int, str] | None = None, columns: int | None = None) -> None:
        """One boxed row; ``fills``, ``formats`` and ``align`` (horizontal) by 1-based column;
        ``columns``: box only the first so many (a narrower table below the first)."""
        self.rows += 1
        self.boxed_to = self.rows
        lines = 1
        styles = []
        widths = self.widths[:columns] if columns else self.widths
        padded = self._padded(values, len(widths))
        widths += (8.43,) * (len(padded) - len(widths))  # a row wider than the table
        for col, (value, width) in enumerate(zip(padded, widths, strict=True), 1):
            if isinstance(value, str) and value and not value.startswith("="):
                lines = max(lines, lines_needed(value, width))
            horizontal = align.get(col) if align else None
            styles.append(self._style(
                font=font, fill=fills.get(col) if fills else None,
                alignment=_wrap(horizontal) if horizontal else WRAP,
                border=True, number_format=formats.get(col) if formats else None))
        if lines > 1:
            self.ws.row_dimensions[self.rows].height = min(409.0, LINE_POINTS * lines + 3)
        self._emit(padded, styles)

    def plain(self, values: Sequence[object], *, fills: Mapping[int, PatternFill] | None = None,
              formats: Mapping[int, str] | None = None, font: Font | None = None) -> None:
        """One row of a long data table: no borders or wrapping (a million rows print as
        data, not as a form); ``fills`` and ``formats`` by 1-based column."""
        self.rows += 1
        self._emit(values, [
            self._style(font=font, fill=fills.get(col) if fills else None,
                        number_format=formats.get(col) if formats else None)
            if (fills and col in fills) or (formats and col in formats) or font is not None
            else None for col in range(1, len(values) + 1)])

    @staticmethod
    def _padded(values: Sequence[object], columns: int) -> list[object]:
        """``values`` filled up with blanks to ``columns`` (boxed too); longer rows as given."""
        return [*values, *([None] * (columns - len(values)))]

    def close(self, title: str, *, auto_filter: bool = True, area: bool = True) -> None:
        """Print setup: A4, one page wide, the header repeated, ``title`` at the top of each
        page and page numbers at the bottom; an auto filter over the table.  ``area``:
        print only the table's columns (not when a chart lies beside them)."""
        fit_to_width(self.ws, landscape=self.landscape,
                     title_rows=f"1:{self.header_row or 1}")
        _print_page(self.ws, title, len(self.widths) if area else 0, self.rows)
        if auto_filter and self.header_row:
            self.ws.auto_filter.ref = (f"A{self.header_row}:"
                                       f"{get_column_letter(len(self.widths))}"
                                       f"{max(self.boxed_to, self.header_row)}")
