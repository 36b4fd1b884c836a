"""The compiled renderer and the default template: fonts, layout, numbers, safety, lint."""

from __future__ import annotations

import io
import json
import zipfile
from decimal import Decimal
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from docxtpl import DocxTemplate
from hypothesis import given
from hypothesis import strategies as st
from jinja2.sandbox import SandboxedEnvironment
from lxml import etree
from word_helpers import docx_text, full_submission, open_docx, table_rows

from nianbao.context import build_context, format_value
from nianbao.engine import Template, lint_template
from nianbao.errors import NianbaoError, TemplateError
from nianbao.layout import Role, section_grid
from nianbao.model import Submission
from nianbao.schema import GB2021
from nianbao.template_builder import TEXT_WIDTH, write_template

REPO = Path(__file__).resolve().parent.parent
DEFAULT = REPO / "src" / "nianbao" / "data" / "report.docx"
GOLDEN = Path(__file__).resolve().parent / "golden"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@pytest.fixture(scope="module")
def template() -> Template:
    return Template.load(DEFAULT)


def _part(data: bytes, name: str) -> etree._Element:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return etree.fromstring(archive.read(name))


def _style(styles: etree._Element, style_id: str) -> etree._Element:
    return styles.find(f"{W}style[@{W}styleId='{style_id}']")


def _make_template(path: Path, *paragraphs: str) -> Path:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(path)
    return path


# ------------------------------------------------------------------ the template files


def test_template_files_are_the_builder_output(tmp_path):
    built = tmp_path / "report.docx"

    write_template(built)

    assert built.read_bytes() == DEFAULT.read_bytes()
    assert (REPO / "templates" / "report.docx").read_bytes() == DEFAULT.read_bytes()


def test_default_template_lints_clean():
    assert lint_template(DEFAULT) == []


def test_default_template_declares_only_supplied_variables(template):
    context = build_context(full_submission(1))

    assert template.undeclared(context) == set()
    assert template.undeclared(["title"]) >= {"t3", "s1", "period"}


# ------------------------------------------------------------------ fonts and page


def test_render_styles_use_east_asia_fonts_and_no_theme(template):
    data = template.render(build_context(full_submission(1)))

    styles = _part(data, "word/styles.xml")
    defaults = styles.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr")
    assert defaults.find(f"{W}rFonts").get(f"{W}eastAsia") == "仿宋_GB2312"
    assert defaults.find(f"{W}rFonts").get(f"{W}ascii") == "Times New Roman"
    assert defaults.find(f"{W}lang").get(f"{W}eastAsia") == "zh-CN"
    spacing = styles.find(f"{W}docDefaults/{W}pPrDefault/{W}pPr/{W}spacing")
    assert (spacing.get(f"{W}after"), spacing.get(f"{W}line")) == ("0", "240")
    assert b"Theme" not in etree.tostring(styles)
    expected = {"Title": ("方正小标宋简体", "44"), "Heading1": ("黑体", "32"),
                "Normal": ("仿宋_GB2312", "32"), "TableText": ("宋体", "21"),
                "Footer": ("宋体", "28")}
    for style_id, (font, size) in expected.items():
        rpr = _style(styles, style_id).find(f"{W}rPr")
        assert rpr.find(f"{W}rFonts").get(f"{W}eastAsia") == font, style_id
        assert rpr.find(f"{W}sz").get(f"{W}val") == size, style_id
    normal_spacing = _style(styles, "Normal").find(f"{W}pPr/{W}spacing")
    assert normal_spacing.get(f"{W}lineRule") == "exact"
    assert int(normal_spacing.get(f"{W}line")) in range(576, 582)  # ~28.9 pt
    indent = _style(styles, "BodyText").find(f"{W}pPr/{W}ind")
    assert indent.get(f"{W}firstLine") == "640"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert not any("theme" in n or "stylesWithEffects" in n for n in archive.namelist())


