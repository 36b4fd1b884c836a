"""Line breaking of the report title and fitting of numbers into table cells.

Widths are counted in ems of the running font size: a Chinese character (or
any East Asian wide/full-width character) is 1 em; digits, Latin letters and
ASCII punctuation are about ½ em, as in Times New Roman and its metric-compatible
substitute Liberation Serif (digits are exactly 1024/2048 em, the point 512/2048).

Title (GB/T 9704 §7.3.3: words kept whole, lines symmetric): the title
"{单位全称}{年度}年政府信息公开工作年度报告" stays on one line when it fits;
otherwise it breaks after "{年度}年", and an agency name too long for one line
breaks between its words (administrative divisions and organ names), the lines
as even as possible.  Only if one word alone is wider than the line is it cut.

Tables: :func:`fit_table_numbers` shrinks the number font of a rendered table
whose widest value would not fit its cell on one line (a province's 汇总), so
numbers never wrap.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

from lxml import etree

TITLE_TAIL = "政府信息公开工作年度报告"
# The title is 2号 (22 pt) on a 448.3 pt line: 20 full-width characters.
TITLE_LINE_EMS = 20.0

_NARROW = {".": 0.25, ",": 0.25, ":": 0.28, ";": 0.28, "-": 0.33, " ": 0.25, "1": 0.5}


def ems(text: str) -> float:
    """Width of ``text`` in ems (see the module docstring)."""
    total = 0.0
    for ch in text:
        if unicodedata.east_asian_width(ch) in ("W", "F"):
            total += 1.0
        else:
            total += _NARROW.get(ch, 0.5 if ch.isascii() else 1.0)
    return total


# ------------------------------------------------------------------ the title

# Words an agency name is made of: administrative divisions (…省, …自治州, …县),
# and organ names (人民政府, 办公厅, …委员会, …局).  A break may follow any of them.
_WORD_ENDS = (
    "特别行政区", "自治区", "自治州", "自治县", "自治旗", "地区", "新区", "开发区", "示范区",
    "共和国", "人民政府", "人民代表大会", "常务委员会", "委员会", "办公厅", "办公室", "管理局",
    "街道办事处", "省", "市", "州", "盟", "县", "旗", "区", "局", "厅", "署", "院", "中心",
)
_DIVISIONS = set("省市州盟县旗区")
# After a one-character division name these characters continue the word
# (市场, 市政, 市委, 县级, 区域, 省直 …): no break there.
_CONTINUES = set("场政委民级域直属辖长容划管")
_WORD_END = re.compile("|".join(sorted(_WORD_ENDS, key=len, reverse=True)))


def agency_words(name: str) -> list[str]:
    """``name`` cut where a word ends, e.g. 新疆维吾尔自治区 | 伊犁哈萨克自治州 | …"""
    cuts = [0]
    for match in _WORD_END.finditer(name):
        end = match.end()
        if end >= len(name) or end <= cuts[-1]:
            continue
        word, following = match.group(), name[end]
        if len(word) == 1 and (following in _CONTINUES
                               or (following in _DIVISIONS and following != word)):
            continue  # 市场, 县级 …; 郑州市 is one word, not 郑州 | 市
        cuts.append(end)
    cuts.append(len(name))
    return [name[a:b] for a, b in zip(cuts, cuts[1:], strict=False) if b > a]


def _balanced(words: list[str], width: float) -> list[str]:
    """Fewest lines no wider than ``width``, then the most even; words never cut."""
    n = len(words)
    best: dict[int, tuple[int, float, list[str]]] = {n: (0, 0.0, [])}
    for i in range(n - 1, -1, -1):
        options = []
        for j in range(i + 1, n + 1):
            line = "".join(words[i:j])
            w = ems(line)
            if w > width and j > i + 1:
                break
            count, spread, rest = best[j]
            widths = [w, *(ems(r) for r in rest)]
            options.append((count + 1, max(widths) - min(widths), [line, *rest]))
        best[i] = min(options, key=lambda o: (o[0], o[1]))
    return best[0][2]


def _cut(word: str, width: float) -> list[str]:
    """A single word wider than the line: cut it evenly (the last resort)."""
    parts = max(2, -int(-ems(word) // width))
    size = -(-len(word) // parts)
    return [word[i:i + size] for i in range(0, len(word), size)]


def title_lines(agency: str, year: str, width: float = TITLE_LINE_EMS) -> list[str]:
    """The title's lines (one if it fits; see the module docstring)."""
    head = f"{agency}{year}年" if year else agency
    if ems(head + TITLE_TAIL) <= width or not head:
        return [head + TITLE_TAIL]
    if ems(head) <= width:
        return [head, TITLE_TAIL]
    words = agency_words(agency)
    if year:
        words[-1] += f"{year}年"  # the year never starts a line
    pieces = [p for w in words for p in (_cut(w, width) if ems(w) > width else [w])]
    return [*_balanced(pieces, width), TITLE_TAIL]


