"""Compiled docxtpl renderer: load and compile a Word template once, render many reports.

docxtpl compiles the Jinja2 template again for every document, which is most of
its cost (RENDERING.md §1, §5).  :class:`Template` keeps docxtpl's template
language and pre-processing (its own ``patch_xml``), but does the work once:

* at load: read the zip, run ``patch_xml`` on every templated part (the
  document body, headers, footers, footnotes), compile each with one
  ``SandboxedEnvironment(autoescape=True, undefined=StrictUndefined)``, and
  deflate the untouched members once;
* per document: render, apply docxtpl's post-processing (line markers,
  ``{_{``, and ``resolve_listing`` only when a value holds ``\\n \\a \\t \\f``),
  parse every rendered part strictly with lxml (a bad template or value raises
  :class:`TemplateError` instead of writing a document Word cannot open), and
  write the zip with fixed member times, so the same inputs give the same bytes.

The output's ``word/document.xml`` equals docxtpl 0.20.2's (compared after XML
canonicalisation in ``tests/test_engine.py``); docxtpl is pinned for that reason.
:func:`lint_template` checks a template for a non-programmer author.
"""

from __future__ import annotations

import html
import io
import re
import secrets
import struct
import time
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docxtpl import DocxTemplate
from jinja2 import StrictUndefined, meta, nodes
from jinja2 import Template as JinjaTemplate
from jinja2.exceptions import SecurityError, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from lxml import etree
from markupsafe import Markup

from nianbao import kinds
from nianbao.atomic import describe_os_error
from nianbao.errors import TemplateError
from nianbao.typeset import fit_table_numbers, is_long_number, safe_length, style_sizes

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_W = f"{{{W_NS}}}"
_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_OFFICE_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
_CORE = "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties"
_PART_KINDS = {  # relationship type suffix -> the part's name for a template author
    "/header": "页眉",
    "/footer": "页脚",
    "/footnotes": "脚注",
}
MAX_UNZIPPED = 64 * 1024 * 1024  # a report template is ~100 KB; refuse zip bombs
_DOS_TIME, _DOS_DATE = 0, (0 << 9) | (1 << 5) | 1  # 1980-01-01 00:00
_BODY_MARK = "NIANBAO-BODY-PLACEHOLDER"
_TAGS = ("{{", "{%", "{#")

# Characters XML 1.0 forbids, except \a and \f which docxtpl turns into a new
# paragraph / page break in resolve_listing.
_BAD_XML_CHARS = re.compile("[\x00-\x06\x08\x0b\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

# python-docx's parser: docxtpl sees the XML through it, so we must too.
_LOAD_PARSER = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)
_STRICT_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def _finalize(value: object) -> object:
    """Drop XML-invalid characters from every ``{{ }}`` output (a safety net)."""
    if isinstance(value, str) and _BAD_XML_CHARS.search(value):
        cleaned = _BAD_XML_CHARS.sub("", value)
        return Markup(cleaned) if isinstance(value, Markup) else cleaned
    return value


# What one document may cost: a real report is ~100 KB of XML rendered in ~10 ms.
# A template with a runaway loop or a giant string stops with a Chinese error
# (in `template check` and in every build) instead of hanging or exhausting memory.
MAX_RENDER_SECONDS = 20.0
MAX_RENDER_CHARS = 20_000_000  # characters of one rendered part


class RenderLimit(Exception):  # noqa: N818 - raised through Jinja2, explained in Chinese
    """A template exceeded :data:`MAX_RENDER_SECONDS` or :data:`MAX_RENDER_CHARS`."""


