"""Build the default Word template (a developer tool, run once; the result is committed).

``python -m nianbao.template_builder OUT.docx`` writes the template that ships as
``templates/report.docx`` and ``src/nianbao/data/report.docx``.

The layout follows GB/T 9704-2012 as published annual reports use it (A4;
margins 37/35 mm top/bottom; title 方正小标宋简体 2号; headings 黑体 3号; body
仿宋_GB2312 3号 at a fixed 28.9 pt line, 22 lines × 28 characters; page numbers
"— n —" in 宋体 4号, odd pages right and even pages left).  The type area is
158.2 mm wide instead of 156 mm (left 27 mm, right 24.9 mm), so that 28
characters of 16 pt fit a line at their natural width in Word, WPS and
LibreOffice alike: condensed character spacing (the usual way to squeeze 28 into
156 mm) makes LibreOffice drop punctuation at the end of justified lines, and
Word's character grid (docGrid charSpace) is laid out by LibreOffice with
double-width cells.  python-docx's own
look is removed: the styles part is rewritten (docDefaults with zh-CN and no
theme fonts, every CJK font given through ``w:eastAsia``), and the theme,
numbering, stylesWithEffects, customXml and thumbnail parts are dropped.

The tables are drawn from :func:`nianbao.layout.section_grid`, so no label is
typed here; their value cells hold tags such as ``{{ t3.r1.natural }}``.
"""

from __future__ import annotations

import datetime as dt
import io
import sys
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from docx import Document
from docx.document import Document as DocumentObject
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import parse_xml
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.shared import Mm, Twips

from nianbao.layout import Block, Grid, Role, section_grid
from nianbao.schema import DEFAULT_FORMAT, FormatSpec

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_W = f'xmlns:w="{W_NS}"'

PAGE_WIDTH = 11906  # twips: 210 mm
LEFT_MARGIN = 1531  # twips: 27 mm
TEXT_WIDTH = 8966  # twips: 448.3 pt, 28 characters of 16 pt (448 pt) and a little air
RIGHT_MARGIN = PAGE_WIDTH - LEFT_MARGIN - TEXT_WIDTH  # 1409 twips, 24.9 mm
LINE_PITCH = 578  # twips: 28.9 pt, 22 lines in 225 mm
BODY_SIZE = 32  # half-points: 3号 16 pt
CHARS_PER_LINE = 28
CELL_MARGIN = 57  # twips (1 mm) left and right in every table cell
STYLES_WITH_EFFECTS = "http://schemas.microsoft.com/office/2007/relationships/stylesWithEffects"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # zip member time: the same template builds the same bytes

LATIN = "Times New Roman"
FANGSONG, XIAOBIAOSONG, HEITI, SONGTI, KAITI = ("仿宋_GB2312", "方正小标宋简体", "黑体", "宋体",
                                                "楷体_GB2312")


def _fonts(east_asia: str, latin: str = LATIN) -> str:
    return (f'<w:rFonts w:ascii="{latin}" w:hAnsi="{latin}" w:eastAsia="{east_asia}" '
            f'w:cs="{LATIN}"/>')


_SINGLE = '<w:spacing w:before="0" w:after="0" w:line="240" w:lineRule="auto"/>'
_NO_INDENT = '<w:ind w:firstLine="0" w:firstLineChars="0"/>'

