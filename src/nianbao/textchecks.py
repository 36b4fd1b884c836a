"""The text checks: what reviewers of published reports score in the narrative.

Per report (:func:`check_text`, called by :func:`nianbao.rules.validate`):

* empty sections, and sentences that contradict the tables: 收到/受理/答复/办结 N 件,
  the result categories with their counts and shares, 行政复议 and 行政诉讼 with
  their 维持/纠正/其他/尚未审结 breakdown and claims such as “均获维持”, 收费通知
  against 表三（六）2; a sentence about another scope (“代表市政府受理”, “全市”)
  is a softer note (``text-other-scope``), and a sentence that denies only
  corrections (“未发生……被行政复议纠错或行政诉讼败诉的情形”) says nothing about the
  number of cases;
* malformed dates (“20251月1日”) and years other than the report year where the
  text states the period of the report;
* traces of the 2019 format (国办公开办函〔2019〕60号, its labels, “规范性文件”);
* “本报告由……六部分组成” against the sections present.

Per batch (:func:`batch_findings`, called where several units are checked together):
a narrative naming another unit of the roster as its own subject, and 雷同 — a
section nearly identical to the same unit's last year or to another unit.

Every finding is a warning built through :mod:`nianbao.kinds`; each check has
its switch in :class:`~nianbao.settings.Settings` (``[text]`` in nianbao.toml).
"""

from __future__ import annotations

import datetime as dt
import heapq
import re
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from nianbao import kinds
from nianbao.model import FileReport, Finding, Submission, Value
from nianbao.roster import fold_name
from nianbao.schema import DEFAULT_FORMAT, FormatSpec
from nianbao.settings import DEFAULT_SETTINGS, Settings

PREFACE = "preface"  # the text before 一、总体情况 (imported reports only)
PREFACE_TITLE = "报告开头"


@dataclass(frozen=True, slots=True, kw_only=True)
class TextDocument:
    """What an imported report adds to its narrative: the preface and the sections present."""

    preface: tuple[str, ...] = ()
    sections: tuple[str, ...] | None = None  # section ids found as headings; None: all (a workbook)


@dataclass(frozen=True, slots=True)
class Place:
    """A piece of narrative and where its findings point."""

    section: str  # s1, s5, s6 or PREFACE
    title: str  # “总体情况” for messages
    anchor: str  # the Where key of the cell that holds it


# ------------------------------------------------------------------ shared helpers

_SENTENCE = re.compile(r"[^。；;！!？?\n]+[。；;！!？?]?")
_CLAUSE = re.compile(r"[^，,；;。]+")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


def _quote(text: str, limit: int = 80) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + "……"


@dataclass(frozen=True, slots=True)
class _Ctx:
    sub: Submission
    where: object  # rules.Where (kept untyped here to avoid an import cycle)
    settings: Settings
    spec: FormatSpec

    def value(self, key: str) -> int:
        got = self.sub.values.get(key)
        return int(got) if got is not None else 0

    def known(self, *keys: str) -> bool:
        return all(self.sub.values.get(k) is not None for k in keys)

    def finding(self, kind_id: str, place: Place, related: Sequence[str] = (),
                expected: Value | str | None = None, actual: Value | str | None = None,
                **fields: object) -> Finding:
        from nianbao.rules import Where

        where = self.where
        assert isinstance(where, Where)
        sheet, cell = where.of(place.anchor)
        fields["section"] = f"“{place.title}”"
        return kinds.finding(kind_id, settings=self.settings, sheet=sheet, cell=cell, key=None,
                             related=tuple(where.ref(k) for k in related), expected=expected,
                             actual=actual, **fields)


def places(sub: Submission, spec: FormatSpec, document: TextDocument | None) -> list[tuple[Place, str]]:
    """Every piece of narrative with its place: the preface (imports), then 一、五、六."""
    out: list[tuple[Place, str]] = []
    if document is not None and document.preface:
        out.append((Place(PREFACE, PREFACE_TITLE, "agency"), "\n".join(document.preface)))
    for section in spec.sections:
        if section.narrative:
            text = "\n".join(sub.narrative.get(section.id, ()))
            out.append((Place(section.id, section.title, section.id), text))
    return out


# ------------------------------------------------------------------ numbers against the tables

_COUNT = re.compile(r"(\d+(?:,\d{3})*)\s*(?:件|个|条|起|宗|份|人次)")
_SHARE = re.compile(r"^\s*[（(，,、]?\s*(?:占比|占|比例为|比例)?\s*(\d+(?:\.\d+)?)\s*[%％]")
_NEGATION = re.compile(r"未|没有|无|不存在|零")
_SCOPE = re.compile(r"代表[^，,。；]{0,6}(?:政府|人民政府)|作为(?:行政)?复议机关|复议机关|全市|全区|全县|全省|"
                    r"全旗|全州|全盟|各级|各部门|各单位|各职能部门|各乡镇|镇街|各县|各区|本级政府|市本级|县本级")