def test_render_page_setup_is_gb9704(template):
    document = open_docx(template.render(build_context(full_submission(1))))

    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    margins = (section.top_margin, section.bottom_margin, section.left_margin,
               section.right_margin)
    # GB/T 9704's 156 mm type area widened to 158.2 mm (27/24.9 mm side margins) so that
    # 28 characters of 16 pt fit at their natural width: no condensed spacing is needed.
    assert [round(m.mm) for m in margins] == [37, 35, 27, 25]
    text_width = section.page_width.twips - section.left_margin.twips - section.right_margin.twips
    assert text_width == TEXT_WIDTH and 28 * 16 * 20 <= text_width < 29 * 16 * 20
    assert document.settings.odd_and_even_pages_header_footer


def test_render_page_numbers_odd_right_even_left(template):
    document = open_docx(template.render(build_context(full_submission(1))))

    section = document.sections[0]
    for footer, align in ((section.footer, "right"), (section.even_page_footer, "left")):
        paragraph = footer.paragraphs[0]
        assert paragraph._p.pPr.find(f"{W}jc").get(f"{W}val") == align
        assert "PAGE" in "".join(t.text for t in paragraph._p.iter(f"{W}instrText"))
        assert paragraph.text.startswith("— ") and paragraph.text.endswith(" —")
        assert paragraph.style.name == "Footer"


def test_render_tables_have_explicit_widths_and_borders(template):
    document = open_docx(template.render(build_context(full_submission(1))))

    assert len(document.tables) == 3
    for table in document.tables:
        tbl = table._tbl
        assert sum(int(c.get(qn("w:w"))) for c in tbl.tblGrid.iter(qn("w:gridCol"))) == TEXT_WIDTH
        assert tbl.tblPr.find(qn("w:tblBorders")) is not None
        for tr in tbl.tr_lst:
            assert sum(tc.width.twips for tc in tr.tc_lst) == TEXT_WIDTH
    grid3 = [int(c.get(qn("w:w"))) for c in document.tables[1]._tbl.tblGrid.iter(qn("w:gridCol"))]
    assert grid3[2] > 2 * grid3[3]  # 表三's leaf label column is wider than a value column


# ------------------------------------------------------------------ content


def test_render_every_table_cell_equals_the_input(template):
    sub = full_submission(7)

    document = open_docx(template.render(build_context(sub)))

    sections = [s for s in GB2021.sections if s.tables]
    assert len(document.tables) == len(sections)
    checked = 0
    for section, table in zip(sections, document.tables, strict=True):
        grid = section_grid(section)
        cells = {(r, col): text for r, row in enumerate(table_rows(table)) for col, text in row}
        for block in grid.blocks:
            expected = (format_value(sub.values[block.key]) if block.role is Role.VALUE
                        else block.text)
            assert cells[(block.row, block.col)] == expected, (block.key, block.text)
            checked += block.role is Role.VALUE
    assert checked == len(GB2021.cells)


def test_render_narrative_paragraphs_are_real_indented_paragraphs(template):
    sub = full_submission(1, narrative={"s1": ("第一段。", "第二段。\n第三段。"),
                                        "s5": ("问题。",), "s6": ()})

    document = open_docx(template.render(build_context(sub)))

    texts = [p.text for p in document.paragraphs]
    start = texts.index("一、总体情况")
    assert texts[start + 1:start + 4] == ["第一段。", "第二段。", "第三段。"]
    assert texts[start + 4] == "二、主动公开政府信息情况"
    body = document.paragraphs[start + 1]
    assert body.style.name == "Body Text"
    assert not list(body._p.iter(f"{W}br"))
    assert "{%" not in "".join(texts) and "{{" not in "".join(texts)


def test_render_draft_marker_only_for_drafts(template):
    sub = full_submission(1)

    final = open_docx(template.render(build_context(sub)))
    draft = open_docx(template.render(build_context(sub, draft=True)))

    assert "草稿" not in [p.text for p in final.paragraphs]
    assert "草稿" in [p.text for p in draft.paragraphs]
    assert "草稿" in draft.sections[0].header.paragraphs[0].text
    assert final.sections[0].header.paragraphs[0].text == ""