STYLES_XML = f"""<w:styles {_W}>
<w:docDefaults>
 <w:rPrDefault><w:rPr>{_fonts(FANGSONG)}<w:kern w:val="2"/><w:sz w:val="{BODY_SIZE}"/>
  <w:szCs w:val="{BODY_SIZE}"/><w:lang w:val="en-US" w:eastAsia="zh-CN" w:bidi="ar-SA"/>
 </w:rPr></w:rPrDefault>
 <w:pPrDefault><w:pPr>{_SINGLE}</w:pPr></w:pPrDefault>
</w:docDefaults>
<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/>
 <w:pPr><w:widowControl w:val="0"/><w:overflowPunct w:val="0"/>
  <w:spacing w:before="0" w:after="0" w:line="{LINE_PITCH}" w:lineRule="exact"/>
  <w:jc w:val="both"/></w:pPr>
 <w:rPr>{_fonts(FANGSONG)}<w:sz w:val="{BODY_SIZE}"/><w:szCs w:val="{BODY_SIZE}"/></w:rPr></w:style>
<w:style w:type="character" w:default="1" w:styleId="DefaultParagraphFont">
 <w:name w:val="Default Paragraph Font"/><w:uiPriority w:val="1"/><w:semiHidden/></w:style>
<w:style w:type="table" w:default="1" w:styleId="TableNormal"><w:name w:val="Normal Table"/>
 <w:semiHidden/><w:tblPr><w:tblInd w:w="0" w:type="dxa"/><w:tblCellMar>
  <w:top w:w="0" w:type="dxa"/><w:left w:w="57" w:type="dxa"/><w:bottom w:w="0" w:type="dxa"/>
  <w:right w:w="57" w:type="dxa"/></w:tblCellMar></w:tblPr></w:style>
<w:style w:type="numbering" w:default="1" w:styleId="NoList"><w:name w:val="No List"/>
 <w:semiHidden/></w:style>
<w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/><w:basedOn w:val="Normal"/>
 <w:next w:val="BodyText"/><w:qFormat/>
 <w:pPr><w:spacing w:before="0" w:after="{LINE_PITCH}" w:line="700" w:lineRule="exact"/>
  {_NO_INDENT}<w:jc w:val="center"/><w:outlineLvl w:val="9"/></w:pPr>
 <w:rPr>{_fonts(XIAOBIAOSONG)}<w:sz w:val="44"/><w:szCs w:val="44"/></w:rPr></w:style>
<w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/>
 <w:basedOn w:val="Normal"/><w:next w:val="BodyText"/><w:qFormat/>
 <w:pPr><w:keepNext/><w:ind w:firstLine="640" w:firstLineChars="200"/><w:outlineLvl w:val="0"/></w:pPr>
 <w:rPr>{_fonts(HEITI)}<w:sz w:val="{BODY_SIZE}"/>
  <w:szCs w:val="{BODY_SIZE}"/></w:rPr></w:style>
<w:style w:type="paragraph" w:styleId="Heading2"><w:name w:val="heading 2"/>
 <w:basedOn w:val="Normal"/><w:next w:val="BodyText"/><w:qFormat/>
 <w:pPr><w:keepNext/><w:ind w:firstLine="640" w:firstLineChars="200"/><w:outlineLvl w:val="1"/></w:pPr>
 <w:rPr>{_fonts(KAITI)}<w:sz w:val="{BODY_SIZE}"/>
  <w:szCs w:val="{BODY_SIZE}"/></w:rPr></w:style>
<w:style w:type="paragraph" w:styleId="BodyText"><w:name w:val="Body Text"/>
 <w:basedOn w:val="Normal"/><w:qFormat/>
 <w:pPr><w:ind w:firstLine="640" w:firstLineChars="200"/></w:pPr></w:style>
<w:style w:type="paragraph" w:customStyle="1" w:styleId="Draft"><w:name w:val="草稿标记"/>
 <w:basedOn w:val="Normal"/><w:pPr>{_NO_INDENT}<w:jc w:val="right"/></w:pPr>
 <w:rPr>{_fonts(HEITI)}<w:color w:val="C00000"/></w:rPr></w:style>
<w:style w:type="paragraph" w:customStyle="1" w:styleId="TableText"><w:name w:val="表格文字"/>
 <w:basedOn w:val="Normal"/><w:qFormat/>
 <w:pPr><w:snapToGrid w:val="0"/>{_SINGLE}{_NO_INDENT}<w:jc w:val="center"/></w:pPr>
 <w:rPr>{_fonts(SONGTI)}<w:kern w:val="0"/><w:sz w:val="21"/><w:szCs w:val="21"/></w:rPr></w:style>
<w:style w:type="paragraph" w:customStyle="1" w:styleId="TableTextSmall"><w:name w:val="表格文字（小）"/>
 <w:basedOn w:val="TableText"/><w:qFormat/>
 <w:rPr><w:sz w:val="18"/><w:szCs w:val="18"/></w:rPr></w:style>
<w:style w:type="paragraph" w:styleId="Header"><w:name w:val="header"/><w:basedOn w:val="Normal"/>
 <w:pPr><w:snapToGrid w:val="0"/>{_SINGLE}{_NO_INDENT}<w:jc w:val="center"/></w:pPr>
 <w:rPr>{_fonts(HEITI)}<w:color w:val="C00000"/><w:sz w:val="28"/><w:szCs w:val="28"/></w:rPr></w:style>
<w:style w:type="paragraph" w:styleId="Footer"><w:name w:val="footer"/><w:basedOn w:val="Normal"/>
 <w:pPr><w:snapToGrid w:val="0"/>{_SINGLE}{_NO_INDENT}</w:pPr>
 <w:rPr>{_fonts(SONGTI, SONGTI)}<w:sz w:val="28"/><w:szCs w:val="28"/></w:rPr></w:style>
</w:styles>"""

