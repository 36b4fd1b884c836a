"""Checks on a register, each finding naming the register's row (row number and 编号).

Field problems, dates outside the year, 结转下年度 rows with a result, duplicate
编号, unfinished rows not carried over, and the 条例's deadlines (第三十三条 答复
within 20 working days, 40 with 延期; 第三十条 补正 notices within 7; 第三十二条
third-party opinions within 15, not counted in the reply period), counted with
:mod:`nianbao.workdays`.  Messages carry row numbers and 编号 only, never a name or
a content summary.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence

from nianbao.kinds import finding
from nianbao.layout import a1
from nianbao.model import Finding, Value
from nianbao.register import Entry, Register, RegisterSpec
from nianbao.settings import DEFAULT_SETTINGS
from nianbao.workdays import UnknownYear, add_workdays, covered_years, workdays_between

REPLY_DAYS, EXTENSION_DAYS, CORRECTION_DAYS, THIRD_PARTY_DAYS = 20, 20, 7, 15
LIST_LIMIT = 20  # rows named in one message


def where(register: Register, entry: Entry | int, field_id: str = "no") -> tuple[str, str]:
    row = entry if isinstance(entry, int) else entry.row
    return register.sheet, a1(row, register.columns.get(field_id, 1))


def row_name(entry: Entry) -> str:
    return f"第 {entry.row} 行（编号 {entry.no}）" if entry.no else f"第 {entry.row} 行"


def row_list(entries: Sequence[Entry]) -> str:
    names = "、".join(row_name(e) for e in entries[:LIST_LIMIT])
    more = f"等 {len(entries)} 行" if len(entries) > LIST_LIMIT else ""
    return names + more


def _finding(kind_id: str, register: Register, entry: Entry | int, field_id: str,
             *, expected: Value | str | None = None, actual: Value | str | None = None,
             **fields: object) -> Finding:
    sheet, cell = where(register, entry, field_id)
    row = row_name(entry) if isinstance(entry, Entry) else f"第 {entry} 行"
    return finding(kind_id, settings=DEFAULT_SETTINGS, sheet=sheet, cell=cell, key=None,
                   related=(), expected=expected, actual=actual, register=register.spec.sheet,
                   row=row, **fields)


def field_findings(register: Register) -> Iterator[Finding]:
    """Empty required fields, unreadable fields, duplicate 编号."""
    spec = register.spec
    by_row = {e.row: e for e in register.entries}
    for p in register.problems:
        f = spec.field(p.field)
        at: Entry | int = by_row.get(p.row, p.row)
        if p.missing:
            yield _finding("reg-field-missing", register, at, p.field, field=f.label)
        else:
            yield _finding("reg-field-invalid", register, at, p.field, field=f.label,
                           allowed=expected_text(spec, p.field))
    seen: dict[str, list[Entry]] = defaultdict(list)
    for e in register.entries:
        if e.no:
            seen[e.no].append(e)
    for no, rows in seen.items():
        if len(rows) > 1:
            yield _finding("reg-duplicate-no", register, rows[1], "no", no=no, times=len(rows),
                           rows="、".join(str(e.row) for e in rows))


def expected_text(spec: RegisterSpec, field_id: str) -> str:
    """What a field accepts, for a message."""
    kind = spec.field(field_id).kind
    if kind == "date":
        return "应为日期，如 2025-03-05"
    if kind == "yesno":
        return "应为“是”或“否”"
    return "请从下拉列表中选择：" + "、".join(c.label for c in spec.choices[field_id][:8]) + (
        " 等" if len(spec.choices[field_id]) > 8 else "")


def application_findings(register: Register, year: int | None) -> Iterator[Finding]:
    """Every check on the 依申请公开 register (``year``: the report year, if known)."""
    yield from field_findings(register)
    unknown: dict[int, int] = Counter()
    for e in register.entries:
        yield from _status(register, e)
        if year is None:
            continue
        yield from _dates(register, e, year)
        try:
            yield from _deadlines(register, e, year)
        except UnknownYear as exc:
            unknown[exc.year] += 1
    first, last = covered_years()
    for missing_year, n in sorted(unknown.items()):
        yield finding("reg-calendar-unknown", sheet=register.sheet, register=register.spec.sheet,
                      first=first, last=last, year=missing_year, n=n)


def _status(register: Register, e: Entry) -> Iterator[Finding]:
    carried = "carried" in e.flags
    result = "result" in e.codes
    if carried and (result or e.date("replied")):
        yield _finding("reg-carried-with-result", register, e, "carried")
    elif not carried and not result and not any(p.row == e.row and p.field == "result"
                                                for p in register.problems):
        yield _finding("reg-unfinished", register, e, "result")
    if result and not carried and not e.date("replied"):
        yield _finding("reg-field-missing", register, e, "replied",
                       field=register.spec.field("replied").label)


def _dates(register: Register, e: Entry, year: int) -> Iterator[Finding]:
    received = e.date("received")
    if received is not None:
        carried_in = e.codes.get("source") == "carried"
        want = year - 1 if carried_in else year
        if received.year != want:
            what = "上年结转的申请应是上年收到的" if carried_in else "本年新收的申请应是本年收到的"
            yield _finding("reg-date-outside-year", register, e, "received", date=received,
                           what=what, want=want, expected=want, actual=str(received))
    replied = e.date("replied")
    if replied is not None and replied.year != year:
        yield _finding("reg-date-outside-year:replied", register, e, "replied", date=replied,
                       year=year, expected=year, actual=str(replied))
    order = (("received", "correction"), ("correction", "corrected"), ("received", "consult"),
             ("consult", "consult_reply"), ("received", "replied"))
    for before, after in order:
        a, b = e.date(before), e.date(after)
        if a is not None and b is not None and b < a:
            yield _finding("reg-date-order", register, e, after, a=a, b=b,
                           earlier=register.spec.field(before).label,
                           later=register.spec.field(after).label)


def reply_deadline(e: Entry) -> dt.date | None:
    """The last day to reply (None when it cannot be known, e.g. 补正 never returned)."""
    start = e.date("received")
    if e.date("correction") is not None:
        start = e.date("corrected")
    if start is None:
        return None
    days = REPLY_DAYS + (EXTENSION_DAYS if "extended" in e.flags else 0)
    consult = e.date("consult")
    if consult is not None:
        back = e.date("consult_reply")
        days += THIRD_PARTY_DAYS if back is None else min(THIRD_PARTY_DAYS,
                                                           workdays_between(consult, back))
    return add_workdays(start, days)


def _deadlines(register: Register, e: Entry, year: int) -> Iterator[Finding]:
    received, correction = e.date("received"), e.date("correction")
    if received is not None and correction is not None:
        due = add_workdays(received, CORRECTION_DAYS)
        if correction > due:
            yield _finding("reg-correction-late", register, e, "correction",
                           correction=correction, due=due,
                           late=workdays_between(due, correction),
                           expected=str(due), actual=str(correction))
    consult, back = e.date("consult"), e.date("consult_reply")
    if consult is not None and back is not None:
        due = add_workdays(consult, THIRD_PARTY_DAYS)
        if back > due:
            yield _finding("reg-third-party-late", register, e, "consult_reply", back=back,
                           due=due, expected=str(due), actual=str(back))
    due_reply = reply_deadline(e)
    if due_reply is None:
        return
    replied = e.date("replied")
    limit = REPLY_DAYS + (EXTENSION_DAYS if "extended" in e.flags else 0)
    rule = f"{limit} 个工作日" + ("，已延期" if "extended" in e.flags else "")
    if replied is not None and replied > due_reply:
        yield _finding("reg-reply-late", register, e, "replied", replied=replied, due=due_reply,
                       rule=rule, late=workdays_between(due_reply, replied),
                       expected=str(due_reply), actual=str(replied))
    if replied is None and "carried" in e.flags and due_reply < dt.date(year, 12, 31):
        yield _finding("reg-reply-late:carried", register, e, "carried", due=due_reply,
                       rule=rule, expected=str(due_reply))


def case_findings(register: Register, applications: Register | None) -> Iterator[Finding]:
    """Field problems and duplicates; a 关联申请编号 that the register does not have."""
    yield from field_findings(register)
    if applications is None:
        return
    known = {e.no for e in applications.entries}
    for e in register.entries:
        linked = e.texts.get("application", "")
        if linked and linked not in known:
            yield _finding("reg-case-unknown-application", register, e, "application",
                           linked=linked, applications=applications.spec.sheet)


def count_findings(cells: Mapping[str, list[Entry]], typed: Mapping[str, Value | None],
                   positions: Mapping[str, tuple[str, str]], labels: Mapping[str, str],
                   register: Register) -> Iterator[Finding]:
    """A number typed (or cached) in the table that differs from the register's count."""
    for key, entries in cells.items():
        claim = typed.get(key)
        n = len(entries)
        if claim is None or claim == n:
            continue
        sheet, cell = positions.get(key, (None, None))
        rows = f"台账中计入此格的是{row_list(entries)}。" if entries else "台账中没有计入此格的行。"
        advice = ("表中多出的件数在台账中没有登记，请补登或改正表中数字。" if claim > n else
                  "请核对上述各行的申请人类型、来源、办理结果或结转标记。")
        yield finding("reg-count-mismatch", sheet=sheet, cell=cell, key=key, expected=n,
                      actual=claim, label=labels[key], claim=claim, register=register.spec.sheet,
                      count=n, diff=claim - n, rows=rows, advice=advice)