class _BoundedEnvironment(SandboxedEnvironment):
    """The sandbox, plus a size check on ``*`` and ``+`` (``'x' * 10**9`` is refused, not built)."""

    intercepted_binops = frozenset({"*", "**", "+"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        sized = (str, bytes, list, tuple)
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if (isinstance(seq, sized) and isinstance(times, int)
                        and len(seq) * times > MAX_RENDER_CHARS):
                    raise RenderLimit("size")
        elif operator == "**":
            if isinstance(left, int) and isinstance(right, int) and abs(right) > 10_000:
                raise RenderLimit("size")
        elif (operator == "+" and isinstance(left, sized) and isinstance(right, sized)
              and len(left) + len(right) > MAX_RENDER_CHARS):
            raise RenderLimit("size")
        return super().call_binop(context, operator, left, right)


def make_environment() -> SandboxedEnvironment:
    """The Jinja2 environment every nianbao template is compiled with."""
    return _BoundedEnvironment(autoescape=True, undefined=StrictUndefined, finalize=_finalize)


ROW_CHARS = 4_000  # what one item of the data (a 汇总's member, its table row) may add
ROW_SECONDS = 0.002


def _items(value: object, depth: int = 2) -> int:
    """How many list items the data holds (a 汇总 of 50,000 units: at least 50,000)."""
    if isinstance(value, list | tuple):
        return len(value) + (sum(_items(v, depth - 1) for v in value) if depth else 0)
    if isinstance(value, Mapping) and depth:
        return sum(_items(v, depth - 1) for v in value.values())
    return 0


def render_bounded(template: JinjaTemplate, context: Mapping[str, object]) -> str:
    """``template.render(context)`` within :data:`MAX_RENDER_SECONDS` and :data:`MAX_RENDER_CHARS`,
    plus :data:`ROW_SECONDS` and :data:`ROW_CHARS` for each item of the data's lists.

    Jinja2 yields the output piece by piece (each loop pass, each tag), so the
    clock and the size are checked as it goes; raises :class:`RenderLimit`.  The
    limits grow with the data (a province's 汇总 lists every member), not with
    what a template makes up (``range(10**9)``).
    """
    return render_utf8(template, context).decode("utf-8")


def render_utf8(template: JinjaTemplate, context: Mapping[str, object]) -> bytes:
    """:func:`render_bounded` as UTF-8: the pieces are encoded a few thousand at a time,
    so a 汇总 of 50,000 members is never a list of a million small strings."""
    items = _items(context)
    max_chars = MAX_RENDER_CHARS + ROW_CHARS * items
    max_seconds = MAX_RENDER_SECONDS + ROW_SECONDS * items
    start = time.monotonic()
    size = 0
    chunks: list[bytes] = []
    pieces: list[str] = []
    for piece in template.generate(context):
        size += len(piece)
        if size > max_chars:
            raise RenderLimit("size")
        if time.monotonic() - start > max_seconds:
            raise RenderLimit("time")
        pieces.append(piece)
        if len(pieces) >= 4096:
            chunks.append("".join(pieces).encode("utf-8"))
            pieces.clear()
    chunks.append("".join(pieces).encode("utf-8"))
    return b"".join(chunks)


def _patch(xml: str) -> str:
    """docxtpl's own tag clean-up (``patch_xml`` does not use its instance)."""
    # self=None: the method never touches self, and building a DocxTemplate would load python-docx
    return str(DocxTemplate.patch_xml(None, xml))


_PARAGRAPH = re.compile(rb"<w:p(?: [^>]*)?>.*?</w:p>", re.DOTALL)  # docxtpl's own pattern
_LISTING = re.compile(b"[\n\a\t\f]")


def _paragraphs(xml: bytes) -> Iterator[tuple[int, int]]:
    """The spans ``_PARAGRAPH.finditer(xml)`` gives, found with ``bytes.find``: the same
    non-overlapping matches, left to right, about twice as fast on a whole report."""
    at = 0
    while (start := xml.find(b"<w:p", at)) >= 0:
        after = xml[start + 4:start + 5]
        if after == b">":
            opened = start + 5
        elif after == b" " and (close := xml.find(b">", start + 5)) >= 0:
            opened = close + 1
        else:  # <w:pPr>, <w:pStyle …>: no paragraph starts here
            at = start + 4
            continue
        end = xml.find(b"</w:p>", opened)
        if end < 0:  # never closed: nor is any paragraph after it
            return
        yield start, end + 6
        at = end + 6


def _resolve_listing(xml: bytes) -> bytes:
    """docxtpl's ``resolve_listing`` (line breaks, tabs, new paragraphs and page breaks
    typed in values), applied only to the paragraphs that hold one: the same result, a
    few times faster when one title has a line break and the rest of the report none,
    and one copy of the text, not two (a 汇总's 附表 runs to 25 MB)."""
    hits = [m.start() for m in _LISTING.finditer(xml)]
    if not hits:
        return xml  # only documents whose values need it pay for it
    view = memoryview(xml)
    pieces: list[bytes | memoryview] = []
    at = 0
    i = 0  # the first hit not yet passed
    for start, end in _paragraphs(xml):
        while i < len(hits) and hits[i] < start:
            i += 1
        if i == len(hits):
            break
        if hits[i] >= end:
            continue
        text = xml[start:end].decode("utf-8")
        pieces += [view[at:start], str(DocxTemplate.resolve_listing(None, text)).encode("utf-8")]
        at = end
    if not pieces:
        return xml
    pieces.append(view[at:])
    return b"".join(pieces)


def _mark_lines(xml: str) -> str:
    """docxtpl puts each paragraph on its own line, so errors have useful line numbers."""
    return re.sub(r"<w:p([ >])", r"\n<w:p\1", xml)


def _unmark_lines(xml: bytes) -> bytes:
    return xml.replace(b"\n<w:p ", b"<w:p ").replace(b"\n<w:p>", b"<w:p>")


def _unescape_tags(xml: bytes) -> bytes:
    for marked, tag in ((b"{_{", b"{{"), (b"}_}", b"}}"), (b"{_%", b"{%"), (b"%_}", b"%}")):
        if marked in xml:
            xml = xml.replace(marked, tag)
    return xml


# docxtpl's ``render_xml_part`` after rendering, on the UTF-8 text: half the size of the
# string a 汇总's 附表 makes, and each step makes one copy of it at most
_POSTPROCESS = (_unmark_lines, _unescape_tags, _resolve_listing)


LARGE_PART = 4 << 20  # bytes: a rendered part this large has its long tables set aside
LARGE_TABLE = 1 << 20  # bytes: a table this long that needs no fitting is set aside
_TABLE_TAG = re.compile(rb"<(/?)w:tbl(?=[\s>/])[^>]*>")
_TEXT_RUN = re.compile(rb"<w:t(?:\s[^>]*)?>([^<]*)</w:t>")
_FIRST_TAG = re.compile(rb"<([^?!\s/>][^\s/>]*)(?:\s[^>]*)?>")
# the marker's name is random: a template cannot hold one by chance or on purpose
_ASIDE_NAME = b"nianbao-aside-" + secrets.token_hex(8).encode("ascii")
_ASIDE = re.compile(rb"<\?" + _ASIDE_NAME + rb" (\d+)\?>")


def _set_aside(raw: bytes, longer_than: int) -> tuple[bytes, list[tuple[int, int]]]:
    """``raw`` with each long top-level table replaced by a marker, and where they were.

    Only in a part over :data:`LARGE_PART` bytes, and only a table over
    :data:`LARGE_TABLE` holding no number :func:`~nianbao.typeset.fit_table_numbers`
    would measure (``longer_than`` < 0: it measures none) and no character
    reference (whose text only a parser knows).  Anything unexpected (tags that do
    not pair up) sets nothing aside: the whole part then goes to the parser.
    """
    if len(raw) < LARGE_PART:
        return raw, []
    spans: list[tuple[int, int]] = []
    depth, start = 0, 0
    for tag in _TABLE_TAG.finditer(raw):
        if tag.group(1):
            depth -= 1
            if depth < 0:
                return raw, []
            if depth == 0:
                spans.append((start, tag.end()))
        elif not tag.group(0).endswith(b"/>"):
            if depth == 0:
                start = tag.start()
            depth += 1
    if depth:
        return raw, []
    aside = [(a, b) for a, b in spans if b - a >= LARGE_TABLE and not _needs_parser(raw, a, b,
                                                                                    longer_than)]
    if not aside:
        return raw, []
    pieces, at = [], 0
    for i, (a, b) in enumerate(aside):
        pieces += [raw[at:a], b"<?%s %d?>" % (_ASIDE_NAME, i)]
        at = b
    pieces.append(raw[at:])
    return b"".join(pieces), aside


def _needs_parser(raw: bytes, start: int, end: int, longer_than: int) -> bool:
    if raw.find(b"&#", start, end) >= 0:
        return True
    if longer_than < 0:
        return False
    # a text no longer in bytes than ``longer_than`` is no longer in characters either
    return any(len(text) > longer_than
               and is_long_number(text.decode("utf-8", "replace"), longer_than)
               for text in _TEXT_RUN.findall(raw, start, end))


def _check_stream(raw: bytes, span: tuple[int, int]) -> None:
    """Raise XMLSyntaxError unless ``raw[span]`` is well-formed inside the part's root
    element (whose namespaces it uses); parsed as a stream, never held as a tree."""
    first = _FIRST_TAG.search(raw)
    if first is None:
        raise etree.XMLSyntaxError("no root element", None, 0, 0)
    parser = etree.XMLPullParser(events=("end",), resolve_entities=False, no_network=True,
                                 huge_tree=False)
    parser.feed(first.group(0))
    view = memoryview(raw)
    for at in range(span[0], span[1], 1 << 20):
        parser.feed(bytes(view[at:min(at + (1 << 20), span[1])]))
        for _, element in parser.read_events():  # finished: only the parser needed it
            element.clear(keep_tail=True)
            while element.getprevious() is not None:
                del element.getparent()[0]
    parser.feed(b"</" + first.group(1) + b">")
    parser.close()


def _put_back(raw: bytes, aside: list[tuple[int, int]], source: bytes) -> bytes:
    """The tables :func:`_set_aside` took out of ``source``, back in place of their markers."""
    if not aside:
        return raw
    pieces, at = [], 0
    for marker in _ASIDE.finditer(raw):
        a, b = aside[int(marker.group(1))]
        pieces += [raw[at:marker.start()], source[a:b]]
        at = marker.end()
    pieces.append(raw[at:])
    return b"".join(pieces)


def _strip_tags(xml: str) -> str:
    return re.sub(r"<[^>]+>", "", xml).strip()


# ------------------------------------------------------------------ messages


_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"Encountered unknown tag '(tr|tc|p|r)'"),
     "无法识别的标签“{0}”：“{{% {0}”中间不能有空格，应写作“{{%{0}”"),
    (re.compile(r"Encountered unknown tag '(end\w+|else|elif)'"),
     "多出了一个“{0}”标签，或者它前面的 for/if 标签写错了"
     "（注意：同一段落里不能有两个 {{%p … %}} 标签）"),
    (re.compile(r"Encountered unknown tag '(\w+)'"), "无法识别的标签“{0}”"),
    (re.compile(r"Unexpected end of template.*looking for.*'(end\w+)'", re.S),
     "缺少结束标签“{0}”（例如 {{%p endfor %}} 或 {{%p endif %}}）"),
    (re.compile(r"unexpected end of template, expected 'end of print statement'"),
     "变量标签没有闭合，缺少“}}}}”"),
    (re.compile(r"unexpected '}'"), "多出了“}}”，或者“{{{{”写成了单个“{{”"),
    (re.compile(r"unexpected char '(.)'"), "标签中有不能识别的字符“{0}”（可能是全角符号）"),
    (re.compile(r"No filter named '(\w+)'"), "没有名为“{0}”的过滤器"),
    (re.compile(r"No test named '(\w+)'"), "没有名为“{0}”的判断条件"),
    (re.compile(r"'([^']+)' is undefined"), "nianbao 不提供变量“{0}”"),
    (re.compile(r"has no attribute '([^']+)'"), "变量中没有“{0}”这一项"),
)