SETTINGS_XML = f"""<w:settings {_W}>
<w:zoom w:percent="100"/>
<w:defaultTabStop w:val="420"/>
<w:evenAndOddHeaders/>
<w:characterSpacingControl w:val="doNotCompress"/>
<w:compat><w:useFELayout/><w:compatSetting w:name="compatibilityMode"
 w:uri="http://schemas.microsoft.com/office/word" w:val="15"/></w:compat>
<w:themeFontLang w:val="en-US" w:eastAsia="zh-CN"/>
<w:decimalSymbol w:val="."/>
<w:listSeparator w:val=","/>
</w:settings>"""


def _font_entry(name: str, alt: str | None, charset: str, family: str, pitch: str) -> str:
    alt_xml = f'<w:altName w:val="{alt}"/>' if alt else ""
    return (f'<w:font w:name="{name}">{alt_xml}<w:charset w:val="{charset}"/>'
            f'<w:family w:val="{family}"/><w:pitch w:val="{pitch}"/></w:font>')


# altName lets Word/WPS substitute a close face when the exact one is missing
# (仿宋_GB2312 is absent from recent Windows, 仿宋 is there).
FONT_TABLE_XML = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:fonts {_W}>'
    + _font_entry(LATIN, None, "00", "roman", "variable")
    + _font_entry(SONGTI, "SimSun", "86", "auto", "variable")
    + _font_entry(HEITI, "SimHei", "86", "modern", "fixed")
    + _font_entry(FANGSONG, "仿宋", "86", "modern", "fixed")
    + _font_entry(KAITI, "楷体", "86", "modern", "fixed")
    + _font_entry(XIAOBIAOSONG, "宋体", "86", "auto", "variable")
    + "</w:fonts>"
)


def _para(text: str, style: str, *, jc: str | None = None, run_xml: str | None = None,
          keep_next: bool = False) -> str:
    ppr = (f'<w:pStyle w:val="{style}"/>' + ("<w:keepNext/>" if keep_next else "")
           + (f'<w:jc w:val="{jc}"/>' if jc else ""))
    run = run_xml if run_xml is not None else (
        f'<w:r><w:t xml:space="preserve">{escape(text)}</w:t></w:r>' if text else "")
    return f"<w:p {_W}><w:pPr>{ppr}</w:pPr>{run}</w:p>"


# Value columns, in twips.  At 9 pt (表三, 表四) a Times/Liberation digit is 90
# twips: 5 digits take 450, a 3-character label such as 自然人 540; at 10.5 pt
# (表二) 9 digits or a 4-decimal amount take at most 945.  Each cell also has
# 2 × CELL_MARGIN of padding.  Wider values (a province's 汇总) are set smaller
# at render time (nianbao.typeset.fit_table_numbers) instead of wrapping.
VALUE_COLUMN_T3 = 700
LABEL_COLUMNS_T3 = (560, 1000)  # 三、本年度办理结果 | （三）不予公开; the leaf labels get the rest


def column_widths(grid: Grid) -> list[int]:
    """Grid column widths in twips, summing to the text width.

    Label columns get fixed widths (表三's leaf labels are long); the value
    columns share the rest equally, the rounding remainder going to the first ones.
    """
    values = grid.width - grid.label_columns
    if grid.label_columns == 3:
        leaf = TEXT_WIDTH - sum(LABEL_COLUMNS_T3) - values * VALUE_COLUMN_T3
        return [*LABEL_COLUMNS_T3, leaf, *(VALUE_COLUMN_T3 for _ in range(values))]
    label_widths = {0: [], 1: [2844]}[grid.label_columns]
    rest = TEXT_WIDTH - sum(label_widths)
    base, extra = divmod(rest, values)
    return [*label_widths, *(base + (1 if i < extra else 0) for i in range(values))]