_CORRECTION = re.compile(r"纠错|纠正|败诉|撤销|确认违法|被改变")
_ALL_KEPT = re.compile(r"(?:均|全部|都)(?:已|被|获|予以|得到)?(?:依法)?(?:获得|获|被|得到)?维持")
_NO_NOTICE = re.compile(r"(?:未|没有)(?:向[^，,。；]{0,10})?(?:发出|下发|送达|出具)[^，,。；]{0,6}收费通知")
_NOTICE_COUNT = re.compile(r"(?:发出|下发|送达|出具)[^，,。；\d]{0,10}收费通知(?:书)?\s*(\d+)\s*(?:件|份|次)")
_ABOUT_APPLICATIONS = re.compile(r"申请|复议|诉讼|答复|办结|予以公开|部分公开|无法提供|不予处理")
_RECEIVED_NONE = re.compile(r"(?:未|没有)(?:收到|接到|受理|接收|收悉)[^，,。；;]{0,15}?"
                            r"(?:公开[^，,。；;]{0,3}申请|申请公开)")


@dataclass(frozen=True, slots=True)
class _Measure:
    """What a number in the text may be: one of several table readings."""

    tier: int  # a more specific keyword wins over a generic one
    pattern: re.Pattern[str]
    name: str


# Result categories of 表三 (tier 1), then 结转 (2), 复议/诉讼 (3), then generic verbs (4).
_MEASURES = (
    _Measure(1, re.compile(r"(?:予以公开|同意公开)(?:及|和|或|、)部分公开|公开或部分公开|公开和部分公开"),
             "open_or_partial"),
    _Measure(1, re.compile(r"不予公开"), "withheld"),
    _Measure(1, re.compile(r"部分公开"), "partial"),
    _Measure(1, re.compile(r"予以公开|同意公开|全部公开"), "open"),
    _Measure(1, re.compile(r"无法提供"), "unavailable"),
    _Measure(1, re.compile(r"不予处理"), "not_processed"),
    _Measure(1, re.compile(r"其他处理"), "other_processed"),
    _Measure(1, re.compile(r"重复申请"), "repeated"),
    _Measure(1, re.compile(r"信访举报投诉"), "petition"),
    _Measure(1, re.compile(r"不掌握"), "not_held"),
    _Measure(1, re.compile(r"维持"), "keep"),
    _Measure(1, re.compile(r"纠正|纠错"), "correct"),
    _Measure(1, re.compile(r"其他结果"), "other_result"),
    _Measure(1, re.compile(r"尚未审结|未审结|正在审理|审理中"), "pending"),
    _Measure(2, re.compile(r"上年结转|结转上年|上年度结转"), "carried"),
    _Measure(2, re.compile(r"结转(?:至|到)?下(?:一)?年|转入下(?:一)?年"), "to_next"),
    _Measure(3, re.compile(r"行政复议|复议"), "review"),
    _Measure(3, re.compile(r"行政诉讼|诉讼|起诉"), "litigation"),
    _Measure(4, re.compile(r"答复|办结|办理完毕|办理完成|处理完毕"), "replied"),
    _Measure(4, re.compile(r"收到|受理|接收|新收|接到|收悉"), "received"),
)
_RESULT_ROWS = {"open": ("r3_1",), "partial": ("r3_2",), "open_or_partial": ("r3_1", "r3_2"),
                "withheld": tuple(f"r3_3_{i}" for i in range(1, 9)),
                "unavailable": ("r3_4_1", "r3_4_2", "r3_4_3"),
                "not_processed": tuple(f"r3_5_{i}" for i in range(1, 6)),
                "other_processed": ("r3_6_1", "r3_6_2", "r3_6_3"),
                "repeated": ("r3_5_2",), "petition": ("r3_5_1",), "not_held": ("r3_4_1",)}
_RESULT_LABELS = {"open": "（一）予以公开", "partial": "（二）部分公开",
                  "open_or_partial": "（一）予以公开与（二）部分公开之和", "withheld": "（三）不予公开",
                  "unavailable": "（四）无法提供", "not_processed": "（五）不予处理",
                  "other_processed": "（六）其他处理", "repeated": "（五）不予处理 2.重复申请",
                  "petition": "（五）不予处理 1.信访举报投诉类申请",
                  "not_held": "（四）无法提供 1.本机关不掌握相关政府信息"}
_OUTCOME_LABELS = {"keep": "结果维持", "correct": "结果纠正", "other_result": "其他结果",
                   "pending": "尚未审结"}
_PREFIXES = {"rv": ("rv",), "lit": ("ld", "la")}
_OUTCOME_LEAF = {"keep": "keep", "correct": "correct", "other_result": "other", "pending": "pending"}


def _measure(context: str) -> str | None:
    """The measure a number refers to, from the words before it (most specific, then last)."""
    best: tuple[int, int, int] | None = None
    for number, m in enumerate(_MEASURES):
        for hit in m.pattern.finditer(context):
            rank = (-m.tier, hit.end(), -number)  # the same end: the earlier (longer) pattern
            if best is None or rank > best:
                best = rank
    return _MEASURES[-best[2]].name if best else None


def _subject(text: str) -> str | None:
    """Whether the last of 复议/诉讼 named in ``text`` is 复议 (rv) or 诉讼 (lit)."""
    review = max((m.end() for m in re.finditer(r"复议", text)), default=-1)
    lit = max((m.end() for m in re.finditer(r"诉讼|起诉", text)), default=-1)
    if review < 0 and lit < 0:
        return None
    return "rv" if review > lit else "lit"