def _xml_where(exc: etree.XMLSyntaxError) -> str:
    """Where lxml found the XML broken, in Chinese (its own text is English)."""
    line, column = getattr(exc, "position", (0, 0)) or (0, 0)
    return f"XML 第 {line} 行第 {column} 列附近" if line else "XML 结构不完整"


def explain(exc: BaseException) -> str:
    """A Jinja2 error in plain Chinese for a template author."""
    if isinstance(exc, RenderLimit) and str(exc) == "time":
        return (f"生成一份报告超过 {MAX_RENDER_SECONDS:.0f} 秒仍未完成，已停止。"
                "模板中可能有次数过多或嵌套过深的循环")
    if isinstance(exc, RenderLimit | MemoryError | OverflowError):
        return (f"模板生成的内容过大（一部分超过 {MAX_RENDER_CHARS // 1_000_000} 百万字），已停止。"
                "模板中可能有重复次数过多的文字或循环")
    text = str(getattr(exc, "message", None) or exc)
    for pattern, message in _MESSAGES:
        found = pattern.search(text)
        if found:
            return message.format(*found.groups())
    if isinstance(exc, SecurityError):
        return "模板试图调用不允许的操作"
    if isinstance(exc, ZeroDivisionError):
        return "模板中的算式除以了零"
    if isinstance(exc, TypeError | ValueError | ArithmeticError):
        return "模板中的算式或过滤器用错了数据类型（例如把文字当作数字计算）"
    if isinstance(exc, TemplateSyntaxError):
        return "模板语法错误，请检查标签是否成对、拼写是否正确"
    return "模板中的标签无法执行，请检查最近修改过的标签"