def _tag(key: str) -> str:
    return "{{ " + key + " }}"


def table_xml(grid: Grid, *, style: str, header_rows: int = 0, keep_rows: int = 0) -> str:
    """One ``w:tbl`` for a section grid: explicit grid, widths, borders, margins and merges.

    Every row is ``cantSplit``; the first ``header_rows`` repeat on each page
    (``tblHeader``); the paragraphs of the first ``keep_rows`` rows are
    ``keepNext``, which holds them on the page of the row after them (Word's and
    LibreOffice's way of keeping rows together).
    """
    widths = column_widths(grid)
    border = '<w:{0} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
    borders = "".join(border.format(side) for side in
                      ("top", "left", "bottom", "right", "insideH", "insideV"))
    margins = "".join(f'<w:{side} w:w="{CELL_MARGIN if side in ("left", "right") else 0}" '
                      'w:type="dxa"/>' for side in ("top", "left", "bottom", "right"))
    out = [f"<w:tbl {_W}><w:tblPr><w:tblW w:w=\"{TEXT_WIDTH}\" w:type=\"dxa\"/>"
           f'<w:jc w:val="center"/><w:tblBorders>{borders}</w:tblBorders>'
           f'<w:tblLayout w:type="fixed"/><w:tblCellMar>{margins}</w:tblCellMar>'
           '<w:tblLook w:val="0000" w:firstRow="0" w:lastRow="0" '
           'w:firstColumn="0" w:lastColumn="0" w:noHBand="1" w:noVBand="1"/></w:tblPr><w:tblGrid>']
    out += [f'<w:gridCol w:w="{w}"/>' for w in widths]
    out.append("</w:tblGrid>")
    cover: dict[tuple[int, int], tuple[Block, bool]] = {}
    for block in grid.blocks:
        for r in range(block.row, block.row + block.rowspan):
            cover[(r, block.col)] = (block, r == block.row)
    for r in range(grid.height):
        trpr = "<w:cantSplit/>" + ("<w:tblHeader/>" if r < header_rows else "")
        keep = r < keep_rows
        out.append(f"<w:tr><w:trPr>{trpr}</w:trPr>")
        c = 0
        while c < grid.width:
            block, top = cover[(r, c)]
            span = block.colspan
            width = sum(widths[c:c + span])
            tcpr = f'<w:tcW w:w="{width}" w:type="dxa"/>'
            if span > 1:
                tcpr += f'<w:gridSpan w:val="{span}"/>'
            if block.rowspan > 1:
                tcpr += '<w:vMerge w:val="restart"/>' if top else "<w:vMerge/>"
            tcpr += '<w:vAlign w:val="center"/>'
            if not top:
                content = _para("", style, keep_next=keep)
            elif block.role is Role.VALUE and block.key:
                content = _para(_tag(block.key), style, keep_next=keep)
            else:
                role = block.role
                jc = "left" if role is Role.LABEL or (role is Role.CORNER and span > 1) else None
                content = _para(block.text, style, jc=jc, keep_next=keep)
            out.append(f"<w:tc><w:tcPr>{tcpr}</w:tcPr>{content}</w:tc>")
            c += span
        out.append("</w:tr>")
    out.append("</w:tbl>")
    return "".join(out)


def _page_number_footer(align: str) -> str:
    """"— n —" with a PAGE field, inset one character (14 pt) from the outer edge."""
    side = "right" if align == "right" else "left"
    field = ('<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
             '<w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r>'
             '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
             '<w:r><w:t>1</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>')
    dash = '<w:r><w:t xml:space="preserve">{}</w:t></w:r>'
    return (f'<w:p {_W}><w:pPr><w:pStyle w:val="Footer"/><w:ind w:{side}="280" w:{side}Chars="100"/>'
            f'<w:jc w:val="{align}"/></w:pPr>{dash.format("— ")}{field}{dash.format(" —")}</w:p>')


DRAFT_HEADER = "{% if draft %}草稿（未经审核，不得公开）{% endif %}"


