"""What reviewers look at, computed from the archive: rates, year-on-year change, warnings.

For each unit and for the 汇总 (the sum of the same units, 同口径, in every year):

* 实质公开率 = (予以公开 + 部分公开) / 办理结果总计 (表三, 总计 column);
* 行政复议纠错率 and 行政诉讼纠错率 = 结果纠正 / 已审结 (总计 − 尚未审结; 表四; 诉讼 adds
  未经复议直接起诉 and 复议后起诉);
* the year-on-year change of 本年新收 and of every 办理结果 row of 表三;
* warnings (:mod:`nianbao.kinds`, stage 指标) for a jump above ``trend_high`` times or
  below ``trend_low`` times last year, and for a zero where comparable units (same
  层级) are high; only where the count reaches ``trend_min_sample``
  (:class:`~nianbao.settings.Settings`).

The rows, the rate parts and the 表四 groups are all taken from the schema
(:func:`tracked`, :func:`rate_parts`); nothing here lists cells by hand.
A rate whose denominator is 0 or unreadable is ``None`` (shown as “—”), never 0.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from nianbao.kinds import finding
from nianbao.model import Finding, Submission, Value
from nianbao.roster import fold_name
from nianbao.schema import DEFAULT_FORMAT, FormatSpec, HeaderNode, Table
from nianbao.settings import DEFAULT_SETTINGS, Settings

Values = Mapping[str, Value | None]

# The schema ids the indicators are defined on (表三's rows, 表四's leaves).
_NEW_ROW = "r1"  # 一、本年新收
_RESULT_GROUP = "r3"  # 三、本年度办理结果
_DISCLOSED_ROWS = ("r3_1", "r3_2")  # 予以公开, 部分公开
_TOTAL_COLUMN = "total"
_CORRECT, _PENDING, _ALL = "correct", "pending", "total"  # 表四 leaves
_REVIEW, _LITIGATION = "行政复议", "行政诉讼"  # 表四's two top header groups
_NUMBERING = re.compile(r"^(?:[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）|\d+[.．、])")
_NOTE = re.compile(r"（[^（）]*）$")


# ------------------------------------------------------------------ from the schema

@dataclass(frozen=True, slots=True)
class Measure:
    """A 表三 row followed year on year: its 总计 key and a short label."""

    key: str
    label: str


def short_label(table: Table, row_id: str) -> str:
    """``（二）部分公开（区分处理的…）`` → ``部分公开``; a sub-row gets its group: ``不予公开·属于国家秘密``."""
    row = table.row(row_id)
    text = _NOTE.sub("", _NUMBERING.sub("", row.label)).strip()
    parent = table.row(row.parent) if row.parent else None
    if parent is not None and (parent.group or row.computed) and parent.id != _RESULT_GROUP:
        return f"{short_label(table, parent.id)}·{text}"
    if row.computed and parent is not None:  # （七）总计 → 办理结果总计
        return "办理结果" + text
    return text


def tracked(spec: FormatSpec = DEFAULT_FORMAT) -> tuple[Measure, ...]:
    """本年新收 and every data row under 三、本年度办理结果, in the schema's order."""
    t3 = spec.table("t3")
    rows = (t3.row(_NEW_ROW), *t3.descendant_data_rows(_RESULT_GROUP))
    return tuple(Measure(t3.key(r.id, _TOTAL_COLUMN), short_label(t3, r.id)) for r in rows)


def new_key(spec: FormatSpec = DEFAULT_FORMAT) -> str:
    return spec.table("t3").key(_NEW_ROW, _TOTAL_COLUMN)


def results_total_key(spec: FormatSpec = DEFAULT_FORMAT) -> str:
    """办理结果总计: the computed data row under 三 (``t3.r3_7.total``)."""
    t3 = spec.table("t3")
    row = next(r for r in t3.descendant_data_rows(_RESULT_GROUP) if r.computed)
    return t3.key(row.id, _TOTAL_COLUMN)


def _leaves(node: HeaderNode) -> Iterable[str]:
    if node.column:
        yield node.column
    for child in node.children:
        yield from _leaves(child)


def _t4_group(spec: FormatSpec, label: str) -> tuple[str, ...]:
    """The 表四 groups (``rv``; ``ld``, ``la``) under a top header label."""
    t4 = spec.table("t4")
    node = next(n for n in t4.header if n.label == label)
    prefixes = dict.fromkeys(c.rsplit("_", 1)[0] for c in _leaves(node))
    return tuple(prefixes)


