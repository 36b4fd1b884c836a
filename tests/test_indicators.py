"""Reviewer indicators: rates, year-on-year change and warnings from the archive; charts; sentences."""

from __future__ import annotations

import dataclasses
import json
import os
import re
from decimal import Decimal
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from cyclekit import county_rows, submission, write_form, write_roster_xlsx
from openpyxl import Workbook, load_workbook
from word_helpers import docx_text

from nianbao.archive import Entry, history_for, store, submissions
from nianbao.cli import main
from nianbao.config import ConfigError, load_config, parse_config
from nianbao.context import build_context
from nianbao.db import make_engine, upgrade
from nianbao.engine import Template, lint_template
from nianbao.indicator_output import (
    LINE_MAX_UNITS,
    SHEETS,
    add_indicator_sheets,
    bar_svg,
    line_svg,
)
from nianbao.indicators import (
    SENTENCE_VARIABLES,
    Indicators,
    Subject,
    change_text,
    compute,
    percent_text,
    rate_parts,
    sentences,
    tracked,
)
from nianbao.kinds import CATALOGUE
from nianbao.model import Submission, Value
from nianbao.schema import GB2021
from nianbao.settings import DEFAULT_SETTINGS, Settings

REPO = Path(__file__).resolve().parent.parent


def t3(new: int, public: int = 0, partial: int = 0, refused: int = 0, carried: int = 0,
       **t4: int) -> dict[str, Value | None]:
    """A complete value set with 表三 (自然人 column) and 表四 as given, totals recomputed."""
    values: dict[str, Value | None] = {k: (Decimal(0) if GB2021.cells[k].type == "amount" else 0)
                                       for k in GB2021.input_keys}
    values |= {"t3.r1.natural": new, "t3.r3_1.natural": public, "t3.r3_2.natural": partial,
               "t3.r3_3_1.natural": refused, "t3.r4.natural": carried}
    values |= {f"t4.{k}": v for k, v in t4.items()}
    GB2021.recompute(values)
    return values


def sub(code: str, year: int, values: dict[str, Value | None], level: str = "县级部门",
        name: str | None = None) -> Submission:
    return Submission(agency=name or f"单位{code}", code=code, year=year, level=level,
                      values=values)


def subject(s: Submission) -> Subject:
    return Subject(code=s.code, name=s.agency, level=s.level, submission=s)


def indicators(now: list[Submission], history: list[Submission],
               settings: Settings = DEFAULT_SETTINGS) -> Indicators:
    return compute([subject(s) for s in now], history, year=now[0].year or 0,
                   settings=settings)


# ------------------------------------------------------------------ from the schema

def test_tracked_rows_and_rate_parts_come_from_the_schema() -> None:
    measures = tracked()

    assert measures[0].key == "t3.r1.total"
    assert [m.key for m in measures[1:]] == [
        GB2021.table("t3").key(r.id, "total")
        for r in GB2021.table("t3").descendant_data_rows("r3")]
    labels = {m.key: m.label for m in measures}
    assert labels["t3.r3_2.total"] == "部分公开"
    assert labels["t3.r3_3_1.total"] == "不予公开·属于国家秘密"
    assert labels["t3.r3_7.total"] == "办理结果总计"
    parts = rate_parts()
    assert parts["disclosure"].numerator == ("t3.r3_1.total", "t3.r3_2.total")
    assert parts["disclosure"].denominator == ("t3.r3_7.total",)
    assert parts["review"].numerator == ("t4.rv_correct",)
    assert parts["litigation"].numerator == ("t4.ld_correct", "t4.la_correct")
    assert parts["litigation"].minus == ("t4.ld_pending", "t4.la_pending")
    assert all(k in GB2021.cells for p in parts.values()
               for k in (*p.numerator, *p.denominator, *p.minus))


# ------------------------------------------------------------------ figures

