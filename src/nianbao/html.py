"""The report as HTML, for pasting into a government site's 政府信息公开专栏.

Department reports are published as web articles (CONVENTIONS.md §0.3), so next
to the .docx nianbao writes a clean HTML version: title, preface, headings,
paragraphs and the three tables with ``rowspan``/``colspan`` from
:func:`nianbao.layout.section_grid`.  Styles are inline attributes, because a
CMS editor usually strips ``<style>`` blocks; every text is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from nianbao.context import build_context, context_value
from nianbao.layout import Grid, Role, section_grid
from nianbao.model import Submission
from nianbao.schema import DEFAULT_FORMAT, FORMATS, FormatSpec

_TABLE = ('<table border="1" cellspacing="0" cellpadding="4" '
          'style="border-collapse:collapse;width:100%;font-size:14px;text-align:center">')
# the official tables: fixed layout, so the column widths of colgroup() hold
_GRID_TABLE = _TABLE.replace("text-align:center", "text-align:center;table-layout:fixed")
_PARA = '<p style="text-indent:2em;line-height:1.8">{}</p>'


def _text(value: object) -> str:
    return escape(str(value), quote=True)


def _cell(tag: str, text: str, rowspan: int, colspan: int, align: str | None = None) -> str:
    attrs = ""
    if rowspan > 1:
        attrs += f' rowspan="{rowspan}"'
    if colspan > 1:
        attrs += f' colspan="{colspan}"'
    if align:
        attrs += f' style="text-align:{align}"'
    return f"<{tag}{attrs}>{_text(text)}</{tag}>"


# Percent of the table's width for the label columns, by how many there are (表二 has one,
# 表三 three: 申请人情况's row groups); the value columns share the rest equally.
LABEL_WIDTHS = {0: (), 1: (32.0,), 3: (6.0, 12.0, 24.0)}


def colgroup(grid: Grid) -> str:
    """Fixed column widths, so every value column of a table is equally wide."""
    labels = LABEL_WIDTHS.get(grid.label_columns) or (30.0,) * grid.label_columns
    values = grid.width - len(labels)
    share = (100.0 - sum(labels)) / values if values else 0.0
    widths = [*labels, *(share,) * values]
    return "<colgroup>" + "".join(f'<col style="width:{w:.2f}%">' for w in widths) + "</colgroup>"


def table_html(grid: Grid, context: dict[str, object]) -> str:
    """One section's table; value cells are taken from the context by schema key."""
    rows = []
    for blocks in grid.rows():
        cells = []
        for block in blocks:
            if block.role is Role.VALUE and block.key:
                cells.append(_cell("td", context_value(context, block.key), block.rowspan,
                                   block.colspan))
            elif block.role is Role.LABEL:
                cells.append(_cell("td", block.text, block.rowspan, block.colspan, "left"))
            else:
                cells.append(_cell("th", block.text, block.rowspan, block.colspan))
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return _GRID_TABLE + colgroup(grid) + "".join(rows) + "</table>"


def annex_html(annex: object) -> list[str]:
    """A 汇总's 附表: the units included, then those left out with why (nothing for a unit)."""
    if not isinstance(annex, Mapping) or not annex:
        return []
    out = ['<h2 style="font-size:18px;text-align:center">附表</h2>']
    for key, caption, heads in (("included", "纳入汇总的单位", ("序号", "单位名称")),
                                ("excluded", "未纳入汇总的单位", ("序号", "单位名称", "未纳入的原因"))):
        items = annex.get(key) or []
        if not items:
            continue
        count = annex.get(f"{key}_count") or len(items)
        out.append(f'<h3 style="font-size:16px;text-align:center">{caption}（{_text(str(count))} 个）</h3>')
        rows = "".join("<tr>" + "".join(
            _cell("td", str(item.get(field, "")), 1, 1, None if field == "no" else "left")
            for field in ("no", "name", "reason")[:len(heads)]) + "</tr>" for item in items)
        cols = (10, 90) if len(heads) == 2 else (10, 50, 40)
        out.append(_GRID_TABLE + "<colgroup>" + "".join(f'<col style="width:{w}%">' for w in cols)
                   + "</colgroup><tr>" + "".join(_cell("th", h, 1, 1) for h in heads) + "</tr>"
                   + rows + "</table>")
        more = annex.get(f"{key}_more")
        if more:
            out.append(_PARA.format(_text(str(more))))
    return out


def _paragraphs(items: object) -> list[str]:
    if not isinstance(items, list | tuple):
        return []
    return [_PARA.format(_text(p)) for p in items]


def render_html(source: Submission | Mapping[str, object], *, fragment: bool = False,
                spec: FormatSpec | None = None) -> str:
    """The report as a self-contained HTML page (or, with ``fragment``, an ``<article>``).

    ``source`` is a :class:`Submission` or a context from
    :func:`nianbao.context.build_context`.
    """
    if isinstance(source, Submission):
        spec = spec or FORMATS.get(source.format_id, DEFAULT_FORMAT)
        context = build_context(source)
    else:
        context = dict(source)
    spec = spec or DEFAULT_FORMAT
    title = str(context.get("title", ""))
    out = ["<article>"]
    if context.get("draft"):
        out.append('<p style="color:#c00000;text-align:right">草稿</p>')
    out.append(f'<h1 style="text-align:center;font-size:22px">{_text(title)}</h1>')
    if context.get("period"):
        out.append(_PARA.format(_text(context["period"])))
    for section in spec.sections:
        out.append(f'<h2 style="font-size:18px">{_text(section.heading)}</h2>')
        if section.narrative:
            out += _paragraphs(context.get(section.id, []))
        else:
            out.append(table_html(section_grid(section, spec), context))
    out += annex_html(context.get("annex"))
    out.append("</article>")
    body = "\n".join(out)
    if fragment:
        return body + "\n"
    return ('<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{_text(title)}</title>\n</head>\n<body>\n{body}\n</body>\n</html>\n")