@dataclass(frozen=True, slots=True)
class RateParts:
    """A rate as sums of keys: ``sum(numerator) / (sum(denominator) − sum(minus))``."""

    numerator: tuple[str, ...]
    denominator: tuple[str, ...]
    minus: tuple[str, ...] = ()


def rate_parts(spec: FormatSpec = DEFAULT_FORMAT) -> dict[str, RateParts]:
    """实质公开率, 行政复议纠错率, 行政诉讼纠错率 as keys of the schema."""
    t3 = spec.table("t3")
    out = {"disclosure": RateParts(tuple(t3.key(r, _TOTAL_COLUMN) for r in _DISCLOSED_ROWS),
                                   (results_total_key(spec),))}
    for name, label in (("review", _REVIEW), ("litigation", _LITIGATION)):
        groups = _t4_group(spec, label)
        out[name] = RateParts(tuple(f"t4.{g}_{_CORRECT}" for g in groups),
                              tuple(f"t4.{g}_{_ALL}" for g in groups),
                              tuple(f"t4.{g}_{_PENDING}" for g in groups))
    return out


# ------------------------------------------------------------------ figures

def _sum(values: Values, keys: Iterable[str]) -> int | None:
    total = 0
    for key in keys:
        got = values.get(key)
        if got is None:
            return None
        total += int(got)
    return total


@dataclass(frozen=True, slots=True)
class Rate:
    """``part / whole``; ``value`` is None when the whole is 0 or a part is unreadable."""

    part: int | None
    whole: int | None

    @property
    def value(self) -> Decimal | None:
        if self.part is None or self.whole is None or self.whole <= 0:
            return None
        return Decimal(self.part) / Decimal(self.whole)


def rate(values: Values, parts: RateParts) -> Rate:
    whole = _sum(values, parts.denominator)
    minus = _sum(values, parts.minus)
    return Rate(_sum(values, parts.numerator),
                None if whole is None or minus is None else whole - minus)


@dataclass(frozen=True, slots=True)
class Change:
    """One tracked row this year against last year (``before`` None: no last year)."""

    measure: Measure
    now: int | None
    before: int | None

    @property
    def ratio(self) -> Decimal | None:
        """now / before; None without both or when last year was 0."""
        if self.now is None or self.before is None or self.before == 0:
            return None
        return Decimal(self.now) / Decimal(self.before)

    @property
    def percent(self) -> Decimal | None:
        """The change in per cent of last year (None: no ratio)."""
        ratio = self.ratio
        return None if ratio is None else (ratio - 1) * 100


@dataclass(frozen=True, slots=True, kw_only=True)
class UnitIndicators:
    """One unit (or the 汇总) in the report year, with its 本年新收 over the years."""

    code: str
    name: str
    level: str
    year: int
    values: Values
    disclosure: Rate
    review: Rate
    litigation: Rate
    measures: tuple[Measure, ...]  # the tracked rows (one shared tuple for every unit)
    history: Mapping[int, int | None]  # year -> 本年新收 (archived years and this one)
    last_values: Values | None = None  # last year's values (None: not archived)
    findings: tuple[Finding, ...] = ()

    @property
    def changes(self) -> tuple[Change, ...]:
        """Each tracked row this year against last year, made when asked: kept for every
        unit of a province's season they would be a million objects."""
        now = self.values.get
        last = self.last_values.get if self.last_values is not None else None
        out = []
        for m in self.measures:  # a loop, not _count twice a row: status and 汇总 ask often
            a = now(m.key)
            b = last(m.key) if last is not None else None
            out.append(Change(m, None if a is None else int(a), None if b is None else int(b)))
        return tuple(out)

    @property
    def new(self) -> Change:
        measure = self.measures[0]
        return Change(measure, _count(self.values, measure.key),
                      _count(self.last_values, measure.key))

    @property
    def has_last_year(self) -> bool:
        last = self.last_values  # the first measure is 本年新收 (``new``)
        return last is not None and any(last.get(m.key) is not None for m in self.measures)


@dataclass(frozen=True, slots=True, kw_only=True)
class Indicators:
    """The indicators of a board or a 汇总: units in order, then the 汇总."""

    year: int
    years: tuple[int, ...]
    units: tuple[UnitIndicators, ...]
    total: UnitIndicators
    measures: tuple[Measure, ...]

    @property
    def everyone(self) -> tuple[UnitIndicators, ...]:
        return (*self.units, self.total)

    @property
    def findings(self) -> list[tuple[UnitIndicators, Finding]]:
        return [(u, f) for u in self.everyone for f in u.findings]


