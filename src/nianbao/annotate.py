"""The marked-up copy sent back to an agency: its own workbook, with every finding on its cell.

:func:`annotate` copies the workbook the agency returned (the input file is only
read) and, for each finding that names a cell, fills that cell red (error) or
amber (warning) and attaches a Chinese comment with the message and how to fix
it; a first sheet 问题清单 lists every finding with a link to its cell.  The
wording comes from the findings (and so from the catalogue, :mod:`nianbao.kinds`).
Opened in Excel, WPS or LibreOffice it shows the same; read by nianbao it gives
the same values.  ``check --annotate`` and ``status`` write these copies as
``{编码}_{单位}_批注.xlsx``.  The copy leaves the office, so the register sheets'
申请人 and 申请内容摘要 columns are emptied in it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import threading
import xml.etree.ElementTree as ET
import zipfile
from collections import defaultdict
from collections.abc import Callable, Generator, Iterable
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.merge import MergedCellRange
from openpyxl.worksheet.worksheet import Worksheet

from nianbao import __version__, markup
from nianbao.atomic import clean_leftovers, flush_files, write_bytes, write_text
from nianbao.layout import a1
from nianbao.model import FileReport, Finding, Severity
from nianbao.naming import safe_filename
from nianbao.package import sheet_parts
from nianbao.register import HEADER_ROWS, registers
from nianbao.register_form import erase_private, private_columns
from nianbao.status import Board

LIST_SHEET = "问题清单"
LIST_HEADERS = ("序号", "级别", "位置", "问题", "怎样修改", "代码")
LIST_WIDTHS = (6, 6, 22, 70, 36, 20)
SUFFIX = "_批注.xlsx"
AUTHOR = "nianbao 校验"
_RED, _AMBER, _BLUE, _GREY = "FF7C80", "FFC000", "0563C1", "808080"
_COLOURS = markup.Colours(error=_RED, warning=_AMBER, link=_BLUE, border=_GREY, font="宋体", size=10)
ERROR_FILL = PatternFill("solid", start_color=_RED, end_color=_RED)
WARNING_FILL = PatternFill("solid", start_color=_AMBER, end_color=_AMBER)
_THIN = Side(style="thin", color=_GREY)
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_FONT = Font(name="宋体", size=10)
_LINK = Font(name="宋体", size=10, color=_BLUE, underline="single")
_WRAP = Alignment(vertical="top", wrap_text=True)


def annotated_name(code: str, agency: str) -> str:
    """``{编码}_{单位}_批注.xlsx``, safe on every file system."""
    stem = "_".join(part for part in (code.strip(), agency.strip()) if part) or "未命名单位"
    return safe_filename(stem + SUFFIX.removesuffix(".xlsx"), ".xlsx")


def annotate(report: FileReport, out_path: Path, *, data: bytes | None = None,
             sync: bool = True) -> Path | None:
    """Write the marked-up copy of ``report.file`` to ``out_path``.

    ``data``: the file's bytes if already read.  Returns None when there is
    nothing to mark (no findings) or the file cannot be opened as a workbook
    (its findings already say why); never raises for the file's content.
    ``sync=False``: not flushed to the disk (the caller flushes a batch at once).
    """
    if not report.findings:
        return None
    try:
        raw = data if data is not None else report.file.read_bytes()
        content = marked_copy(raw, report)
    except (OSError, InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError,
            EOFError, ET.ParseError, IndexError):
        return None
    write_bytes(out_path, content, sync=sync)
    return out_path


def marked_copy(raw: bytes, report: FileReport) -> bytes:
    """The marked-up copy of the workbook ``raw`` as a new file's bytes.

    Made by editing the package's own XML (:mod:`nianbao.markup`); a package that
    edit does not handle is loaded and saved by openpyxl instead, with the same
    marks, comments and list.
    """
    try:
        return _edited_copy(raw, report)
    except markup.Unsupported:
        return _openpyxl_copy(raw, report)


def _edited_copy(raw: bytes, report: FileReport) -> bytes:
    book = markup.Book(raw)
    placed = _place(report.findings, book.top_left)
    notes = {}
    for (sheet, cell), found in _by_cell(placed).items():
        text = _note_text(found, book.comment_at(sheet, cell))
        notes[(sheet, cell)] = markup.Note(error=_worst_is_error(found), text=text,
                                           findings=len(found))
    erase = {}
    for sheet in book.sheetnames:
        spans = [markup.Erase(first, cols) for first, cols in
                 private_columns(book.top_rows(sheet, HEADER_ROWS, _HEADER_TEXTS))]
        if spans:
            erase[sheet] = spans
    styles = markup._Styles(book.parts["xl/styles.xml"])
    fills = tuple(styles.add("fills", '<fill><patternFill patternType="solid">'
                                      f'<fgColor rgb="FF{rgb}"/><bgColor rgb="FF{rgb}"/>'
                                      "</patternFill></fill>") for rgb in (_RED, _AMBER))
    book.mark(notes, (fills[0], fills[1]), styles, AUTHOR, erase)
    listed = markup.list_sheet(_list_title(report), LIST_HEADERS, _list_rows(report, placed),
                               LIST_WIDTHS, styles, (fills[0], fills[1]), _COLOURS)
    book.add_sheet_first(LIST_SHEET, listed)
    book.parts["xl/styles.xml"] = styles.dumps()
    return book.dumps()


# a register's header row names at least its required columns: rows with fewer texts are
# not decoded when looking for one
_HEADER_TEXTS = min(sum(f.required for f in r.fields) for r in registers())


def _openpyxl_copy(raw: bytes, report: FileReport) -> bytes:
    wb, kept = open_for_copy(raw)
    if LIST_SHEET in wb.sheetnames:  # a copy returned as it was sent: its old list goes
        del wb[LIST_SHEET]
    erase_private(wb)  # the copy leaves the office: no applicant names, no content summaries
    marked = mark(wb, report.findings)
    _problem_sheet(wb, report, marked)
    saved = io.BytesIO()
    wb.save(saved)
    return _put_back(saved.getvalue(), kept)


_MERGES = re.compile(rb"<(?:[\w.-]+:)?mergeCells\b[^>]*?(?:/>|>.*?</(?:[\w.-]+:)?mergeCells>)",
                     re.S)
_MERGE_REF = re.compile(rb'<(?:[\w.-]+:)?mergeCell\b[^>]*?\bref="([A-Za-z]{1,3}\d+'
                        rb'(?::[A-Za-z]{1,3}\d+)?)"')


# a sheet's conditional formats and data validations, when written without prefixes (those
# of an extLst are prefixed: they stay); the form's live checks are most of its XML
_FORMATS = re.compile(rb"<conditionalFormatting\b.*?</conditionalFormatting>|"
                      rb"<dataValidations\b[^>]*?(?:/>|>.*?</dataValidations>)", re.S)
_PREFIXED = re.compile(rb"<[\w.-]+:|\s(?!xml:)[\w.-]+:[\w.-]+\s*=")
# what follows them in a worksheet (ECMA-376 CT_Worksheet), as openpyxl writes it
_AFTER_FORMATS = re.compile(rb"<(?:hyperlinks|printOptions|pageMargins|pageSetup|headerFooter|"
                            rb"rowBreaks|colBreaks|customProperties|cellWatches|ignoredErrors|"
                            rb"smartTags|drawing|legacyDrawing|legacyDrawingHF|drawingHF|picture|"
                            rb"oleObjects|controls|webPublishItems|tableParts|extLst)\b|"
                            rb"</worksheet>")


def open_for_copy(raw: bytes) -> tuple[Workbook, dict[str, bytes]]:
    """The workbook as openpyxl loads it, but for its merged ranges, put back as they are,
    and its conditional formats and data validations, kept aside (sheet name -> XML).

    On loading, openpyxl replaces every cell of a merged range and works out its
    borders again from the top-left cell: half the time of a marked-up copy of
    the form.  The file's own cells already carry their borders; here the ranges
    are taken out of the sheets before loading and declared again afterwards, so
    the copy keeps the cells as the agency's program saved them.  The form's live
    checks (conditional formats, validations) are neither read nor written by
    openpyxl: :func:`_put_back` puts the file's own XML into the saved copy.
    """
    source = zipfile.ZipFile(io.BytesIO(raw))
    names = source.namelist()
    if len(set(names)) != len(names):  # two copies of one part: corrupt, never guessed
        raise zipfile.BadZipFile("duplicate part")
    parts = sheet_parts(source)
    merges: dict[str, list[str]] = {}
    formats: dict[str, bytes] = {}
    unmerged = io.BytesIO()
    with zipfile.ZipFile(unmerged, "w", zipfile.ZIP_STORED) as out:
        for info in source.infolist():
            content = source.read(info)
            if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                found = _MERGES.search(content)
                if found:
                    merges[info.filename] = [ref.decode("ascii").upper() for ref in
                                             _MERGE_REF.findall(found.group(0))]
                    content = content[:found.start()] + content[found.end():]
                content = _take_formats(content, info.filename, formats)
            out.writestr(info.filename, content)  # not ``info``: writing changes it
    wb = load_workbook(unmerged, rich_text=True)
    for name, part in parts.items():
        if name in wb.sheetnames and part in merges:
            ws = wb[name]
            for ref in merges[part]:
                ws.merged_cells.add(_KeptRange(ws, ref))
    return wb, {name: formats[part] for name, part in parts.items()
                if part in formats and name in wb.sheetnames}


def _take_formats(content: bytes, part: str, formats: dict[str, bytes]) -> bytes:
    """``content`` without its conditional formats and validations, put in ``formats``;
    unchanged if any is written with a namespace prefix (openpyxl's copy would not
    declare it), the sheet's own elements are prefixed, or they are not well-formed
    (openpyxl then judges the sheet, as for any file: a copy is never made broken)."""
    if b"<worksheet" not in content:
        return content
    found = list(_FORMATS.finditer(content))
    if not found or any(_PREFIXED.search(m.group(0)) for m in found):
        return content
    block = b"".join(m.group(0) for m in found)
    try:
        ET.fromstring(b"<kept>" + block + b"</kept>")
    except ET.ParseError:
        return content
    formats[part] = block
    pieces, at = [], 0
    for match in found:
        pieces.append(content[at:match.start()])
        at = match.end()
    pieces.append(content[at:])
    return b"".join(pieces)


def _put_back(saved: bytes, kept: dict[str, bytes]) -> bytes:
    """The copy openpyxl saved, with each sheet's own formats and validations back in."""
    if not kept:
        return saved
    source = zipfile.ZipFile(io.BytesIO(saved))
    into = {part: kept[name] for name, part in sheet_parts(source).items() if name in kept}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in source.infolist():
            content = source.read(info)
            if info.filename in into:
                end = content.find(b"</sheetData>")
                place = _AFTER_FORMATS.search(content, max(end, 0))
                if place is not None:  # openpyxl always writes at least </worksheet>
                    content = (content[:place.start()] + into[info.filename]
                               + content[place.start():])
            copy.writestr(info, content)
    return out.getvalue()