# ------------------------------------------------------------------ zip output


@dataclass(frozen=True, slots=True)
class _Member:
    """A zip member ready to be written: deflated data and its header fields."""

    name: bytes
    crc: int
    size: int
    data: bytes  # raw deflate stream

    @classmethod
    def deflate(cls, name: str, raw: bytes) -> _Member:
        return cls(name.encode("utf-8"), zlib.crc32(raw), len(raw),
                   zlib.compress(raw, 6, wbits=-15))


def _write_zip(members: Iterable[_Member]) -> bytes:
    """A plain deflated zip with fixed times: byte-identical for identical members."""
    chunks: list[bytes] = []
    central: list[bytes] = []
    offset = count = 0
    for m in members:
        flags = 0x800 if any(b > 0x7F for b in m.name) else 0
        fields = (20, flags, 8, _DOS_TIME, _DOS_DATE, m.crc, len(m.data), m.size, len(m.name))
        local = struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields, 0) + m.name
        central.append(struct.pack("<IH", 0x02014B50, 20)
                       + struct.pack("<HHHHHIIIHHHHHII", *fields, 0, 0, 0, 0, 0, offset) + m.name)
        chunks += (local, m.data)
        offset += len(local) + len(m.data)
        count += 1
    directory = b"".join(central)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(directory), offset, 0)
    return b"".join(chunks) + directory + end