class _Numbers:
    """The number checks on one piece of narrative."""

    def __init__(self, ctx: _Ctx) -> None:
        self.ctx = ctx
        v = ctx.value
        self.new, self.carried = v("t3.r1.total"), v("t3.r2.total")
        self.done, self.to_next = v("t3.r3_7.total"), v("t3.r4.total")
        self.t3_known = ctx.known("t3.r1.total", "t3.r2.total", "t3.r3_7.total")
        self.t4_known = ctx.known("t4.rv_total", "t4.ld_total", "t4.la_total")

    def result(self, name: str) -> int:
        return sum(self.ctx.value(f"t3.{row}.total") for row in _RESULT_ROWS[name])

    def t4(self, subject: str, leaf: str) -> set[int]:
        v = self.ctx.value
        if subject == "rv":
            return {v(f"t4.rv_{leaf}")}
        direct, after = v(f"t4.ld_{leaf}"), v(f"t4.la_{leaf}")
        return {direct + after, direct, after}

    def readings(self, name: str, subject: str | None) -> tuple[set[int], str, int] | None:
        """Acceptable values for a measure, the table it is read from, its main value."""
        if name in _RESULT_ROWS and self.t3_known:
            count = self.result(name)
            return {count}, f"表三“{_RESULT_LABELS[name]}”", count
        if name == "carried" and self.t3_known:
            return {self.carried}, "表三“二、上年结转政府信息公开申请数量”", self.carried
        if name == "to_next" and self.t3_known:
            return {self.to_next}, "表三“四、结转下年度继续办理”", self.to_next
        if name == "replied" and self.t3_known:
            return ({self.done, self.new, self.new + self.carried},
                    "表三“（七）总计”", self.done)
        if name == "received" and self.t3_known:
            return {self.new, self.new + self.carried}, "表三“一、本年新收政府信息公开申请数量”", self.new
        if name in _OUTCOME_LEAF and subject and self.t4_known:
            outcome = self.t4(subject, _OUTCOME_LEAF[name])
            what = "行政复议" if subject == "rv" else "行政诉讼"
            return outcome, f"表四{what}“{_OUTCOME_LABELS[name]}”", max(outcome)
        if name in ("review", "litigation") and self.t4_known:
            subject = "rv" if name == "review" else "lit"
            totals = self.t4(subject, "total")
            return totals, "表四行政复议“总计”" if subject == "rv" else "表四行政诉讼“总计”", max(totals)
        return None

    def check(self, place: Place, text: str) -> Iterator[Finding]:
        for paragraph in text.split("\n"):
            about_applications = bool(_ABOUT_APPLICATIONS.search(paragraph))
            for sentence in sentences(paragraph):
                yield from self._zero_claims(place, sentence)
                if about_applications:
                    yield from self._counts(place, sentence)
                yield from self._fee_notice(place, sentence)

    def _counts(self, place: Place, sentence: str) -> Iterator[Finding]:
        start = 0
        for match in _COUNT.finditer(sentence):
            context = sentence[start:match.start()]
            start = match.end()
            stated = int(match.group(1).replace(",", ""))
            name = _measure(context)
            if name is None:
                continue
            subject = _subject(sentence[:match.start()])
            if name in ("received", "replied") and subject and not re.search(
                    r"公开申请|申请公开|信息公开|依申请", context):
                name = "review" if subject == "rv" else "litigation"  # 受理行政复议申请 N 件
            got = self.readings(name, subject)
            if got is None:
                continue
            readings, table, value = got
            if stated not in readings:
                scope = _SCOPE.search(sentence)
                if scope:
                    yield self.ctx.finding("text-other-scope", place, actual=stated,
                                           expected=value, quote=_quote(sentence), table=table,
                                           value=value, scope=scope.group(0))
                elif name == "received":
                    yield self.ctx.finding("text-number-mismatch:received", place,
                                           ("t3.r1.total", "t3.r2.total"), expected=self.new,
                                           actual=stated, quote=_quote(sentence), new=self.new,
                                           total=self.new + self.carried)
                else:
                    yield self.ctx.finding("text-number-mismatch:table", place, expected=value,
                                           actual=stated, quote=_quote(sentence), table=table,
                                           value=value)
                continue
            share = _SHARE.match(sentence[match.end():])
            if share and name in _RESULT_ROWS:
                yield from self._share(place, sentence, stated, Decimal(share.group(1)))

    def _share(self, place: Place, sentence: str, count: int, said: Decimal) -> Iterator[Finding]:
        bases = [b for b in (self.done, self.new + self.carried, self.new) if b > 0]
        if not bases:
            return
        exponent = said.as_tuple().exponent
        places_ = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        tolerance = Decimal(1).scaleb(-places_) / 2 + Decimal("0.0001")
        if any(abs(Decimal(count) * 100 / b - said) <= tolerance for b in bases):
            return
        base = bases[0]
        share = (Decimal(count) * 100 / base).quantize(Decimal(1).scaleb(-max(places_, 2)))
        yield self.ctx.finding("text-number-mismatch:share", place, actual=str(said),
                               expected=str(share), quote=_quote(sentence), count=count,
                               base=base, share=share)

    def _zero_claims(self, place: Place, sentence: str) -> Iterator[Finding]:
        none = _RECEIVED_NONE.search(sentence)
        if none and self.t3_known and self.new > 0:
            yield self.ctx.finding("text-zero-claim:received", place, ("t3.r1.total",),
                                   expected=self.new, quote=_quote(sentence), new=self.new)
        kept = _ALL_KEPT.search(sentence)
        if kept and self.t4_known:
            subject = _subject(sentence[:kept.start()])
            if subject:
                total = sum(self.ctx.value(f"t4.{p}_total") for p in _PREFIXES[subject])
                keep = sum(self.ctx.value(f"t4.{p}_keep") for p in _PREFIXES[subject])
                if total > 0 and keep != total and not _SCOPE.search(sentence):
                    yield self.ctx.finding(
                        "text-number-mismatch:all-kept", place, quote=_quote(sentence),
                        what="行政复议" if subject == "rv" else "行政诉讼", total=total, keep=keep)
        if not self.t4_known:
            return
        for clause in _CLAUSE.findall(sentence):
            negation = _NEGATION.search(clause)
            if not negation or _COUNT.search(clause) or not re.search(r"复议|诉讼", clause):
                continue
            rest = clause[negation.start():]
            subjects = [s for s, p in (("rv", r"复议"), ("lit", r"诉讼")) if re.search(p, rest)]
            if not subjects or _SCOPE.search(sentence):
                continue
            leaf = "correct" if _CORRECTION.search(rest) else "total"
            counts = {s: max(self.t4(s, leaf)) for s in subjects}
            if not any(counts.values()):
                continue
            parts = []
            for s in subjects:
                label = "行政复议" if s == "rv" else "行政诉讼"
                parts.append(f"{label}{'结果纠正' if leaf == 'correct' else ''} {counts[s]} 件")
            kind_id = "text-zero-claim:corrected" if leaf == "correct" else "text-zero-claim:dispute"
            yield self.ctx.finding(kind_id, place, quote=_quote(sentence), what="、".join(parts))
            break

    def _fee_notice(self, place: Place, sentence: str) -> Iterator[Finding]:
        cases = self.ctx.value("t3.r3_6_2.total")
        if not cases:
            return
        if _NO_NOTICE.search(sentence):
            yield self.ctx.finding("text-number-mismatch:fee-notice", place, ("t3.r3_6_2.total",),
                                   quote=_quote(sentence), cases=cases)
            return
        counted = _NOTICE_COUNT.search(sentence)
        if counted and int(counted.group(1)) < cases:
            yield self.ctx.finding("text-number-mismatch:fee-notice", place, ("t3.r3_6_2.total",),
                                   actual=int(counted.group(1)), quote=_quote(sentence),
                                   cases=cases)


