"""Read and check workbooks: the one entry point the commands use."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from nianbao.kinds import apply_switches, finding
from nianbao.model import FileReport, Finding, Severity
from nianbao.reader import read_workbook
from nianbao.rules import Where, validate
from nianbao.schema import DEFAULT_FORMAT, FormatSpec
from nianbao.settings import DEFAULT_SETTINGS, Settings

# What a folder scan picks up: real workbooks and the files people send instead of
# one (old Excel, WPS), so that those get a clear message rather than silence.
SCANNED_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".et", ".ett", ".xltx"})


def collect(paths: Iterable[Path]) -> list[Path]:
    """Files to check: files as given, folders scanned (recursively) for workbooks.

    Office lock files (``~$name.xlsx``) and hidden files are skipped.
    """
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.is_file()
                          and p.suffix.lower() in SCANNED_SUFFIXES
                          and not p.name.startswith(("~$", ".")))
        else:
            out.append(path)
    return list(dict.fromkeys(out))


def newest_first(path: Path) -> tuple[float, str]:
    """Sort key: the newest file first; for equal times, by path, so every command agrees."""
    try:
        mtime = path.stat().st_mtime
    except OSError:
        mtime = 0.0
    return (-mtime, str(path))


def check_file(path: Path, settings: Settings = DEFAULT_SETTINGS,
               spec: FormatSpec = DEFAULT_FORMAT, *, data: bytes | None = None) -> FileReport:
    """Read and check one workbook (``data``: its bytes, if already read).

    Never raises for anything in the file.
    """
    try:
        result = read_workbook(path, settings, spec, data=data)
    except Exception as exc:  # noqa: BLE001 - last line of defence: one bad file, one finding
        return FileReport(file=path, submission=None, findings=(
            finding("file-unreadable:crash", error=type(exc).__name__),))
    findings = list(result.findings)
    if result.submission is not None:
        where = Where(cells=result.positions, info=result.info_positions)
        findings += validate(result.submission, where, settings=settings, spec=spec,
                             year_text=result.meta.get("year_text", ""))
    findings = list(sort_findings(apply_switches(findings, settings)))
    return FileReport(file=path, submission=result.submission, findings=tuple(findings),
                      form_code=result.meta.get("agency_code", ""),
                      form_version=result.meta.get("form_version", ""),
                      positions=result.positions)


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
    return list(iter_check(collect(paths), settings, spec))


def iter_check(files: Iterable[Path], settings: Settings = DEFAULT_SETTINGS,
               spec: FormatSpec = DEFAULT_FORMAT) -> Iterator[FileReport]:
    for path in files:
        yield check_file(path, settings, spec)