# ------------------------------------------------------------------ the template


@dataclass(frozen=True, slots=True)
class _Part:
    """A templated XML part: rendered = prefix + template(context) + suffix."""

    name: str
    label: str  # 正文 / 页眉 / 页脚 / 脚注
    template: JinjaTemplate
    prefix: bytes
    suffix: bytes
    variables: frozenset[str]


@dataclass(frozen=True, slots=True)
class _CoreField:
    index: int  # position among core.xml's children
    template: JinjaTemplate
    variables: frozenset[str]


def _read_zip(data: bytes, name: str) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if sum(i.file_size for i in infos) > MAX_UNZIPPED:
                raise TemplateError(f"模板 {name} 解压后过大，不像是一个报告模板。")
            return {i.filename: archive.read(i) for i in infos if not i.is_dir()}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise TemplateError(f"无法打开模板 {name}：不是有效的 Word（.docx）文件。") from exc


def _rels(files: Mapping[str, bytes], rels_name: str) -> list[tuple[str, str]]:
    """(type, target path inside the zip) for every relationship of a part."""
    if rels_name not in files:
        return []
    root = etree.fromstring(files[rels_name], _LOAD_PARSER)
    base = rels_name.replace("_rels/", "").removesuffix(".rels")
    folder = base.rsplit("/", 1)[0] + "/" if "/" in base else ""
    out = []
    for rel in root.iter(f"{{{_REL_NS}}}Relationship"):
        if rel.get("TargetMode") == "External":
            continue
        target = rel.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else _join(folder, target)
        out.append((rel.get("Type", ""), path))
    return out


def _join(folder: str, target: str) -> str:
    parts: list[str] = []
    for piece in (folder + target).split("/"):
        if piece == "..":
            if parts:
                parts.pop()
        elif piece and piece != ".":
            parts.append(piece)
    return "/".join(parts)


def _has_tags(text: str) -> bool:
    return any(tag in text for tag in _TAGS)