# ------------------------------------------------------------------ dates

_GLUED = re.compile(r"(?<![\d年])(\d{5,6})\s*月\s*(\d{1,2})\s*日")
_GLUED_DAY = re.compile(r"(?<![\d年月])((?:19|20)\d{3,5})\s*日")
_DATE = re.compile(r"((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_MONTH = re.compile(r"((?:19|20)\d{2})\s*年\s*(\d{1,3})\s*月")
_PERIOD = re.compile(r"统计(?:期限|时限|时段|时间段|区间)|统计时间(?:为|自|从)|所列数据")
_PERIOD_YEAR = re.compile(r"((?:19|20)\d{2})\s*年(?!度?工作(?:要点|计划|安排))")
_UNTIL = re.compile(r"截(?:至|止)(?:到)?\s*((?:19|20)\d{2})\s*年\s*12\s*月\s*31\s*日")
_OPENING = re.compile(r"^\s*(?:[（(][一二三四五六七八九十\d]+[）)]\s*)?[^，。；\d]{0,12}?"
                      r"((?:19|20)\d{2})\s*年(?:度)?\s*[，,]")


def check_dates(ctx: _Ctx, place: Place, text: str) -> Iterator[Finding]:
    year = ctx.sub.year
    for paragraph in text.split("\n"):
        for match in _GLUED.finditer(paragraph):
            digits = match.group(1)
            yield ctx.finding("text-date-malformed", place, quote=match.group(0),
                              why=f"“{digits}月”中年份和月份连在了一起，缺少“年”字"
                              f"（应为“{digits[:4]}年{digits[4:]}月”）")
        for match in _GLUED_DAY.finditer(paragraph):
            digits = match.group(1)
            yield ctx.finding("text-date-malformed", place, quote=match.group(0),
                              why=f"“{digits}日”中缺少“年”“月”字")
        for match in _MONTH.finditer(paragraph):
            if not 1 <= int(match.group(2)) <= 12:
                yield ctx.finding("text-date-malformed", place, quote=match.group(0),
                                  why=f"没有{int(match.group(2))}月")
        for match in _DATE.finditer(paragraph):
            y, m, d = (int(g) for g in match.groups())
            if 1 <= m <= 12:
                try:
                    dt.date(y, m, d)
                except ValueError:
                    yield ctx.finding("text-date-malformed", place, quote=match.group(0),
                                      why=f"{y}年{m}月没有{d}日")
        if year is None:
            continue
        for sentence in sentences(paragraph):
            wrong = None
            if _PERIOD.search(sentence):
                wrong = next((m for m in _PERIOD_YEAR.finditer(sentence)
                              if int(m.group(1)) != year), None)
            wrong = wrong or next((m for m in _UNTIL.finditer(sentence)
                                   if int(m.group(1)) != year), None)
            if wrong is None:
                opening = _OPENING.match(sentence)
                if opening and int(opening.group(1)) in (year - 1, year - 2):
                    wrong = opening
            if wrong is not None:
                yield ctx.finding("text-date-year", place, expected=year,
                                  actual=int(wrong.group(1)), quote=_quote(sentence),
                                  got=int(wrong.group(1)), year=year)


# ------------------------------------------------------------------ old-format traces

_OLD_CITATION = re.compile(r"国办公开办函\s*[〔\[［(（【]\s*2019\s*[〕\]］)）】]\s*60\s*号|"
                           r"年度报告格式\s*[（(]\s*试行\s*[）)]")
_NORMATIVE = re.compile(r"(?<!行政)(?<!党内)(?<!党的)规范性文件")


def check_old_format(ctx: _Ctx, place: Place, text: str) -> Iterator[Finding]:
    year = ctx.sub.year
    if year is None or year < ctx.spec.first_year:
        return  # a 2019 or 2020 report rightly follows the 2019 format
    for sentence in sentences(text):
        citation = _OLD_CITATION.search(sentence)
        if citation:
            yield ctx.finding("text-old-format:citation", place, quote=_quote(sentence),
                              year=year)
    folded = re.sub(r"\s+", "", text)
    for label in ctx.spec.forbidden_labels:
        if re.sub(r"\s+", "", label) in folded:
            yield ctx.finding("text-old-format:label", place, label=label)
    bare = [m for m in _NORMATIVE.finditer(text)]
    if bare:
        sentence = next(s for s in sentences(text) if _NORMATIVE.search(s))
        yield ctx.finding("text-old-format:normative", place, quote=_quote(sentence),
                          count=len(bare))


# ------------------------------------------------------------------ the count of parts

_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9, "十": 10}
_PARTS = re.compile(r"(?:共|等|计)?\s*([一二两三四五六七八九十]|\d{1,2})\s*(?:个)?\s*部分")
_REPORT_WORDS = re.compile(r"报告|年报|全文")