def test_render_annex_of_a_summary(template):
    sub = full_submission(1, members=("甲局", "乙局"), excluded=(("丙镇", "数据有误（2 个错误）"),))

    doc = open_docx(template.render(build_context(sub, draft=True)))
    texts = [p.text for p in doc.paragraphs]
    included, excluded = ([[c.text for c in row.cells] for row in t.rows] for t in doc.tables[-2:])

    assert "附表" in texts and "纳入汇总的单位（2 个）" in texts
    assert "未纳入汇总的单位（1 个）" in texts
    assert included == [["序号", "单位名称"], ["1", "甲局"], ["2", "乙局"]]
    assert excluded == [["序号", "单位名称", "未纳入的原因"], ["1", "丙镇", "数据有误（2 个错误）"]]
    assert not any("甲局" in t for t in texts)  # listed once, in the 附表
    annex = next(p for p in doc.paragraphs if p.text == "附表")
    assert annex._p.pPr.find(qn("w:pageBreakBefore")) is not None


def test_unit_report_has_no_annex(template):
    doc = open_docx(template.render(build_context(full_submission(1))))

    assert "附表" not in [p.text for p in doc.paragraphs] and len(doc.tables) == 3
    assert not any("{%" in p.text or "{{" in p.text for p in doc.paragraphs)


def test_render_title_and_core_properties(template):
    sub = full_submission(1, agency="获嘉县民政局", year=2021)

    document = open_docx(template.render(build_context(sub)))

    # one paragraph, broken after "2021年" (GB/T 9704 §7.3.3: words kept whole)
    assert document.paragraphs[0].text == "获嘉县民政局2021年\n政府信息公开工作年度报告"
    assert document.paragraphs[0].style.name == "Title"
    assert document.core_properties.title == "获嘉县民政局2021年政府信息公开工作年度报告"


# ------------------------------------------------------------------ safety


NASTY_AGENCY = "A&B<局>{{ title }}{% if 1 %}x{% endif %}\x0b" + "很长的单位名称" * 42


def test_render_nasty_values_appear_literally_and_document_opens(template, tmp_path):
    narrative = {"s1": ("研发（R&D）投入占比<5%。", "{{ cycler.__init__.__globals__ }}",
                        "</w:t></w:r></w:p>&amp;", "制表\t符"), "s6": ("结束\x01。",)}
    sub = full_submission(1, agency=NASTY_AGENCY, narrative=narrative)
    path = tmp_path / "nasty.docx"

    path.write_bytes(template.render(build_context(sub)))

    document = docx.Document(str(path))
    agency = NASTY_AGENCY.replace("\x0b", "")
    assert len(agency) > 300
    texts = [p.text for p in document.paragraphs]
    assert texts[0].replace("\n", "") == f"{agency}2024年政府信息公开工作年度报告"
    assert "研发（R&D）投入占比<5%。" in texts
    assert "{{ cycler.__init__.__globals__ }}" in texts
    assert "</w:t></w:r></w:p>&amp;" in texts
    assert "制表\t符" in texts
    assert "结束。" in texts
    assert document.core_properties.title.startswith("A&B<局>{{ title }}")


def test_render_strips_invalid_characters_even_without_build_context(template):
    context = build_context(full_submission(1))
    context["title_lines"] = ["标题\x0b\x00\x1f<&>"]

    document = open_docx(template.render(context))

    assert document.paragraphs[0].text == "标题<&>"


def test_render_missing_variable_raises_template_error(template):
    context = build_context(full_submission(1))
    del context["period"]

    with pytest.raises(TemplateError, match="period"):
        template.render(context)


def test_render_sandbox_blocks_unsafe_attribute_access(tmp_path):
    path = _make_template(tmp_path / "evil.docx", "{{ title.__class__.__mro__[1].__subclasses__() }}")
    evil = Template.load(path)

    with pytest.raises(TemplateError):
        evil.render({"title": "x"})


def test_render_is_byte_identical_for_the_same_inputs(template):
    context = build_context(full_submission(5))

    first = template.render(context)
    second = Template.load(DEFAULT).render(build_context(full_submission(5)))

    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert archive.testzip() is None
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