def test_rates_year_on_year_and_the_summary_of_the_same_units() -> None:
    a24 = sub("A", 2024, t3(10, public=6, partial=2, refused=2))
    a25 = sub("A", 2025, t3(12, public=6, partial=3, refused=1, carried=2,
                            rv_keep=3, rv_correct=1, rv_pending=1,
                            ld_correct=1, ld_other=1, la_keep=2, la_pending=4))
    b25 = sub("B", 2025, t3(8, public=8))  # new this year: not in the 2024 汇总

    ind = indicators([a25, b25], [a24])

    a = ind.units[0]
    assert a.disclosure.value == Decimal(9) / Decimal(10)  # (6 + 3) / (6 + 3 + 1)
    assert (a.review.part, a.review.whole) == (1, 4)  # 5 in all, 1 pending
    assert (a.litigation.part, a.litigation.whole) == (1, 4)  # (2 + 6) − (0 + 4)
    assert a.new.now == 12 and a.new.before == 10 and a.new.percent == 20
    assert change_text(a.new) == "增长20%"
    public = next(c for c in a.changes if c.measure.key == "t3.r3_1.total")
    assert change_text(public) == "持平"
    refused = next(c for c in a.changes if c.measure.key == "t3.r3_3_1.total")
    assert change_text(refused) == "下降50%"
    assert a.has_last_year and not ind.units[1].has_last_year  # B was not there in 2024
    assert [c.before for c in ind.units[1].changes] == [None] * len(a.changes)
    total = ind.total
    assert total.new.now == 20 and total.new.before == 10  # B has no 2024: only A's
    assert total.disclosure.value == Decimal(17) / Decimal(18)
    assert total.history == {2024: 10, 2025: 20}
    assert ind.units[1].history == {2024: None, 2025: 8}
    assert ind.years == (2024, 2025)


def test_division_by_zero_and_unreadable_values_give_no_rate() -> None:
    empty = sub("A", 2025, t3(0))
    pending = sub("B", 2025, t3(0, rv_pending=2))
    unreadable = sub("C", 2025, {**t3(5, public=5), "t3.r3_1.natural": None,
                                 "t3.r3_1.total": None, "t3.r3_7.total": None})

    ind = indicators([empty, pending, unreadable], [])

    assert [u.disclosure.value for u in ind.units] == [None, None, None]
    assert ind.units[1].review.whole == 0 and ind.units[1].review.value is None
    assert percent_text(ind.units[0].disclosure.value) == "—"
    assert ind.total.disclosure.value is None  # a member unreadable: the sum is too
    assert not ind.findings


def test_first_year_without_history() -> None:
    ind = indicators([sub("A", 2025, t3(40, public=40))], [])

    unit = ind.units[0]
    assert unit.new.before is None and unit.new.ratio is None
    assert change_text(unit.new) == "—"
    assert not unit.has_last_year and ind.years == (2025,)
    assert unit.last_values is None
    assert not ind.findings


def test_indicators_from_a_constructed_archive(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'a.sqlite3'}")
    upgrade(engine)
    store(engine, [Entry(submission=sub("A", y, t3(n, public=n)), origin="import", valid=True)
                   for y, n in ((2022, 3), (2023, 30), (2024, 6))])
    store(engine, [Entry(submission=sub("A", 2026, t3(99)), origin="build", valid=True)])

    history = submissions(engine)
    engine.dispose()
    ind = indicators([sub("A", 2025, t3(12, public=6))], history)

    assert ind.units[0].history == {2022: 3, 2023: 30, 2024: 6, 2025: 12}  # 2026 is no history
    assert ind.units[0].new.percent == 100


# ------------------------------------------------------------------ warnings

def _codes(ind: Indicators, key: str = "t3.r1.total", unit: str = "A") -> list[str]:
    return [f.code for u, f in ind.findings if f.key == key and u.code == unit]


@pytest.mark.parametrize(("before", "now", "fires"), [
    (10, 51, "trend-jump"), (10, 50, None),  # exactly 5×: no
    (60, 11, "trend-jump"), (60, 12, None),  # exactly 0.2×: no
    (1, 8, None),  # 8× but below the minimum sample
    (0, 10, "trend-jump"), (0, 9, None),  # from zero: only from the minimum sample
    (12, 0, "trend-jump"),
])
def test_jump_warnings_fire_only_above_the_threshold_and_the_minimum_sample(
        before: int, now: int, fires: str | None) -> None:
    ind = indicators([sub("A", 2025, t3(now, public=now))], [sub("A", 2024, t3(before))])

    assert _codes(ind) == ([fires] if fires else [])
    assert _codes(ind, unit="") == _codes(ind)  # the 汇总 of one unit warns alike