class Template:
    """A compiled Word template.  Create with :meth:`load`; render as often as needed."""

    def __init__(self, *, name: str, order: list[str], parts: dict[str, _Part],
                 untouched: dict[str, _Member], core: tuple[str, Any, list[_CoreField]] | None,
                 environment: SandboxedEnvironment, main: str = "",
                 style_sizes: dict[str, int] | None = None, safe_digits: int = 0) -> None:
        self.name = name
        self._main = main
        self._style_sizes = style_sizes
        self._safe_digits = safe_digits  # numbers this long fit every value cell
        self._order = order
        self._parts = parts
        self._untouched = untouched
        self._core = core
        self.environment = environment

    # -------------------------------------------------------------- loading

    @classmethod
    def load(cls, path: Path | str) -> Template:
        """Read, patch and compile a .docx template; raises :class:`TemplateError`."""
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise TemplateError(f"无法读取模板 {path}：{describe_os_error(exc)}") from exc
        return cls.from_bytes(data, name=str(path))

    @classmethod
    def from_bytes(cls, data: bytes, *, name: str = "模板") -> Template:
        files = _read_zip(data, name)
        environment = make_environment()
        main = next((t for kind, t in _rels(files, "_rels/.rels") if kind == _OFFICE_DOC), None)
        if main is None or main not in files:
            raise TemplateError(f"模板 {name} 不是 Word 文档：找不到正文部分（word/document.xml）。")
        parts: dict[str, _Part] = {}
        body = _document_part(main, files[main], environment, name)
        if body is not None:
            parts[main] = body
        folder, _, file = main.rpartition("/")
        for kind, target in _rels(files, f"{folder}/_rels/{file}.rels"):
            label = next((v for k, v in _PART_KINDS.items() if kind.endswith(k)), None)
            if label and target in files and target not in parts:
                part = _whole_part(target, label, files[target], environment, name,
                                   declaration=label != "脚注")
                if part is not None:
                    parts[target] = part
        core = None
        core_name = next((t for kind, t in _rels(files, "_rels/.rels") if kind == _CORE), None)
        if core_name is not None and core_name in files:
            core = _core_part(core_name, files[core_name], environment, name)
        untouched = {n: _Member.deflate(n, raw) for n, raw in files.items()
                     if n not in parts and not (core and n == core[0])}
        sizes, digits = None, 0
        styles = next((t for kind, t in _rels(files, f"{folder}/_rels/{file}.rels")
                       if kind.endswith("/styles")), None)
        if styles in files:
            try:
                sizes = style_sizes(etree.fromstring(files[styles], _LOAD_PARSER))
                digits = safe_length(etree.fromstring(files[main], _LOAD_PARSER), sizes)
            except (etree.XMLSyntaxError, ValueError):
                sizes = None  # unreadable styles: numbers are left as they are
        return cls(name=name, order=list(files), parts=parts, untouched=untouched, core=core,
                   environment=environment, main=main, style_sizes=sizes, safe_digits=digits)

    # -------------------------------------------------------------- using

    @property
    def variables(self) -> frozenset[str]:
        """The top-level variables the template reads (loop variables excluded)."""
        out: set[str] = set()
        for part in self._parts.values():
            out |= part.variables
        if self._core:
            for core_field in self._core[2]:
                out |= core_field.variables
        return frozenset(out)

    def undeclared(self, context_keys: Iterable[str]) -> set[str]:
        """Variables the template uses that ``context_keys`` does not supply."""
        return set(self.variables - set(context_keys))

    def render(self, context: Mapping[str, object]) -> bytes:
        """One .docx as bytes.  Raises :class:`TemplateError`, never writes a broken file."""
        rendered: dict[str, _Member] = {}
        for name, part in self._parts.items():
            try:
                body = render_utf8(part.template, context)
            # any exception is the template's doing ({{ 1/0 }}, a huge range(), …)
            except Exception as exc:  # noqa: BLE001
                raise TemplateError(f"生成报告时出错（{part.label}）：{explain(exc)}。") from exc
            for step in _POSTPROCESS:  # each older text is let go as soon as it is replaced
                body = step(body)
            raw = b"".join((part.prefix, body, part.suffix))
            del body
            # a long table that needs no fitting (a 汇总's 附表) is checked as a stream and
            # kept as text: the tree of 50,000 rows would take some 400 MB
            skeleton, aside = _set_aside(raw, self._safe_digits if self._style_sizes else -1)
            try:
                for span in aside:
                    _check_stream(raw, span)
            except etree.XMLSyntaxError:  # or a prefix declared inside the part: as a tree,
                skeleton, aside = raw, []  # where the message says where it breaks
            try:
                root = etree.fromstring(skeleton, _STRICT_PARSER)
            except etree.XMLSyntaxError as exc:
                raise TemplateError(
                    f"生成的{part.label}不是有效的 Word 内容（{_xml_where(exc)}）。通常是模板标签放错了位置，"
                    "例如循环标签没有单独成段。") from exc
            # the tree is walked only when the text holds a number long enough to measure
            if (name == self._main and self._style_sizes
                    and _needs_parser(skeleton, 0, len(skeleton), self._safe_digits)
                    and fit_table_numbers(root, self._style_sizes, longer_than=self._safe_digits)):
                raw = _put_back(etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                               standalone=True), aside, raw)
            del root, skeleton
            rendered[name] = _Member.deflate(name, raw)
        if self._core:
            rendered[self._core[0]] = _render_core(self._core, context)
        return _write_zip(rendered.get(n) or self._untouched[n] for n in self._order)


def _compile(environment: SandboxedEnvironment, source: str, label: str,
             name: str) -> tuple[JinjaTemplate, frozenset[str]]:
    try:
        ast = environment.parse(source)
        template = environment.from_string(ast)
    except TemplateSyntaxError as exc:
        lines = source.splitlines()
        where = ""
        if exc.lineno and 0 < exc.lineno <= len(lines):
            where = _strip_tags(lines[exc.lineno - 1])[:80]
        hint = f"，所在段落：“{where}”" if where else ""
        raise TemplateError(f"模板 {name} 的{label}有语法错误：{explain(exc)}{hint}。") from exc
    return template, frozenset(meta.find_undeclared_variables(ast))


def _document_part(name: str, raw: bytes, environment: SandboxedEnvironment,
                   template_name: str) -> _Part | None:
    try:
        root = etree.fromstring(raw, _LOAD_PARSER)
    except etree.XMLSyntaxError as exc:
        raise TemplateError(f"模板 {template_name} 的正文已损坏（{_xml_where(exc)}）。") from exc
    body = root.find(f"{_W}body")
    if body is None:
        raise TemplateError(f"模板 {template_name} 的正文已损坏：没有 w:body。")
    source = _patch(etree.tostring(body, encoding="unicode"))
    if not _has_tags(source):
        return None
    placeholder = etree.Element(f"{_W}body")
    placeholder.text = _BODY_MARK
    root.replace(body, placeholder)
    whole = etree.tostring(root, encoding="UTF-8", standalone=True)
    mark = whole.index(_BODY_MARK.encode())
    start = whole.rindex(b"<", 0, mark)
    end = whole.index(b">", whole.index(b"</", mark)) + 1
    template, variables = _compile(environment, _mark_lines(source), "正文", template_name)
    return _Part(name=name, label="正文", template=template, prefix=whole[:start],
                 suffix=whole[end:], variables=variables)