def check_parts(ctx: _Ctx, place: Place, text: str, document: TextDocument | None
                ) -> Iterator[Finding]:
    present = len(ctx.spec.sections) if document is None or document.sections is None \
        else len(document.sections)
    for sentence in sentences(text):
        match = _PARTS.search(sentence)
        if not match or not _REPORT_WORDS.search(sentence) or not re.search(
                r"组成|构成|包括|包含|分为", sentence):
            continue
        raw = match.group(1)
        stated = int(raw) if raw.isdigit() else _CN_DIGITS[raw]
        listed = _listed_parts(sentence[:match.start()])
        if listed and listed != stated:
            actual = f"列举的只有 {listed} 项"
        elif stated != present:
            actual = f"报告中实有 {present} 个部分"
        else:
            continue
        yield ctx.finding("text-parts-count", place, expected=present, actual=stated,
                          quote=_quote(sentence), found=actual, stated=raw)


def _listed_parts(before: str) -> int:
    """How many items “由A、B、C……” enumerates before “N部分” (0: no enumeration)."""
    head = re.search(r"(?:由|包括|包含|分为|为)([^。]*)$", before)
    if not head:
        return 0
    items = [i for i in re.split(r"[、，,；;]|以及", head.group(1))
             if i.strip(" 等共计")]
    return len(items) if len(items) >= 3 else 0


# ------------------------------------------------------------------ the entry point

def check_text(sub: Submission, where: object, *, settings: Settings = DEFAULT_SETTINGS,
               spec: FormatSpec = DEFAULT_FORMAT, document: TextDocument | None = None
               ) -> Iterator[Finding]:
    """Every per-report text check (findings of switched-off checks are dropped later)."""
    ctx = _Ctx(sub, where, settings, spec)
    yield from _empty_sections(ctx)
    numbers = _Numbers(ctx)
    pieces = places(sub, spec, document)
    for place, text in pieces:
        if not text.strip():
            continue
        if settings.text_numbers:
            yield from numbers.check(place, text)
        if settings.text_dates:
            yield from check_dates(ctx, place, text)
        if settings.text_old_format:
            yield from check_old_format(ctx, place, text)
        if settings.text_parts:
            yield from check_parts(ctx, place, text, document)
    fee_cases = sub.values.get("t3.r3_6_2.total")
    everything = "".join(text for _, text in pieces)
    if fee_cases and not ctx.sub.is_summary and not re.search(r"信息处理费|收费通知", everything):
        yield ctx.finding("fee-notice-text", Place("s6", "其他需要报告的事项", "s6"),
                          ("t3.r3_6_2.total",), cases=fee_cases)


