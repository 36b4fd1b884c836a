"""The reviewer indicators for people: sheets and native charts in a workbook, a page section with SVG.

:func:`add_indicator_sheets` adds 指标分析, 同比变化, 指标提示 and 指标图表 (a line chart
of each unit's 本年新收 over the archived years and a bar chart of 实质公开率 by unit,
drawn by Excel/WPS/LibreOffice from the cells) to status.xlsx and the 汇总 workbook;
:func:`indicators_html_parts` is the same for status.html, with inline SVG (no script).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.chart.text import RichText
from openpyxl.drawing.text import CharacterProperties, Paragraph, ParagraphProperties
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from nianbao.indicators import (
    Indicators,
    Rate,
    Subject,
    UnitIndicators,
    change_text,
    compute,
    percent_text,
)
from nianbao.model import Submission
from nianbao.schema import DEFAULT_FORMAT, FormatSpec
from nianbao.settings import DEFAULT_SETTINGS, Settings
from nianbao.sheetprint import SHEET_ROWS, TableSheet, rows_left_out
from nianbao.status import Board

SHEETS = ("指标分析", "同比变化", "指标提示", "指标图表")
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_WARN_FILL = PatternFill("solid", fgColor="FFF2CC")
_FONT = "Noto Sans CJK SC"
_PALETTE = ("1F77B4", "FF7F0E", "2CA02C", "D62728", "9467BD", "8C564B", "E377C2", "7F7F7F",
            "BCBD22", "17BECF")


def board_indicators(board: Board, history: Iterable[Submission], *,
                     settings: Settings = DEFAULT_SETTINGS, total_name: str = "全部单位合计",
                     spec: FormatSpec = DEFAULT_FORMAT) -> Indicators | None:
    """The indicators of every unit on the board with readable values (None: no year, no unit).

    The total row sums the units whose report is free of errors, the units the 汇总
    takes: a unit with an unreadable or negative count would otherwise leave that
    column of the total blank; its name says how many units it leaves out.
    """
    subjects = [Subject(code=s.unit.code, name=s.unit.name, level=s.unit.level,
                        names=s.unit.names, submission=s.report.submission)
                for s in board.units if s.report is not None and s.report.submission is not None]
    if board.year is None or not subjects:
        return None
    valid = {s.unit.code for s in board.units if s.report is not None and s.report.valid}
    left_out = sum(1 for s in subjects if s.code not in valid)
    if left_out:
        total_name = f"{total_name}（不含有错误的 {left_out} 个单位）"
    return compute(subjects, history, year=board.year, total_name=total_name,
                   settings=settings, spec=spec, in_total=valid)


# ------------------------------------------------------------------ xlsx

def _rate_cell(rate: Rate) -> float | str:
    value = rate.value
    return "—" if value is None else float(value)


MAIN_HEAD = ("单位编码", "单位名称", "层级", "本年新收", "上年新收", "同比", "予以公开和部分公开",
             "办理结果总计", "实质公开率", "行政复议已审结", "复议结果纠正", "行政复议纠错率",
             "行政诉讼已审结", "诉讼结果纠正", "行政诉讼纠错率", "指标提示")
_RATE_COLUMNS = (9, 12, 15)


def _main_row(u: UnitIndicators) -> list[object]:
    return [u.code, u.name, u.level, u.new.now, u.new.before, change_text(u.new),
            u.disclosure.part, u.disclosure.whole, _rate_cell(u.disclosure),
            u.review.whole, u.review.part, _rate_cell(u.review),
            u.litigation.whole, u.litigation.part, _rate_cell(u.litigation), len(u.findings)]


def add_indicator_sheets(wb: Workbook, ind: Indicators) -> None:
    """指标分析 (one row per unit, then the 汇总), 同比变化, 指标提示, 指标图表 (two native charts).

    Row by row (:class:`~nianbao.sheetprint.TableSheet`): ``wb`` may be write-only.
    """
    def title(sheet: str) -> str:
        return f"{ind.year}年度 {sheet}"

    main = TableSheet(wb.create_sheet(SHEETS[0]),
                      (12, 30, 12, 9, 9, 12, 10, 10, 10, 10, 10, 10, 10, 10, 10, 8), freeze="C3")
    main.line([f"{ind.year}年度 指标分析：实质公开率 =（予以公开＋部分公开）÷ 办理结果总计；"
               "纠错率 = 结果纠正 ÷ 已审结（总计－尚未审结）；分母为 0 时为“—”"])
    main.head(list(MAIN_HEAD))
    rates = {column: "0.0%" for column in _RATE_COLUMNS}
    flagged = {len(MAIN_HEAD): _WARN_FILL}
    last = len(ind.everyone)
    for i, u in enumerate(ind.everyone, 1):
        main.plain(_main_row(u), formats=rates, fills=flagged if u.findings else None,
                   font=_BOLD if i == last else None)  # the last row: the 汇总
    main.close(title(SHEETS[0]), auto_filter=False)

    yoy = TableSheet(wb.create_sheet(SHEETS[1]), (12, 30, 36, 10, 10, 12, 8))
    yoy.head(["单位编码", "单位名称", "项目", f"{ind.year}年", f"{ind.year - 1}年", "同比", "倍数"])
    # a unit with no archived last year has nothing to compare: 23 rows of "—" each
    compared = [u for u in ind.everyone if u.has_last_year]
    alone = len(ind.everyone) - len(compared)
    room = SHEET_ROWS - 2 - (1 if alone else 0)  # the heading, the cut line, the note
    shown, total = 0, sum(len(u.measures) for u in compared)
    for c, u in ((change, unit) for unit in compared for change in unit.changes):
        if shown == room and total > shown:  # a province's season: a row a measure
            yoy.line(rows_left_out(total, shown, "各单位的状态页面（status.html）"))
            break
        shown += 1
        ratio = c.ratio
        yoy.plain([u.code, u.name, c.measure.label, c.now, c.before, change_text(c),
                   float(ratio) if ratio is not None else "—"], formats=_RATIO)
    if alone:
        yoy.line([f"另有 {alone} 个单位没有上年数据（归档中没有），不列出。"
                  if compared else "各单位都没有上年数据（归档中没有），无法比较。"])
    yoy.close(title(SHEETS[1]))

    notes = TableSheet(wb.create_sheet(SHEETS[2]), (12, 30, 22, 110))
    notes.head(["单位编码", "单位名称", "规则代码", "说明"])
    for i, (u, f) in enumerate(ind.findings):
        if i == SHEET_ROWS - 2 and len(ind.findings) > i:
            notes.line(rows_left_out(len(ind.findings), i, "各单位的状态页面（status.html）"))
            break
        notes.plain([u.code, u.name, f.code, f.message])
    if not ind.findings:
        notes.plain(["", "", "", "没有需要提示的变化。"])
    notes.close(title(SHEETS[2]), auto_filter=False)
    _charts(wb.create_sheet(SHEETS[3]), ind)


_BOLD = Font(bold=True)
_RATIO = {7: "0.00"}
_PERCENT = {2: "0.0%"}


LINE_MAX_UNITS = 10  # more units than this: 本年新收 over the years as grouped bars, not lines
_ROW_CM = 0.5  # a default row is about 0.53 cm high


def _small_text(size: int = 800) -> RichText:
    props = CharacterProperties(sz=size)
    return RichText(p=[Paragraph(pPr=ParagraphProperties(defRPr=props), endParaRPr=props)])


def _charts(ws: Worksheet | WriteOnlyWorksheet, ind: Indicators) -> None:
    """The two charts on top, the cells they are drawn from below them (the charts stay live).

    Each chart is at most one portrait page high; they share a page when both fit.
    """
    years, units = ind.years, ind.units
    rated = _by_rate(units)
    lines = len(units) <= LINE_MAX_UNITS
    trend_height = 9.0 if lines else min(24.0, max(9.0, 0.5 * len(units) + 3))
    bar_height = min(24.0, max(7.0, 0.5 * len(rated) + 3))
    bar_row = int(trend_height / _ROW_CM) + 2
    first = bar_row + int(bar_height / _ROW_CM) + 3  # first row of the data, below both charts
    sheet = TableSheet(ws, (30,), freeze=None, landscape=False)
    for _ in range(first - 1):  # the charts' place
        sheet.line()
    sheet.line(["各单位历年本年新收申请数（件）"], font=_BOLD)
    sheet.line(["单位", *(f"{year}年" for year in years)])
    for u in units:
        sheet.line([u.name, *(u.history.get(year) for year in years)])
    last_trend = first + 1 + len(units)
    data = Reference(ws, min_col=1 if lines else 2, max_col=1 + len(years),
                     min_row=first + 2 if lines else first + 1, max_row=max(last_trend, first + 2))
    trend: LineChart | BarChart
    if lines:  # one line per unit over the years
        trend = LineChart()
        trend.add_data(data, from_rows=True, titles_from_data=True)
        trend.set_categories(Reference(ws, min_col=2, max_col=1 + len(years), min_row=first + 1,
                                       max_row=first + 1))
        for i, series in enumerate(trend.series):
            series.graphicalProperties.line.solidFill = _PALETTE[i % len(_PALETTE)]
            series.graphicalProperties.line.width = 22000
            series.marker.symbol = "circle"
            series.smooth = False
        trend.x_axis.title = "年度"
    else:  # many units: a bar per year for each unit, the years in the legend
        trend = BarChart()
        trend.type = "bar"
        trend.add_data(data, titles_from_data=True)
        trend.set_categories(Reference(ws, min_col=1, min_row=first + 2, max_row=last_trend))
        for i, series in enumerate(trend.series):
            series.graphicalProperties.solidFill = _PALETTE[i % len(_PALETTE)]
        trend.x_axis.scaling.orientation = "maxMin"
        trend.x_axis.txPr = _small_text()
        trend.x_axis.tickLblSkip = 1  # every unit named, not every other one
        trend.legend.position = "t"
    trend.title = "各单位历年本年新收申请数"
    trend.y_axis.title = "件"
    _axes(trend)
    trend.height, trend.width = trend_height, 17
    ws.add_chart(trend, "A1")

    start = last_trend + 2
    sheet.line()
    sheet.line([f"{ind.year}年各单位实质公开率（没有办理结果的单位不列）"], font=_BOLD)
    sheet.line(["单位", "实质公开率"])
    for u in rated:
        sheet.plain([u.name, float(u.disclosure.value or 0)], formats=_PERCENT)
    bar = BarChart()
    bar.type = "bar"
    bar.title = f"{ind.year}年各单位实质公开率"
    bar.legend = None
    if rated:
        bar.add_data(Reference(ws, min_col=2, min_row=start + 1, max_row=start + 1 + len(rated)),
                     titles_from_data=True)
        bar.set_categories(Reference(ws, min_col=1, min_row=start + 2,
                                     max_row=start + 1 + len(rated)))
        bar.series[0].graphicalProperties.solidFill = "4472C4"
        bar.dataLabels = DataLabelList(showVal=True, showSerName=False, showCatName=False,
                                       showLegendKey=False, showPercent=False, numFmt="0.0%",
                                       txPr=_small_text())
    bar.y_axis.number_format = "0%"
    bar.y_axis.scaling.min = 0
    bar.y_axis.scaling.max = 1
    bar.x_axis.scaling.orientation = "maxMin"  # first unit on top, like the table
    bar.x_axis.txPr = _small_text()
    bar.x_axis.tickLblSkip = 1
    _axes(bar)
    bar.height, bar.width = bar_height, 17
    ws.add_chart(bar, f"A{bar_row}")
    if trend_height + bar_height > 25:  # both do not fit on one portrait page
        ws.row_breaks.append(Break(id=bar_row - 1))
    ws.row_breaks.append(Break(id=first - 1))  # the data prints after the charts
    sheet.close(f"{ind.year}年度 {SHEETS[3]}", auto_filter=False, area=False)


def _axes(chart: LineChart | BarChart) -> None:
    chart.x_axis.delete = False  # openpyxl ≥ 3.1 hides axes unless told
    chart.y_axis.delete = False


def _by_rate(units: Iterable[UnitIndicators]) -> list[UnitIndicators]:
    """Units with a 实质公开率, highest first (ties in board order)."""
    rated = [u for u in units if u.disclosure.value is not None]
    return sorted(rated, key=lambda u: -(u.disclosure.value or Decimal(0)))


# ------------------------------------------------------------------ html

_CSS = """
.ind svg{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;max-width:100%}
.ind .warn{background:#fff2cc}.ind td.n{text-align:right}.ind .note{color:#555;font-size:13px}
"""


def indicators_html_parts(ind: Indicators) -> Iterator[str]:
    """A section of the status page: the 汇总 over the years, rates by unit, the table,
    warnings; in pieces (a row a unit) for a page written as they come: 50,000 units make
    a section of some 100 MB that is never held whole."""
    e = html.escape
    total = ind.total
    head = [f"<section class=\"ind\" id=\"indicators\"><style>{_CSS}</style>",
            f"<h2>指标分析（{ind.year}年度）</h2>",
            "<p class=\"note\">实质公开率 =（予以公开＋部分公开）÷ 办理结果总计；纠错率 = 结果纠正 ÷ 已审结"
            "（总计－尚未审结）；分母为 0 时显示“—”。历年数据取自归档。</p>",
            f"<p>{e(total.name)}：本年新收 {total.new.now if total.new.now is not None else '—'} 件"
            f"（{e(change_text(total.new))}），实质公开率 {e(percent_text(total.disclosure.value))}，"
            f"行政复议纠错率 {e(percent_text(total.review.value))}，"
            f"行政诉讼纠错率 {e(percent_text(total.litigation.value))}。</p>",
            "<div class=\"charts\">",
            line_svg([(total.name, total.history)], ind.years,
                     f"{total.name}历年本年新收申请数（件）"),
            *_rate_charts(_by_rate(ind.units), ind.year),
            "</div>",
            "<table><caption>各单位指标</caption><tr><th>单位</th>"
            f"<th>历年本年新收（{ind.years[0]}—{ind.years[-1]}年）</th><th>本年新收</th>"
            "<th>同比</th><th>实质公开率</th><th>行政复议纠错率</th><th>行政诉讼纠错率</th>"
            "<th>各项办理结果同比</th></tr>"]
    yield "\n".join(head) + "\n"
    for u in ind.everyone:
        changes = "".join(f"<li>{e(c.measure.label)}：{_n(c.now)}（上年 {_n(c.before)}，"
                          f"{e(change_text(c))}）</li>" for c in u.changes)
        warn = " class=\"warn\"" if u.findings else ""
        yield (
            f"<tr{warn}><td>{e(u.name)}</td>"
            f"<td>{line_svg([(u.name, u.history)], ind.years, '', small=True)}</td>"
            f"<td class=\"n\">{_n(u.new.now)}</td><td>{e(change_text(u.new))}</td>"
            f"<td class=\"n\">{e(percent_text(u.disclosure.value))}</td>"
            f"<td class=\"n\">{e(percent_text(u.review.value))}</td>"
            f"<td class=\"n\">{e(percent_text(u.litigation.value))}</td>"
            f"<td><details><summary>展开（{len(u.findings)} 条提示）</summary><ul>{changes}</ul>"
            f"</details></td></tr>\n")
    yield "</table>\n"
    if ind.findings:
        yield "<h3>指标提示</h3><ol>\n"
        for u, f in ind.findings:
            yield f"<li>{e(u.name)}：[{e(f.code)}] {e(f.message)}</li>\n"
        yield "</ol>\n"
    else:
        yield "<p>指标提示：没有需要提示的变化。</p>\n"
    yield "</section>"


BAR_MAX_UNITS = 40  # more units with a rate than this: their spread and the lowest, not all
LOWEST_SHOWN = 15


def _rate_charts(rated: Sequence[UnitIndicators], year: int) -> list[str]:
    """The 实质公开率 of each unit as a bar, or, for more than :data:`BAR_MAX_UNITS` units
    (a bar each would make a chart thousands of pixels tall), how many units fall in each
    tenth and the units with the lowest rates (those a reviewer asks about)."""
    if len(rated) <= BAR_MAX_UNITS:
        return [bar_svg([(u.name, u.disclosure.value) for u in rated], f"{year}年各单位实质公开率")]
    counts = [0] * 10
    for u in rated:
        counts[min(int((u.disclosure.value or Decimal(0)) * 10), 9)] += 1
    bands = [(f"{10 * i}%–{10 * (i + 1)}%", n) for i, n in enumerate(counts)]
    lowest = list(reversed(rated[-LOWEST_SHOWN:]))
    return [count_svg(bands, f"{year}年实质公开率分布（共 {len(rated)} 个单位）"),
            bar_svg([(u.name, u.disclosure.value) for u in lowest],
                    f"{year}年实质公开率最低的 {len(lowest)} 个单位")]


def count_svg(rows: Sequence[tuple[str, int]], title: str) -> str:
    """A horizontal bar chart of counts (how many units in each band) as inline SVG."""
    most = max((n for _, n in rows), default=0) or 1
    return _bars_svg([(label, label, n / most, f"{n} 个") for label, n in rows], title,
                     label_w=120, bar_w=300, right=80)


def _n(value: int | None) -> str:
    return "—" if value is None else str(value)


def _t(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def line_svg(series: Sequence[tuple[str, Mapping[int, int | None]]], years: Sequence[int],
             title: str, *, small: bool = False) -> str:
    """A line chart (one polyline per series over ``years``) as inline SVG."""
    e = html.escape
    width, height = (160, 40) if small else (520, 240)
    left, right, top, bottom = (4, 4, 6, 6) if small else (48, 16, 34, 36)
    peak = max([v for _, h in series for v in h.values() if v is not None] or [0]) or 1
    span = max(len(years) - 1, 1)

    def x(i: int) -> float:
        return left + (width - left - right) * (i / span if len(years) > 1 else 0.5)

    def y(v: int) -> float:
        return height - bottom - (height - top - bottom) * v / peak

    parts = [f"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" "
             f"viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{e(title or series[0][0])}\">"]
    if not small:
        parts.append(f"<text x=\"{width / 2}\" y=\"20\" text-anchor=\"middle\" font-size=\"15\">"
                     f"{e(title)}</text>")
        for frac in (0, 0.5, 1):
            gy = y(round(peak * frac))
            parts.append(f"<line x1=\"{left}\" x2=\"{width - right}\" y1=\"{_t(gy)}\" "
                         f"y2=\"{_t(gy)}\" stroke=\"#ddd\"/><text x=\"{left - 6}\" y=\"{_t(gy + 4)}\""
                         f" text-anchor=\"end\" font-size=\"12\">{round(peak * frac)}</text>")
        for i, year in enumerate(years):
            parts.append(f"<text x=\"{_t(x(i))}\" y=\"{height - 14}\" text-anchor=\"middle\" "
                         f"font-size=\"12\">{year}年</text>")
    for n, (name, history) in enumerate(series):
        colour = "#" + _PALETTE[n % len(_PALETTE)]
        points = [(x(i), y(v)) for i, yr in enumerate(years)
                  if (v := history.get(yr)) is not None]
        if len(points) > 1:
            parts.append("<polyline fill=\"none\" stroke=\"" + colour + "\" stroke-width=\"2\" "
                         "points=\"" + " ".join(f"{_t(a)},{_t(b)}" for a, b in points) + "\"/>")
        for (a, b), yr in zip(points, [yr for yr in years if history.get(yr) is not None],
                              strict=True):
            parts.append(f"<circle cx=\"{_t(a)}\" cy=\"{_t(b)}\" r=\"{2 if small else 3.5}\" "
                         f"fill=\"{colour}\"><title>{e(name)} {yr}年：{history.get(yr)} 件"
                         "</title></circle>")
    parts.append("</svg>")
    return "".join(parts)


def bar_svg(rows: Sequence[tuple[str, Decimal | None]], title: str) -> str:
    """A horizontal bar chart of rates (0–100%) as inline SVG."""
    return _bars_svg([(name, name if len(name) <= 14 else name[:13] + "…", float(value or 0),
                       percent_text(value)) for name, value in rows], title,
                     label_w=200, bar_w=280, right=70, empty="没有办理结果，无法计算。")


def _bars_svg(rows: Sequence[tuple[str, str, float, str]], title: str, *, label_w: int,
              bar_w: int, right: int, empty: str = "") -> str:
    """Horizontal bars as inline SVG: ``(name, label, share 0–1, text after the bar)`` each;
    the whole name shows on hover (a label may be cut short)."""
    e = html.escape
    row_h, top = 22, 34
    width = label_w + bar_w + right
    height = top + row_h * max(len(rows), 1) + 12
    parts = [f"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" "
             f"viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{e(title)}\">",
             f"<text x=\"{width / 2}\" y=\"20\" text-anchor=\"middle\" font-size=\"15\">"
             f"{e(title)}</text>"]
    if not rows and empty:
        parts.append(f"<text x=\"{width / 2}\" y=\"{top + 14}\" text-anchor=\"middle\" "
                     f"font-size=\"13\">{e(empty)}</text>")
    for i, (name, label, share, text) in enumerate(rows):
        ty = top + i * row_h
        parts.append(
            f"<text x=\"{label_w - 6}\" y=\"{ty + 15}\" text-anchor=\"end\" font-size=\"13\">"
            f"<title>{e(name)}</title>{e(label)}</text>"
            f"<rect x=\"{label_w}\" y=\"{ty + 3}\" width=\"{_t(bar_w * share)}\" height=\"{row_h - 6}\""
            f" fill=\"#4472c4\"/><text x=\"{_t(label_w + bar_w * share + 4)}\" y=\"{ty + 15}\" "
            f"font-size=\"12\">{e(text)}</text>")
    parts.append(f"<line x1=\"{label_w}\" x2=\"{label_w}\" y1=\"{top}\" y2=\"{height - 12}\" "
                 "stroke=\"#999\"/></svg>")
    return "".join(parts)