# ------------------------------------------------------------------ table numbers

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_W = f"{{{W_NS}}}"
_NUMBER = re.compile(r"-?[0-9][0-9.,]*")
DEFAULT_CELL_MARGIN = 108  # twips: Word's default left/right cell margin
MIN_SIZE = 10  # half-points: numbers are never set below 5 pt
# Run properties after w:szCs in schema order (ECMA-376 CT_RPr).
_AFTER_SZ = ("highlight", "u", "effect", "bdr", "shd", "fitText", "vertAlign", "rtl", "cs", "em",
             "lang", "eastAsianLayout", "specVanish", "oMath")


def style_sizes(styles: etree._Element) -> dict[str, int]:
    """Font size (half-points) of every paragraph style, following ``basedOn``."""
    default = styles.find(f"{_W}docDefaults/{_W}rPrDefault/{_W}rPr/{_W}sz")
    fallback = int(default.get(f"{_W}val", "20")) if default is not None else 20
    own: dict[str, int | None] = {}
    parent: dict[str, str | None] = {}
    for style in styles.iter(f"{_W}style"):
        sid = style.get(f"{_W}styleId", "")
        sz = style.find(f"{_W}rPr/{_W}sz")
        own[sid] = int(sz.get(f"{_W}val", "0")) if sz is not None else None
        based = style.find(f"{_W}basedOn")
        parent[sid] = based.get(f"{_W}val") if based is not None else None
    out: dict[str, int] = {}
    for sid in own:
        seen, cur = set(), sid
        size = None
        while cur and cur not in seen and size is None:
            seen.add(cur)
            size = own.get(cur)
            cur = parent.get(cur)  # type: ignore[assignment]
        out[sid] = size or fallback
    out[""] = own.get("Normal") or fallback
    return out


def _margins(tbl: etree._Element, default: int) -> int:
    mar = tbl.find(f"{_W}tblPr/{_W}tblCellMar")
    if mar is None:
        return 2 * default
    total = 0
    for side, alt in (("left", "start"), ("right", "end")):
        el = mar.find(f"{_W}{side}")
        el = el if el is not None else mar.find(f"{_W}{alt}")
        total += int(el.get(f"{_W}w", default)) if el is not None else default
    return total


def _size_of(run: etree._Element, para_size: int) -> int:
    sz = run.find(f"{_W}rPr/{_W}sz")
    return int(sz.get(f"{_W}val", para_size)) if sz is not None else para_size


def _set_size(run: etree._Element, size: int) -> None:
    rpr = run.find(f"{_W}rPr")
    if rpr is None:
        rpr = etree.Element(f"{_W}rPr")
        run.insert(0, rpr)
    for tag in ("sz", "szCs"):
        for old in rpr.findall(f"{_W}{tag}"):
            rpr.remove(old)
    after = next((c for c in rpr if etree.QName(c).localname in _AFTER_SZ), None)
    for tag in ("sz", "szCs"):
        el = etree.Element(f"{_W}{tag}")
        el.set(f"{_W}val", str(size))
        if after is None:
            rpr.append(el)
        else:
            after.addprevious(el)


