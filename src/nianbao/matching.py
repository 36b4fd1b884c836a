"""Which roster unit each returned file belongs to: agreeing evidence, or a conflict.

A pin in nianbao.toml decides alone.  Otherwise the evidence is the unit code
hidden in the workbook's metadata, the 单位全称 typed in it (exact, alias, then
fuzzy) and the file name (fuzzy).  When they agree (or only one speaks) the
file is the unit's.  When they disagree (typically a unit that borrowed another
unit's form and changed only the name) the file is a *conflict*: it counts for
no unit, is in no report and no 汇总, and the message names both units and the
pin that settles it; the units' own consistent files are untouched.  A unit's
readable, newest file counts; the others are kept and listed.  The report of a
matched file carries the roster's full name (an alias typed in the form is a
warning).  Workbooks of units not on the roster are reported, never guessed.

Fuzzy matching uses :mod:`difflib` from the standard library: names are short
and the roster has ~50 units, so a faster matcher (rapidfuzz) buys nothing.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

from nianbao import sources
from nianbao.kinds import finding
from nianbao.model import FileReport, Finding
from nianbao.roster import Roster, Unit
from nianbao.safetext import clean, path_text, readable, relative_posix
from nianbao.workspace import place_prefix


class How(enum.StrEnum):
    """How a file was matched to its unit."""

    PIN = "pin"
    CODE = "code"
    NAME = "name"
    FUZZY_NAME = "fuzzy-name"
    FILE_NAME = "file-name"
    NONE = "none"

    @property
    def zh(self) -> str:
        return {"pin": "按指定", "code": "按表内编码", "name": "按表内单位名称",
                "fuzzy-name": "按表内单位名称（近似）", "file-name": "按文件名",
                "none": "未识别"}[self.value]


ACCEPT = 0.75  # a fuzzy score at least this high is a match …
MARGIN = 0.1  # … when the runner-up is this far behind
CONFLICT = 0.85  # a file name this close to another unit is reported as a conflict

_NOISE_PATTERNS = (
    r"[(（\[【]\s*\d*\s*[)）\]】]",  # (1) （2） [3]
    r"copy\s*of|副本|复件|拷贝",
    r"(?:19|20)\d{2}\s*(?:年度|年(?!报))?",  # years (the 年 of 年报 is left to the next)
    r"政府信息公开|信息公开|工作|年度报告|年报|报告|填报表|报表|统计表|数据|附件|最终版|终稿|定稿|修改版?"
    r"|新版|模板|表格|报送|上报|提交|的|年度",
)
_NOISE = re.compile("|".join(f"(?:{p})" for p in _NOISE_PATTERNS), re.IGNORECASE)
_NOT_WORD = re.compile(r"[\W\d_]+")
_SUFFIXES = ("人民政府", "办事处", "管理委员会", "委员会", "局", "委")


LOWEST = ACCEPT - 0.2  # below this a score changes nothing (not a match, not a candidate)
SCAN_ALL = 300  # a roster core count up to which every core is simply compared


@dataclass(frozen=True, slots=True)
class NameIndex:
    """Roster names reduced to their distinctive core (``青山县交通运输局`` -> ``交通运输``).

    A file is compared with every core of a county's roster.  A province's
    (tens of thousands of units) would make that quadratic, so the cores are
    also indexed by character: only a core sharing enough characters with the
    text can reach :data:`LOWEST`, and only those are compared, which gives
    exactly the same answer.
    """

    cores: tuple[tuple[Unit, str], ...]
    places: tuple[str, ...]
    postings: Mapping[tuple[str, int], tuple[int, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, roster: Roster) -> NameIndex:
        prefix = place_prefix(roster)
        places = tuple(p for p in (prefix, prefix[:-1], prefix[-1:]) if p)
        cores = tuple((unit, c) for unit in roster for n in unit.names
                      if (c := core(n, places)))
        postings: dict[tuple[str, int], list[int]] = {}
        if len(cores) > SCAN_ALL:
            for i, (_, c) in enumerate(cores):
                for char, count in Counter(c).items():
                    for k in range(1, count + 1):  # the k-th occurrence: multiset overlap
                        postings.setdefault((char, k), []).append(i)
        return cls(cores, places, {k: tuple(v) for k, v in postings.items()})

    def _candidates(self, wanted: str) -> Iterable[tuple[Unit, str]]:
        """The cores that can score at least :data:`LOWEST` against ``wanted``.

        A score needs shared characters: equal or contained cores share all the
        characters of the shorter one, and difflib's ratio 2M/(a+b) is at most
        2·overlap/(a+b).  The overlap (as multisets) is counted from the index.
        """
        if not self.postings:
            return self.cores
        overlap: Counter[int] = Counter()
        for char, count in Counter(wanted).items():
            for k in range(1, count + 1):
                overlap.update(self.postings.get((char, k), ()))
        size = len(wanted)
        # One shared character can only matter for a core or text of one or two characters.
        least = 1 if size <= 2 else 2
        out = []
        for i in sorted(i for i, shared in overlap.items() if shared >= least):  # roster order
            unit, c = self.cores[i]
            shared = overlap[i]
            if shared >= min(size, len(c)) or 2 * shared >= LOWEST * (size + len(c)) - 1e-9:
                out.append((unit, c))
        return out

    def best(self, text: str) -> tuple[Unit | None, float, tuple[Unit, ...]]:
        """The unit ``text`` most likely names, its score, and the close candidates."""
        wanted = core(text, self.places)
        scores: dict[str, tuple[float, Unit]] = {}
        for unit, c in self._candidates(wanted) if wanted else ():
            s = similarity(wanted, c)
            if s > scores.get(unit.code, (-1.0, unit))[0]:
                scores[unit.code] = (s, unit)
        ranked = sorted(scores.values(), key=lambda x: -x[0])
        if not ranked:
            return None, 0.0, ()
        top, unit = ranked[0]
        second = ranked[1][0] if len(ranked) > 1 else 0.0
        close = tuple(u for s, u in ranked[:3] if s >= ACCEPT - 0.2)
        if top >= ACCEPT and top - second >= MARGIN:
            return unit, top, close
        return None, top, close


def core(text: str, places: Sequence[str] = ()) -> str:
    """The distinctive part of a unit or file name: no place, years, (1), 副本, 年报, 局…"""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _NOISE.sub("", text)
    text = _NOT_WORD.sub("", text)
    changed = True
    while changed:
        changed = False
        for place in places:
            if place and text.startswith(place) and len(text) > len(place) + 1:
                text = text[len(place):]
                changed = True
    for suffix in _SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix) + 1:
            text = text[: -len(suffix)]
            break
    return text


def similarity(a: str, b: str) -> float:
    """1.0 for equal cores, high for containment (交通 / 交通运输), else difflib's ratio."""
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    short, long_ = sorted((a, b), key=len)
    if len(short) >= 2 and short in long_:
        return 0.8 + 0.2 * len(short) / len(long_)
    return SequenceMatcher(None, a, b).ratio()