def _empty_sections(ctx: _Ctx) -> Iterator[Finding]:
    """Sections a unit left empty.

    A 汇总's sections 一/五/六 are written by the coordinator in the report, not in its
    workbook: the checks that ask a unit for its text do not apply to it.
    """
    if ctx.sub.is_summary:
        return
    narrative = ctx.sub.narrative
    s5 = narrative.get("s5", ())
    for section_id, empty in (("s1", not narrative.get("s1", ())),
                              ("s5", not s5 or "".join(s5).strip("。 ") in ("无", "暂无", "没有")),
                              ("s6", not narrative.get("s6", ()))):
        if empty:
            place = Place(section_id, ctx.spec.section(section_id).title, section_id)
            yield ctx.finding(f"narrative-empty:{section_id}", place)


# ------------------------------------------------------------------ batch: other units, 雷同

@dataclass(frozen=True, slots=True, kw_only=True)
class Unit:
    """One report of a batch, as the batch checks see it."""

    agency: str
    names: tuple[str, ...] = ()  # the unit's own names (full name, aliases)
    narrative: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    file: str = ""
    anchors: Mapping[str, tuple[str | None, str | None]] = field(default_factory=dict)
    sketches: Mapping[str, bytes] = field(default_factory=dict)  # made beforehand, if any


_SUBJECT_AFTER = re.compile(r"^\s*(?:[（(]以下简称|[（(]下称|\d{4}\s*年(?:度)?政府信息公开|政府信息公开工作年度报告|"
                            r"(?:在|始终|坚持|认真|严格|高度重视|深入|紧紧围绕|全面|积极|进一步|按照|根据|"
                            r"以习近平|共|全年|主动|持续|不断|切实|牢固|聚焦|着力|扎实|立足))")
_SUBJECT_BEFORE = re.compile(r"(?:^|[。；;\n]|^\s*(?:[（(][一二三四五六七八九十\d]+[）)])?\s*"
                             r"(?:\d{4}\s*年(?:度)?|本年度|今年|全年)\s*[，,]?)\s*$")


def other_agency_findings(unit: Unit, others: Iterable[str], settings: Settings
                          ) -> Iterator[Finding]:
    """The narrative names another unit as its own subject (“2025年，XX局在……”)."""
    yield from _other_agency(unit, _names_pattern(others), settings)


class NameFinder:
    """Finds any of many names in a text, the longest at each place first, never overlapping.

    One set lookup per name length and position: a regular expression of 50,000
    alternatives would try most of them at every character.
    """

    def __init__(self, names: Iterable[str]) -> None:
        self.names = frozenset(n for n in names if n.strip())
        # the name lengths to try after each two-character start (one lookup a place)
        lengths: dict[str, set[int]] = {}
        for name in self.names:
            lengths.setdefault(name[:2], set()).add(len(name))
        self.after = {start: sorted(sizes, reverse=True) for start, sizes in lengths.items()}
        self.single = frozenset(n for n in self.names if len(n) == 1)
        # a place where no name starts is skipped by one search in C, not a loop turn
        firsts = sorted({n[0] for n in self.names})
        self.starts = re.compile("[" + "".join(re.escape(c) for c in firsts) + "]"
                                 if firsts else "(?!)")

    def __bool__(self) -> bool:
        return bool(self.names)

    def finditer(self, text: str) -> Iterator[tuple[int, int, str]]:
        """(start, end, name) of each name found, left to right."""
        i, end = 0, len(text)
        names, after, single, search = self.names, self.after, self.single, self.starts.search
        while (start := search(text, i)) is not None:
            i = start.start()
            for size in after.get(text[i:i + 2], ()):
                if i + size <= end and text[i:i + size] in names:
                    yield i, i + size, text[i:i + size]
                    i += size
                    break
            else:
                if text[i] in single:
                    yield i, i + 1, text[i]
                i += 1


def _names_pattern(names: Iterable[str]) -> NameFinder | None:
    """One finder for every name (one scan per paragraph)."""
    finder = NameFinder(names)
    return finder if finder else None


def _other_agency(unit: Unit, pattern: NameFinder | None, settings: Settings
                  ) -> Iterator[Finding]:
    if pattern is None:
        return
    own = {fold_name(n) for n in (unit.agency, *unit.names) if n}
    for section_id, paragraphs in unit.narrative.items():
        for paragraph in paragraphs:
            for start, end, name in pattern.finditer(paragraph):
                folded = fold_name(name)
                if any(folded in o or o in folded for o in own):
                    continue  # the unit itself, or a longer or shorter form of its name
                before, after = paragraph[:start], paragraph[end:]
                if not (_SUBJECT_AFTER.match(after) and _SUBJECT_BEFORE.search(before)):
                    continue
                sentence = next((s for s in sentences(paragraph) if name in s), paragraph)
                sheet, cell = unit.anchors.get(section_id, (None, None))
                title = DEFAULT_FORMAT.section(section_id).title
                yield kinds.finding("text-agency-other", settings=settings, sheet=sheet,
                                    cell=cell, section=f"“{title}”", quote=_quote(sentence),
                                    other=name, agency=unit.agency)
                return


def shingles(text: str, size: int = 4) -> set[str]:
    """The text's character n-grams, punctuation and spacing ignored (the unit of 雷同)."""
    folded = re.sub(r"[\s\W\d_]+", "", text)
    return {folded[i:i + size] for i in range(max(len(folded) - size + 1, 0))}