# ------------------------------------------------------------------ equivalence with docxtpl


def _c14n(xml: bytes) -> bytes:
    return etree.tostring(etree.fromstring(xml), method="c14n")


@pytest.mark.parametrize("sub", [
    full_submission(11),
    full_submission(12, agency="A&B<局>{{ x }}", members=("甲", "乙"),
                    narrative={"s1": ("一\t二 & <三>",), "s5": ("'\"",), "s6": ()}),
], ids=["random", "nasty"])
def test_render_document_xml_equals_naive_docxtpl(template, tmp_path, sub):
    context = build_context(sub, draft=sub.members != ())
    naive = DocxTemplate(str(DEFAULT))
    naive.render(context, jinja_env=SandboxedEnvironment(autoescape=True))
    naive.save(tmp_path / "naive.docx")

    ours = template.render(context)

    with zipfile.ZipFile(tmp_path / "naive.docx") as archive:
        expected = {n: archive.read(n) for n in archive.namelist() if n.startswith("word/")}
    with zipfile.ZipFile(io.BytesIO(ours)) as archive:
        for name in ("word/document.xml", "word/header1.xml", "word/footer1.xml"):
            assert _c14n(archive.read(name)) == _c14n(expected[name]), name


# ------------------------------------------------------------------ load errors


def test_template_load_rejects_a_non_docx(tmp_path):
    path = tmp_path / "report.docx"
    path.write_bytes(b"not a zip")

    with pytest.raises(TemplateError, match="不是有效的 Word"):
        Template.load(path)
    with pytest.raises(NianbaoError):
        Template.load(tmp_path / "missing.docx")


def test_template_load_reports_syntax_error_with_paragraph(tmp_path):
    path = _make_template(tmp_path / "bad.docx", "正常段落", "单位：{{ agency }", "结尾")

    with pytest.raises(TemplateError, match="单位："):
        Template.load(path)


# ------------------------------------------------------------------ lint


def _codes(problems):
    return sorted(p.code for p in problems)


def test_lint_unknown_variable(tmp_path):
    path = _make_template(tmp_path / "t.docx", "{{ title }}", "{{ 单位 }}{{ agency_name }}",
                          "{{ t3.r1.naturall }}")

    problems = lint_template(path)

    assert _codes(problems) == ["unknown-variable"] * 3
    messages = " ".join(p.message for p in problems)
    assert "agency_name" in messages and "单位" in messages and "t3.r1.naturall" in messages


def test_lint_syntax_error_names_the_paragraph(tmp_path):
    path = _make_template(tmp_path / "t.docx", "{{ title }}", "{%p if draft %}",
                          "草稿", "{{ agency }")

    problems = lint_template(path)

    assert _codes(problems) == ["syntax-error"]
    assert problems[0].paragraph == "{{ agency }"


def test_lint_full_width_braces(tmp_path):
    path = _make_template(tmp_path / "t.docx", "｛｛ title ｝｝", "｛％ if draft ％｝")

    problems = lint_template(path)

    assert _codes(problems) == ["full-width-tag", "full-width-tag"]
    assert "全角" in problems[0].message


def test_lint_tag_with_space(tmp_path):
    path = _make_template(tmp_path / "t.docx", "{% tr for x in s1 %}", "{% tr endfor %}")

    problems = lint_template(path)

    assert "tag-with-space" in _codes(problems)
    assert any("{%tr" in p.message for p in problems)


def test_lint_two_p_tags_in_one_paragraph(tmp_path):
    path = _make_template(tmp_path / "t.docx", "{%p if draft %}草稿{%p endif %}")

    problems = lint_template(path)

    assert "two-p-tags" in _codes(problems)


def test_lint_unreadable_file(tmp_path):
    path = tmp_path / "t.docx"
    path.write_text("hello")

    assert _codes(lint_template(path)) == ["unreadable"]


# ------------------------------------------------------------------ golden


