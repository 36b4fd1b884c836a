"""The Word/HTML template context: a Submission turned into display strings.

:func:`build_context` is pure.  Every value it returns is a ``str`` (or a list
of them, or a nested dict of them), already formatted for a reader, so a
template never formats a number and never prints ``None``.

Top-level variables (ASCII names, because Jinja needs identifiers):

==============  ==============================================================
``agency``      单位全称
``year``        报告年度, e.g. ``"2021"`` (``""`` if unknown)
``title``       ``"{agency}{year}年政府信息公开工作年度报告"``
``title_lines`` the title cut into its printed lines (:func:`nianbao.typeset.title_lines`):
                one if it fits, else broken after "{year}年" and between words
``period``      ``"本报告中所列数据统计期限为{year}年1月1日至12月31日。"``
``draft``       ``True`` for a draft (the default template then shows 草稿)
``code``        单位编码; ``contact`` 联系人; ``phone`` 联系电话; ``level`` 单位层级
``s1`` ``s5``   the narrative sections (one per narrative section of the schema):
``s6``          lists of paragraph strings, one real Word paragraph each
``members``     for a 汇总: the names of the units it sums; empty otherwise
``annex``       for a 汇总: its 附表, ``annex.included`` (``no``, ``name``) and
                ``annex.excluded`` (``no``, ``name``, ``reason``), each the first
                :data:`ANNEX_ROWS` units; ``annex.included_count``/``excluded_count``
                the whole numbers, ``annex.included_more``/``excluded_more`` where the
                rest are listed (``""`` when all fit); ``{}`` otherwise
``h1`` … ``h6`` section headings from the schema, e.g. ``"一、总体情况"``
``sections``    the same headings keyed by section id: ``sections.s3``
``t2_1`` …      one nested dict per table: ``t3.r3_3_2.social``, ``t4.rv_total``,
``t3``, ``t4``  ``t2_8.fees.amount`` (the schema key, split on ``.``)
``stats``       the standard sentences and indicators for 总体情况
                (:data:`nianbao.indicators.SENTENCE_VARIABLES`): ``stats.new_sentence``
                “本年新收政府信息公开申请12件，同比增长20%。”, ``stats.public_sentence``
                “予以公开8件，占办理结果总数的66.7%。”, ``stats.disclosure_rate`` …;
                the 同比 parts are empty without last year's values
==============  ==============================================================

Number display: a count is its decimal digits (``"12"``, no thousands
separator, as published reports print them).  An amount (万元) is shown as
entered with trailing zeros dropped and never in exponent form: ``Decimal("0")``
→ ``"0"``, ``Decimal("1.2500")`` → ``"1.25"``, ``Decimal("1E+2")`` → ``"100"``;
an amount with more than ``fee_decimals`` places (the reader warns about those)
is rounded half-up to ``fee_decimals`` places.  A value that could not be read
(``None``) is shown as ``""``.

Text cleaning: characters that XML 1.0 forbids (control characters other than
tab, and U+FFFE/U+FFFF, lone surrogates) are removed from every string.  Line
breaks inside a single-line field (agency name …) are removed; inside a
narrative paragraph they split it into separate paragraphs, so each one gets
its own first-line indent.  Leading and trailing white space of a paragraph
(including the full-width spaces people type as a manual indent) is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal

from nianbao.indicators import sentences
from nianbao.model import MEMBERS_SHEET, Submission, Value
from nianbao.schema import DEFAULT_FORMAT, FORMATS, FormatSpec
from nianbao.typeset import title_lines

# XML 1.0 forbids these.  \t \n \r are allowed by XML but line breaks are handled
# separately (see _LINE_BREAKS); \a and \f would be read by docxtpl as "new
# paragraph" / "page break", so they go too.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_LINE_BREAKS = re.compile("\r\n|[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


def clean_text(text: object) -> str:
    """One line of text: line breaks and XML-invalid characters removed, trimmed."""
    if text is None:
        return ""
    out = _LINE_BREAKS.sub("", str(text))
    return _INVALID_XML.sub("", out).strip()


def clean_paragraphs(paragraphs: Iterable[object]) -> list[str]:
    """Paragraph strings: split on line breaks, cleaned, empty ones dropped."""
    out: list[str] = []
    for para in paragraphs:
        if para is None:
            continue
        for line in _LINE_BREAKS.split(str(para)):
            line = _INVALID_XML.sub("", line).strip()
            if line:
                out.append(line)
    return out


def format_value(value: object, *, fee_decimals: int = 4) -> str:
    """A cell value as printed in the report (see the module docstring)."""
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        value = Decimal(repr(value))
    if not isinstance(value, Decimal):
        return clean_text(value)
    if not value.is_finite():
        return ""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -fee_decimals:
        value = value.quantize(Decimal(1).scaleb(-fee_decimals), rounding=ROUND_HALF_UP)
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _spec(sub: Submission) -> FormatSpec:
    return FORMATS.get(sub.format_id, DEFAULT_FORMAT)


def build_context(sub: Submission, *, fee_decimals: int = 4, draft: bool = False,
                  last: Mapping[str, Value | None] | None = None) -> dict[str, object]:
    """The template variables for one report (pure; see the module docstring).

    ``last``: last year's values of the same unit (or 汇总), for the 同比 in ``stats``.
    """
    spec = _spec(sub)
    agency = clean_text(sub.agency)
    year = str(sub.year) if sub.year else ""
    context: dict[str, object] = {
        "agency": agency,
        "year": year,
        "title": f"{agency}{year + '年' if year else ''}政府信息公开工作年度报告",
        "title_lines": title_lines(agency, year),
        "period": f"本报告中所列数据统计期限为{year}年1月1日至12月31日。" if year else "",
        "draft": bool(draft),
        "code": clean_text(sub.code),
        "contact": clean_text(sub.contact),
        "phone": clean_text(sub.phone),
        "level": clean_text(sub.level),
        "members": [name for name in (clean_text(m) for m in sub.members) if name],
    }
    context["annex"] = annex(sub)
    headings: dict[str, str] = {}
    for number, section in enumerate(spec.sections, start=1):
        headings[section.id] = section.heading
        context[f"h{number}"] = section.heading
        if section.narrative:
            context[section.id] = clean_paragraphs(sub.narrative.get(section.id, ()))
    context["sections"] = headings
    context["stats"] = sentences(sub.values, last, spec)
    for table_id, cells in _tables(sub, spec, fee_decimals).items():
        context[table_id] = cells
    return context


ANNEX_ROWS = 1000  # units listed in each table of a 汇总's 附表; the workbook lists them all


def annex(sub: Submission, limit: int = ANNEX_ROWS) -> dict[str, object]:
    """A 汇总's 附表: the units included and those left out with why ({} for a unit).

    Each list stops after ``limit`` units (a province's 50,000 would be a thousand pages
    of Word table): ``included_count``/``excluded_count`` give the whole number and
    ``included_more``/``excluded_more`` say where the rest are listed ("" when all fit).
    """
    if not sub.members and not sub.excluded:
        return {}
    included = [name for name in (clean_text(m) for m in sub.members) if name]
    out: dict[str, object] = {
        "included": [{"no": str(i), "name": name}
                     for i, name in enumerate(included[:limit], 1)],
        "excluded": [{"no": str(i), "name": clean_text(name), "reason": clean_text(why)}
                     for i, (name, why) in enumerate(sub.excluded[:limit], 1)]}
    for key, total in (("included", len(included)), ("excluded", len(sub.excluded))):
        out[f"{key}_count"] = str(total)
        out[f"{key}_more"] = (f"以上列出前{limit}个单位；全部{total}个单位见同时生成的汇总数据表"
                              f"（.xlsx）的“{MEMBERS_SHEET}”工作表。" if total > limit else "")
    return out


def _tables(sub: Submission, spec: FormatSpec,
            fee_decimals: int) -> dict[str, dict[str, object]]:
    """``{"t3": {"r1": {"natural": "0", ...}, ...}, "t4": {"rv_keep": "0", ...}}``."""
    tables: dict[str, dict[str, object]] = {t.id: {} for t in spec.tables}
    for key in spec.cells:
        table_id, *path = key.split(".")
        text = format_value(sub.values.get(key), fee_decimals=fee_decimals)
        if len(path) == 1:  # 表四: no row
            tables[table_id][path[0]] = text
        else:
            row = tables[table_id].setdefault(path[0], {})
            assert isinstance(row, dict)
            row[path[1]] = text
    return tables


def sample_submission(spec: FormatSpec = DEFAULT_FORMAT) -> Submission:
    """A complete all-zero submission: what a template is checked against."""
    values = {key: (Decimal(0) if cell.type == "amount" else 0) for key, cell in spec.cells.items()}
    narrative = {s.id: ("示例段落。",) for s in spec.sections if s.narrative}
    return Submission(agency="示例单位", code="000", year=spec.first_year, format_id=spec.id,
                      values=values, narrative=narrative, members=("示例成员单位",),
                      excluded=(("示例未纳入单位", "未报送"),))


def context_value(context: dict[str, object], key: str) -> str:
    """The display string of a schema key (``"t3.r1.natural"``) in a built context."""
    node: object = context
    for part in key.split("."):
        if not isinstance(node, dict):
            raise KeyError(key)
        node = node[part]
    if not isinstance(node, str):
        raise KeyError(key)
    return node