def similarity(a: set[str], b: set[str]) -> float:
    """Jaccard similarity of two shingle sets."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


@dataclass(frozen=True, slots=True)
class SimilarPair:
    section: str
    first: int  # index into the batch
    second: int
    similarity: float


SIMILAR_SECTIONS = ("s1", "s5", "s6")  # the sections a unit writes in its own words
SKETCH_SIZE = 16  # each section's smallest shingle hashes kept (a bottom-k sketch)
SKETCH_BAND = 8  # of which the smallest index the section
SKETCH_BUCKET_MAX = 100  # a hash shared by more sections than this is boilerplate
SKETCH_MARGIN = 0.35  # pairs whose sketches estimate less than threshold - this are not 雷同


def _gram_hash(gram: str) -> int:
    """A shingle's place in the sketches' order: CRC-32, the same in every run and process
    (a cryptographic digest costs four times as much and a sketch needs none of it)."""
    return zlib.crc32(gram.encode("utf-8"))


def _sketch(text: str) -> array[int]:
    """The text's :data:`SKETCH_SIZE` smallest shingle hashes."""
    return array("Q", heapq.nsmallest(SKETCH_SIZE, {_gram_hash(g) for g in shingles(text)}))


def section_sketches(narrative: Mapping[str, tuple[str, ...]],
                     settings: Settings = DEFAULT_SETTINGS) -> dict[str, bytes]:
    """The sketches :func:`similar_sections` compares, for each section long enough to be
    compared (the others have none): made where the file is read, in a worker, so the
    batch check in the main process only looks them up.  Empty when 雷同 is not checked."""
    if not settings.text_similar:
        return {}
    out: dict[str, bytes] = {}
    for section in SIMILAR_SECTIONS:
        text = "".join(narrative.get(section, ()))
        if len(text) >= settings.similar_min_chars:
            out[section] = _sketch(text).tobytes()
    return out


def _buckets(hashes: array[int], owners: array[int]) -> Iterator[list[int]]:
    """The units (in their order) sharing each hash: the index as runs of a sort."""
    order = sorted(range(len(hashes)), key=hashes.__getitem__)  # stable: units stay in order
    start = 0
    while start < len(order):
        value, end = hashes[order[start]], start + 1
        while end < len(order) and hashes[order[end]] == value:
            end += 1
        yield [owners[k] for k in order[start:end]]
        start = end


def _estimate(a: frozenset[int], b: frozenset[int]) -> float:
    """Jaccard similarity estimated from two bottom-k sketches (as sets): the share of the
    union's :data:`SKETCH_SIZE` smallest hashes that both hold."""
    union = sorted(a | b)[:SKETCH_SIZE]
    if not union:
        return 0.0
    cutoff = union[-1]  # a hash both hold is among the smallest iff it is not above this
    return sum(1 for v in a & b if v <= cutoff) / len(union)


