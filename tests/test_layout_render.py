"""The printed page: real reports rendered by nianbao and converted by LibreOffice (nianbao.pdf).

Checked on the PDFs (pdftotext -bbox / -layout, pdffonts, pdftoppm): numbers of
表三 and 表四 stay whole on one line, also in a province-sized 汇总; the title
breaks only after "{年度}年" (or between words of a long name); 表二 and its
heading share one page; 表三's header does not stand alone at a page foot; the
fonts are the mapped Simplified Chinese faces; no punctuation mark of three
multi-paragraph narratives is lost.  Word and WPS do not run here: the last
tests check the .docx XML for the pitfalls they are known for.
"""

from __future__ import annotations

import io
import random
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from docx.shared import Pt
from lxml import etree
from word_helpers import full_submission, full_values

from nianbao import pdf
from nianbao.build import default_template
from nianbao.context import build_context
from nianbao.engine import Template
from nianbao.layout import Role, section_grid
from nianbao.schema import GB2021
from nianbao.template_builder import TEXT_WIDTH
from nianbao.typeset import title_lines

TOOLS = ("soffice", "pdftotext", "pdffonts", "pdftoppm")
needs_tools = pytest.mark.skipif(not all(shutil.which(t) for t in TOOLS),
                                 reason="LibreOffice or poppler-utils not installed")
W = f"{{{'http://schemas.openxmlformats.org/wordprocessingml/2006/main'}}}"
LONG_NAME = "新疆维吾尔自治区伊犁哈萨克自治州察布查尔锡伯自治县人民政府办公室"
SEED_TEXT = Path(__file__).parent / "golden" / "seed-2021-input.json"


def _scaled(seed: int, factor: int) -> dict[str, object]:
    """full_values with every count multiplied (balances and totals still hold)."""
    return {k: (v * factor if v is not None else None) for k, v in full_values(seed).items()}


def _narrative(index: int) -> dict[str, tuple[str, ...]]:
    """Five paragraphs dense in punctuation, with numbers so that lines are not all full.

    The generator and ``index`` are such that, without nianbao's conversion macro,
    LibreOffice 7.4 drops one "；" hung at the end of a justified line of each.
    """
    rng = random.Random(11)
    pool = ("政府信息公开工作年度报告主动依申请办理结果行政复议诉讼情况存在问题改进措施"
            "加强组织领导规范完善制度平台建设")

    def paragraph() -> str:
        text: list[str] = []
        while len(text) < 320:
            text += [rng.choice(pool) for _ in range(rng.randint(2, 9))]
            if rng.random() < 0.3:
                text += list(str(rng.randint(1, 99999)))
            text.append(rng.choice("、，。；：（）“”"))
        return "".join(text)

    texts = [paragraph() for _ in range(5 * (index + 1))][-5:]
    return {"s1": tuple(texts[:3]), "s5": (texts[3],), "s6": (texts[4],)}


def _seed_narrative() -> dict[str, tuple[str, ...]]:
    import json

    seed = json.loads(SEED_TEXT.read_text(encoding="utf-8"))
    return {k: tuple(v) for k, v in seed["narrative"].items()}


def _reports() -> dict[str, object]:
    seed_story = _seed_narrative()
    return {
        "seed": full_submission(1, agency="获嘉县政务服务和大数据管理局", year=2021,
                                values=_scaled(1, 0), narrative=seed_story),
        "city": full_submission(3, agency="郑州市人民政府办公厅", values=_scaled(3, 10),
                                narrative=_narrative(2)),
        "province": full_submission(5, agency="河南省", values=_scaled(5, 300),
                                    members=tuple(f"第{i}单位" for i in range(150)),
                                    narrative=_narrative(9)),
        "long": full_submission(4, agency=LONG_NAME, narrative=seed_story),
    }


def _font_probe(path: Path, font: str) -> Path:
    """A page with a few characters whose glyphs differ between the SC and JP faces."""
    document = docx.Document()
    run = document.add_paragraph().add_run("骨直复写")
    run.font.size = Pt(40)
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
    document.save(str(path))
    return path