@dataclass(frozen=True, slots=True, kw_only=True)
class Match:
    """One returned file and the unit it was assigned to (``unit`` None: not assigned)."""

    report: FileReport
    unit: Unit | None
    how: How
    mtime: float = 0.0
    # The evidence disagrees (hidden code, 单位全称, file name): the file counts for
    # no unit until a pin settles it; ``conflict_units`` are the units it points at.
    conflict: str = ""
    conflict_units: tuple[Unit, ...] = ()
    off_roster: str = ""  # the workbook names a unit that is not on the roster
    candidates: tuple[Unit, ...] = ()  # for 未识别: the closest units, for the message

    @property
    def file(self) -> Path:
        return self.report.file

    @property
    def readable(self) -> bool:
        return self.report.submission is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class Matching:
    """All returned files, grouped by unit; within a unit the file that counts comes first."""

    by_unit: Mapping[str, tuple[Match, ...]] = field(default_factory=dict)
    unmatched: tuple[Match, ...] = ()  # 未识别
    off_roster: tuple[Match, ...] = ()  # workbooks of units not on the roster
    conflicts: tuple[Match, ...] = ()  # files whose evidence disagrees: in no unit
    unused_pins: tuple[str, ...] = ()  # [pins] entries that match no file

    def chosen(self, code: str) -> Match | None:
        got = self.by_unit.get(code, ())
        return got[0] if got else None

    def conflicts_of(self, code: str) -> tuple[Match, ...]:
        return tuple(m for m in self.conflicts if any(u.code == code for u in m.conflict_units))

    @property
    def duplicates(self) -> dict[str, tuple[Match, ...]]:
        return {code: ms for code, ms in self.by_unit.items() if len(ms) > 1}

    @property
    def matches(self) -> tuple[Match, ...]:
        return (*(m for ms in self.by_unit.values() for m in ms), *self.unmatched,
                *self.off_roster, *self.conflicts)