@dataclass(frozen=True, slots=True, kw_only=True)
class Subject:
    """A unit to compute for: its identity, other names in the archive, this year's values."""

    code: str
    name: str
    level: str = ""
    names: tuple[str, ...] = ()
    submission: Submission | None = None


@dataclass(slots=True)
class _Archive:
    """Archived submissions by (code, year) and (folded name, year)."""

    by_code: dict[tuple[str, int], Submission] = field(default_factory=dict)
    by_name: dict[tuple[str, int], Submission] = field(default_factory=dict)
    years: set[int] = field(default_factory=set)

    def find(self, subject: Subject, year: int) -> Submission | None:
        if subject.code and (subject.code, year) in self.by_code:
            return self.by_code[subject.code, year]
        for name in (subject.name, *subject.names):
            got = self.by_name.get((fold_name(name), year))
            if got is not None:
                return got
        return None


def _index(history: Iterable[Submission], year: int) -> _Archive:
    archive = _Archive()
    for sub in history:
        if sub.year is None or sub.year >= year:
            continue  # this year comes from the subjects; later years are not history
        archive.years.add(sub.year)
        if sub.code:
            archive.by_code[sub.code, sub.year] = sub
        if sub.agency:
            archive.by_name[fold_name(sub.agency), sub.year] = sub
    return archive


def compute(subjects: Sequence[Subject], history: Iterable[Submission], *, year: int,
            total_name: str = "汇总", settings: Settings = DEFAULT_SETTINGS,
            spec: FormatSpec = DEFAULT_FORMAT,
            in_total: Collection[str] | None = None) -> Indicators:
    """The indicators of ``subjects`` in ``year``, last years taken from ``history``.

    Subjects without values this year are left out.  The 汇总 of each year is
    the sum over the same subjects (a unit new this year has no last year in it);
    ``in_total``: the codes of the subjects it sums, when not all of them.
    """
    archive = _index(history, year)
    measures = tracked(spec)
    parts = rate_parts(spec)
    present = [s for s in subjects if s.submission is not None]
    years = tuple(sorted({*archive.years, year}))
    units: list[UnitIndicators] = []
    pasts: dict[int, list[Values]] = {y: [] for y in years}
    for subject in present:
        assert subject.submission is not None
        now = subject.submission.values
        by_year = {y: (now if y == year else _values(archive.find(subject, y))) for y in years}
        last = by_year.get(year - 1)
        for y, values in by_year.items():
            if values is not None and (in_total is None or subject.code in in_total):
                pasts[y].append(values)
        units.append(_unit(subject.code, subject.name, subject.level, year, now, last, by_year,
                           measures, parts, spec))
    summed = {y: _summed(v, spec) for y, v in pasts.items()}
    total = _unit("", total_name, "", year, summed[year] or {}, summed.get(year - 1), summed,
                  measures, parts, spec)
    peers = Peers(units)
    units = [_with_findings(u, peers, settings) for u in units]
    total = _with_findings(total, [], settings)
    return Indicators(year=year, years=years, units=tuple(units), total=total,
                      measures=measures)


def _values(sub: Submission | None) -> Values | None:
    return None if sub is None else sub.values


def _summed(rows: list[Values], spec: FormatSpec) -> Values | None:
    if not rows:
        return None
    keys = {*(m.key for m in tracked(spec)), *(k for p in rate_parts(spec).values()
                                                for k in (*p.numerator, *p.denominator, *p.minus))}
    totals: dict[str, int | None] = dict.fromkeys(keys, 0)
    for values in rows:  # unit by unit: a unit's packed values are decoded once
        for key, total in totals.items():
            if total is not None:
                got = values.get(key)
                totals[key] = None if got is None else total + int(got)
    return totals


def _count(values: Values | None, key: str) -> int | None:
    if values is None:
        return None
    got = values.get(key)
    return None if got is None else int(got)


def _unit(code: str, name: str, level: str, year: int, now: Values, last: Values | None,
          by_year: Mapping[int, Values | None], measures: tuple[Measure, ...],
          parts: Mapping[str, RateParts], spec: FormatSpec) -> UnitIndicators:
    new = new_key(spec)
    return UnitIndicators(
        code=code, name=name, level=level, year=year, values=now,
        disclosure=rate(now, parts["disclosure"]), review=rate(now, parts["review"]),
        litigation=rate(now, parts["litigation"]),
        measures=measures, history={y: _count(v, new) for y, v in sorted(by_year.items())}, last_values=last)


# ------------------------------------------------------------------ warnings

def ratio_text(value: Decimal) -> str:
    return _fixed(value, 2 if value < 1 else 1)