def similar_sections(units: Sequence[Unit], settings: Settings) -> list[SimilarPair]:
    """Pairs of units whose same narrative section is at least ``similar_threshold`` alike.

    Each section is sketched by its :data:`SKETCH_SIZE` smallest shingle hashes and
    indexed by the :data:`SKETCH_BAND` smallest: two sections whose shingles are at
    least 90 % alike share their smallest hash nine times in ten, and one of eight
    almost surely.  Pairs that share one and whose sketches look alike are compared
    exactly, so the memory is a few integers a unit and the time grows with the
    batch, not with its square.  A hash shared by more than half the batch (or by
    more than :data:`SKETCH_BUCKET_MAX` sections) is boilerplate and indexes nothing.
    """
    out: list[SimilarPair] = []
    floor = settings.similar_threshold - SKETCH_MARGIN
    for section in SIMILAR_SECTIONS:
        # arrays, not tuples and dicts of Python ints: a province's sketches in a few MB
        sketches: dict[int, array[int]] = {}
        banded, owners = array("Q"), array("l")  # the index: (hash, unit) in two columns
        for i, unit in enumerate(units):
            if unit.sketches:  # made beforehand: a section too short to compare has none
                if section not in unit.sketches:
                    continue
                sketch = array("Q", unit.sketches[section])
            else:
                text = "".join(unit.narrative.get(section, ()))
                if len(text) < settings.similar_min_chars:
                    continue
                sketch = _sketch(text)
            sketches[i] = sketch
            band = sketch[:SKETCH_BAND]
            banded.extend(band)
            owners.extend([i] * len(band))
        limit = min(max(len(sketches) // 2, 2), SKETCH_BUCKET_MAX)
        pairs: set[tuple[int, int]] = set()
        for members in _buckets(banded, owners):
            if 2 <= len(members) <= limit:
                sets = [frozenset(sketches[m]) for m in members]  # each once, not once a pair
                for x in range(len(members)):
                    for y in range(x + 1, len(members)):
                        pair = (members[x], members[y])
                        if pair not in pairs and _estimate(sets[x], sets[y]) >= floor:
                            pairs.add(pair)
        del banded, owners, sketches
        grams: dict[int, set[str]] = {}  # the units of the pairs, one section at a time
        for i, j in sorted(pairs):
            for k in (i, j):
                if k not in grams:
                    grams[k] = shingles("".join(units[k].narrative.get(section, ())))
            alike = similarity(grams[i], grams[j])
            if alike >= settings.similar_threshold:
                out.append(SimilarPair(section, i, j, alike))
            if len(grams) > 512:  # pairs come sorted by their first unit: keep the recent
                for k in list(grams)[:256]:
                    del grams[k]
    return out


def similar_to_last_year(unit: Unit, last: Mapping[str, tuple[str, ...]], last_year: str,
                         last_file: str, settings: Settings) -> Iterator[Finding]:
    for section in SIMILAR_SECTIONS:
        text = "".join(unit.narrative.get(section, ()))
        before = "".join(last.get(section, ()))
        if len(text) < settings.similar_min_chars or len(before) < settings.similar_min_chars:
            continue
        value = similarity(shingles(text), shingles(before))
        if value >= settings.similar_threshold:
            sheet, cell = unit.anchors.get(section, (None, None))
            yield kinds.finding("text-similar:previous", settings=settings, sheet=sheet, cell=cell,
                                title=DEFAULT_FORMAT.section(section).title, last_year=last_year,
                                similarity=value, last_file=last_file)


def _speaks_for_others(report: FileReport) -> bool:
    """A government (or a 汇总) reports what its departments did, by their names."""
    sub = report.submission
    return sub is not None and (bool(sub.members) or sub.level.endswith("人民政府")
                                or sub.agency.endswith(("人民政府", "政府办公室", "政府办公厅")))


def _anchor(report: FileReport, section: str, spec: FormatSpec) -> tuple[str | None, str | None]:
    """Where a unit's section is: the intake layout's 基本信息 row (workbooks)."""
    if report.file.suffix.lower() not in (".xlsx", ".xlsm"):
        return None, None
    from nianbao.layout import workbook_layout

    return spec.sheet_name("info"), workbook_layout(spec).info_cell(section)


def with_batch_text(reports: Sequence[FileReport], settings: Settings = DEFAULT_SETTINGS, *,
                    roster_names: Sequence[tuple[str, ...]] = (),
                    last_of: Callable[[FileReport], Submission | None] | None = None,
                    spec: FormatSpec = DEFAULT_FORMAT) -> list[FileReport]:
    """``reports`` with the batch text checks added: another unit named as the subject,
    and 雷同 with last year (``last_of`` finds a unit's last-year submission) and within
    the batch.  ``roster_names`` groups each roster unit's names (full name, aliases)."""
    if not (settings.text_agency or settings.text_similar):
        return list(reports)
    from nianbao.check import is_blank, sort_findings

    chosen = [i for i, r in enumerate(reports) if r.submission is not None and not is_blank(r)]
    groups = [tuple(n for n in g if n) for g in roster_names]
    group_of: dict[str, tuple[str, ...]] = {}  # folded name -> its unit's names (first wins)
    for g in groups:
        for n in g:
            group_of.setdefault(fold_name(n), g)
    units: list[Unit] = []
    anchors_of: dict[bool, Mapping[str, tuple[str | None, str | None]]] = {}  # one per kind
    for i in chosen:
        report = reports[i]
        sub = report.submission
        assert sub is not None
        own = group_of.get(fold_name(sub.agency), ())
        workbook = report.file.suffix.lower() in (".xlsx", ".xlsm")
        if workbook not in anchors_of:
            anchors_of[workbook] = {s: _anchor(report, s, spec) for s in SIMILAR_SECTIONS}
        units.append(Unit(agency=sub.agency, names=own, narrative=sub.narrative,
                          file=report.file.name, anchors=anchors_of[workbook],
                          sketches=report.sketches))
    extra: dict[int, list[Finding]] = {}
    if settings.text_agency:
        pattern = _names_pattern({n for g in groups for n in g} | {u.agency for u in units})
        for i, unit in zip(chosen, units, strict=True):
            if not _speaks_for_others(reports[i]):
                found = list(_other_agency(unit, pattern, settings))
                if found:
                    extra.setdefault(i, []).extend(found)
    if settings.text_similar:
        for pair in similar_sections(units, settings):
            a, b = (reports[chosen[pair.first]], reports[chosen[pair.second]])
            if fold_name(a.agency) == fold_name(b.agency) or (
                    a.form_code and a.form_code == b.form_code):
                continue  # two versions of one unit's file: `check` reports the duplicate
            for me, other in ((pair.first, pair.second), (pair.second, pair.first)):
                unit, them = units[me], units[other]
                sheet, cell = unit.anchors.get(pair.section, (None, None))
                extra.setdefault(chosen[me], []).append(kinds.finding(
                    "text-similar:batch", settings=settings, sheet=sheet, cell=cell,
                    title=spec.section(pair.section).title, other=them.agency,
                    other_file=them.file, similarity=pair.similarity))
        if last_of is not None:
            for i, unit in zip(chosen, units, strict=True):
                last = last_of(reports[i])
                if last is None:
                    continue
                last_year = str(last.year) if last.year else "上"
                last_file = last.source.name if last.source else "（文件不详）"
                found = list(similar_to_last_year(unit, last.narrative, last_year, last_file,
                                                  settings))
                if found:
                    extra.setdefault(i, []).extend(found)
    out = list(reports)
    for i, found in extra.items():
        if found:
            report = out[i]
            out[i] = replace(report, findings=sort_findings(
                kinds.apply_switches((*report.findings, *found), settings)))
    return out