class _KeptRange(MergedCellRange):  # type: ignore[misc]
    """A merged range declared as the file has it: openpyxl's own gives the top-left cell
    the bottom-right cell's borders, which makes and looks up a new style for each range."""

    def __init__(self, worksheet: Worksheet, coord: str) -> None:
        self.ws = worksheet
        CellRange.__init__(self, range_string=coord)
        self.start_cell = worksheet.cell(row=self.min_row, column=self.min_col)


def mark(wb: Workbook, findings: Iterable[Finding]) -> dict[Finding, str]:
    """Fill and comment each finding's cell; returns the cell each finding was put on."""
    placed = _place(findings, lambda sheet, cell: _top_left(wb, sheet, cell))
    for (sheet, address), found in _by_cell(placed).items():
        target = wb[sheet][address]
        target.fill = ERROR_FILL if _worst_is_error(found) else WARNING_FILL
        old = target.comment
        text = _note_text(found, (old.author, old.text) if old is not None else None)
        comment = Comment(text, AUTHOR)
        comment.width, comment.height = markup.comment_size(text, len(found))
        target.comment = comment
    return placed


def _place(findings: Iterable[Finding], top_left: Callable[[str, str], str | None]
           ) -> dict[Finding, str]:
    """The cell each finding is put on (a merged range's top-left cell); findings on no
    cell of the workbook are left out."""
    placed: dict[Finding, str] = {}
    for finding in findings:
        if finding.sheet and finding.cell:
            cell = top_left(finding.sheet, finding.cell.upper())
            if cell is not None:
                placed[finding] = cell
    return placed