def _whole_part(name: str, label: str, raw: bytes, environment: SandboxedEnvironment,
                template_name: str, *, declaration: bool) -> _Part | None:
    """A header/footer (serialised as docxtpl does) or the footnotes (raw text)."""
    try:
        root = etree.fromstring(raw, _LOAD_PARSER)
    except etree.XMLSyntaxError as exc:
        raise TemplateError(f"模板 {template_name} 的{label}已损坏（{_xml_where(exc)}）。") from exc
    text = etree.tostring(root, encoding="unicode") if declaration else raw.decode("utf-8")
    source = _patch(text)
    if not _has_tags(source):
        return None
    template, variables = _compile(environment, _mark_lines(source), label, template_name)
    prefix = b"<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n" if declaration else b""
    return _Part(name=name, label=label, template=template, prefix=prefix, suffix=b"",
                 variables=variables)


def _core_part(name: str, raw: bytes, environment: SandboxedEnvironment,
               template_name: str) -> tuple[str, Any, list[_CoreField]] | None:
    """Document properties (title, subject …) may hold tags, as in docxtpl."""
    try:
        root = etree.fromstring(raw, _LOAD_PARSER)
    except etree.XMLSyntaxError:
        return None
    fields = []
    for index, child in enumerate(root):
        if isinstance(child.tag, str) and child.text and _has_tags(child.text):
            template, variables = _compile(environment, child.text, "文档属性", template_name)
            fields.append(_CoreField(index, template, variables))
    return (name, root, fields) if fields else None


def _render_core(core: tuple[str, Any, list[_CoreField]], context: Mapping[str, object]) -> _Member:
    name, root, fields = core
    children = list(root)
    for core_field in fields:
        try:
            text = render_bounded(core_field.template, context)
        except Exception as exc:  # noqa: BLE001 - see Template.render
            raise TemplateError(f"生成报告时出错（文档属性）：{explain(exc)}。") from exc
        # autoescape is for XML markup; lxml escapes element text itself
        children[core_field.index].text = _BAD_XML_CHARS.sub("", html.unescape(text))
    return _Member.deflate(name, etree.tostring(root, encoding="UTF-8", standalone=True))


# ------------------------------------------------------------------ lint


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateProblem:
    """One problem in a template, explained for its author."""

    code: str  # stable kebab-case: unknown-variable, syntax-error, full-width-tag, ...
    message: str  # plain Chinese
    part: str = "正文"  # 正文 / 页眉 / 页脚 / 脚注 / 文档属性
    paragraph: str = ""  # the paragraph's text, when known

    def __str__(self) -> str:
        where = f"（{self.part}，段落“{self.paragraph[:60]}”）" if self.paragraph else \
            f"（{self.part}）"
        return f"{self.message}{where}"


_FULL_WIDTH_TAG = re.compile(r"[｛{][｛{％%＃#]|[％%＃#｝}][｝}]")
_SPACED_TAG = re.compile(r"\{%-?\s+(tr|tc|p|r)\s+\w|\{\{\s+(r)\s+\w")
_P_TAG = re.compile(r"\{%-?p\s")


def _problem(kind_id: str, part: str, paragraph: str = "", **fields: object) -> TemplateProblem:
    """A template problem worded by the catalogue (nianbao.kinds)."""
    return TemplateProblem(code=kinds.kind(kind_id).code, part=part, paragraph=paragraph,
                           message=kinds.text(kind_id, **fields))


def _paragraph_problems(label: str, root: Any) -> Iterator[TemplateProblem]:
    for p in root.iter(f"{_W}p"):
        text = "".join(t.text or "" for t in p.iter(f"{_W}t"))
        if not text:
            continue
        for found in _FULL_WIDTH_TAG.finditer(text):
            if not found.group().isascii():
                yield _problem("full-width-tag", label, text, tag=found.group())
                break
        for found in _SPACED_TAG.finditer(text):
            word = found.group(1) or found.group(2)
            opener = "{%" if found.group(1) else "{{"
            yield _problem("tag-with-space", label, text, opener=opener, word=word)
        if len(_P_TAG.findall(text)) > 1:
            yield _problem("two-p-tags", label, text)


