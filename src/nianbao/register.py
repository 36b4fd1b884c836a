"""The registers an agency keeps (依申请公开登记台账, 复议诉讼案件登记), as data, read and counted.

The register's columns are declared here once; their dropdown choices come from
:mod:`nianbao.schema` (表三's applicant columns and result rows, 表四's case kinds
and results), so the form, the reader, the counts and the import all agree.

Privacy: the applicant's name and the content summary are columns of the sheet
but are never read into any object here.  Only 编号, dates and the coded
choices are; findings name a register row by its row number and 编号.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import unicodedata
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache

from nianbao.schema import DEFAULT_FORMAT, FormatSpec, HeaderNode, normalize_label

APPLICATION_SHEET = "依申请公开登记台账"
CASE_SHEET = "复议诉讼案件登记"
YES, NO = "是", "否"
NEW, CARRIED_IN = "本年新收", "上年结转"


class FieldKind(enum.StrEnum):
    TEXT = "text"
    DATE = "date"
    CHOICE = "choice"
    YESNO = "yesno"
    PRIVATE = "private"  # written by the import, never read by nianbao


@dataclass(frozen=True, slots=True, kw_only=True)
class Field:
    """One column of a register sheet."""

    id: str
    label: str
    kind: FieldKind
    required: bool = False
    aliases: tuple[str, ...] = ()
    width: int = 12
    prompt: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Choice:
    """A dropdown entry: its label in the sheet and what it counts as (a schema id)."""

    label: str
    value: str
    variants: tuple[str, ...] = ()  # other spellings accepted when importing


@dataclass(frozen=True, kw_only=True, eq=False)  # hashed by identity: one instance per format
class RegisterSpec:
    """One register sheet: its name, columns and the choices of its dropdown columns."""

    id: str
    sheet: str
    fields: tuple[Field, ...]
    choices: Mapping[str, tuple[Choice, ...]]

    def field(self, field_id: str) -> Field:
        return next(f for f in self.fields if f.id == field_id)

    def column(self, field_id: str) -> int:
        """1-based column of a field in the sheet nianbao writes."""
        return 1 + [f.id for f in self.fields].index(field_id)

    def label_of(self, field_id: str, value: str) -> str:
        return next(c.label for c in self.choices[field_id] if c.value == value)


# --------------------------------------------------------------- the two registers

def _strip_number(text: str) -> str:
    """“（三）不予公开：1.属于国家秘密” -> “属于国家秘密”; enumerators and group prefixes go."""
    text = normalize_label(text).split(":")[-1]
    return re.sub(r"^(\([一二三四五六七八九十]+\)|[一二三四五六七八九十]+、|\d+[.、])", "", text)


def _result_choices(spec: FormatSpec) -> tuple[Choice, ...]:
    t3 = spec.table("t3")
    out = []
    for row in t3.descendant_data_rows("r3"):
        if row.computed:
            continue
        parent = t3.row(row.parent) if row.parent else None
        if parent is not None and parent.id != "r3":
            label = f"{parent.label}：{row.label}"
        else:
            label = min((row.label, *row.aliases), key=len)
        out.append(Choice(label=label, value=row.id,
                          variants=(row.label, *row.aliases, *RESULT_WORDING.get(row.id, ()))))
    return tuple(out)


# How offices word a result in their own registers (import only; the dropdown has the
# schema's labels).  Only unambiguous wordings: anything else is a finding, not a guess.
RESULT_WORDING: Mapping[str, tuple[str, ...]] = {
    "r3_1": ("予以公开", "公开", "全部公开", "同意公开", "已公开", "提供", "予以提供",
             "已主动公开", "依法已主动公开", "告知获取方式"),
    "r3_2": ("部分公开", "部分予以公开", "区分处理", "部分公开部分不公开"),
    "r3_3_1": ("国家秘密", "涉及国家秘密", "不予公开（国家秘密）"),
    "r3_3_2": ("法律法规禁止公开", "其他法律行政法规禁止公开", "不予公开（法律法规禁止公开）"),
    "r3_3_3": ("三安全一稳定", "危及国家安全、公共安全、经济安全、社会稳定"),
    "r3_3_4": ("商业秘密", "个人隐私", "涉及商业秘密", "涉及个人隐私", "保护第三方合法权益",
               "涉及第三方合法权益", "不予公开（第三方合法权益）"),
    "r3_3_5": ("内部事务信息", "三类内部事务信息", "内部事务", "不予公开（内部事务信息）"),
    "r3_3_6": ("过程性信息", "四类过程性信息", "不予公开（过程性信息）"),
    "r3_3_7": ("行政执法案卷", "执法案卷", "行政执法案卷信息"),
    "r3_3_8": ("行政查询事项", "查询事项", "属于行政查询事项"),
    "r3_4_1": ("信息不存在", "政府信息不存在", "本机关不掌握", "不掌握", "本机关不掌握相关政府信息",
               "非本机关掌握", "非本机关政府信息", "不属于本机关公开职责"),
    "r3_4_2": ("需要另行制作", "需另行制作", "没有现成信息", "需要加工分析"),
    "r3_4_3": ("补正后仍不明确", "补正后申请内容仍不明确"),
    "r3_5_1": ("信访举报投诉", "信访举报投诉类", "属于信访举报投诉", "信访件"),
    "r3_5_2": ("重复申请",),
    "r3_5_3": ("公开出版物", "要求提供公开出版物"),
    "r3_5_4": ("大量反复申请", "无正当理由大量反复申请"),
    "r3_5_5": ("确认或重新出具", "要求确认或重新出具已获取信息"),
    "r3_6_1": ("逾期未补正", "逾期不补正", "申请人逾期未补正", "未补正"),
    "r3_6_2": ("逾期未缴费", "逾期未缴纳费用", "未按收费通知缴费", "逾期未缴纳信息处理费"),
    "r3_6_3": ("其他处理", "申请人撤回", "撤回申请", "已撤回"),
}
# Results that mean “not finished yet”: the row is 结转下年度 (import only).
UNFINISHED_WORDING = ("办理中", "正在办理", "未办结", "未答复", "在办", "结转下年度",
                      "结转下年度继续办理", "延期办理中")


def _applicant_choices(spec: FormatSpec) -> tuple[Choice, ...]:
    extra = {"natural": ("个人", "公民", "自然人申请", "群众"),
             "commercial": ("企业", "公司", "企业法人", "商业企业法人"),
             "research": ("科研院所", "高校", "高等院校", "高等学校", "科研单位"),
             "legal": ("律师事务所", "律所", "律师", "法律服务所"),
             "social": ("社会组织", "公益组织", "社会团体", "基金会", "民办非企业单位"),
             "other": ("其他组织", "其它")}
    return tuple(Choice(label=c.label, value=c.id, variants=(*c.aliases, *extra.get(c.id, ())))
                 for c in spec.table("t3").columns if not c.computed)


def _case_kinds(spec: FormatSpec) -> tuple[Choice, ...]:
    """表四's groups whose children are leaves: 行政复议, 行政诉讼：未经复议直接起诉, …"""
    out: list[Choice] = []

    def walk(nodes: tuple[HeaderNode, ...], path: tuple[str, ...]) -> None:
        for node in nodes:
            if node.children and all(c.column for c in node.children):
                prefix = (node.children[0].column or "").split("_")[0]
                out.append(Choice(label="：".join((*path, node.label)), value=prefix,
                                  variants=(node.label, "".join((*path, node.label)))))
            elif node.children:
                walk(node.children, (*path, node.label))

    walk(spec.table("t4").header, ())
    return tuple(out)