ONLINE = "online"  # inputs/online/{编码}/…: handed in through `nianbao serve`, pinned by folder


def _pin_key(text: str, base: Path | None) -> str:
    """A pin as written (either slash, ``./``, ``inputs/``) reduced to the form we compare."""
    key = text.strip().replace("\\", "/")
    while key.startswith("./"):
        key = key[2:]
    if base is not None and key.startswith(base.name + "/"):
        key = key[len(base.name) + 1:]
    return key


def case_insensitive(folder: Path | None) -> bool:
    """Whether the file system under ``folder`` ignores case (Windows, macOS by default)."""
    if folder is None:
        return os.name == "nt"
    other = folder.with_name(folder.name.swapcase())
    if other.name == folder.name:
        return os.name == "nt"
    try:
        return other.exists() and os.path.samefile(other, folder)
    except OSError:
        return False


@dataclass(frozen=True, slots=True)
class Pins:
    """The [pins] table normalised: either slash, ``inputs/`` prefix, case where the FS ignores it."""

    table: Mapping[str, tuple[str, str]]  # normalised key -> (as written, unit code)
    base: Path | None
    fold: bool

    @classmethod
    def of(cls, pins: Mapping[str, str] | None, base: Path | None) -> Pins:
        fold = case_insensitive(base)
        table = {}
        for written, code in (pins or {}).items():
            key = _pin_key(written, base)
            table[key.casefold() if fold else key] = (written, code)
        return cls(table, base, fold)

    def lookup(self, path: Path) -> tuple[str, str] | None:
        """(the pin as written, its unit code) for ``path``: by relative path, else by name.

        A file under ``inputs/online/{编码}/`` came through that unit's own link
        (``nianbao serve``): the folder pins it, like an entry in ``[pins]``.
        """
        keys = []
        if self.base is not None:
            rel = relative_posix(path, self.base)
            if rel is not None:
                got = self.table.get(rel.casefold() if self.fold else rel)
                if got is not None:
                    return got
                parts = rel.split("/")
                if len(parts) == 3 and parts[0] == ONLINE:
                    return f"{ONLINE}/{parts[1]}/", parts[1]
        keys.append(path.name)
        for key in keys:
            got = self.table.get(key.casefold() if self.fold else key)
            if got is not None:
                return got
        return None


def pin_for(path: Path, pins: Mapping[str, str], base: Path | None) -> str | None:
    """The unit code pinned for ``path`` (see :meth:`Pins.lookup`)."""
    got = Pins.of(pins, base).lookup(path)
    return got[1] if got else None


def _describe(unit: Unit) -> str:
    return f"{unit.code}（{unit.name}）"


def pin_hint(path: Path, base: Path | None) -> str:
    """What to write in [pins] for this file (its path under inputs/)."""
    rel = path.name
    if base is not None:
        rel = relative_posix(path, base) or rel
    return json.dumps(path_text(rel), ensure_ascii=False)