def test_jump_warning_names_both_years_and_follows_the_settings() -> None:
    now, last = sub("A", 2025, t3(7, public=7)), sub("A", 2024, t3(1, public=1))

    assert not indicators([now], [last]).findings
    ind = indicators([now], [last], Settings(trend_min_sample=5, trend_high=Decimal(6)))

    messages = [f.message for u, f in ind.findings if u.code == "A"]
    assert any("2025年为 7 件" in m and "2024年为 1 件" in m and "7 倍（超过 6 倍）" in m
               for m in messages), messages
    assert all(CATALOGUE[f"trend-jump{v}"].code == "trend-jump" for v in ("", ":drop"))


def test_zero_where_comparable_units_are_high() -> None:
    towns = [sub(f"T{i}", 2025, t3(n, public=n), level="乡镇") for i, n in enumerate((20, 30, 40))]
    zero = sub("Z", 2025, t3(0), level="乡镇")
    low_towns = [sub(f"L{i}", 2025, t3(n), level="乡镇") for i, n in enumerate((2, 3, 40))]
    depts = [sub(f"D{i}", 2025, t3(50), level="县级部门") for i in range(3)]

    fired = indicators([*towns, zero, *depts], [])
    quiet = indicators([*low_towns, zero, *depts], [])  # the towns' median is 3
    few = indicators([towns[0], zero], [])  # one comparable unit is not enough

    zero_findings = [f for u, f in fired.findings if u.code == "Z"]
    assert {f.code for f in zero_findings} == {"trend-zero-peer"}
    assert {f.key for f in zero_findings} == {"t3.r1.total", "t3.r3_1.total", "t3.r3_7.total"}
    assert "同为“乡镇”的单位中 3 个单位的中位数为 30 件" in zero_findings[0].message
    assert not [f for u, f in quiet.findings if u.code == "Z"]
    assert not few.findings


# ------------------------------------------------------------------ sentences and the context

def test_sentences_with_and_without_last_year() -> None:
    now = t3(12, public=6, partial=2, refused=2, carried=2)
    got = sentences(now, t3(10))

    assert got["new_sentence"] == "本年新收政府信息公开申请12件，同比增长20%。"
    assert got["public_sentence"] == "予以公开6件，占办理结果总数的60%。"
    assert got["disclosure_sentence"] == "予以公开和部分公开共8件，实质公开率80%。"
    assert got["summary"] == got["new_sentence"] + got["public_sentence"]
    assert sentences(now, None)["new_sentence"] == "本年新收政府信息公开申请12件。"
    assert sentences(t3(9), t3(12))["new_change"] == "同比下降25%"
    assert sentences(t3(0), t3(0))["new_change"] == "与上年持平"
    assert sentences(t3(5, public=5), t3(0))["new_change"] == "上年为0件"
    assert sentences(t3(0), None)["public_sentence"] == "予以公开0件。"
    assert set(got) == {name for name, _ in SENTENCE_VARIABLES}