def _case_results(spec: FormatSpec) -> tuple[Choice, ...]:
    t4 = spec.table("t4")
    first = _case_kinds(spec)[0].value
    return tuple(Choice(label=c.label, value=c.id.split("_", 1)[1],
                        variants=(c.label.removeprefix("结果"),))
                 for c in t4.columns if c.id.startswith(first + "_") and not c.computed)


@cache
def application_register(spec: FormatSpec = DEFAULT_FORMAT) -> RegisterSpec:
    date = "日期，如 2025-03-05"
    fields = (
        Field(id="no", label="编号", kind=FieldKind.TEXT, required=True, width=14,
              aliases=("申请编号", "登记编号", "受理编号", "流水号", "申请号", "登记号", "序号"),
              prompt="每件申请一个编号，不得重复；上年结转的申请沿用上年编号"),
        Field(id="received", label="收到日期", kind=FieldKind.DATE, required=True,
              aliases=("收到申请日期", "申请日期", "受理日期", "登记日期", "收件日期", "申请时间",
                       "收到时间", "受理时间", "接收日期"),
              prompt=date),
        Field(id="applicant_type", label="申请人类型", kind=FieldKind.CHOICE, required=True,
              aliases=("申请人类别", "申请主体类型", "申请人性质", "申请主体", "申请人身份",
                       "申请主体类别"), width=14),
        Field(id="applicant", label="申请人", kind=FieldKind.PRIVATE, width=12,
              aliases=("申请人姓名", "申请人名称", "申请人姓名（名称）", "姓名/名称", "申请人姓名或名称"),
              prompt="仅供本单位使用；nianbao 不读取、不上报"),
        Field(id="summary", label="申请内容摘要", kind=FieldKind.PRIVATE, width=30,
              aliases=("申请内容", "申请事项", "所需信息内容描述", "内容摘要", "申请公开内容"),
              prompt="仅供本单位使用；nianbao 不读取、不上报"),
        Field(id="source", label="来源", kind=FieldKind.CHOICE, required=True,
              aliases=("申请来源", "收件类型", "本年新收或上年结转"), width=10),
        Field(id="result", label="办理结果", kind=FieldKind.CHOICE, width=40,
              aliases=("答复结果", "处理结果", "答复类型", "办理结果类型", "答复情况", "办理情况",
                       "处理情况", "答复方式"),
              prompt="已答复的选办理结果；结转下年度的留空"),
        Field(id="replied", label="答复日期", kind=FieldKind.DATE,
              aliases=("办结日期", "答复时间", "告知日期", "答复书日期", "办结时间", "答复日"),
              prompt=date),
        Field(id="extended", label="是否延期", kind=FieldKind.YESNO, width=9,
              aliases=("延期", "延期答复", "是否延期答复")),
        Field(id="correction", label="补正通知日期", kind=FieldKind.DATE,
              aliases=("补正告知日期", "补正日期", "发出补正通知日期"), prompt=date),
        Field(id="corrected", label="收到补正日期", kind=FieldKind.DATE,
              aliases=("补正材料收到日期", "补正后收到日期", "收到补正材料日期"),
              prompt="收到补正后的申请的日期；答复期限从此日起算"),
        Field(id="consult", label="征求第三方意见日期", kind=FieldKind.DATE,
              aliases=("征求第三方意见", "征求意见日期", "书面征求第三方意见日期"), prompt=date),
        Field(id="consult_reply", label="第三方意见日期", kind=FieldKind.DATE,
              aliases=("第三方答复日期", "第三方意见返回日期", "收到第三方意见日期"),
              prompt="收到第三方意见的日期；征求意见的时间不计入答复期限（至多15个工作日）"),
        Field(id="carried", label="是否结转下年度", kind=FieldKind.YESNO, width=10,
              aliases=("结转下年度", "是否结转", "结转下年度继续办理"),
              prompt="年底尚未办结的选“是”，办理结果和答复日期留空"),
    )
    choices = {
        "applicant_type": _applicant_choices(spec),
        "source": (Choice(label=NEW, value="new", variants=("新收", "本年", "新申请", "本年度新收")),
                   Choice(label=CARRIED_IN, value="carried",
                          variants=("结转", "上年", "上年度结转", "上年结转申请"))),
        "result": _result_choices(spec),
    }
    return RegisterSpec(id="applications", sheet=APPLICATION_SHEET, fields=fields, choices=choices)


