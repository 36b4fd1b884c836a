"""Read and check workbooks: the one entry point the commands use."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from nianbao import sources
from nianbao.atomic import describe_os_error
from nianbao.checkcache import CheckCache
from nianbao.kinds import apply_switches, finding
from nianbao.model import FileReport, Finding, Severity, Submission
from nianbao.packed import from_wire, to_wire
from nianbao.reader import read_workbook
from nianbao.rules import Where, validate
from nianbao.safetext import clean
from nianbao.schema import DEFAULT_FORMAT, FormatSpec
from nianbao.settings import DEFAULT_SETTINGS, Settings
from nianbao.textchecks import section_sketches

# Files the reader opens (calamine reads .xls and .ods as well as .xlsx).
WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xltx", ".xltm", ".xls", ".ods"})
# WPS and old formats: opened far enough to say exactly what to do.
EXPLAINED_SUFFIXES = frozenset({".et", ".ett"})
_NOT_A_WORKBOOK = {
    (".pdf",): "这是 PDF 文件，无法从中读取数据",
    (".doc", ".docx", ".wps", ".rtf"): "这是 Word 文档（如报送函），不是填报表",
    (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".heic", ".webp"):
        "这是图片（扫描件或截图），无法从中读取数据",
    (".rar", ".7z", ".tar", ".gz", ".bz2", ".xz"): "这是 .zip 以外的压缩包，nianbao 只能打开 .zip",
    (".csv", ".txt"): "这是文本（CSV）文件，不是下发的填报表",
    (".numbers",): "这是 Numbers 表格，无法读取",
}


def collect(paths: Iterable[Path], settings: Settings = DEFAULT_SETTINGS) -> list[Path]:
    """Files to check: files as given, folders scanned (recursively) for every file.

    Every file is returned, so that each one is read or listed with why not;
    the files inside a .zip are returned as virtual paths (``a.zip/b.xlsx``,
    see :mod:`nianbao.sources`).  Office lock files (``~$name.xlsx``) and
    hidden files (``.DS_Store``) are not files anybody sent and are skipped.
    """
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file()
                           and not any(part.startswith(("~$", "."))
                                       for part in p.relative_to(path).parts))
        else:
            found = [path]
        for file in found:
            out += _expand(file, settings)
    return list(dict.fromkeys(out))


def _expand(path: Path, settings: Settings) -> list[Path]:
    if path.suffix.lower() not in sources.ZIP_SUFFIXES:
        return [path]
    try:
        return sources.list_zip(path, settings) or [path]
    except (sources.ZipProblem, OSError):
        return [path]  # listed; check_file says why


def newest_first(path: Path) -> tuple[float, str]:
    """Sort key: the newest file first; for equal times, by path, so every command agrees."""
    return (-sources.mtime(path), str(path))


def _not_read(path: Path, settings: Settings) -> Finding | None:
    """Why a file that is not a workbook is not read (None: read it)."""
    suffix = path.suffix.lower()
    if suffix in sources.ZIP_SUFFIXES and not sources.is_member(path):
        try:
            sources.list_zip(path, settings)
            why = "压缩包中没有文件。"
        except sources.ZipProblem as exc:
            why = str(exc)
        except OSError as exc:
            why = f"无法打开文件：{describe_os_error(exc)}。"
        return finding("file-unreadable:zip", reason=why)
    if suffix in WORKBOOK_SUFFIXES or suffix in EXPLAINED_SUFFIXES or not suffix:
        return None
    what = next((text for suffixes, text in _NOT_A_WORKBOOK.items() if suffix in suffixes),
                f"这是“{clean(suffix, 20)}”文件，不是 Excel 填报表")
    return finding("file-not-workbook", what=what)


def check_file(path: Path, settings: Settings = DEFAULT_SETTINGS,
               spec: FormatSpec = DEFAULT_FORMAT, *, data: bytes | None = None) -> FileReport:
    """Read and check one workbook (``data``: its bytes, if already read).

    Never raises for anything in the file.
    """
    why = _not_read(path, settings)
    if why is not None:
        return FileReport(file=path, submission=None, findings=(why,))
    try:
        if data is None and sources.is_member(path):
            data = sources.read_bytes(path, settings)
        result = read_workbook(path, settings, spec, data=data)
    except sources.ZipProblem as exc:
        return FileReport(file=path, submission=None,
                          findings=(finding("file-unreadable:zip", reason=str(exc)),))
    except Exception as exc:  # noqa: BLE001 - last line of defence: one bad file, one finding
        return FileReport(file=path, submission=None, findings=(
            finding("file-unreadable:crash", error=type(exc).__name__),))
    findings = list(result.findings)
    if result.submission is not None and _is_blank_return(result.submission, findings):
        findings = [f for f in findings if f.code not in ("form-blank", "blank-as-zero")]
        findings.insert(0, finding("form-blank:return"))
        return FileReport(file=path, submission=result.submission, findings=tuple(findings),
                          form_code=result.meta.get("agency_code", ""),
                          form_version=result.meta.get("form_version", ""),
                          positions=result.positions)
    if result.submission is not None:
        where = Where(cells=result.positions, info=result.info_positions)
        findings += validate(result.submission, where, settings=settings, spec=spec,
                             year_text=result.meta.get("year_text", ""))
    findings = list(sort_findings(apply_switches(findings, settings)))
    return FileReport(file=path, submission=result.submission, findings=tuple(findings),
                      form_code=result.meta.get("agency_code", ""),
                      form_version=result.meta.get("form_version", ""),
                      positions=result.positions)


PARALLEL_FROM = 64  # fewer files are read in this process: starting workers costs more
_WORKER: dict[str, Settings] = {}


def _worker_setup(settings: Settings) -> None:
    _WORKER["settings"] = settings


def _check_job(path: Path) -> bytes:
    """:func:`check_file` in a worker, with the narrative's 雷同 sketches made there too, as
    bytes (:func:`~nianbao.packed.to_wire`): the main process makes the packed report from
    them, not from the thousands of objects of the report itself."""
    settings = _WORKER.get("settings", DEFAULT_SETTINGS)
    report = check_file(path, settings)
    if report.submission is not None:
        report = dataclasses.replace(report, sketches=section_sketches(
            report.submission.narrative, settings))
    return to_wire(report)


def check_files(paths: Sequence[Path], settings: Settings = DEFAULT_SETTINGS, *,
                jobs: int | None = None, keep: Callable[[FileReport], FileReport] | None = None,
                progress: Callable[[int, int], None] | None = None,
                stall_seconds: float | None = None,
                parallel_from: int = PARALLEL_FROM,
                cache: CheckCache | None = None) -> list[FileReport]:
    """:func:`check_file` for every path, in the order given.

    A large batch is read in ``jobs`` worker processes (default: one per core);
    ``keep`` turns each report into what the caller keeps (e.g.
    :func:`nianbao.packed.pack_report`) as it arrives, so that a batch of any size
    never holds more than one full report at a time.  A file whose worker makes
    no progress for ``stall_seconds`` is a ``file-unreadable:stalled`` finding.
    Ctrl+C and SIGTERM stop the workers (:mod:`nianbao.pool`).  With a ``cache``
    (:mod:`nianbao.checkcache`), a file unchanged since a run that kept its report is
    not read again, and the reports made now are kept.
    """
    from nianbao.pool import STALL_SECONDS, run_jobs

    keep = keep or (lambda report: report)
    total = len(paths)
    out: list[FileReport | None] = [None] * total
    done = 0
    todo: list[Path] = []
    for i, path in enumerate(paths):
        kept = cache.get(path) if cache is not None else None
        if kept is None:
            todo.append(path)
            continue
        out[i] = keep(kept)
        done += 1
        if progress:
            progress(done, total)

    def arrived(path: Path, report: FileReport, wire: bytes | None = None) -> FileReport:
        if cache is not None:
            cache.put(path, report, wire)
        return keep(report)

    workers = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
    place = {id(path): i for i, path in enumerate(paths)}
    if workers == 1 or len(todo) < parallel_from:
        for path in todo:
            out[place[id(path)]] = arrived(path, check_file(path, settings))
            done += 1
            if progress:
                progress(done, total)
        return [r for r in out if r is not None]
    stall = STALL_SECONDS if stall_seconds is None else stall_seconds
    chunk = max(1, min(32, len(todo) // (workers * 8) or 1))
    for path, wire in run_jobs(_check_job, todo, workers=workers, setup=_worker_setup,
                               setup_args=(settings,), chunk=chunk, stall_seconds=stall):
        if wire is None:
            report = FileReport(file=path, submission=None, findings=(
                finding("file-unreadable:stalled", seconds=round(stall)),))
        else:
            try:
                report = from_wire(wire)
            except ValueError:  # never from a sound worker: the file is tried again next time
                report = FileReport(file=path, submission=None, findings=(
                    finding("file-unreadable:crash", error="ValueError"),))
                wire = None
        out[place[id(path)]] = arrived(path, report, wire)
        done += 1
        if progress:
            progress(done, total)
    return [r for r in out if r is not None]


def _is_blank_return(sub: Submission, findings: list[Finding]) -> bool:
    """No number typed (the reader's ``form-blank`` note) and no narrative text: a 空表.

    Typed zeros are numbers, so a report of real zeros is never blank.
    """
    return (any(f.code == "form-blank" for f in findings)
            and not any(text.strip() for texts in sub.narrative.values() for text in texts))


def is_blank(report: FileReport) -> bool:
    """Whether the file is a blank return (空表): an error, and no report is made from it."""
    return any(f.code == "form-blank" and f.severity is Severity.ERROR for f in report.findings)


def sort_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Errors first, then by sheet and cell (row, then column)."""
    def order(finding: Finding) -> tuple[bool, str, int, str]:
        cell = finding.cell or ""
        letters = cell.rstrip("0123456789")
        digits = cell[len(letters):]
        return (finding.severity is not Severity.ERROR, finding.sheet or "",
                int(digits) if digits else 0, letters)

    return tuple(sorted(findings, key=order))


def check_paths(paths: Iterable[Path], settings: Settings = DEFAULT_SETTINGS,
                spec: FormatSpec = DEFAULT_FORMAT) -> list[FileReport]:
    return list(iter_check(collect(paths, settings), settings, spec))


def iter_check(files: Iterable[Path], settings: Settings = DEFAULT_SETTINGS,
               spec: FormatSpec = DEFAULT_FORMAT) -> Iterator[FileReport]:
    for path in files:
        yield check_file(path, settings, spec)