def _replace_paragraphs(element: BaseOxmlElement, xml: str) -> None:
    """Replace the paragraphs of a header or footer with one built from ``xml``."""
    for p in list(element.iterchildren(f"{{{W_NS}}}p")):
        element.remove(p)
    element.append(parse_xml(xml))


def _body(spec: FormatSpec) -> list[str]:
    """The body paragraphs and tables, as XML strings, in reading order."""
    out = [
        _para("{%p if draft %}", "Draft"),
        _para("草稿", "Draft"),
        _para("{%p endif %}", "Draft"),
        _para('{{ title_lines|join("\\n") }}', "Title"),
        _para("{{ period }}", "BodyText"),
    ]
    for section in spec.sections:
        out.append(_para(section.heading, "Heading1"))
        if section.narrative:
            out += [_para(f"{{%p for para in {section.id} %}}", "BodyText"),
                    _para("{{ para }}", "BodyText"),
                    _para("{%p endfor %}", "BodyText")]
            continue
        grid = section_grid(section, spec)
        small = grid.width > 4  # 表三 (10 columns) and 表四 (15) need 9 pt to fit
        first_values = min(b.row for b in grid.blocks if b.role is Role.VALUE)
        if grid.width == 4:  # 表二: short, kept on one page with its heading
            header_rows, keep_rows = 0, grid.height - 1
        else:  # a page break leaves at least the header and three rows together
            header_rows, keep_rows = first_values, min(first_values + 2, grid.height - 1)
        out.append(table_xml(grid, style="TableTextSmall" if small else "TableText",
                             header_rows=header_rows, keep_rows=keep_rows))
    return out + annex_xml()


def _list_table(heads: list[tuple[str, int]], cells: list[str], loop: str) -> str:
    """A bordered table: one repeated header row, then one row per item of ``loop``."""
    border = '<w:{0} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
    borders = "".join(border.format(side) for side in
                      ("top", "left", "bottom", "right", "insideH", "insideV"))

    margins = "".join(f'<w:{side} w:w="{CELL_MARGIN if side in ("left", "right") else 0}" '
                      'w:type="dxa"/>' for side in ("top", "left", "bottom", "right"))

    def row(texts: list[str], header: bool = False, jcs: tuple[str | None, ...] = ()) -> str:
        trpr = ('<w:cantSplit/><w:trHeight w:val="397"/>'  # 7 mm: a list easy to read
                + ("<w:tblHeader/>" if header else ""))
        tcs = "".join(f'<w:tc><w:tcPr><w:tcW w:w="{w}" w:type="dxa"/><w:vAlign w:val="center"/>'
                      f'</w:tcPr>{_para(text, "TableText", jc=jc)}</w:tc>'
                      for (_, w), text, jc in zip(heads, texts, jcs or (None,) * len(heads),
                                                  strict=True))
        return f"<w:tr><w:trPr>{trpr}</w:trPr>{tcs}</w:tr>"

    width = sum(w for _, w in heads)
    return (f'<w:tbl {_W}><w:tblPr><w:tblW w:w="{width}" w:type="dxa"/><w:jc w:val="center"/>'
            f'<w:tblBorders>{borders}</w:tblBorders><w:tblLayout w:type="fixed"/>'
            f'<w:tblCellMar>{margins}</w:tblCellMar></w:tblPr><w:tblGrid>'
            + "".join(f'<w:gridCol w:w="{w}"/>' for _, w in heads) + "</w:tblGrid>"
            + row([h for h, _ in heads], header=True)
            + row([f"{{%tr for u in {loop} %}}", *[""] * (len(heads) - 1)])
            + row(cells, jcs=(None, *["left"] * (len(heads) - 1)))
            + row(["{%tr endfor %}", *[""] * (len(heads) - 1)])
            + "</w:tbl>")