def _seed_submission() -> Submission:
    seed = json.loads((GOLDEN / "seed-2021-input.json").read_text(encoding="utf-8"))
    values = {key: (Decimal(0) if cell.type == "amount" else 0)
              for key, cell in GB2021.cells.items()}
    return Submission(agency=seed["agency"], year=seed["year"], values=values,
                      narrative={k: tuple(v) for k, v in seed["narrative"].items()})


def test_render_seed_report_matches_golden(template):
    data = template.render(build_context(_seed_submission()))

    expected = (GOLDEN / "seed-2021.txt").read_text(encoding="utf-8")
    assert docx_text(data) == expected


@pytest.mark.parametrize("xml", [
    '<w:p><w:r><w:t>一\n二</w:t></w:r></w:p><w:p w:rsidR="1"><w:r><w:t>三</w:t></w:r></w:p>',
    '<w:p><w:pPr><w:jc w:val="center"/></w:pPr><w:r><w:rPr><w:b/></w:rPr>'
    '<w:t xml:space="preserve">甲\t乙\a丙\f丁</w:t></w:r></w:p><w:p><w:r><w:t>无</w:t></w:r></w:p>',
    '<w:p><w:r><w:t>外</w:t></w:r><w:r><w:txbxContent><w:p><w:r><w:t>内\n</w:t></w:r></w:p>'
    '</w:txbxContent></w:r><w:r><w:t>尾\n</w:t></w:r></w:p>',
    '<w:tbl><w:tr><w:tc><w:p><w:r><w:t>1\n2</w:t></w:r></w:p></w:tc></w:tr></w:tbl>',
    '<w:p><w:r><w:t>没有换行</w:t></w:r></w:p>',
])
def test_listing_resolved_paragraph_by_paragraph_is_docxtpls(xml: str) -> None:
    """Only paragraphs holding a line break, tab, new paragraph or page break are rewritten;
    the document comes out exactly as docxtpl's own pass over all of it makes it."""
    from docxtpl import DocxTemplate

    from nianbao.engine import _resolve_listing

    assert _resolve_listing(xml.encode()).decode() == DocxTemplate.resolve_listing(None, xml)


_PIECES = ("<w:p>", "<w:p ", "<w:p", "<w:pPr>", "</w:p>", "</w:p", ">", "<", "w:rsidR=\"1\"",
           "文", "a", " ", "\n", "\t", "<w:r><w:t>", "</w:t></w:r>")


@given(st.lists(st.sampled_from(_PIECES), max_size=40))
def test_paragraph_spans_are_the_regexs(pieces: list[str]) -> None:
    """The find-based scan gives exactly the spans of docxtpl's paragraph pattern."""
    from nianbao.engine import _PARAGRAPH, _paragraphs

    xml = "".join(pieces).encode()
    assert list(_paragraphs(xml)) == [m.span() for m in _PARAGRAPH.finditer(xml)]


@given(st.lists(st.sampled_from(_PIECES[:6] + _PIECES[9:]), max_size=30))
def test_listing_over_any_paragraphs_is_docxtpls(pieces: list[str]) -> None:
    from docxtpl import DocxTemplate

    from nianbao.engine import _resolve_listing

    xml = "".join(pieces)
    assert _resolve_listing(xml.encode()).decode() == DocxTemplate.resolve_listing(None, xml)


# ------------------------------------------------------------------ a long 附表