@cache
def case_register(spec: FormatSpec = DEFAULT_FORMAT) -> RegisterSpec:
    fields = (
        Field(id="no", label="案件编号", kind=FieldKind.TEXT, required=True, width=16,
              aliases=("编号", "案号", "案件号")),
        Field(id="kind", label="案件类别", kind=FieldKind.CHOICE, required=True, width=26,
              aliases=("类别", "案件类型", "类型")),
        Field(id="result", label="审理结果", kind=FieldKind.CHOICE, required=True, width=12,
              aliases=("结果", "结案情况", "办理结果")),
        Field(id="filed", label="收到日期", kind=FieldKind.DATE, width=12,
              aliases=("立案日期", "受理日期", "收到应诉通知日期")),
        Field(id="application", label="关联申请编号", kind=FieldKind.TEXT, width=16,
              aliases=("申请编号", "对应申请编号", "原申请编号")),
    )
    return RegisterSpec(id="cases", sheet=CASE_SHEET, fields=fields,
                        choices={"kind": _case_kinds(spec), "result": _case_results(spec)})


def registers(spec: FormatSpec = DEFAULT_FORMAT) -> tuple[RegisterSpec, RegisterSpec]:
    return application_register(spec), case_register(spec)


# ------------------------------------------------------------------ reading values