def _number_runs(tbl: etree._Element, sizes: Mapping[str, int], margins: int
                 ) -> Iterable[tuple[etree._Element, list[etree._Element], int, float]]:
    """(cell, runs, size, room/needed) for every cell holding just a number."""
    for tc in tbl.iter(f"{_W}tc"):
        if tc.getparent() is None or tc.getparent().getparent() is not tbl:
            continue  # a nested table's cell
        width = tc.find(f"{_W}tcPr/{_W}tcW")
        if width is None or width.get(f"{_W}type", "dxa") != "dxa":
            continue
        text = "".join(t.text or "" for t in tc.iter(f"{_W}t")).strip()
        if not _NUMBER.fullmatch(text):
            continue
        runs = [r for r in tc.iter(f"{_W}r") if r.find(f"{_W}t") is not None]
        style = tc.find(f"{_W}p/{_W}pPr/{_W}pStyle")
        para_size = sizes.get(style.get(f"{_W}val", "") if style is not None else "", sizes[""])
        size = max(_size_of(r, para_size) for r in runs)
        room = int(width.get(f"{_W}w", "0")) - margins
        needed = ems(text) * size * 10  # half-points → twips: × 10
        yield tc, runs, size, room / needed if needed else 1.0


def safe_length(body: etree._Element, sizes: Mapping[str, int], slack: float = 0.97) -> int:
    """The most digits that fit on one line in every table cell of ``body`` (a template).

    A rendered document whose numbers are all this short needs no
    :func:`fit_table_numbers` (the renderer's fast path).
    """
    fits = []
    for tbl in body.iter(f"{_W}tbl"):
        margins = _margins(tbl, DEFAULT_CELL_MARGIN)
        for tc in tbl.iter(f"{_W}tc"):
            width = tc.find(f"{_W}tcPr/{_W}tcW")
            if width is None or width.get(f"{_W}type", "dxa") != "dxa":
                continue
            if "{{" not in "".join(t.text or "" for t in tc.iter(f"{_W}t")):
                continue  # a label, not a value
            style = tc.find(f"{_W}p/{_W}pPr/{_W}pStyle")
            size = sizes.get(style.get(f"{_W}val", "") if style is not None else "", sizes[""])
            size = max([size, *(_size_of(r, size) for r in tc.iter(f"{_W}r"))])
            room = int(width.get(f"{_W}w", "0")) - margins
            fits.append(int(room * slack / (ems("0") * size * 10)))
    return max(0, min(fits)) if fits else 999


def is_long_number(text: str | None, longer_than: int) -> bool:
    """A number :func:`fit_table_numbers` measures: longer than ``longer_than`` characters."""
    return (text is not None and len(text) > longer_than
            and _NUMBER.fullmatch(text.strip()) is not None)


def fit_table_numbers(body: etree._Element, sizes: Mapping[str, int],
                      slack: float = 0.97, longer_than: int = 0) -> bool:
    """Shrink the numbers of each table where one would not fit its cell; True if changed.

    All the numbers of such a table get the same smaller size (a table reads
    evenly), the largest that lets the widest fit within ``slack`` of its room.
    Only tables holding a number longer than ``longer_than`` characters are
    measured (:func:`safe_length` of the template: shorter ones always fit).
    """
    tables: list[etree._Element] = []
    for t in body.iter(f"{_W}t"):
        if is_long_number(t.text, longer_than):
            tbl = next(t.iterancestors(f"{_W}tbl"), None)
            if tbl is not None and all(tbl is not seen for seen in tables):
                tables.append(tbl)
    changed = False
    for tbl in tables:
        cells = list(_number_runs(tbl, sizes, _margins(tbl, DEFAULT_CELL_MARGIN)))
        if not cells:
            continue
        fitting = min(size * ratio * slack for _, _, size, ratio in cells)
        if all(size <= fitting for _, _, size, _ in cells):
            continue
        target = max(MIN_SIZE, int(fitting))
        for _, runs, size, _ in cells:
            for run in runs:
                if size > target:
                    _set_size(run, target)
        changed = True
    return changed
