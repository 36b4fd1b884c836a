"""The status board for people: a text table, status.xlsx, status.html, feedback texts, 催报名单."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import PatternFill

from nianbao.annotate import annotate_board
from nianbao.atomic import atomic_write, write_if_changed, write_text
from nianbao.config import DATE_KEYS
from nianbao.indicator_output import add_indicator_sheets, board_indicators, indicators_html_parts
from nianbao.indicators import Indicators
from nianbao.kinds import rule_name
from nianbao.model import FileReport, Finding, Severity, Submission
from nianbao.pool import alongside
from nianbao.safetext import clean, path_text
from nianbao.settings import DEFAULT_SETTINGS, Settings
from nianbao.sheetprint import SHEET_ROWS, TableSheet, rows_left_out
from nianbao.status import Board, State, UnitStatus, display
from nianbao.streambook import write_only_workbook
from nianbao.workspace import safe_name

STATE_COLOURS = {State.MISSING: "F4CCCC", State.BLANK: "F4CCCC", State.UNREADABLE: "EA9999",
                 State.CONFLICT: "EA9999", State.ERRORS: "F9CB9C",
                 State.WARNINGS: "FFF2CC", State.PASSED: "D9EAD3", State.BUILT: "B6D7A8"}
_STATE_FILLS = {state: PatternFill("solid", fgColor=colour)
                for state, colour in STATE_COLOURS.items()}
FEEDBACK_FOLDER = "feedback"
REMINDER_FILE = "催报名单.txt"


def where_text(finding: Finding) -> str:
    """``表三 依申请公开 D12`` for a cell, the sheet alone, or '' for a file-level finding."""
    if finding.sheet and finding.cell:
        return f"{finding.sheet} {finding.cell}"
    return finding.sheet or ""


# ------------------------------------------------------------------------- text

def status_text(board: Board, base: Path | None = None) -> str:
    """One line per unit, then the totals and the files that need a decision."""
    lines = []
    width = max((len(s.unit.name) for s in board.units), default=0)
    for s in board.units:
        file = display(s.match.file, base) if s.match else ""
        name = s.unit.name + "　" * (width - len(s.unit.name))
        lines.append(f"{s.unit.code}  {name}  {s.label}  {file}".rstrip())
        lines += [f"    注意：{note}" for note in s.notes]
    lines.append(board.totals_line())
    lines += problem_lines(board, base)
    return "\n".join(lines) + "\n"


def problem_lines(board: Board, base: Path | None = None) -> list[str]:
    """Files no unit claimed, and how to pin them."""
    m = board.matching
    lines: list[str] = []
    for x in m.unmatched:
        maybe = "，可能是：" + "、".join(u.name for u in x.candidates) if x.candidates else ""
        lines.append(f"未识别：{display(x.file, base)}{maybe}")
    for x in m.unmatched:
        if x.report.errors and x.report.submission is None:
            lines.append(f"    无法读取：{x.report.errors[0].message}")
    for x in m.off_roster:
        lines.append(f"名单外：{display(x.file, base)}：{x.off_roster}")
    for x in m.conflicts:
        lines.append(f"归属冲突：{display(x.file, base)}：{x.conflict}")
    for pin in m.unused_pins:
        lines.append(f"[pins] 中的“{clean(pin)}”没有对应的文件（请检查文件名或路径）。")
    if m.unmatched or m.off_roster:
        lines.append("如需把文件指定给某个单位，请在 nianbao.toml 的 [pins] 中加一行："
                     "\"文件名.xlsx\" = \"单位编码\"。")
    return lines


# ------------------------------------------------------------------------- xlsx

def write_status_xlsx(board: Board, path: Path, base: Path | None = None,
                      indicators: Indicators | None = None) -> Path:
    """status.xlsx: 各单位状态 (one row per unit), 问题明细 (every finding), 未识别文件,
    and the reviewer indicators with their charts (:mod:`nianbao.indicator_output`).

    Written row by row through a write-only workbook: memory does not grow with the season.
    """
    with write_only_workbook() as wb:
        _status_sheets(wb, board, base, indicators)
        with atomic_write(path) as tmp:
            wb.save(tmp)
    return path


def _status_sheets(wb: Workbook, board: Board, base: Path | None,
                   indicators: Indicators | None) -> None:
    year = f"{board.year}年度" if board.year else ""
    made = board.made.strftime("%Y-%m-%d %H:%M")

    def title(sheet: str) -> str:
        return f"{year}政府信息公开工作年度报告报送情况：{sheet}（{made}）"

    units = TableSheet(wb.create_sheet("各单位状态"), (10, 24, 8, 16, 28, 16, 7, 7, 10, 36))
    units.head(["单位编码", "单位名称", "层级", "状态", "报送文件", "收到时间", "错误数", "警告数",
                "识别方式", "备注"])
    for s in board.units:
        units.row([s.unit.code, s.unit.name, s.unit.level, s.label,
                   display(s.match.file, base) if s.match else "",
                   s.received, s.errors, s.warnings, s.match.how.zh if s.match else "",
                   "\n".join(s.notes)],
                  fills={4: _STATE_FILLS[s.state]},
                  formats={6: "yyyy-mm-dd hh:mm"} if s.received else None)
    units.line()
    units.line([board.totals_line()])  # below the table, unboxed
    units.close(title("各单位状态"))

    detail = TableSheet(wb.create_sheet("问题明细"), (10, 22, 26, 14, 7, 18, 6, 60))
    detail.head(["单位编码", "单位名称", "文件", "工作表", "单元格", "规则代码", "级别", "说明"])
    shown, total = 0, sum(len(r.findings) for _, r in _reports(board))
    for unit_status, report, f in ((s, r, f) for s, r in _reports(board) for f in r.findings):
        if shown == SHEET_ROWS - 2 and total > shown:  # a province's season
            detail.line(rows_left_out(total, shown, "各单位的修改意见（feedback 文件夹）"))
            break
        shown += 1
        detail.row([unit_status.unit.code if unit_status else "",
                    unit_status.unit.name if unit_status else "",
                    display(report.file, base), f.sheet or "", f.cell or "", f.code,
                    f.severity.zh, f.message])
    detail.close(title("问题明细"))

    files = TableSheet(wb.create_sheet("未识别文件"), (40, 8, 80))
    files.head(["文件", "类别", "说明"])
    m = board.matching
    for x in m.unmatched:
        files.row([display(x.file, base), "未识别",
                   "可能是：" + "、".join(u.name for u in x.candidates) if x.candidates else ""])
    for x in m.off_roster:
        files.row([display(x.file, base), "名单外", x.off_roster])
    for x in m.conflicts:
        files.row([display(x.file, base), "冲突", x.conflict])
    files.close(title("未识别文件"))
    if indicators is not None:
        add_indicator_sheets(wb, indicators)


def _reports(board: Board) -> Iterable[tuple[UnitStatus | None, FileReport]]:
    for s in board.units:
        if s.report is not None:
            yield s, s.report
    for x in (*board.matching.unmatched, *board.matching.off_roster):
        yield None, x.report


# ------------------------------------------------------------------------- html

_CSS = """
body{font-family:"Microsoft YaHei","PingFang SC","Noto Sans CJK SC",sans-serif;margin:1em auto;
max-width:76em;padding:0 .8em;color:#222;line-height:1.5;overflow-wrap:anywhere}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.4em}
table{border-collapse:collapse;margin:.6em 0;width:100%}
th,td{border:1px solid #999;padding:.3em .5em;vertical-align:top;font-size:14px;text-align:left}
th{background:#ddebf7}.n{text-align:right}
.deadline{font-size:1.1em;font-weight:bold}.late{color:#c00000}
.counts{display:flex;flex-wrap:wrap;gap:.4em;padding:0;list-style:none}
.counts li{padding:.2em .6em;border:1px solid #999;border-radius:3px}
ul.problems{margin:.2em 0;padding-left:1.2em}ul.problems li{margin:.15em 0}
.sev{font-weight:bold}.e{color:#c00000}.w{color:#9c6500}
.rule{color:#555;font-size:12px}.rule code{font-size:11px;color:#888;margin-left:.3em}
.nowrap{white-space:nowrap}.name{min-width:7em}.state{min-width:6.5em}
.file{min-width:12em;max-width:18em}
.note{color:#555;font-size:13px}
@media (max-width:700px){
 table.list,table.list tbody,table.list tr,table.list td{display:block;width:auto}
 table.list tr.head{display:none}
 table.list tr{border:1px solid #999;margin:.6em 0}
 table.list td{border:none;padding:.15em .5em}
 table.list td[data-label]::before{content:attr(data-label) "：";color:#666}
 table.list td:empty{display:none}
 .file,.name,.state{min-width:0;max-width:none}
}
""" + "".join(f".s{i}{{background:#{c}}}" for i, c in enumerate(STATE_COLOURS.values()))
NOT_IN = (State.MISSING, State.BLANK)  # units still to chase (催报)


def deadline_lines(board: Board, today: dt.date) -> list[str]:
    """The dates of the cycle, then how many days are left before the deadline (or past it)."""
    lines = [f"{label}：{board.dates[key].isoformat()}" for key, label in DATE_KEYS.items()
             if key in board.dates]
    deadline = board.dates.get("deadline")
    if deadline is not None:
        days = (deadline - today).days
        lines.append(f"距报送截止还有 {days} 天。" if days >= 0 else f"已超过报送截止 {-days} 天。")
    return lines


def status_html_parts(board: Board, base: Path | None = None,
                      indicators: Indicators | None = None,
                      today: dt.date | None = None) -> Iterator[str]:
    """status.html in pieces (a row a unit), to be written as they come: a self-contained
    page (inline CSS, no scripts) that reads on a phone: the deadline, counts, who has not
    reported (with contacts), every unit with its problems, loose files."""
    e = html.escape
    title = f"{board.year or ''}年度政府信息公开工作年度报告 报送情况"
    yield ('<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
           '<meta name="viewport" content="width=device-width, initial-scale=1">'
           f"<title>{e(title)}</title><style>{_CSS}</style></head><body>\n")
    yield f"<h1>{e(title)}</h1>\n"
    yield _deadline_html(board, today or board.made.date()) + "\n"
    yield (f"<p>统计时间：{e(board.made.strftime('%Y-%m-%d %H:%M'))}。"
           f"{e(board.totals_line())}</p>\n")
    yield _counts_html(board) + "\n"
    yield _missing_html(board) + "\n"
    yield from _units_html(board, base)
    yield "\n"
    loose = problem_lines(board, base)
    if loose:
        yield ("<h2>需要处理的文件</h2><ul>" + "".join(f"<li>{e(x)}</li>" for x in loose)
               + "</ul>\n")
    if indicators is not None:
        yield from indicators_html_parts(indicators)
        yield "\n"
    yield "</body></html>\n"


def _deadline_html(board: Board, today: dt.date) -> str:
    """The deadline and the days left in large type, then the other dates of the cycle."""
    lines = deadline_lines(board, today)
    deadline = board.dates.get("deadline")
    if deadline is None:
        return f"<p>{html.escape('；'.join(lines))}</p>" if lines else ""
    left = lines.pop()
    lines = [x for x in lines if not x.startswith(DATE_KEYS["deadline"])]
    late = " late" if deadline < today else ""
    return (f'<p class="deadline{late}">报送截止：{deadline.isoformat()}，{html.escape(left)}</p>'
            + (f"<p>{html.escape('；'.join(lines))}</p>" if lines else ""))


def _counts_html(board: Board) -> str:
    states = list(State)
    return '<ul class="counts">' + "".join(
        f'<li class="s{states.index(st)}">{html.escape(str(st))} <b>{n}</b></li>'
        for st, n in board.counts().items()) + "</ul>"


def _missing_html(board: Board) -> str:
    """Who has not reported yet (or sent a blank form), with the roster's contacts."""
    e = html.escape
    missing = [s for s in board.units if s.state in NOT_IN]
    if not missing:
        return ""
    rows = []
    for s in missing:
        phone = (f'<a href="tel:{e(s.unit.phone.replace(" ", ""))}">{e(s.unit.phone)}</a>'
                 if s.unit.phone else "")
        rows.append(f'<tr><td data-label="单位">{e(s.unit.name)}'
                    f'{"（交回空表）" if s.state is State.BLANK else ""}</td>'
                    f'<td data-label="联系人">{e(s.unit.contact)}</td>'
                    f'<td data-label="联系电话">{phone}</td></tr>')
    return (f"<h2>尚未报送的单位（{len(missing)} 个）</h2>"
            '<table class="list"><tr class="head"><th>单位</th><th>联系人</th><th>联系电话</th></tr>'
            + "".join(rows) + "</table>")


def _units_html(board: Board, base: Path | None) -> Iterator[str]:
    e = html.escape
    states = list(State)
    yield ('<h2>各单位状态</h2><table class="list"><tr class="head"><th class="nowrap">单位编码</th>'
            '<th>单位名称</th><th>状态</th><th>报送文件</th><th class="nowrap">收到时间</th>'
            "<th>问题</th></tr>")
    for s in board.units:
        file = (f'<span title="{e(display(s.match.file, base))}">'
                f"{e(path_text(s.match.file.name))}</span>" if s.match else "")
        received = e(s.received.strftime("%m-%d %H:%M")) if s.received else ""
        notes = "".join(f'<div class="note">注意：{e(n)}</div>' for n in s.notes)
        yield (f'<tr><td data-label="编码" class="nowrap">{e(s.unit.code)}</td>'
               f'<td data-label="单位" class="name">{e(s.unit.name)}</td>'
               f'<td data-label="状态" class="state s{states.index(s.state)}">{e(s.label)}</td>'
               f'<td data-label="文件" class="file">{file}</td>'
               f'<td data-label="收到" class="nowrap">{received}</td>'
               f'<td data-label="问题">{_problems_html(s)}{notes}</td></tr>')
    yield "</table>"


def _problems_html(status: UnitStatus) -> str:
    """Every finding of the unit's file: open when it has errors, folded when only warnings."""
    report = status.report
    if report is None or not report.findings:
        return ""
    e = html.escape
    items = "".join(
        f'<li><span class="sev {"e" if f.severity is Severity.ERROR else "w"}">{e(f.severity.zh)}'
        f"</span> {e(where_text(f))}{'：' if where_text(f) else ''}{e(f.message)} "
        f'<span class="rule">{e(rule_name(f.code))}<code>{e(f.code)}</code></span></li>'
        for f in report.findings)
    listed = f'<ul class="problems">{items}</ul>'
    if report.errors:
        return listed
    return f"<details><summary>{len(report.warnings)} 条警告</summary>{listed}</details>"


def write_status_html(board: Board, path: Path, base: Path | None = None,
                      indicators: Indicators | None = None) -> Path:
    """status.html, written piece by piece (50,000 units make a page of 150 MB)."""
    with atomic_write(path) as tmp, tmp.open("w", encoding="utf-8") as out:
        out.writelines(status_html_parts(board, base, indicators))
    return path


# --------------------------------------------------------------- feedback, 催报

def feedback_text(status: UnitStatus, year: int | None = None, link: str = "") -> str:
    """What to tell one unit, in plain Chinese, ready to paste into email or WeChat.

    ``link``: the unit's own 网上报送 link (``nianbao serve``), added at the end.
    """
    text = _feedback_body(status, year)
    return text + (f"网上报送链接（本单位专用，请勿转发）：{link}\n" if link else "")


def _feedback_body(status: UnitStatus, year: int | None) -> str:
    name = status.unit.name
    what = f"{year}年度政府信息公开工作年度报告填报表" if year else "政府信息公开工作年度报告填报表"
    report = status.report
    if status.match is None or report is None:
        return (f"{name}：\n尚未收到贵单位的{what}，请尽快填写下发的填报表并报送。\n")
    received = status.received.strftime("%Y-%m-%d %H:%M") if status.received else "近日"
    head = f"{name}：\n贵单位报送的《{path_text(status.match.file.name)}》（{received} 收到）"
    if status.state is State.BLANK:
        return (f"{head}是未填写的空表（没有填写任何数字和报告文字），无法生成报告。\n"
                "请在下发的填报表中填写后重新报送；确实没有数据的栏目请填 0。\n")
    if status.state is State.CONFLICT:
        return (f"{head}中的单位信息不一致（表内隐藏的单位编码、单位全称或文件名指向不同单位），"
                "暂未计入。\n请确认使用的是下发给贵单位的填报表，并填写本单位全称后重新报送。\n")
    if status.state is State.UNREADABLE:
        reasons = "\n".join(f"{i}. {f.message}" for i, f in enumerate(report.errors, 1))
        return f"{head}无法读取：\n{reasons}\n请处理后重新报送。\n"
    errors, warnings = report.errors, report.warnings
    if not errors and not warnings:
        return f"{head}已通过校验，无需修改。谢谢！\n"
    lines = [head + "经校验，" + (f"有 {len(errors)} 处错误需要修改" if errors else "没有错误")
             + (f"，{len(warnings)} 处提示请核实" if warnings else "") + "："]
    if errors:
        lines += ["", "一、需要修改："]
        lines += [_item(i, f) for i, f in enumerate(errors, 1)]
    if warnings:
        lines += ["", ("二、" if errors else "一、") + "请核实（确认无误的可不修改）："]
        lines += [_item(i, f) for i, f in enumerate(warnings, 1)]
    lines += ["", "请在原填报表上修改后重新报送完整的文件（不要只发修改的部分，"
                  "不要更改文件格式）。" if errors else "如无问题，无需重新报送。"]
    return "\n".join(lines) + "\n"


def _item(i: int, finding: Finding) -> str:
    where = where_text(finding)
    return f"{i}. " + (f"【{where}】" if where else "") + finding.message


def feedback_name(status: UnitStatus) -> str:
    return safe_name(f"{status.unit.code}_{status.unit.name}", ".txt")


def write_feedback(board: Board, folder: Path,
                   links: Mapping[str, str] | None = None) -> list[Path]:
    """One feedback text per unit in ``folder`` (every unit, so the folder is never stale)."""
    written = []
    for status in board.units:
        path = folder / feedback_name(status)
        write_if_changed(path, feedback_text(status, board.year,
                                             (links or {}).get(status.unit.code, "")))
        written.append(path)
    return written


def reminder_text(board: Board, today: dt.date | None = None,
                  links: Mapping[str, str] | None = None) -> str:
    """催报名单: the units that have not reported (or sent back a blank form), with contacts."""
    today = today or board.made.date()
    missing = tuple(s for s in board.units if s.state in NOT_IN)
    deadline = board.dates.get("deadline")
    lines = [f"{board.year or ''}年度政府信息公开工作年度报告 催报名单（{today.isoformat()}）",
             *deadline_lines(board, today)]
    if not missing:
        lines.append("所有单位均已报送。")
        return "\n".join(lines) + "\n"
    lines.append(f"未报送（含交回空表）单位共 {len(missing)} 个：")
    for i, s in enumerate(missing, 1):
        contact = "，".join(x for x in (s.unit.contact, s.unit.phone) if x)
        blank = "【交回的是空表】" if s.state is State.BLANK else ""
        lines.append(f"{i}. {s.unit.code} {s.unit.name}{blank}" + (f"（{contact}）" if contact else ""))
        if links and s.unit.code in links:
            lines.append(f"   网上报送链接：{links[s.unit.code]}")
    when = (f"于 {deadline.month}月{deadline.day}日前" if deadline and deadline >= today
            else "尽快")
    lines += ["", "通知参考文字：",
              f"请尚未报送{board.year or ''}年度政府信息公开工作年度报告填报表的单位{when}"
              "填写下发的填报表（.xlsx）并报送，逾期将予以通报。谢谢配合！"]
    return "\n".join(lines) + "\n"


def write_status_outputs(board: Board, outputs: Path, base: Path | None = None,
                         links: Mapping[str, str] | None = None,
                         history: Iterable[Submission] = (),
                         settings: Settings = DEFAULT_SETTINGS,
                         jobs: int | None = None) -> dict[str, Path]:
    """status.xlsx, status.html, feedback/*.txt and 催报名单.txt under ``outputs``.

    ``links``: unit code -> its 网上报送 link, added to the feedback texts and 催报名单.
    ``history``: the archived years (:func:`nianbao.archive.history_for`) for the indicators.
    """
    indicators = board_indicators(board, history, settings=settings)
    # {编码}_{单位}_批注.xlsx beside each text, made in ``jobs`` worker processes (when many)
    # while this process writes the rest: a thread here only hands out the work
    with alongside(lambda stop: annotate_board(board, outputs / FEEDBACK_FOLDER, jobs=jobs,
                                               stop=stop)) as annotated:
        paths = {"xlsx": write_status_xlsx(board, outputs / "status.xlsx", base, indicators),
                 "html": write_status_html(board, outputs / "status.html", base, indicators)}
        write_feedback(board, outputs / FEEDBACK_FOLDER, links)
        annotated()
    paths["feedback"] = outputs / FEEDBACK_FOLDER
    reminder = outputs / REMINDER_FILE
    write_text(reminder, reminder_text(board, links=links))
    paths["reminder"] = reminder
    return paths