def _fixed(value: Decimal, places: int) -> str:
    text = format(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def jump_findings(unit: UnitIndicators, settings: Settings) -> list[Finding]:
    """A row that grew above ``trend_high``× or fell below ``trend_low``× last year."""
    out = []
    for change in unit.changes:
        now, before = change.now, change.before
        if now is None or before is None or max(now, before) < settings.trend_min_sample:
            continue
        kind_id, ratio, limit = "trend-jump:from-zero", Decimal(0), Decimal(0)
        if before > 0:
            ratio = Decimal(now) / Decimal(before)
            if ratio > settings.trend_high:
                kind_id, limit = "trend-jump", settings.trend_high
            elif ratio < settings.trend_low:
                kind_id, limit = "trend-jump:drop", settings.trend_low
            else:
                continue
        out.append(finding(kind_id, settings=settings, key=change.measure.key,
                           label=change.measure.label, year=unit.year, last_year=unit.year - 1,
                           now=now, before=before, ratio=ratio_text(ratio),
                           limit=ratio_text(limit)))
    return out


class Peers:
    """The units compared with each other, each measure's values sorted once per 层级.

    A unit's comparison leaves the unit itself out; with the sorted values that is
    one index skipped, so a season of 50,000 units costs a sort, not 50,000 scans.
    """

    def __init__(self, units: Sequence[UnitIndicators]) -> None:
        self.units = units
        self.ids = {id(u) for u in units}
        self.levels = Counter(u.level for u in units)
        self._sorted: dict[tuple[str | None, int], list[int]] = {}

    def __len__(self) -> int:
        return len(self.units)

    def values(self, level: str | None, i: int) -> list[int]:
        """Measure ``i`` of every unit (of ``level``, or all), sorted; unknowns left out."""
        if not self._sorted:  # every list in one pass, unit by unit (values are read once)
            lists: dict[tuple[str | None, int], list[int]] = {}
            for u in self.units:
                for j, measure in enumerate(u.measures):
                    if (c := _count(u.values, measure.key)) is not None:
                        lists.setdefault((None, j), []).append(c)
                        lists.setdefault((u.level, j), []).append(c)
            self._sorted = {k: sorted(v) for k, v in lists.items()}
        return self._sorted.get((level, i), [])


def _median_without(data: list[int], skip: int | None) -> float | int:
    """statistics.median of ``data`` (sorted) with the item at ``skip`` left out."""
    n = len(data) - (skip is not None)

    def at(k: int) -> int:
        return data[k + 1] if skip is not None and k >= skip else data[k]

    if n % 2:
        return at(n // 2)
    return (at(n // 2 - 1) + at(n // 2)) / 2


def peer_zero_findings(unit: UnitIndicators, peers: Sequence[UnitIndicators] | Peers,
                       settings: Settings) -> list[Finding]:
    """A row at 0 where the median of comparable units reaches ``trend_min_sample``.

    Comparable: the other units of the same 层级, when there are at least
    ``PEERS_MIN`` of them with a value; otherwise every other unit.
    """
    index = peers if isinstance(peers, Peers) else Peers(peers)
    inside = id(unit) in index.ids
    level: str | None = unit.level
    group = f"同为“{unit.level}”的单位" if unit.level else "其他单位"
    if index.levels[unit.level] - inside < PEERS_MIN:
        level, group = None, "其他单位"
    out = []
    for i, change in enumerate(unit.changes):
        if change.now != 0:
            continue
        data = index.values(level, i)
        skip = bisect.bisect_left(data, 0) if inside else None  # the unit's own 0
        if len(data) - inside < PEERS_MIN:
            continue
        median = Decimal(_median_without(data, skip))
        if median >= settings.trend_min_sample:
            out.append(finding("trend-zero-peer", settings=settings, key=change.measure.key,
                               label=change.measure.label, year=unit.year, group=group,
                               peers=len(data) - inside, median=_fixed(median, 1)))
    return out


PEERS_MIN = 3  # fewer comparable units than this: no “others are high” warning


def _with_findings(unit: UnitIndicators, peers: Sequence[UnitIndicators] | Peers,
                   settings: Settings) -> UnitIndicators:
    found = jump_findings(unit, settings) + (peer_zero_findings(unit, peers, settings)
                                             if peers else [])
    return UnitIndicators(code=unit.code, name=unit.name, level=unit.level, year=unit.year,
                          values=unit.values, disclosure=unit.disclosure, review=unit.review,
                          litigation=unit.litigation, measures=unit.measures,
                          history=unit.history, last_values=unit.last_values,
                          findings=tuple(found))


# ------------------------------------------------------------------ display

def percent_text(value: Decimal | None, places: int = 1) -> str:
    """``Decimal("0.6667")`` → ``"66.7%"``; None → ``"—"``."""
    if value is None:
        return "—"
    return _fixed(value * 100, places) + "%"


def change_text(change: Change) -> str:
    """``增长20%`` / ``下降5.5%`` / ``持平`` / ``上年为0`` / ``—`` (no last year)."""
    now, before = change.now, change.before
    if now is None or before is None:
        return "—"
    if now == before:
        return "持平"
    if before == 0:
        return "上年为0"
    percent = change.percent
    assert percent is not None
    return ("增长" if percent > 0 else "下降") + _fixed(abs(percent), 1) + "%"


def sentences(values: Values, last: Values | None,
              spec: FormatSpec = DEFAULT_FORMAT) -> dict[str, str]:
    """The standard sentences and their parts, as template variables (``stats`` in the context).

    ``last`` is last year's values (None: no last year, no 同比).
    """
    measures = tracked(spec)
    new = Change(measures[0], _count(values, measures[0].key), _count(last, measures[0].key))
    parts = rate_parts(spec)
    public_key = spec.table("t3").key(_DISCLOSED_ROWS[0], _TOTAL_COLUMN)
    public = Rate(_count(values, public_key), _count(values, results_total_key(spec)))
    disclosure = rate(values, parts["disclosure"])
    out = {
        "new": _num(new.now), "new_last": _num(new.before),
        "new_change": "" if new.before is None or new.now is None else _yoy(new),
        "public": _num(public.part), "results": _num(public.whole),
        "public_share": _pct(public.value), "disclosure_rate": _pct(disclosure.value),
        "disclosed": _num(disclosure.part),
        "review_correction_rate": _pct(rate(values, parts["review"]).value),
        "litigation_correction_rate": _pct(rate(values, parts["litigation"]).value),
    }
    new_sentence = ""
    if new.now is not None:
        new_sentence = f"本年新收政府信息公开申请{new.now}件"
        new_sentence += f"，{out['new_change']}。" if out["new_change"] else "。"
    public_sentence = ""
    if public.part is not None:
        public_sentence = f"予以公开{public.part}件"
        public_sentence += (f"，占办理结果总数的{out['public_share']}。" if out["public_share"]
                            else "。")
    disclosure_sentence = ""
    if disclosure.value is not None:
        disclosure_sentence = (f"予以公开和部分公开共{disclosure.part}件，"
                               f"实质公开率{out['disclosure_rate']}。")
    out |= {"new_sentence": new_sentence, "public_sentence": public_sentence,
            "disclosure_sentence": disclosure_sentence,
            "summary": new_sentence + public_sentence}
    return out


def _num(value: int | None) -> str:
    return "" if value is None else str(value)


def _pct(value: Decimal | None) -> str:
    return "" if value is None else percent_text(value)


def _yoy(change: Change) -> str:
    """The 同比 clause of a sentence: ``同比增长20%`` / ``同比下降5%`` / ``与上年持平`` / ``上年为0件``."""
    text = change_text(change)
    if text == "持平":
        return "与上年持平"
    if text == "上年为0":
        return "上年为0件"
    return "同比" + text


SENTENCE_VARIABLES: tuple[tuple[str, str], ...] = (
    ("new", "本年新收申请数（表三 一、总计）"),
    ("new_last", "上年本年新收申请数（无上年数据时为空）"),
    ("new_change", "同比变化：“同比增长20%”“同比下降5%”“与上年持平”“上年为0件”（无上年数据时为空）"),
    ("new_sentence", "“本年新收政府信息公开申请N件，同比增长x%。”（无上年数据时不写同比）"),
    ("public", "予以公开件数"),
    ("results", "办理结果总计"),
    ("public_share", "予以公开占办理结果总计的比例，如“66.7%”（总计为 0 时为空）"),
    ("public_sentence", "“予以公开N件，占办理结果总数的y%。”"),
    ("disclosed", "予以公开与部分公开之和"),
    ("disclosure_rate", "实质公开率 =（予以公开＋部分公开）÷ 办理结果总计"),
    ("disclosure_sentence", "“予以公开和部分公开共N件，实质公开率y%。”"),
    ("review_correction_rate", "行政复议纠错率 = 结果纠正 ÷ 已审结（总计－尚未审结）"),
    ("litigation_correction_rate", "行政诉讼纠错率（未经复议直接起诉与复议后起诉合计）"),
    ("summary", "new_sentence 与 public_sentence 连写，可直接放入“总体情况”"),
)