SWEEP = 12
PROBES = {"fangsong": "仿宋_GB2312", "serif_sc": "Noto Serif CJK SC",
          "heiti": "黑体", "sans_sc": "Noto Sans CJK SC",
          "kaiti": "楷体_GB2312", "kai": "AR PL UKai CN"}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("layout")
    template = Template.load(default_template())
    docs: dict[str, Path] = {}
    for name, sub in _reports().items():
        docs[name] = folder / f"{name}.docx"
        docs[name].write_bytes(template.render(build_context(sub)))  # type: ignore[arg-type]
    for n in range(SWEEP):  # 表二 and 表三 pushed down the page step by step
        story = {"s1": ("本段用于把后面的表格推到页面的不同位置，" * 3,) * n + ("一",),
                 "s5": ("问题。",), "s6": ("无。",)}
        sub = full_submission(2, agency="测试县测试局", narrative=story)
        docs[f"sweep{n}"] = folder / f"sweep{n}.docx"
        docs[f"sweep{n}"].write_bytes(template.render(build_context(sub)))
    for name, font in PROBES.items():
        docs[name] = _font_probe(folder / f"{name}.docx", font)
    failed = pdf.convert(list(docs.values()), 1)
    assert failed == []
    return docs


def _pages(pdf_path: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf_path), "-"], capture_output=True,
                          text=True, check=True).stdout
    return text.split("\f")


def _words(pdf_path: Path) -> list[tuple[int, str]]:
    """(page, word) for every word pdftotext -bbox finds."""
    html = subprocess.run(["pdftotext", "-bbox", str(pdf_path), "-"], capture_output=True,
                          text=True, check=True).stdout
    out, page = [], 0
    for line in html.splitlines():
        if "<page " in line:
            page += 1
        match = re.search(r"<word [^>]*>([^<]*)</word>", line)
        if match:
            out.append((page, match.group(1)))
    return out


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


# ------------------------------------------------------------------ the PDFs


@needs_tools
@pytest.mark.parametrize("name", ["city", "province"])
def test_every_table_number_is_one_word_on_one_line(rendered, name):
    sub = _reports()[name]
    words = {w for _, w in _words(rendered[name].with_suffix(".pdf"))}
    values = {str(v) for k, v in sub.values.items()  # type: ignore[attr-defined]
              if k.startswith(("t3.", "t4."))}
    assert max(len(v) for v in values) >= (5 if name == "city" else 7)
    assert values - words == set()
    assert {"自然人", "总计", "其他"} <= words  # header labels on one line


@needs_tools
@pytest.mark.parametrize("name", ["seed", "city", "long"])
def test_title_breaks_only_at_the_allowed_place(rendered, name):
    sub = _reports()[name]
    lines = [_squeeze(line) for line in _pages(rendered[name].with_suffix(".pdf"))[0].splitlines()
             if line.strip()]
    expected = title_lines(sub.agency, str(sub.year))  # type: ignore[attr-defined]
    assert lines[:len(expected)] == expected
    assert len(expected) == (3 if name == "long" else 2)
    assert expected[-2].endswith(f"{sub.year}年")  # type: ignore[attr-defined]


ALL = ["seed", "city", "province", "long", *(f"sweep{n}" for n in range(SWEEP))]


@needs_tools
@pytest.mark.parametrize("name", ALL)
def test_table_two_is_on_one_page_with_its_heading(rendered, name):
    pages = [_squeeze(p) for p in _pages(rendered[name].with_suffix(".pdf"))]
    labels = ["二、主动公开政府信息情况", "第二十条第（一）项", "行政规范性文件", "第二十条第（八）项",
              "行政事业性收费"]
    holding = [{i for i, page in enumerate(pages) if label in page} for label in labels]
    assert all(len(h) == 1 for h in holding) and len(set.union(*holding)) == 1, holding


@needs_tools
@pytest.mark.parametrize("name", ALL)
def test_table_three_header_never_alone_at_a_page_foot(rendered, name):
    pages = [_squeeze(p) for p in _pages(rendered[name].with_suffix(".pdf"))]
    first = next(i for i, page in enumerate(pages) if "三、收到和处理政府信息公开申请情况" in page)
    for label in ("自然人", "一、本年新收政府信息公开申请数量", "二、上年结转政府信息公开申请数量",
                  "（一）予以公开"):
        assert label in pages[first], label
    later = [i for i, page in enumerate(pages) if "四、结转下年度继续办理" in page]
    assert later and all("自然人" in pages[i] for i in range(first, later[0] + 1))  # repeated