def _conflict(report: FileReport, mtime: float, units: tuple[Unit, ...], why: str,
              base: Path | None) -> Match:
    hint = pin_hint(report.file, base)
    example = units[0].code if units else "单位编码"
    message = (f"{why}无法确定是哪个单位的报表，未计入任何单位（不生成报告、不纳入汇总）。"
               f"请与相关单位核实后，在 nianbao.toml 的 [pins] 中指定，如：{hint} = \"{example}\"。")
    return Match(report=report, unit=None, how=How.NONE, mtime=mtime, conflict=message,
                 conflict_units=tuple(dict.fromkeys(units)))


def _from_file_name(path: Path, index: NameIndex) -> tuple[Unit | None, float, tuple[Unit, ...]]:
    """The unit a file's name points at; for a file inside a .zip that says nothing, the zip's.

    ``教育局.zip/附件1.xlsx`` is 教育局's; so is ``教育局.zip/a.zip/b.zip`` that
    cannot be opened: a unit that sent only unreadable files is named, never 未报送.
    """
    found = index.best(readable(path.stem))
    outer = sources.container(path) if found[0] is None else None
    if outer is not None:
        archive, names = outer
        for name in (*reversed(names[:-1]), archive.name):
            got = index.best(readable(Path(name).stem))
            if got[0] is not None:
                return got
    return found


_ALNUM = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def without_code(text: str, code: str) -> str:
    """``text`` with each occurrence of ``code`` that is not part of a longer run of
    ASCII letters and digits replaced by a space (``B0101_交通局`` → `` _交通局``).

    What ``re.sub(r"(?<![0-9A-Za-z])CODE(?![0-9A-Za-z])", " ", text)`` does, without
    compiling a pattern for each unit's code (a province's season has 50,000 of them).
    """
    if not code:
        return text
    out, at, size = [], 0, len(code)
    while (found := text.find(code, at)) >= 0:
        before = text[found - 1] if found else ""
        if before in _ALNUM or text[found + size:found + size + 1] in _ALNUM:
            out.append(text[at:found + 1])
            at = found + 1
            continue
        out.append(text[at:found])
        out.append(" ")
        at = found + size
    out.append(text[at:])
    return "".join(out)


def _names_itself(path: Path, unit: Unit, index: NameIndex) -> bool:
    """Whether the file's name reduces to the unit's own name (its code put aside).

    Equal cores score 1.0, so no other unit can be the file name's match; the
    file name agrees with the workbook and need not be compared with every roster
    name (the costly part of matching a province's season).
    """
    stem = readable(path.stem)
    if unit.code:
        stem = without_code(stem, unit.code)
    wanted = core(stem, index.places)
    return bool(wanted) and any(core(n, index.places) == wanted for n in unit.names)


