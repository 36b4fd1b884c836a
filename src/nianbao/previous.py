"""Last year's data and the cross-year checks (FORMAT.md §2.4 W_XYEAR_*).

``--previous`` may name last year's workspace, its 汇总 workbook, or a folder of
last year's workbooks.  Units are found by code, then by name.  The findings are
anchored on this year's cell and name both years' values and files.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from nianbao.check import collect, newest_first, sort_findings
from nianbao.config import CONFIG_NAME, CycleError, load_config
from nianbao.kinds import finding
from nianbao.layout import workbook_layout
from nianbao.model import SUMMARY_CODE, FileReport, Finding, Submission
from nianbao.reader import read_workbook
from nianbao.register_read import cross_year_register
from nianbao.roster import fold_name
from nianbao.schema import DEFAULT_FORMAT, FormatSpec
from nianbao.settings import DEFAULT_SETTINGS, Settings

SUMMARY_FOLDER = "汇总"  # under outputs/


@dataclass(frozen=True, slots=True, kw_only=True)
class PreviousData:
    """Last year's submissions, by code and by name; ``summary`` is last year's 汇总."""

    source: Path
    by_code: Mapping[str, Submission] = field(default_factory=dict)
    by_name: Mapping[str, Submission] = field(default_factory=dict)
    summary: Submission | None = None

    def find(self, code: str, names: Iterable[str]) -> Submission | None:
        """Last year's submission of a unit: by code, then by any of its names."""
        if code and code in self.by_code:
            return self.by_code[code]
        for name in names:
            got = self.by_name.get(fold_name(name))
            if got is not None:
                return got
        return None

    def __len__(self) -> int:
        return len(self.by_code) + len(self.by_name)

    def fingerprint(self) -> str:
        """A digest of last year's values: a build must redo its checks when they change."""
        digest = hashlib.sha256()
        subs = sorted({id(s): s for s in (*self.by_code.values(), *self.by_name.values())}
                      .values(), key=lambda s: (s.code, s.agency))
        for sub in subs:
            digest.update(f"{sub.code}|{sub.agency}|{sorted(sub.values.items())}".encode())
            if sub.register is not None:
                digest.update(f"|register|{sorted(sub.register.carried_out)}".encode())
        return digest.hexdigest()[:16]


def with_cross_year(report: FileReport, previous: PreviousData,
                    settings: Settings = DEFAULT_SETTINGS) -> FileReport:
    """``report`` plus the cross-year findings against its unit's last-year data.

    The unit is found by its code, then its name (no roster needed: for
    `nianbao check` and `nianbao build` inside a workspace).
    """
    sub = report.submission
    if sub is None:
        return report
    last = previous.find(report.form_code or sub.code, (sub.agency,))
    if last is None:
        return report
    extra = cross_year_findings(sub, last, settings=settings, positions=report.positions)
    if not extra:
        return report
    return dataclasses.replace(report, findings=sort_findings((*report.findings, *extra)))


def load_previous(path: Path, settings: Settings = DEFAULT_SETTINGS) -> PreviousData:
    """Read last year's data.  Unreadable workbooks are skipped (they were checked last year).

    Raises :class:`~nianbao.config.CycleError` when ``path`` does not exist.
    """
    if not path.exists():
        raise CycleError(f"找不到上年数据：{path}")
    files: list[Path]
    if path.is_dir() and (path / CONFIG_NAME).is_file():
        config = load_config(path / CONFIG_NAME)
        assert config is not None
        files = collect([config.inputs]) if config.inputs.is_dir() else []
        summary_dir = config.outputs / SUMMARY_FOLDER
        if summary_dir.is_dir():
            files += collect([summary_dir])
    else:
        files = collect([path])
    # A year other than the one in the file is fine here: it is last year's data.
    read_settings = Settings(fee_decimals=settings.fee_decimals, fee_max=settings.fee_max)
    by_code: dict[str, tuple[tuple[float, str], Submission]] = {}
    by_name: dict[str, tuple[tuple[float, str], Submission]] = {}
    summary: tuple[tuple[float, str], Submission] | None = None
    for file in files:
        result = read_workbook(file, read_settings)
        sub = result.submission
        if sub is None:
            continue
        rank = newest_first(file)  # smaller is preferred: the newest file wins
        code = result.meta.get("agency_code") or sub.code
        if code == SUMMARY_CODE:
            if summary is None or rank < summary[0]:
                summary = (rank, sub)
            continue
        for table, key in ((by_code, code), (by_name, fold_name(sub.agency))):
            if key and (key not in table or rank < table[key][0]):
                table[key] = (rank, sub)
    return PreviousData(source=path, by_code={k: v for k, (_, v) in by_code.items()},
                        by_name={k: v for k, (_, v) in by_name.items()},
                        summary=summary[1] if summary else None)