def _by_cell(placed: dict[Finding, str]) -> dict[tuple[str, str], list[Finding]]:
    by_cell: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for finding, cell in placed.items():
        by_cell[(finding.sheet or "", cell)].append(finding)
    return by_cell


def _worst_is_error(found: Iterable[Finding]) -> bool:
    return any(f.severity is Severity.ERROR for f in found)


def _note_text(found: Iterable[Finding], original: tuple[str, str] | None) -> str:
    """The comment on a cell: its findings, then the comment it had (not one of ours)."""
    text = "\n\n".join(_comment_text(f) for f in found)
    if original is not None and original[0] != AUTHOR:
        text = f"{text}\n\n（原批注）{original[1]}"
    return text


def _top_left(wb: Workbook, sheet: str, address: str) -> str | None:
    """The cell that shows ``address``: the top-left cell of a merged range covering it."""
    if sheet not in wb.sheetnames:
        return None
    ws = wb[sheet]
    try:
        for merged in ws.merged_cells.ranges:
            if address in merged:
                return str(merged.start_cell.coordinate)
        ws[address]  # noqa: B018 - raises for an address that is not a cell
    except (ValueError, IndexError, KeyError):
        return None
    return address


def _comment_text(finding: Finding) -> str:
    text = f"【{finding.severity.zh}】{finding.message}"
    return text + (f"\n修改：{finding.hint}" if finding.hint else "")


