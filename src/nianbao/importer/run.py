"""Import many report files: one filled intake workbook per report, beside a summary."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from nianbao.importer.read import SUFFIXES, ImportResult, import_file
from nianbao.intake import intake_from, write_intake
from nianbao.naming import safe_filename
from nianbao.settings import DEFAULT_SETTINGS, Settings


@dataclass(frozen=True, slots=True, kw_only=True)
class Imported:
    """One imported file and the workbook written for it (None when nothing could be read)."""

    result: ImportResult
    workbook: Path | None


def collect_reports(paths: Iterable[Path]) -> list[Path]:
    """Report files: files as given, folders scanned recursively (hidden and ~$ files skipped)."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.is_file()
                          and p.suffix.lower() in SUFFIXES
                          and not p.name.startswith(("~$", ".")))
        else:
            out.append(path)
    return list(dict.fromkeys(out))


def workbook_name(result: ImportResult, taken: set[str]) -> str:
    sub = result.submission
    stem = result.report.file.stem
    if sub is not None and sub.agency:
        stem = f"{sub.agency}_{sub.year or '年度不详'}年_导入"
    name = safe_filename(stem, ".xlsx")
    n = 2
    while name in taken:
        name = safe_filename(f"{stem}_{n}", ".xlsx")
        n += 1
    taken.add(name)
    return name


def import_paths(paths: Iterable[Path], out_dir: Path | None,
                 settings: Settings = DEFAULT_SETTINGS) -> Iterator[Imported]:
    """Import each file; with ``out_dir``, write its filled intake workbook there."""
    taken: set[str] = set()
    for path in collect_reports(paths):
        result = import_file(path, settings)
        workbook = None
        if out_dir is not None and result.submission is not None:
            workbook = write_intake(out_dir / workbook_name(result, taken),
                                    intake_from(result.submission),
                                    fee_decimals=settings.fee_decimals)
        yield Imported(result=result, workbook=workbook)