def _attribute_paths(ast: nodes.Template) -> Iterator[tuple[str, ...]]:
    """``t3.r1.natural`` style paths (Getattr chains on a plain name) used in a template."""
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        path: list[str] = []
        current: nodes.Node = node
        while isinstance(current, nodes.Getattr | nodes.Getitem):
            if isinstance(current, nodes.Getattr):
                path.append(current.attr)
            elif isinstance(current.arg, nodes.Const) and isinstance(current.arg.value, str):
                path.append(current.arg.value)
            else:
                break
            current = current.node
        else:
            if isinstance(current, nodes.Name):
                yield (current.name, *reversed(path))


def _missing_path(context: Mapping[str, object], path: tuple[str, ...]) -> str | None:
    value: object = context
    for depth, step in enumerate(path):
        if not isinstance(value, Mapping):
            return None  # a string or list: its methods are Jinja's business
        if step not in value:
            return ".".join(path[:depth + 1])
        value = value[step]
    return None


def lint_template(path: Path | str,
                  context: Mapping[str, object] | None = None) -> list[TemplateProblem]:
    """Problems a template author should fix, in plain Chinese.  Never raises.

    ``context`` is what nianbao will supply (default: the context of an all-zero
    sample submission).  Checks: full-width ``｛｛ ｝｝``/``｛％``, ``{% tr``/``{% p``
    with a space, two ``{%p`` in one paragraph, Jinja syntax errors (with the
    paragraph), variables and table cells nianbao does not supply, and finally a
    trial render with the sample data.
    """
    from nianbao.context import build_context, sample_submission

    if context is None:
        context = build_context(sample_submission())
    name = str(path)
    try:
        files = _read_zip(Path(path).read_bytes(), name)
    except OSError as exc:
        return [_problem("unreadable:template-file", "文件", reason=describe_os_error(exc))]
    except TemplateError as exc:
        return [_problem("unreadable:template", "文件", reason=exc)]
    main = next((t for kind, t in _rels(files, "_rels/.rels") if kind == _OFFICE_DOC), None)
    if main is None or main not in files:
        return [_problem("unreadable:template-no-body", "文件")]
    sources: list[tuple[str, bytes]] = [("正文", files[main])]
    folder, _, file = main.rpartition("/")
    for kind, target in _rels(files, f"{folder}/_rels/{file}.rels"):
        label = next((v for k, v in _PART_KINDS.items() if kind.endswith(k)), None)
        if label and target in files:
            sources.append((label, files[target]))

    problems: list[TemplateProblem] = []
    environment = make_environment()
    seen: set[tuple[str, str]] = set()
    for label, raw in sources:
        try:
            root = etree.fromstring(raw, _LOAD_PARSER)
        except etree.XMLSyntaxError as exc:
            problems.append(_problem("unreadable:template-part", label, reason=_xml_where(exc)))
            continue
        problems += _paragraph_problems(label, root)
        texts = ["".join(t.text or "" for t in p.iter(f"{_W}t")) for p in root.iter(f"{_W}p")]
        source = _mark_lines(_patch(etree.tostring(root, encoding="unicode")))
        try:
            ast = environment.parse(source)
            environment.compile(ast)
        except TemplateSyntaxError as exc:
            lines = source.splitlines()
            paragraph = ""
            if exc.lineno and 0 < exc.lineno <= len(lines):
                paragraph = _strip_tags(lines[exc.lineno - 1])
            problems.append(_problem("syntax-error", label, paragraph, explanation=explain(exc)))
            continue
        for variable in sorted(meta.find_undeclared_variables(ast)):
            if variable not in context and (label, variable) not in seen:
                seen.add((label, variable))
                problems.append(_problem("unknown-variable", label, _containing(texts, variable),
                                         variable=variable, known=_known(context)))
        for attr_path in _attribute_paths(ast):
            missing = _missing_path(context, attr_path) if attr_path[0] in context else None
            if missing and (label, missing) not in seen:
                seen.add((label, missing))
                problems.append(_problem("unknown-variable:path", label,
                                         _containing(texts, missing.rsplit(".", 1)[-1]),
                                         missing=missing))
    if not problems:
        try:
            Template.from_bytes(Path(path).read_bytes(), name=name).render(context)
        except TemplateError as exc:
            problems.append(_problem("render-failed:template", "全文", error=exc))
        except OSError as exc:
            problems.append(_problem("unreadable:template-file", "文件",
                                     reason=describe_os_error(exc)))
    return problems


def _containing(texts: list[str], word: str) -> str:
    """The first paragraph that mentions ``word`` inside a tag, for pointing at it."""
    for text in texts:
        if word in text and ("{{" in text or "{%" in text):
            return text
    return ""


def _known(context: Mapping[str, object]) -> str:
    return "、".join(sorted(context))