@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """A field of a register row that is missing or cannot be read."""

    row: int  # 1-based sheet (or file) row
    field: str  # field id
    missing: bool  # True: empty; False: unreadable


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One register row: 编号, dates and coded choices (never the name or the summary)."""

    row: int
    no: str
    dates: Mapping[str, dt.date] = field(default_factory=dict)
    codes: Mapping[str, str] = field(default_factory=dict)  # choice field -> schema id
    texts: Mapping[str, str] = field(default_factory=dict)  # other text fields (not private)
    flags: frozenset[str] = frozenset()  # YESNO fields answered 是

    def date(self, field_id: str) -> dt.date | None:
        return self.dates.get(field_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class Register:
    """A register as read: where it is, its rows, and the fields that could not be read."""

    spec: RegisterSpec
    sheet: str
    header_row: int  # 1-based
    columns: Mapping[str, int]  # field id -> 1-based column
    entries: tuple[Entry, ...]
    problems: tuple[Problem, ...]

    def rows_where(self, predicate: Mapping[str, str]) -> list[Entry]:
        return [e for e in self.entries if all(e.codes.get(k) == v for k, v in predicate.items())]


_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def parse_date(raw: object) -> dt.date | None:
    """A date from a cell: a date, an Excel serial number, or text like 2025-3-5 / 2025年3月5日."""
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, int | float) and not isinstance(raw, bool) and 20000 < raw < 80000:
        return _EXCEL_EPOCH + dt.timedelta(days=int(raw))
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    text = text.split(" ")[0] if re.match(r"^\d{4}-\d{2}-\d{2} \d", text) else text
    if re.fullmatch(r"\d{8}", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    match = _DATE_TEXT.match(text)
    if not match:
        return None
    try:
        return dt.date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


_YES = frozenset({"是", "y", "yes", "true", "1", "√", "✓", "已延期", "延期", "结转"})
_NO = frozenset({"否", "n", "no", "false", "0", "×", "不", "无", "未延期"})


def parse_yesno(raw: object, *, strict: bool) -> bool | None:
    """是 / 否 (blank is 否).  ``strict``: only 是 and 否, as the dropdown offers."""
    return _yesno(cell_text(raw), strict)


@lru_cache(maxsize=4096)  # a register repeats a handful of spellings over thousands of rows
def _yesno(raw: str, strict: bool) -> bool | None:
    text = normalize_label(raw).lower()
    if text in ("", "否") or (not strict and text in _NO):
        return False
    if text == "是" or (not strict and text in _YES):
        return True
    return None


def cell_text(raw: object) -> str:
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw).strip()


@cache
def _choice_index(spec: RegisterSpec, field_id: str, strict: bool) -> dict[str, str]:
    index: dict[str, str] = {}
    for choice in spec.choices[field_id]:
        index[normalize_label(choice.label)] = choice.value
        if not strict:
            for text in (choice.label, *choice.variants):
                index.setdefault(normalize_label(text), choice.value)
                index.setdefault(_strip_number(text), choice.value)
    return index


def parse_choice(spec: RegisterSpec, field_id: str, raw: object, *, strict: bool) -> str | None:
    """The schema id a dropdown cell stands for.  ``strict``: the dropdown label exactly
    (what the workbook's COUNTIFS counts); otherwise common variants too (import)."""
    return _choice(spec, field_id, cell_text(raw), strict)


@lru_cache(maxsize=4096)
def _choice(spec: RegisterSpec, field_id: str, raw: str, strict: bool) -> str | None:
    text = normalize_label(raw)
    index = _choice_index(spec, field_id, strict)
    if strict:
        return index.get(text)
    return index.get(text) or index.get(_strip_number(text))


def header_columns(spec: RegisterSpec, row: Sequence[object]) -> dict[str, int]:
    """Field id -> 0-based column for a header row (labels and variants, ignoring 必填 marks).

    When several columns name one field (序号 and 申请编号), the better name wins: the
    label, then the aliases in their order.
    """
    index = _name_index(spec)
    best: dict[str, tuple[int, int]] = {}
    for c, value in enumerate(row):
        if value is None or value == "" or not isinstance(value, str):
            continue  # a number or a date is never a column's name
        hit = index.get(_header_text(value.strip()))
        if hit is not None:
            field_id, rank = hit
            if field_id not in best or rank < best[field_id][0]:
                best[field_id] = (rank, c)
    return {field_id: c for field_id, (_, c) in best.items()}


@cache
def _name_index(spec: RegisterSpec) -> dict[str, tuple[str, int]]:
    """Header text -> (field id, rank of the name): the first field naming it wins."""
    index: dict[str, tuple[str, int]] = {}
    for field_id, known in _field_names(spec):
        for rank, text in enumerate(known):
            index.setdefault(text, (field_id, rank))
    return index


@cache
def _field_names(spec: RegisterSpec) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple((f.id, tuple(_header_text(t) for t in (f.label, *f.aliases))) for f in spec.fields)


@lru_cache(maxsize=1 << 14)
def _header_text(text: str) -> str:
    return re.sub(r"[*＊]|\((必填|选填|可选)\)", "", normalize_label(text))


HEADER_ROWS = 10  # a register's header row is among a sheet's first rows


def top_texts(rows: Sequence[Sequence[object]], limit: int = HEADER_ROWS) -> frozenset[str]:
    """The header texts (as :func:`header_columns` compares them) of the first rows."""
    return frozenset(_header_text(v.strip()) for row in rows[:limit] for v in row
                     if isinstance(v, str) and v.strip())


def may_hold(spec: RegisterSpec, texts: frozenset[str]) -> bool:
    """Whether a sheet whose first rows hold ``texts`` (:func:`top_texts`) names every
    required column of the register somewhere: else :func:`find_header` cannot find it."""
    return all(not texts.isdisjoint(names) for names in _required_names(spec))


@cache
def _required_names(spec: RegisterSpec) -> tuple[frozenset[str], ...]:
    names = dict(_field_names(spec))
    return tuple(frozenset(names[f.id]) for f in spec.fields if f.required)


def find_header(spec: RegisterSpec, rows: Sequence[Sequence[object]], limit: int = HEADER_ROWS, *,
                required: frozenset[str] | None = None) -> tuple[int, dict[str, int]] | None:
    """(0-based header row, columns) when a row among the first ``limit`` holds the
    register's required columns (``required``: other field ids to require)."""
    if required is None:
        required = frozenset(f.id for f in spec.fields if f.required)
    for r, row in enumerate(rows[:limit]):
        columns = header_columns(spec, row)
        if required <= columns.keys():
            return r, columns
    return None


def read_entries(spec: RegisterSpec, rows: Sequence[Sequence[object]], header: int,
                 columns: Mapping[str, int], *, strict: bool,
                 ) -> tuple[list[Entry], list[Problem]]:
    """The register rows below ``header`` (blank rows skipped), and their problems."""
    entries: list[Entry] = []
    problems: list[Problem] = []
    readable = [f for f in spec.fields if f.kind is not FieldKind.PRIVATE and f.id in columns]
    for r in range(header + 1, len(rows)):
        row = rows[r]
        raw = {f.id: (row[columns[f.id]] if columns[f.id] < len(row) else None) for f in readable}
        if not any(cell_text(v) for v in raw.values()):
            continue
        dates: dict[str, dt.date] = {}
        codes: dict[str, str] = {}
        flags: set[str] = set()
        texts: dict[str, str] = {}
        for f in readable:
            value = raw[f.id]
            if not cell_text(value):
                if f.required:
                    problems.append(Problem(row=r + 1, field=f.id, missing=True))
                continue
            got: object
            if f.kind is FieldKind.DATE:
                got = parse_date(value)
                if got is not None:
                    dates[f.id] = got
            elif f.kind is FieldKind.CHOICE:
                got = parse_choice(spec, f.id, value, strict=strict)
                if got is not None:
                    codes[f.id] = got
            elif f.kind is FieldKind.YESNO:
                got = parse_yesno(value, strict=strict)
                if got:
                    flags.add(f.id)
            else:
                got = texts[f.id] = cell_text(value)
            if got is None:
                problems.append(Problem(row=r + 1, field=f.id, missing=False))
        entries.append(Entry(row=r + 1, no=cell_text(raw.get("no")), dates=dates, codes=codes,
                             texts=texts, flags=frozenset(flags)))
    return entries, problems


def read_register(spec: RegisterSpec, sheet: str, rows: Sequence[Sequence[object]]
                  ) -> Register | None:
    """The register on a sheet of the intake workbook, or None if the sheet is not one."""
    found = find_header(spec, rows)
    if found is None:
        return None
    header, columns = found
    entries, problems = read_entries(spec, rows, header, columns, strict=True)
    return Register(spec=spec, sheet=sheet, header_row=header + 1,
                    columns={k: v + 1 for k, v in columns.items()},
                    entries=tuple(entries), problems=tuple(problems))


# ------------------------------------------------------------------------- counting

def application_cells(spec: FormatSpec = DEFAULT_FORMAT
                      ) -> dict[str, tuple[tuple[str, str], ...]]:
    """表三's input keys -> the register conditions (field id, schema id or 是) counted there."""
    t3 = spec.table("t3")
    out: dict[str, tuple[tuple[str, str], ...]] = {}
    for column in t3.columns:
        if column.computed:
            continue
        who = ("applicant_type", column.id)
        out[t3.key("r1", column.id)] = (("source", "new"), who)
        out[t3.key("r2", column.id)] = (("source", "carried"), who)
        for row in t3.descendant_data_rows("r3"):
            if not row.computed:
                out[t3.key(row.id, column.id)] = (("result", row.id), who)
        out[t3.key("r4", column.id)] = (("carried", YES), who)
    return out


def case_cells(spec: FormatSpec = DEFAULT_FORMAT) -> dict[str, tuple[tuple[str, str], ...]]:
    """表四's input keys -> (case kind, result) conditions."""
    reg = case_register(spec)
    return {f"t4.{kind.value}_{result.value}": (("kind", kind.value), ("result", result.value))
            for kind in reg.choices["kind"] for result in reg.choices["result"]}


def count(register: Register, cells: Mapping[str, tuple[tuple[str, str], ...]]
          ) -> dict[str, list[Entry]]:
    """For each key, the register rows counted there (one pass over the rows)."""
    shapes: dict[tuple[str, ...], dict[tuple[str, ...], str]] = defaultdict(dict)
    for key, conds in cells.items():
        shapes[tuple(f for f, _ in conds)][tuple(v for _, v in conds)] = key
    out: dict[str, list[Entry]] = {key: [] for key in cells}
    for entry in register.entries:
        have = dict(entry.codes) | dict.fromkeys(entry.flags, YES)
        for fields, keys in shapes.items():
            hit = keys.get(tuple(have.get(f, "") for f in fields))
            if hit is not None:
                out[hit].append(entry)
    return out