@needs_tools
def test_fonts_are_the_simplified_chinese_faces(rendered):
    fonts = subprocess.run(["pdffonts", str(rendered["city"].with_suffix(".pdf"))],
                           capture_output=True, text=True, check=True).stdout
    assert "NotoSerifCJKsc-Regular" in fonts and "NotoSansCJKsc-Regular" in fonts
    assert "LiberationSerif" in fonts
    assert "DejaVu" not in fonts and "WenQuanYi" not in fonts
    assert not re.search(r"CJK(jp|kr|tc|hk)", fonts), fonts  # no other language's face
    # And the glyphs: 仿宋_GB2312 prints exactly like Noto Serif CJK SC, 黑体 like Noto Sans
    # CJK SC.
    images = {}
    for name in PROBES:
        out = rendered[name].with_suffix("")
        subprocess.run(["pdftoppm", "-r", "40", "-gray", "-singlefile", str(out) + ".pdf",
                        str(out)], check=True)
        images[name] = out.with_suffix(".pgm").read_bytes()
    assert images["fangsong"] == images["serif_sc"] != images["sans_sc"]
    assert images["heiti"] == images["sans_sc"]
    assert images["kaiti"] == images["kai"] not in (images["serif_sc"], images["sans_sc"])


@needs_tools
@pytest.mark.parametrize("name", ["seed", "city", "province"])
def test_no_punctuation_mark_of_the_narrative_is_lost(rendered, name):
    docx_path = rendered[name]
    pdf_path = docx_path.with_suffix(".pdf")
    assert pdf.lost_marks(docx_path, pdf_path) == {}
    text = "".join(line for page in _pages(pdf_path) for line in page.splitlines()
                   if not re.fullmatch(r"\s*—\s*\d+\s*—\s*", line))
    flat = _squeeze(text)
    sub = _reports()[name]
    paragraphs = [p for key in ("s1", "s5", "s6") for p in sub.narrative[key]]  # type: ignore
    assert sum(len(p) for p in paragraphs) > 900
    for paragraph in paragraphs:
        assert _squeeze(paragraph) in flat, paragraph[:20]
        assert pdf.punctuation(_squeeze(paragraph)) == pdf.punctuation(
            flat[flat.index(_squeeze(paragraph)):][:len(_squeeze(paragraph))])


@needs_tools
def test_build_pdf_reports_substituted_fonts_and_lost_punctuation(tmp_path, rendered):
    """The check itself: a PDF that lacks a mark is reported for its unit."""
    docx_path = tmp_path / "x.docx"
    shutil.copy(rendered["seed"], docx_path)
    lost = tmp_path / "x.pdf"
    shutil.copy(rendered["city"].with_suffix(".pdf"), lost)  # another report's text
    assert pdf.lost_marks(docx_path, lost)
    swaps = dict(pdf.font_substitutions(pdf.requested_fonts(docx_path)))
    if "仿宋_GB2312" in swaps:  # the official font is not installed here
        assert swaps["仿宋_GB2312"] == "Noto Serif CJK SC"
        assert swaps.get("黑体") == "Noto Sans CJK SC"
        assert swaps.get("楷体_GB2312") == "AR PL UKai CN"


# ------------------------------------------------------------------ Word and WPS: the XML


def _part(data: bytes, name: str) -> etree._Element:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return etree.fromstring(archive.read(name))


PPR_ORDER = ["pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl",
             "numPr", "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens",
             "kinsoku", "wordWrap", "overflowPunct", "topLinePunct", "autoSpaceDE", "autoSpaceDN",
             "bidi", "adjustRightInd", "snapToGrid", "spacing", "ind", "contextualSpacing",
             "mirrorIndents", "suppressOverlap", "jc", "textDirection", "textAlignment",
             "textboxTightWrap", "outlineLvl", "divId", "cnfStyle", "rPr", "sectPr", "pPrChange"]
RPR_ORDER = ["rStyle", "rFonts", "b", "bCs", "i", "iCs", "caps", "smallCaps", "strike", "dstrike",
             "outline", "shadow", "emboss", "imprint", "noProof", "snapToGrid", "vanish",
             "webHidden", "color", "spacing", "w", "kern", "position", "sz", "szCs", "highlight",
             "u", "effect", "bdr", "shd", "fitText", "vertAlign", "rtl", "cs", "em", "lang",
             "eastAsianLayout", "specVanish", "oMath"]