def match_one(report: FileReport, roster: Roster, index: NameIndex, *,
              pins: Mapping[str, str] | Pins | None = None, base: Path | None = None) -> Match:
    """Assign one checked file to a unit (see the module docstring for the order)."""
    mtime = sources.mtime(report.file)
    sub = report.submission
    table = pins if isinstance(pins, Pins) else Pins.of(pins, base)
    got = table.lookup(report.file)
    if got is not None:
        unit = roster.by_code(got[1])
        if unit is None:
            return Match(report=report, unit=None, how=How.PIN, mtime=mtime,
                         off_roster=f"[pins] 指定的单位编码“{clean(got[1])}”不在名单中。")
        return Match(report=report, unit=unit, how=How.PIN, mtime=mtime)
    codes = [c for c in dict.fromkeys((report.form_code, sub.code if sub else "")) if c]
    agency = sub.agency.strip() if sub else ""
    by_code = next((u for c in codes if (u := roster.by_code(c))), None)
    by_name = roster.by_name(agency) if agency else None
    how = How.NAME
    if by_name is None and agency:
        by_name, how = index.best(agency)[0], How.FUZZY_NAME
    shown = clean(agency)
    if by_code is not None:
        if agency and by_name is not by_code:
            other = f"名单中的 {_describe(by_name)}" if by_name else "不在名单中"
            return _conflict(report, mtime, tuple(u for u in (by_code, by_name) if u),
                             f"表内隐藏的单位编码是 {_describe(by_code)}，但单位全称填的是“{shown}”"
                             f"（{other}），可能是借用了其他单位的填报表。", base)
        unit, how = by_code, How.CODE
    elif codes:
        return Match(report=report, unit=None, how=How.NONE, mtime=mtime,
                     off_roster=f"表内单位编码“{clean(codes[0])}”（{shown or '未填写单位名称'}）不在名单中。")
    elif by_name is not None:
        unit = by_name
    elif agency:
        return Match(report=report, unit=None, how=How.NONE, mtime=mtime,
                     off_roster=f"表内单位名称“{shown}”不在名单中。")
    else:
        from_file, _, close = _from_file_name(report.file, index)
        if from_file is not None:
            return Match(report=report, unit=from_file, how=How.FILE_NAME, mtime=mtime)
        return Match(report=report, unit=None, how=How.NONE, mtime=mtime, candidates=close)
    if _names_itself(report.file, unit, index):
        return Match(report=report, unit=unit, how=how, mtime=mtime)
    from_file, file_score, _ = _from_file_name(report.file, index)
    if from_file is not None and from_file is not unit and file_score >= CONFLICT:
        what = "隐藏的单位编码" if how is How.CODE else "单位全称"
        return _conflict(report, mtime, (unit, from_file),
                         f"文件名像 {_describe(from_file)}，但表内{what}是 {_describe(unit)}，"
                         "可能是借用了其他单位的填报表。", base)
    return Match(report=report, unit=unit, how=how, mtime=mtime)


def counts_first(match: Match) -> tuple[bool, float, str]:
    """Sort key within a unit: a readable file before an unreadable one, then the newest."""
    return (not match.readable, -match.mtime, str(match.file))


def with_roster_name(match: Match) -> Match:
    """The report carries the roster's full name and code; an alias in the form is a warning."""
    sub = match.report.submission
    unit = match.unit
    if sub is None or unit is None:
        return match
    extra: list[Finding] = []
    typed = sub.agency.strip()
    if typed and typed != unit.name:
        extra.append(finding("agency-alias", typed=clean(typed), name=unit.name))
    if sub.agency == unit.name and sub.code == unit.code and not extra:
        return match
    report = dataclasses.replace(
        match.report, submission=dataclasses.replace(sub, agency=unit.name, code=unit.code),
        findings=(*match.report.findings, *extra))
    return dataclasses.replace(match, report=report)


def match_reports(reports: Sequence[FileReport], roster: Roster, *,
                  pins: Mapping[str, str] | None = None, base: Path | None = None) -> Matching:
    """Assign every file; a unit's readable, newest file counts, the others are kept."""
    index = NameIndex.of(roster)
    table = Pins.of(pins, base)
    used: set[str] = set()
    grouped: dict[str, list[Match]] = {}
    unmatched: list[Match] = []
    off: list[Match] = []
    conflicts: list[Match] = []
    for report in reports:
        got = table.lookup(report.file)
        if got is not None:
            used.add(got[0])
        match = match_one(report, roster, index, pins=table, base=base)
        if match.unit is not None:
            grouped.setdefault(match.unit.code, []).append(with_roster_name(match))
        elif match.conflict:
            conflicts.append(match)
        elif match.off_roster:
            off.append(match)
        else:
            unmatched.append(match)
    by_unit = {code: tuple(sorted(ms, key=counts_first)) for code, ms in grouped.items()}
    unused = tuple(w for w, _ in table.table.values() if w not in used)
    return Matching(by_unit=by_unit, unmatched=tuple(unmatched), off_roster=tuple(off),
                    conflicts=tuple(conflicts), unused_pins=unused)
