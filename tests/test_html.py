"""render_html: a self-contained page or fragment with the official tables, all text escaped."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from word_helpers import full_submission

from nianbao.context import build_context, format_value
from nianbao.html import render_html
from nianbao.layout import Role, section_grid
from nianbao.schema import GB2021


class _Tables(HTMLParser):
    """Collects tables as rows of (tag, text, rowspan, colspan), and all paragraph texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[tuple[str, str, int, int]]]] = []
        self.paragraphs: list[str] = []
        self.headings: list[str] = []
        self._cell: list[object] | None = None
        self._text: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = [tag, "", int(attrs.get("rowspan", 1)), int(attrs.get("colspan", 1))]
        elif tag in ("p", "h1", "h2"):
            self._text = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(tuple(self._cell))  # type: ignore[arg-type]
            self._cell = None
        elif tag == "p" and self._text is not None:
            self.paragraphs.append("".join(self._text))
            self._text = None
        elif tag in ("h1", "h2") and self._text is not None:
            self.headings.append("".join(self._text))
            self._text = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[1] += data  # type: ignore[operator]
        elif self._text is not None:
            self._text.append(data)


def _parse(html: str) -> _Tables:
    parser = _Tables()
    parser.feed(html)
    parser.close()
    return parser


def test_render_html_is_a_page_with_title_and_headings():
    sub = full_submission(1, agency="获嘉县民政局", year=2021)

    html = render_html(sub)

    assert html.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in html
    parsed = _parse(html)
    assert parsed.headings[0] == "获嘉县民政局2021年政府信息公开工作年度报告"
    assert parsed.headings[1:] == [s.heading for s in GB2021.sections]
    assert parsed.paragraphs[0] == "本报告中所列数据统计期限为2021年1月1日至12月31日。"
    assert "总体情况第一段。" in parsed.paragraphs


def test_render_html_fragment_has_no_page_wrapper():
    html = render_html(build_context(full_submission(1)), fragment=True)

    assert html.startswith("<article>") and "<html" not in html and "<style" not in html


def test_render_html_tables_follow_the_layout_grid_with_spans():
    sub = full_submission(4)

    parsed = _parse(render_html(sub))

    sections = [s for s in GB2021.sections if s.tables]
    assert len(parsed.tables) == len(sections)
    for section, table in zip(sections, parsed.tables, strict=True):
        grid = section_grid(section)
        expected = [[("td" if b.role in (Role.VALUE, Role.LABEL) else "th",
                      format_value(sub.values[b.key]) if b.role is Role.VALUE else b.text,
                      b.rowspan, b.colspan) for b in row] for row in grid.rows()]
        assert table == expected


def test_render_html_table_three_spans():
    parsed = _parse(render_html(full_submission(1)))

    cells = {c[1]: c for row in parsed.tables[1] for c in row}
    assert cells["申请人情况"][3] == 7
    assert cells["法人或其他组织"][3] == 5
    assert cells["自然人"][2] == 2
    assert cells["三、本年度办理结果"][2] == 22


def test_render_html_escapes_every_text():
    sub = full_submission(1, agency='A&B<script>alert("x")</script>',
                          narrative={"s1": ("<b>粗体</b> & {{ x }}",)}, members=("<甲>",),
                          excluded=(("<乙>", "未报送&"),))

    html = render_html(sub)

    assert "<script>" not in html and "<b>" not in html
    assert "A&amp;B&lt;script&gt;" in html
    parsed = _parse(html)
    assert "<b>粗体</b> & {{ x }}" in parsed.paragraphs
    cells = [c[1] for table in parsed.tables for row in table for c in row]
    assert "<甲>" in cells and "<乙>" in cells and "未报送&" in cells
    assert "<甲>" not in html and "<乙>" not in html


def test_summary_html_has_an_annex_and_lists_the_members_once():
    sub = full_submission(1, agency="青山县人民政府", members=("甲局", "乙局"),
                          excluded=(("丙镇", "未报送"),))

    parsed = _parse(render_html(sub))
    annex = parsed.tables[-2:]

    assert "附表" in parsed.headings
    assert [[c[1] for c in row] for row in annex[0]] == [["序号", "单位名称"], ["1", "甲局"],
                                                         ["2", "乙局"]]
    assert [[c[1] for c in row] for row in annex[1]] == [["序号", "单位名称", "未纳入的原因"],
                                                         ["1", "丙镇", "未报送"]]
    assert not any("甲局" in p for p in parsed.paragraphs)  # once: in the 附表 only


def test_unit_html_has_no_annex():
    parsed = _parse(render_html(full_submission(1)))
    assert "附表" not in parsed.headings and len(parsed.tables) == 3  # 表二, 表三, 表四


def test_render_html_draft_marker():
    assert "草稿" in render_html(build_context(full_submission(1), draft=True))
    assert "草稿" not in render_html(build_context(full_submission(1)))


def test_table_three_value_columns_are_equally_wide():
    html = render_html(full_submission(1))
    tables = re.findall(r"<table.*?</table>", html, re.S)
    t3 = next(t for t in tables if "申请人情况" in t)
    widths = [float(w) for w in re.findall(r'<col style="width:([\d.]+)%">', t3)]
    grid = section_grid(next(s for s in GB2021.sections if s.id == "s3"), GB2021)

    assert "table-layout:fixed" in t3 and len(widths) == grid.width
    values = widths[grid.label_columns:]
    assert len(set(values)) == 1 and abs(sum(widths) - 100) < 0.1


def test_summary_annex_of_a_province_lists_the_first_units_and_says_where_the_rest_are():
    from nianbao.context import ANNEX_ROWS

    members = tuple(f"第{i}号单位" for i in range(1, ANNEX_ROWS + 6))
    sub = full_submission(1, agency="某省人民政府", members=members,
                          excluded=(("丙镇", "未报送"),))
    html = render_html(sub)
    parsed = _parse(html)
    included, excluded = parsed.tables[-2:]

    assert len(included) == 1 + ANNEX_ROWS  # the header and the first ANNEX_ROWS units
    assert included[-1][1][1] == f"第{ANNEX_ROWS}号单位"
    assert f"纳入汇总的单位（{ANNEX_ROWS + 5} 个）</h3>" in html
    assert "未纳入汇总的单位（1 个）</h3>" in html
    assert [p for p in parsed.paragraphs if "汇总单位" in p] == [
        f"以上列出前{ANNEX_ROWS}个单位；全部{ANNEX_ROWS + 5}个单位见同时生成的汇总数据表（.xlsx）的"
        "“汇总单位”工作表。"]
    assert len(excluded) == 2