TBLPR_ORDER = ["tblStyle", "tblpPr", "tblOverlap", "bidiVisual", "tblStyleRowBandSize",
               "tblStyleColBandSize", "tblW", "jc", "tblCellSpacing", "tblInd", "tblBorders", "shd",
               "tblLayout", "tblCellMar", "tblLook"]


def _in_order(element: etree._Element, order: list[str]) -> bool:
    names = [etree.QName(c).localname for c in element]
    return all(n in order for n in names) and names == sorted(names, key=order.index)


@pytest.mark.parametrize("name", ["city", "province"])
def test_word_wps_xml_pitfalls(name):
    sub = _reports()[name]
    data = Template.load(default_template()).render(build_context(sub))  # type: ignore[arg-type]
    body, styles = _part(data, "word/document.xml"), _part(data, "word/styles.xml")
    settings = _part(data, "word/settings.xml")
    # Elements in schema order: Word drops (and WPS ignores) what is out of sequence.
    for root in (body, styles):
        assert all(_in_order(p, PPR_ORDER) for p in root.iter(f"{W}pPr"))
        assert all(_in_order(r, RPR_ORDER) for r in root.iter(f"{W}rPr"))
    tables = list(body.iter(f"{W}tbl"))
    assert len(tables) == 3 + bool(sub.members) + bool(sub.excluded)  # a 汇总 adds its 附表
    for tbl in tables:
        tblpr = tbl.find(f"{W}tblPr")
        assert _in_order(tblpr, TBLPR_ORDER)
        assert tblpr.find(f"{W}tblLayout").get(f"{W}type") == "fixed"
        margins = tblpr.find(f"{W}tblCellMar")  # on the table: LibreOffice skips the style's
        assert {etree.QName(m).localname for m in margins} >= {"left", "right"}
        # WPS sizes columns by gridCol, Word by tcW: both written, both add up
        grid = [int(c.get(f"{W}w")) for c in tbl.iter(f"{W}gridCol")]
        assert sum(grid) == TEXT_WIDTH == int(tblpr.find(f"{W}tblW").get(f"{W}w"))
        rows = tbl.findall(f"{W}tr")
        for tr in rows:
            assert sum(int(tc.find(f"{W}tcPr/{W}tcW").get(f"{W}w")) for tc in tr.findall(f"{W}tc")
                       ) == TEXT_WIDTH
            assert tr.find(f"{W}trPr/{W}cantSplit") is not None
        header = [tr.find(f"{W}trPr/{W}tblHeader") is not None for tr in rows]
        assert header == sorted(header, reverse=True)  # repeated rows only at the top
    # 表二 kept together: every row but the last keeps with the next
    rows2 = tables[0].findall(f"{W}tr")
    assert all(p.find(f"{W}pPr/{W}keepNext") is not None for tr in rows2[:-1]
               for p in tr.iter(f"{W}p"))
    # no condensed or expanded character spacing, no punctuation compression, no char grid
    assert not [s for root in (body, styles) for s in root.iter(f"{W}spacing")
                if s.get(f"{W}val") is not None]
    assert settings.find(f"{W}characterSpacingControl").get(f"{W}val") == "doNotCompress"
    grid = body.find(f".//{W}sectPr/{W}docGrid")
    assert grid.get(f"{W}charSpace") is None and grid.get(f"{W}type") in (None, "default")
    normal = next(s for s in styles.iter(f"{W}style") if s.get(f"{W}styleId") == "Normal")
    assert normal.find(f"{W}pPr/{W}overflowPunct").get(f"{W}val") == "0"
    # CJK fonts through w:eastAsia only, no theme fonts (WPS: "缺失字体")
    for fonts in list(styles.iter(f"{W}rFonts")) + list(body.iter(f"{W}rFonts")):
        assert not any("Theme" in etree.QName(a).localname for a in fonts.attrib)
    # the title: one paragraph, lines separated by w:br (no empty paragraphs, no w:cr)
    title = next(p for p in body.iter(f"{W}p")
                 if p.find(f"{W}pPr/{W}pStyle") is not None
                 and p.find(f"{W}pPr/{W}pStyle").get(f"{W}val") == "Title")
    assert len(title.findall(f".//{W}br")) == len(build_context(sub)["title_lines"]) - 1  # type: ignore
    assert not list(body.iter(f"{W}cr"))