def _where(key: str, spec: FormatSpec,
           positions: Mapping[str, tuple[str, str]] | None = None) -> tuple[str, str]:
    """Where the agency's workbook holds ``key``; the intake layout when not known."""
    if positions and key in positions:
        return positions[key]
    return workbook_layout(spec).cell(key)


def _file(sub: Submission) -> str:
    return sub.source.name if sub.source else "（文件不详）"


def cross_year_findings(sub: Submission, last: Submission, *,
                        settings: Settings = DEFAULT_SETTINGS,
                        spec: FormatSpec = DEFAULT_FORMAT,
                        positions: Mapping[str, tuple[str, str]] | None = None,
                        last_positions: Mapping[str, tuple[str, str]] | None = None,
                        ) -> list[Finding]:
    """上年结转 = last year's 结转下年度 per column; 现行有效 = last + 制发 − 废止; when both
    years were counted from a register, last year's 结转下年度 编号 = this year's 上年结转 编号.

    Cells are named where each workbook's reader found them (``positions``,
    ``last_positions``), or by the intake layout when those are not given.
    """
    findings: list[Finding] = []
    this_year = f"{sub.year}年" if sub.year else "本年"
    last_year = f"{last.year}年" if last.year else "上年"
    t3 = spec.table("t3")
    for column in t3.columns:
        key, last_key = t3.key("r2", column.id), t3.key("r4", column.id)
        now, before = sub.values.get(key), last.values.get(last_key)
        if column.computed or now is None or before is None or now == before:
            continue
        sheet, cell = _where(key, spec, positions)
        last_sheet, last_cell = _where(last_key, spec, last_positions)
        findings.append(finding(
            "xyear-carryover", settings=settings, sheet=sheet, cell=cell, key=key,
            related=(f"{last_year}:{_file(last)}:{last_sheet}!{last_cell}",),
            expected=before, actual=now, column=column.label, now=now, last_year=last_year,
            before=before, diff=now - before, file=_file(sub), last_file=_file(last)))
    t21 = spec.table("t2_1")
    for row in t21.data_rows:
        keys = {c.id: t21.key(row.id, c.id) for c in t21.columns}
        issued, repealed, in_force = (sub.values.get(keys[c]) for c in
                                      ("issued", "repealed", "in_force"))
        before = last.values.get(keys["in_force"])
        if None in (issued, repealed, in_force, before):
            continue
        assert issued is not None and repealed is not None and in_force is not None
        assert before is not None
        expected = before + issued - repealed
        if in_force == expected:
            continue
        sheet, cell = _where(keys["in_force"], spec, positions)
        last_sheet, last_cell = _where(keys["in_force"], spec, last_positions)
        findings.append(finding(
            "xyear-in-force", settings=settings, sheet=sheet, cell=cell, key=keys["in_force"],
            related=(f"{last_year}:{_file(last)}:{last_sheet}!{last_cell}",),
            expected=expected, actual=in_force, row=row.label, this_year=this_year,
            in_force=in_force, last_year=last_year, before=before, issued=issued,
            repealed=repealed, should=expected, file=_file(sub), last_file=_file(last)))
    if sub.register is not None and last.register is not None:  # both counted from a register
        findings += cross_year_register(sub.register, last.register, this_file=_file(sub),
                                        last_file=_file(last), settings=settings)
    return findings