def test_stats_template_variables_render_and_pass_the_template_check(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("{{ title }}")
    document.add_paragraph("一、总体情况")
    document.add_paragraph("{{ stats.new_sentence }}{{ stats.public_sentence }}")
    document.add_paragraph("实质公开率{{ stats.disclosure_rate }}，复议纠错率{{ "
                           "stats.review_correction_rate }}。")
    path = tmp_path / "模板.docx"
    document.save(path)
    now = sub("A", 2025, t3(12, public=6, partial=2, refused=2, carried=2, rv_correct=1,
                            rv_keep=1), name="青山县教育局")

    problems = lint_template(path)
    data = Template.load(path).render(build_context(now, last=t3(10)))

    assert problems == []
    text = docx_text(data)
    assert "本年新收政府信息公开申请12件，同比增长20%。予以公开6件，占办理结果总数的60%。" in text
    assert "实质公开率80%，复议纠错率50%。" in text
    first_year = docx_text(Template.load(path).render(build_context(now)))
    assert "本年新收政府信息公开申请12件。予以公开6件" in first_year  # no last year: no 同比


def test_readme_documents_every_stats_variable() -> None:
    readme = (REPO / "README.md").read_text("utf-8")

    missing = [name for name, _ in SENTENCE_VARIABLES if f"`stats.{name}`" not in readme]
    assert missing == []


def test_trend_settings_are_read_from_nianbao_toml(tmp_path: Path) -> None:
    base = {"year": 2025, "roster": "名单.xlsx"}
    path = tmp_path / "nianbao.toml"

    got = parse_config(base | {"checks": {"trend_high": 4, "trend_low": "0.25",
                                          "trend_min_sample": 20}}, path).settings

    assert (got.trend_high, got.trend_low, got.trend_min_sample) == (4, Decimal("0.25"), 20)
    for bad in ({"trend_high": 0}, {"trend_low": 2}, {"trend_min_sample": -1},
                {"trend_high": "很多"}):
        with pytest.raises(ConfigError):
            parse_config(base | {"checks": bad}, path)


# ------------------------------------------------------------------ charts

def test_workbook_charts_read_back_with_their_data(tmp_path: Path) -> None:
    ind = indicators([sub("A", 2025, t3(12, public=6, partial=3, refused=1)),
                      sub("B", 2025, t3(4, public=1, refused=3))],
                     [sub("A", 2024, t3(10)), sub("A", 2023, t3(8)), sub("B", 2024, t3(2))])
    wb = Workbook()
    add_indicator_sheets(wb, ind)
    wb.save(tmp_path / "x.xlsx")

    back = load_workbook(tmp_path / "x.xlsx")

    assert [n for n in back.sheetnames if n in SHEETS] == list(SHEETS)
    charts = back["指标图表"]._charts
    assert sorted(type(c).__name__ for c in charts) == ["BarChart", "LineChart"]
    line = next(c for c in charts if type(c).__name__ == "LineChart")
    bar = next(c for c in charts if type(c).__name__ == "BarChart")
    assert len(line.series) == 2
    ws = back["指标图表"]
    values = [ws[cell].value for cell in _cells(line.series[0].val.numRef.f)]
    assert values == [8, 10, 12]
    rates = [ws[cell].value for cell in _cells(bar.series[0].val.numRef.f)]
    assert rates == [pytest.approx(0.9), pytest.approx(0.25)]
    main_rows = list(back["指标分析"].iter_rows(min_row=3, values_only=True))
    assert [r[1] for r in main_rows] == ["单位A", "单位B", "汇总"]
    assert main_rows[0][8] == pytest.approx(0.9) and main_rows[0][5] == "增长20%"


def _cells(ref: str) -> list[str]:
    """``'指标图表'!$B$30:$D$30`` → the cells of that range."""
    from openpyxl.utils.cell import range_boundaries

    area = ref.split("!")[1].replace("$", "")
    min_col, min_row, max_col, max_row = range_boundaries(area)
    from openpyxl.utils import get_column_letter

    return [f"{get_column_letter(c)}{r}" for r in range(min_row, max_row + 1)
            for c in range(min_col, max_col + 1)]


def test_svg_charts_are_inline_and_escape_names() -> None:
    line = line_svg([("甲<局>", {2023: 1, 2024: None, 2025: 9})], (2023, 2024, 2025), "标题")
    bar = bar_svg([("乙&局", Decimal("0.5")), ("丙局", Decimal(0))], "实质公开率")

    assert line.startswith("<svg") and "甲&lt;局&gt;" in line and "<script" not in line
    assert line.count("<circle") == 2  # the unreadable year is not drawn
    assert "乙&amp;局" in bar and "50%" in bar and bar.count("<rect") == 2
    assert "没有办理结果" in bar_svg([], "实质公开率")


def test_many_units_rates_show_their_spread_and_the_lowest_not_a_bar_each() -> None:
    """A city's 2,000 units as a bar each make a chart 44,000 pixels tall: beyond
    BAR_MAX_UNITS the page shows how many units fall in each tenth, and the lowest."""
    from nianbao.indicator_output import BAR_MAX_UNITS, LOWEST_SHOWN, indicators_html_parts

    n = BAR_MAX_UNITS + 10
    # unit i: 100 results of which i + 40 public (40% … 89%); U00 the lowest
    now = [sub(f"U{i:02d}", 2025, t3(100, public=i + 40, refused=60 - i), name=f"单位{i:02d}")
           for i in range(n)]
    page = "".join(indicators_html_parts(indicators(now, [])))

    assert f"2025年实质公开率分布（共 {n} 个单位）" in page
    assert f"2025年实质公开率最低的 {LOWEST_SHOWN} 个单位" in page
    spread = page.split("实质公开率分布", 1)[1].split("</svg>")[0]
    counts = [int(c) for c in re.findall(r">(\d+) 个</text>", spread)]
    assert len(counts) == 10 and sum(counts) == n
    assert counts[4] == 10 and counts[8] == 10 and counts[9] == 0  # 40–49% … 80–89%
    lowest = page.split("最低的", 2)[2].split("</svg>")[0]  # after the aria label and the title
    assert lowest.count("<rect") == LOWEST_SHOWN
    assert "单位00" in lowest and "单位14" in lowest and "单位15" not in lowest
    assert lowest.index("单位00") < lowest.index("单位01")  # the lowest first
    few = "".join(indicators_html_parts(indicators(now[:BAR_MAX_UNITS], [])))
    assert "2025年各单位实质公开率" in few and "分布" not in few


# ------------------------------------------------------------------ the whole cycle

def _in(folder: Path, runner: CliRunner, args: list[str]):  # type: ignore[no-untyped-def]
    cwd = Path.cwd()
    os.chdir(folder)
    try:
        return runner.invoke(main, args)
    finally:
        os.chdir(cwd)


def test_status_and_summary_show_indicators_from_last_years_workspace(tmp_path: Path) -> None:
    runner = CliRunner()
    rows = county_rows()[:3]
    roster = write_roster_xlsx(tmp_path / "名单.xlsx", rows)
    for year in (2024, 2025):
        made = runner.invoke(main, ["init", str(tmp_path / str(year)), "--year", str(year),
                                    "--roster", str(roster)])
        assert made.exit_code == 0, made.output
    last = load_config(tmp_path / "2024" / "nianbao.toml")
    assert last is not None
    history = [submission(r, seed=i, year=2024) for i, r in enumerate(rows)]
    now = [submission(r, seed=10 + i, year=2025) for i, r in enumerate(rows)]
    new0 = int(now[0].values["t3.r1.total"] or 0)
    history[0] = dataclasses.replace(history[0], values={**history[0].values,
                                                         "t3.r1.total": 10 * new0 + 60})
    from nianbao.archive import open_archive

    engine = open_archive(last)
    store(engine, [Entry(submission=s, origin="import", valid=True) for s in history])
    engine.dispose()
    ws = tmp_path / "2025"
    config = load_config(ws / "nianbao.toml")
    assert config is not None
    assert {s.year for s in history_for(config)} == {2024}  # found beside, not configured
    for r, s in zip(rows, now, strict=True):
        write_form(ws / "inputs" / f"{r.short}.xlsx", s)

    status = _in(ws, runner, ["status", "--quiet"])
    summary = _in(ws, runner, ["summary", "--json"])

    assert status.exit_code in (0, 1), status.output
    assert summary.exit_code in (0, 1), summary.output
    figures = json.loads(summary.output)["indicators"]
    assert figures["disclosure_rate"] is not None and isinstance(figures["warnings"], list)
    page = (ws / "outputs" / "status.html").read_text("utf-8")
    assert "指标分析（2025年度）" in page and page.count("<svg") == 2 + len(rows) + 1
    assert "<script" not in page
    assert "[trend-jump]" in page and f"2024年为 {10 * new0 + 60} 件" in page
    book = load_workbook(ws / "outputs" / "status.xlsx")
    assert len(book["指标图表"]._charts) == 2
    unit_row = next(r for r in book["指标分析"].iter_rows(values_only=True) if r[0] == rows[1].code)
    assert unit_row[3] == now[1].values["t3.r1.total"]
    assert unit_row[4] == history[1].values["t3.r1.total"]
    folder = ws / "outputs" / "汇总"
    summary_book = load_workbook(next(folder.glob("*汇总数据.xlsx")))
    assert len(summary_book["指标图表"]._charts) == 2
    assert summary_book.sheetnames[-1] == "_meta"  # the hidden metadata sheet stays last
    report = docx_text(next(folder.glob("*.docx")).read_bytes())
    total_now = sum(int(s.values["t3.r1.total"] or 0) for s in now)
    assert re.search(f"本年新收政府信息公开申请{total_now}件，(同比(增长|下降)[0-9.]+%|与上年持平)。",
                     report), report[:400]


def test_status_total_sums_the_units_without_errors_and_says_how_many_it_leaves_out(
        tmp_path: Path) -> None:
    """A unit whose 本年新收 is unreadable (a negative count) must not blank that column of
    the status page's total: the total is the sum over the units the 汇总 takes."""
    runner = CliRunner()
    rows = county_rows()[:3]
    ws = tmp_path / "ws"
    made = runner.invoke(main, ["init", str(ws), "--year", "2025", "--roster",
                                str(write_roster_xlsx(tmp_path / "名单.xlsx", rows))])
    assert made.exit_code == 0, made.output
    now = [submission(r, seed=20 + i, year=2025) for i, r in enumerate(rows)]
    for r, s in zip(rows[:2], now[:2], strict=True):
        write_form(ws / "inputs" / f"{r.short}.xlsx", s)
    write_form(ws / "inputs" / f"{rows[2].short}.xlsx", now[2], edits={"t3.r1.natural": -5})

    status = _in(ws, runner, ["status", "--quiet"])

    assert status.exit_code in (0, 1), status.output
    sheet = load_workbook(ws / "outputs" / "status.xlsx")["指标分析"]
    total = next(r for r in sheet.iter_rows(values_only=True)
                 if isinstance(r[1], str) and r[1].startswith("全部单位合计"))
    assert total[1] == "全部单位合计（不含有错误的 1 个单位）"
    assert total[3] == sum(int(s.values["t3.r1.total"] or 0) for s in now[:2])
    page = (ws / "outputs" / "status.html").read_text("utf-8")
    assert "全部单位合计（不含有错误的 1 个单位）" in page


def test_many_units_get_grouped_bars_by_year_instead_of_lines(tmp_path: Path) -> None:
    now = [sub(f"U{i:02d}", 2025, t3(i + 1, public=i + 1)) for i in range(LINE_MAX_UNITS + 1)]
    ind = indicators(now, [sub("U00", 2024, t3(7)), sub("U00", 2023, t3(5))])
    wb = Workbook()
    add_indicator_sheets(wb, ind)
    wb.save(tmp_path / "x.xlsx")

    charts = load_workbook(tmp_path / "x.xlsx")["指标图表"]._charts

    assert [type(c).__name__ for c in charts] == ["BarChart", "BarChart"]
    trend = charts[0]
    assert len(trend.series) == 3  # one per year, named 2023年 … 2025年
    assert all(len(_cells(s.val.numRef.f)) == len(now) for s in trend.series)


def test_year_on_year_sheet_lists_only_units_with_a_last_year() -> None:
    """A unit without an archived last year has nothing to compare: no rows of "—" for it,
    one line saying how many were left out; the others have a row per tracked measure."""
    now = [sub("A", 2025, t3(10, 4)), sub("B", 2025, t3(20, 5)), sub("C", 2025, t3(5, 1))]
    ind = indicators(now, [sub("A", 2024, t3(8, 3))])
    wb = Workbook(write_only=True)
    add_indicator_sheets(wb, ind)
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"yoy-{os.getpid()}.xlsx"
    try:
        wb.save(path)
        rows = list(load_workbook(path)[SHEETS[1]].iter_rows(values_only=True))
    finally:
        path.unlink(missing_ok=True)
    listed = [r for r in rows[1:-1] if r[0]]
    assert {r[0] for r in listed} == {"A"}
    assert len(listed) == len(tracked())
    assert any(r[1] == ind.total.name for r in rows)  # the 合计 has last year's part
    assert rows[-1][0] == "另有 2 个单位没有上年数据（归档中没有），不列出。"