def annex_xml() -> list[str]:
    """The 汇总's 附表 on a new page: the units included, then those left out with why.

    Only a 汇总 has an ``annex``; for a unit's report the block renders to nothing.
    """
    def caption(text: str, *, new_page: bool = False) -> str:
        brk = "<w:pageBreakBefore/>" if new_page else ""
        return (f'<w:p {_W}><w:pPr><w:pStyle w:val="Heading1"/>{brk}{_NO_INDENT}'
                f'<w:jc w:val="center"/></w:pPr><w:r><w:t xml:space="preserve">{escape(text)}'
                "</w:t></w:r></w:p>")

    def more(variable: str) -> list[str]:  # where the units past ANNEX_ROWS are listed
        return [_para(f"{{%p if {variable} %}}", "BodyText"), _para(f"{{{{ {variable} }}}}", "BodyText"),
                _para("{%p endif %}", "BodyText")]

    return [
        _para("{%p if annex %}", "BodyText"),
        caption("附表", new_page=True),
        caption("纳入汇总的单位（{{ annex.included_count }} 个）"),
        _list_table([("序号", 1000), ("单位名称", TEXT_WIDTH - 1000)], ["{{ u.no }}", "{{ u.name }}"],
                    "annex.included"),
        *more("annex.included_more"),
        _para("{%p if annex.excluded %}", "BodyText"),
        _para("", "BodyText"),
        caption("未纳入汇总的单位（{{ annex.excluded_count }} 个）"),
        _list_table([("序号", 1000), ("单位名称", TEXT_WIDTH - 4200), ("未纳入的原因", 3200)],
                    ["{{ u.no }}", "{{ u.name }}", "{{ u.reason }}"], "annex.excluded"),
        *more("annex.excluded_more"),
        _para("{%p endif %}", "BodyText"),
        _para("", "BodyText"),
        _para("{%p endif %}", "BodyText"),
    ]


def build(spec: FormatSpec = DEFAULT_FORMAT) -> DocumentObject:
    """The default template as a python-docx Document (not yet saved)."""
    doc = Document()
    part = doc.part
    # python-docx's look: drop the parts that carry theme fonts and Word 2010 extras.
    for rid, rel in list(part.rels.items()):
        if rel.reltype in (RT.THEME, RT.NUMBERING, RT.CUSTOM_XML, STYLES_WITH_EFFECTS):
            part.drop_rel(rid)
        elif rel.reltype == RT.FONT_TABLE:
            rel.target_part._blob = FONT_TABLE_XML.encode("utf-8")
    package_rels = part.package.rels
    for rid, rel in list(package_rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            package_rels.pop(rid)

    styles = doc.styles.element
    for child in list(styles):
        styles.remove(child)
    for child in parse_xml(STYLES_XML):
        styles.append(child)
    settings = doc.settings.element
    for child in list(settings):
        settings.remove(child)
    for child in parse_xml(SETTINGS_XML):
        settings.append(child)

    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Twips(LEFT_MARGIN), Twips(RIGHT_MARGIN)
    section.header_distance, section.footer_distance = Mm(15), Mm(28)
    sect_pr = section._sectPr
    grid = sect_pr.find(f"{{{W_NS}}}docGrid")
    if grid is not None:
        sect_pr.remove(grid)
    sect_pr.append(parse_xml(f'<w:docGrid {_W} w:linePitch="{LINE_PITCH}"/>'))
    for name in ("rsidR", "rsidRPr", "rsidSect"):
        sect_pr.attrib.pop(f"{{{W_NS}}}{name}", None)

    _replace_paragraphs(section.footer._element, _page_number_footer("right"))
    _replace_paragraphs(section.even_page_footer._element, _page_number_footer("left"))
    for header in (section.header, section.even_page_header):
        _replace_paragraphs(header._element, _para(DRAFT_HEADER, "Header"))

    for element in _body(spec):  # before sectPr, which must stay last in the body
        sect_pr.addprevious(parse_xml(element))

    props = doc.core_properties
    props.title = "{{ title }}"
    props.author = props.last_modified_by = "nianbao"
    props.comments = props.subject = props.keywords = props.category = ""
    props.revision = 1
    props.created = props.modified = dt.datetime(2021, 1, 1)
    return doc


def normalized_zip(data: bytes) -> bytes:
    """The same zip with fixed member times, so a rebuild gives identical bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            member = zipfile.ZipInfo(info.filename, FIXED_TIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(member, src.read(info))
    return out.getvalue()


def write_template(path: Path, spec: FormatSpec = DEFAULT_FORMAT) -> None:
    """Build the default template and write it to ``path``."""
    buffer = io.BytesIO()
    build(spec).save(buffer)
    path.write_bytes(normalized_zip(buffer.getvalue()))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("用法：python -m nianbao.template_builder 输出文件.docx", file=sys.stderr)
        return 2
    write_template(Path(args[0]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