def test_wide_numbers_are_set_smaller_not_wrapped():
    sub = _reports()["province"]
    body = _part(Template.load(default_template()).render(build_context(sub)),  # type: ignore
                 "word/document.xml")
    table3 = list(body.iter(f"{W}tbl"))[1]
    sizes = {int(sz.get(f"{W}val")) for sz in table3.iter(f"{W}sz")}
    assert sizes and max(sizes) < 18  # below the 9 pt of TableTextSmall
    keys = [b.key for b in section_grid(GB2021.sections[2]).blocks if b.role is Role.VALUE]
    widest = max(len(str(sub.values[k])) for k in keys)  # type: ignore[attr-defined]
    assert widest * 0.5 * max(sizes) * 10 <= 700 - 2 * 57  # fits its column at that size
    plain = _reports()["long"]  # inputs up to 9999: 表四's totals have 5 digits
    assert max(len(str(v)) for k, v in plain.values.items()  # type: ignore[attr-defined]
               if k.startswith("t4.")) == 5
    body = _part(Template.load(default_template()).render(build_context(plain)),  # type: ignore
                 "word/document.xml")
    assert not list(list(body.iter(f"{W}tbl"))[2].iter(f"{W}sz"))  # they need no shrinking


@needs_tools
def test_failed_conversion_keeps_finished_pdfs_and_the_next_run_resumes(tmp_path, rendered):
    first = tmp_path / "甲县民政局2024年政府信息公开工作年度报告.docx"
    broken = tmp_path / "乙县（损坏）.docx"
    last = tmp_path / "丙 县 & 局.docx"
    shutil.copy(rendered["seed"], first)
    broken.write_bytes(b"PK\x03\x04 not really a document")
    shutil.copy(rendered["long"], last)

    failed = pdf.convert([first, broken, last], 1)

    assert failed == [broken]
    assert first.with_suffix(".pdf").stat().st_size > 0 and last.with_suffix(".pdf").is_file()
    assert [d.name for d in (first, broken, last) if pdf.needs_pdf(d)] == [broken.name]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".") or p.suffix == ".part"]


@needs_tools
def test_a_relative_path_converts(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("sub").mkdir()
    template = Template.load(default_template())
    Path("sub/r.docx").write_bytes(template.render(build_context(full_submission(1))))
    assert pdf.convert([Path("sub/r.docx")], 1) == []
    assert (tmp_path / "sub" / "r.pdf").stat().st_size > 1000
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["r.docx", "r.pdf"]


def test_summary_annex_in_word_stops_at_the_limit_and_says_where_the_rest_are(tmp_path):
    from nianbao.build import render_report
    from nianbao.context import ANNEX_ROWS

    members = tuple(f"第{i}号单位" for i in range(1, ANNEX_ROWS + 6))
    sub = full_submission(1, agency="某省人民政府", members=members,
                          excluded=tuple((f"第{i}号镇", "未报送") for i in range(ANNEX_ROWS + 2)))
    document = docx.Document(str(render_report(sub, tmp_path / "汇总.docx")))
    included, excluded = document.tables[-2:]
    texts = [p.text for p in document.paragraphs]

    assert len(included.rows) == len(excluded.rows) == 1 + ANNEX_ROWS
    assert f"纳入汇总的单位（{ANNEX_ROWS + 5} 个）" in texts
    assert f"未纳入汇总的单位（{ANNEX_ROWS + 2} 个）" in texts
    assert [t for t in texts if t.startswith("以上列出前")] == [
        f"以上列出前{ANNEX_ROWS}个单位；全部{ANNEX_ROWS + n}个单位见同时生成的汇总数据表（.xlsx）的"
        "“汇总单位”工作表。" for n in (5, 2)]
    # a county's 汇总 lists every unit and says nothing more
    small = docx.Document(str(render_report(
        full_submission(1, agency="青山县人民政府", members=("甲局", "乙局")),
        tmp_path / "县.docx")))
    assert len(small.tables[-1].rows) == 3
    assert not any(p.text.startswith("以上列出前") for p in small.paragraphs)
    assert "纳入汇总的单位（2 个）" in [p.text for p in small.paragraphs]
