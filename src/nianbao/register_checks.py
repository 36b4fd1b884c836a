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

from nianbao.layout import a1
from nianbao.model import Finding, Severity, Value
from nianbao.register import Entry, Register, RegisterSpec
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


def _finding(code: str, severity: Severity, register: Register, entry: Entry | int,
             field_id: str, message: str, **extra: Value | str | None) -> Finding:
    sheet, cell = where(register, entry, field_id)
    return Finding(code=code, severity=severity, sheet=sheet, cell=cell,
                   message=f"{register.spec.sheet}：{message}",
                   expected=extra.get("expected"), actual=extra.get("actual"))


def field_findings(register: Register) -> Iterator[Finding]:
    """Empty required fields, unreadable fields, duplicate 编号."""
    spec = register.spec
    nos = {e.row: e.no for e in register.entries}
    for p in register.problems:
        f = spec.field(p.field)
        head = f"第 {p.row} 行" + (f"（编号 {nos[p.row]}）" if nos.get(p.row) else "")
        if p.missing:
            yield _finding("reg-field-missing", Severity.ERROR, register, p.row, p.field,
                           f"{head}未填写“{f.label}”。")
        else:
            yield _finding("reg-field-invalid", Severity.ERROR, register, p.row, p.field,
                           f"{head}的“{f.label}”无法识别：{_expected(spec, p.field)}。")
    seen: dict[str, list[Entry]] = defaultdict(list)
    for e in register.entries:
        if e.no:
            seen[e.no].append(e)
    for no, rows in seen.items():
        if len(rows) > 1:
            yield _finding("reg-duplicate-no", Severity.ERROR, register, rows[1], "no",
                           f"编号 {no} 出现了 {len(rows)} 次（第 "
                           + "、".join(str(e.row) for e in rows) + " 行）；每件申请只登记一行。")


def _expected(spec: RegisterSpec, field_id: str) -> str:
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
        yield Finding(
            code="reg-calendar-unknown", severity=Severity.WARNING, sheet=register.sheet,
            message=f"{register.spec.sheet}：已安装的节假日数据（chinesecalendar）只包括 {first}–{last} 年，"
                    f"没有 {missing_year} 年的放假和调休安排，{n} 件申请的答复、补正期限未核对（不作推测）。"
                    "国务院公布该年放假安排后，请升级 chinesecalendar（pip install -U chinesecalendar）再校验。")


def _status(register: Register, e: Entry) -> Iterator[Finding]:
    carried = "carried" in e.flags
    result = "result" in e.codes
    if carried and (result or e.date("replied")):
        yield _finding("reg-carried-with-result", Severity.ERROR, register, e, "carried",
                       f"{row_name(e)}标记为结转下年度，但又填写了办理结果或答复日期；"
                       "已办结的不结转，未办结的请清空办理结果和答复日期。")
    elif not carried and not result and not any(p.row == e.row and p.field == "result"
                                                for p in register.problems):
        yield _finding("reg-unfinished", Severity.ERROR, register, e, "result",
                       f"{row_name(e)}没有办理结果，也没有标记结转下年度。年底尚未办结的申请，"
                       "请在“是否结转下年度”中选“是”。")
    if result and not carried and not e.date("replied"):
        yield _finding("reg-field-missing", Severity.ERROR, register, e, "replied",
                       f"{row_name(e)}有办理结果，但未填写“答复日期”。")