def _list_title(report: FileReport) -> str:
    errors, warnings = len(report.errors), len(report.warnings)
    return (f"本表共有 {errors} 处错误、{warnings} 处提示。红色单元格为错误，须修改；橙色为提示，"
            "请核实。把鼠标移到单元格上可看到批注；点击“位置”可跳转。")


def _list_rows(report: FileReport, placed: dict[Finding, str]) -> list[markup.ListRow]:
    rows = []
    for i, finding in enumerate(report.findings, 1):
        cell = placed.get(finding)
        where = f"{finding.sheet}!{cell}" if cell else (finding.sheet or "整个文件")
        link = f"'{(finding.sheet or '').replace(chr(39), chr(39) * 2)}'!{cell}" if cell else None
        lines = max(-(-len(finding.message) // 34), -(-len(finding.hint) // 17), 1)
        rows.append(markup.ListRow(
            (i, finding.severity.zh, where, finding.message, finding.hint, finding.code),
            link, finding.severity is Severity.ERROR,
            14 * lines + 4))  # wrapped text: no client sizes it on open
    return rows


def _problem_sheet(wb: Workbook, report: FileReport, placed: dict[Finding, str]) -> None:
    ws = wb.create_sheet(LIST_SHEET, index=0)
    ws.append([_list_title(report)])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(LIST_HEADERS))
    ws.row_dimensions[1].height = 32
    ws.append(list(LIST_HEADERS))
    for item in _list_rows(report, placed):
        ws.append(list(item.cells))
        row = ws.max_row
        if item.link:
            link = ws.cell(row=row, column=3)
            link.hyperlink = Hyperlink(ref=link.coordinate, location=item.link,
                                       display=str(item.cells[2]))
            link.font = _LINK
        ws.cell(row=row, column=2).fill = ERROR_FILL if item.error else WARNING_FILL
        ws.row_dimensions[row].height = item.height
    for row in ws.iter_rows(min_row=2):
        for c in row:
            c.border, c.alignment = _BORDER, _WRAP
            if c.font != _LINK:
                c.font = _FONT
    ws.cell(row=1, column=1).alignment = _WRAP
    for letter, width in zip("ABCDEF", LIST_WIDTHS, strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = a1(3, 1)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    wb.active = 0
    for other in wb.worksheets[1:]:
        other.sheet_view.tabSelected = False


def annotate_all(reports: Iterable[FileReport], out_dir: Path) -> list[Path]:
    """A marked-up copy of every report with findings, named by its unit; returns the files."""
    written: list[Path] = []
    for report in reports:
        sub = report.submission
        code = (sub.code if sub else "") or report.form_code
        agency = (sub.agency if sub else "") or report.file.stem
        path = annotate(report, out_dir / annotated_name(code, agency))
        if path is not None:
            written.append(path)
    return written


ANNOTATED_MANIFEST = ".nianbao-annotated.json"  # name -> what its copy was made from
PARALLEL_FROM = 16  # fewer copies are made in this process


def _made_from(report: FileReport) -> str | None:
    """What a marked-up copy depends on: the file as it is on disk and the findings.

    None (always remake) for a file that cannot be looked at, e.g. inside a .zip.
    """
    try:
        st = report.file.stat()
    except OSError:
        return None
    digest = hashlib.sha256(f"{__version__}|{st.st_size}|{st.st_mtime_ns}".encode())
    digest.update(repr(report.findings).encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def _annotate_job(job: tuple[FileReport, Path, str | None]) -> Path | None:
    report, path, _ = job
    return annotate(report, path, sync=False)  # annotate_board flushes them all at once


def annotate_board(board: Board, folder: Path, *, jobs: int | None = None,
                   stop: threading.Event | None = None) -> list[Path]:
    """Beside each unit's feedback text: its marked-up copy, or none when nothing to mark.

    A copy made from the same file and the same findings by an earlier run is
    kept (a record in the folder says what each copy was made from); the rest
    are made in ``jobs`` worker processes when there are many.  When ``stop`` is
    set (the run is being stopped) the workers are stopped and the record left as
    it was: each copy is whole (written under a temporary name), and the ones this
    run made unrecorded are made again next time.
    """
    from nianbao.pool import run_jobs

    record_path = folder / ANNOTATED_MANIFEST
    try:
        before = json.loads(record_path.read_text(encoding="utf-8"))
        before = before if isinstance(before, dict) else {}
    except (OSError, ValueError):
        before = {}
    record: dict[str, str] = {}
    written: list[Path] = []
    made: list[Path] = []  # this time (not flushed yet)
    todo: list[tuple[FileReport, Path, str | None]] = []  # with what the copy is made from
    for status in board.units:
        path = folder / annotated_name(status.unit.code, status.unit.name)
        report = status.report
        if report is None or not report.findings:
            path.unlink(missing_ok=True)  # fixed since the last run: no stale copy
            continue
        key = _made_from(report)
        if key is not None and before.get(path.name) == key and path.is_file():
            record[path.name] = key
            written.append(path)
        else:
            todo.append((report, path, key))
    workers = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
    if workers == 1 or len(todo) < PARALLEL_FROM:
        done: Generator[tuple[tuple[FileReport, Path, str | None], Path | None], None, None] = (
            (job, _annotate_job(job)) for job in todo)
    else:
        done = run_jobs(_annotate_job, todo, workers=workers,
                        chunk=max(1, min(8, len(todo) // (workers * 8) or 1)))
    try:
        for (_, path, key), out in done:
            if stop is not None and stop.is_set():
                done.close()  # the pool's workers are stopped (nianbao.pool.run_jobs)
                clean_leftovers(folder)  # the copies the stopped workers were writing
                return written
            if out is None:
                path.unlink(missing_ok=True)
                continue
            written.append(out)
            made.append(out)
            if key is not None:
                record[path.name] = key
    except BaseException:  # the pool was stopped by an error: nothing half-written is left
        done.close()
        clean_leftovers(folder)
        raise
    if made:  # the copies on the disk before the record says they are made
        flush_files(made)
    if record or before:
        try:
            write_text(record_path, json.dumps(record, ensure_ascii=False, indent=0) + "\n")
        except OSError:
            pass  # only a record: the copies are remade next time
    return written