@pytest.mark.parametrize("long_numbers", [False, True])
def test_a_long_annex_set_aside_renders_what_the_whole_tree_renders(
        template: Template, monkeypatch: pytest.MonkeyPatch, long_numbers: bool) -> None:
    """A 汇总 whose 附表 runs to megabytes: the table is checked as a stream and kept as
    text, never built as a tree; the document is byte for byte the one the tree gives,
    also when the statistical tables' long numbers are shrunk (the tree is written out)."""
    from nianbao import engine

    values = dict(full_submission().values)
    if long_numbers:
        values = {k: (123456789 if isinstance(v, int) else v) for k, v in values.items()}
    sub = full_submission(values=values, members=tuple(f"青山县第{i}单位" for i in range(400)),
                          excluded=tuple((f"青山县第{i}站", "未报送") for i in range(40)))
    context = build_context(sub, draft=True)
    monkeypatch.setattr(engine, "LARGE_PART", 1 << 40)  # never: the whole tree
    whole = _part(template.render(context), "word/document.xml")
    seen: list[int] = []
    real = engine._check_stream
    monkeypatch.setattr(engine, "_check_stream", lambda raw, span: (seen.append(span[1] - span[0]),
                                                                    real(raw, span))[1])
    monkeypatch.setattr(engine, "LARGE_PART", 10_000)
    monkeypatch.setattr(engine, "LARGE_TABLE", 10_000)

    aside = _part(template.render(context), "word/document.xml")

    assert len(seen) == 2  # both lists of the 附表 went past the tree
    assert etree.tostring(aside) == etree.tostring(whole)
    shrunk = any(int(sz.get(f"{W}val")) < 21 for sz in whole.iter(f"{W}sz"))  # below 表格 10.5 pt
    assert shrunk == long_numbers


def test_a_broken_table_set_aside_is_still_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from nianbao import engine

    monkeypatch.setattr(engine, "LARGE_PART", 0)
    monkeypatch.setattr(engine, "LARGE_TABLE", 0)
    head = b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    good = b"<w:tbl>" + b"<w:tr><w:tc><w:p/></w:tc></w:tr>" * 5 + b"</w:tbl>"
    bad = b"<w:tbl>" + b"<w:tr><w:tc><w:p></w:tc></w:tr>" * 5 + b"</w:tbl>"
    for table, ok in ((good, True), (bad, False)):
        raw = head + b"<w:body>" + table + b"</w:body></w:document>"
        start = raw.index(b"<w:tbl>")
        if ok:
            engine._check_stream(raw, (start, start + len(table)))
        else:
            with pytest.raises(etree.XMLSyntaxError):
                engine._check_stream(raw, (start, start + len(table)))
        skeleton, aside = engine._set_aside(raw, -1)
        assert aside == [(start, start + len(table))] and b"<w:tbl>" not in skeleton
    unpaired = head + b"<w:body>" + b"<w:tbl>" * 3 + b"</w:tbl></w:body></w:document>"
    assert engine._set_aside(unpaired, -1) == (unpaired, [])  # tags that do not pair up: parser


def test_a_long_table_the_stream_cannot_judge_goes_to_the_tree(
        template: Template, monkeypatch: pytest.MonkeyPatch) -> None:
    """A table using a prefix declared inside the part (not on its root) is well-formed,
    but not on its own: it is then judged as part of the whole tree, as before."""
    from nianbao import engine

    monkeypatch.setattr(engine, "LARGE_PART", 0)
    monkeypatch.setattr(engine, "LARGE_TABLE", 0)
    head = b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    table = b'<w:tbl><w:tr><w:tc><x:p xmlns:x="urn:x"/><w:p/></w:tc></w:tr></w:tbl>'
    body = head + b'<w:body xmlns:y="urn:y">' + table.replace(b"<w:p/>", b"<y:q/>")
    raw = body + b"</w:body></w:document>"
    skeleton, aside = engine._set_aside(raw, -1)
    assert aside  # set aside, but the stream does not know the prefix y
    with pytest.raises(etree.XMLSyntaxError):
        engine._check_stream(raw, aside[0])
    # in a render: a table the stream refuses is judged by the whole tree, and kept
    sub = full_submission(members=tuple(f"青山县第{i}单位" for i in range(200)))
    context = build_context(sub, draft=True)
    whole = _part(template.render(context), "word/document.xml")
    monkeypatch.setattr(engine, "LARGE_TABLE", 10_000)

    def refuse(raw: bytes, span: tuple[int, int]) -> None:
        raise etree.XMLSyntaxError("unbound prefix", None, 1, 1)

    monkeypatch.setattr(engine, "_check_stream", refuse)
    assert etree.tostring(_part(template.render(context), "word/document.xml")) == \
        etree.tostring(whole)