def _dates(register: Register, e: Entry, year: int) -> Iterator[Finding]:
    received = e.date("received")
    if received is not None:
        carried_in = e.codes.get("source") == "carried"
        want = year - 1 if carried_in else year
        if received.year != want:
            what = "上年结转的申请应是上年收到的" if carried_in else "本年新收的申请应是本年收到的"
            yield _finding("reg-date-outside-year", Severity.ERROR, register, e, "received",
                           f"{row_name(e)}收到日期为 {received}，{what}（{want} 年）。",
                           expected=want, actual=str(received))
    replied = e.date("replied")
    if replied is not None and replied.year != year:
        yield _finding("reg-date-outside-year", Severity.ERROR, register, e, "replied",
                       f"{row_name(e)}答复日期为 {replied}，不在报告年度 {year} 年内；"
                       "年底未答复的申请应标记结转下年度。", expected=year, actual=str(replied))
    order = (("received", "correction"), ("correction", "corrected"), ("received", "consult"),
             ("consult", "consult_reply"), ("received", "replied"))
    for before, after in order:
        a, b = e.date(before), e.date(after)
        if a is not None and b is not None and b < a:
            fa, fb = register.spec.field(before), register.spec.field(after)
            yield _finding("reg-date-order", Severity.ERROR, register, e, after,
                           f"{row_name(e)}“{fb.label}” {b} 早于“{fa.label}” {a}。")


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
            yield _finding("reg-correction-late", Severity.WARNING, register, e, "correction",
                           f"{row_name(e)}补正通知日期 {correction} 晚于收到申请后 {CORRECTION_DAYS} 个工作日"
                           f"（应不晚于 {due}，晚 {workdays_between(due, correction)} 个工作日）。"
                           "条例第三十条：申请内容不明确的，应自收到申请之日起7个工作日内一次性告知补正。",
                           expected=str(due), actual=str(correction))
    consult, back = e.date("consult"), e.date("consult_reply")
    if consult is not None and back is not None:
        due = add_workdays(consult, THIRD_PARTY_DAYS)
        if back > due:
            yield _finding("reg-third-party-late", Severity.WARNING, register, e, "consult_reply",
                           f"{row_name(e)}第三方意见 {back} 才收到，超过征求意见后 {THIRD_PARTY_DAYS} 个工作日"
                           f"（{due}）；超出的时间计入答复期限。条例第三十二条：第三方逾期未提出意见的，"
                           "由行政机关依照条例决定是否公开。", expected=str(due), actual=str(back))
    due_reply = reply_deadline(e)
    if due_reply is None:
        return
    replied = e.date("replied")
    limit = REPLY_DAYS + (EXTENSION_DAYS if "extended" in e.flags else 0)
    rule = f"{limit} 个工作日" + ("（已延期）" if "extended" in e.flags else "")
    if replied is not None and replied > due_reply:
        yield _finding("reg-reply-late", Severity.WARNING, register, e, "replied",
                       f"{row_name(e)}答复日期 {replied} 超过答复期限 {due_reply}（{rule}，"
                       f"晚 {workdays_between(due_reply, replied)} 个工作日）。条例第三十三条："
                       "应自收到申请之日起20个工作日内答复，延长不超过20个工作日。",
                       expected=str(due_reply), actual=str(replied))
    year_end = dt.date(year, 12, 31)
    if replied is None and "carried" in e.flags and due_reply < year_end:
        yield _finding("reg-reply-late", Severity.WARNING, register, e, "carried",
                       f"{row_name(e)}结转下年度，但答复期限 {due_reply}（{rule}）在年底前已经届满，"
                       "年底时已逾期未答复。", expected=str(due_reply))


def case_findings(register: Register, applications: Register | None) -> Iterator[Finding]:
    """Field problems and duplicates; a 关联申请编号 that the register does not have."""
    yield from field_findings(register)
    if applications is None:
        return
    known = {e.no for e in applications.entries}
    for e in register.entries:
        linked = _linked(register, e)
        if linked and linked not in known:
            yield _finding("reg-case-unknown-application", Severity.WARNING, register, e,
                           "application", f"{row_name(e)}关联的申请编号 {linked} 不在"
                           f"“{applications.spec.sheet}”中，请核对。")


def _linked(register: Register, e: Entry) -> str:
    return e.texts.get("application", "")


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
        if entries:
            rows = f"台账中计入此格的是{row_list(entries)}。"
        else:
            rows = "台账中没有计入此格的申请。"
        hint = ("表中多出的件数在台账中没有登记，请补登或改正表中数字。" if claim > n else
                "请核对上述各行的申请人类型、来源、办理结果或结转标记。")
        yield Finding(
            code="reg-count-mismatch", severity=Severity.ERROR, sheet=sheet, cell=cell, key=key,
            expected=n, actual=claim,
            message=f"“{labels[key]}”表中为 {claim}，按“{register.spec.sheet}”统计为 {n}"
                    f"（差 {claim - n}）。{rows}{hint}")
