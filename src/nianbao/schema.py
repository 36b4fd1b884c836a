"""The national report format (国办公开办函〔2021〕30号) as data: sections, tables, cells, totals.

Everything else (the intake form, the reader, the checks, the Word context, the
aggregation) is driven by the objects defined here.  No other module spells a
table label; coordinates live in :mod:`nianbao.layout`.

Keys are stable: ``"t3.r1.natural"`` is 表三 row 一 (本年新收) column 自然人;
``"t4.rv_total"`` is 表四 行政复议 总计 (表四 has a single unlabelled data row).
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property, lru_cache


class ValueType(enum.StrEnum):
    """What a data cell holds."""

    COUNT = "count"  # 件: an integer >= 0
    AMOUNT = "amount"  # 万元: a Decimal >= 0


class CellKind(enum.StrEnum):
    """Whether the agency types the value or nianbao derives it."""

    INPUT = "input"
    COMPUTED = "computed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Column:
    """A value column of a table."""

    id: str
    label: str
    aliases: tuple[str, ...] = ()
    type: ValueType = ValueType.COUNT
    computed: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """A row of a table.  ``group`` rows are label-only (they hold no values)."""

    id: str
    label: str
    aliases: tuple[str, ...] = ()
    parent: str | None = None
    group: bool = False
    computed: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class HeaderNode:
    """A node of a column-header tree: a group label or a leaf naming a column."""

    label: str
    column: str | None = None
    children: tuple[HeaderNode, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Sum:
    """``target`` equals the sum of ``parts``; the target is a computed cell."""

    code: str
    target: str
    parts: tuple[str, ...]
    description: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Balance:
    """The sum of ``left`` equals the sum of ``right`` (表三's printed 勾稽关系)."""

    code: str
    left: tuple[str, ...]
    right: tuple[str, ...]
    description: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Table:
    """One official table.  Rows may be empty (表四 has one unlabelled data row)."""

    id: str
    sheet: str  # the sheet of the intake workbook it belongs to
    caption: str | None
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    stub_header: str | None = None
    corner_note: str | None = None
    header: tuple[HeaderNode, ...] = ()

    def __post_init__(self) -> None:
        if not self.header:
            flat = tuple(HeaderNode(label=c.label, column=c.id) for c in self.columns)
            object.__setattr__(self, "header", flat)

    @property
    def data_rows(self) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if not r.group)

    def key(self, row: str | None, column: str) -> str:
        return f"{self.id}.{row}.{column}" if row else f"{self.id}.{column}"

    def row(self, row_id: str) -> Row:
        return next(r for r in self.rows if r.id == row_id)

    def column(self, column_id: str) -> Column:
        return next(c for c in self.columns if c.id == column_id)

    def row_depth(self, row: Row) -> int:
        depth = 0
        while row.parent:
            row = self.row(row.parent)
            depth += 1
        return depth

    @property
    def label_depth(self) -> int:
        """How many label columns the stub needs (表三: 3)."""
        if not self.rows:
            return 0
        return 1 + max(self.row_depth(r) for r in self.rows)

    def children(self, row_id: str | None) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if r.parent == row_id)

    def descendant_data_rows(self, row_id: str) -> tuple[Row, ...]:
        out: list[Row] = []
        for child in self.children(row_id):
            out.extend([child] if not child.group else self.descendant_data_rows(child.id))
        return tuple(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class Cell:
    """One data cell of the format."""

    key: str
    table: Table
    row: Row | None
    column: Column
    kind: CellKind = field(init=False, compare=False)  # from the row and column

    def __post_init__(self) -> None:  # read for every cell of every workbook: worked out once
        computed = self.column.computed or (self.row is not None and self.row.computed)
        object.__setattr__(self, "kind", CellKind.COMPUTED if computed else CellKind.INPUT)

    @property
    def type(self) -> ValueType:
        return self.column.type

    @property
    def label(self) -> str:
        """Human label, e.g. ``一、本年新收政府信息公开申请数量 / 自然人``."""
        head = self.table.caption or ""
        if self.row is not None:
            head = self.row.label if not head else f"{head} {self.row.label}"
        col = self.column.label
        if sum(c.label == col for c in self.table.columns) > 1:  # 表四: 结果维持 ×3
            col = _group_of(self.table.header, self.column.id) + col
        return f"{head} / {col}" if head else col


def _group_of(nodes: tuple[HeaderNode, ...], column: str, prefix: str = "") -> str:
    """The label path above a leaf, for 表四 where 结果维持 occurs three times."""
    for node in nodes:
        if node.column == column:
            return prefix
        if node.children:
            found = _group_of(node.children, column, f"{prefix}{node.label}·")
            if found or any(_leaf(n, column) for n in node.children):
                return found
    return ""


def _leaf(node: HeaderNode, column: str) -> bool:
    return node.column == column or any(_leaf(c, column) for c in node.children)


@dataclass(frozen=True, slots=True, kw_only=True)
class Section:
    """One of the six numbered sections of the report."""

    id: str
    no: str
    title: str
    tables: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    @property
    def heading(self) -> str:
        return f"{self.no}、{self.title}"

    @property
    def narrative(self) -> bool:
        return not self.tables


@dataclass(frozen=True, slots=True, kw_only=True)
class InfoField:
    """A field of the 基本信息 sheet."""

    id: str
    label: str
    aliases: tuple[str, ...] = ()
    prefilled: bool = False  # written by nianbao and locked
    choices: tuple[str, ...] = ()
    prompt: str = ""


# compared and hashed by identity (one instance per format: a cache keyed by it is a lookup,
# not a walk over every table); no slots: cached_property needs __dict__
@dataclass(frozen=True, kw_only=True, eq=False)
class FormatSpec:
    """A version of the national format."""

    id: str
    name: str
    document: str
    form_version: str
    first_year: int
    sections: tuple[Section, ...]
    tables: tuple[Table, ...]
    sheets: tuple[tuple[str, str], ...]  # (sheet id, canonical sheet name), in order
    info_fields: tuple[InfoField, ...]
    sums: tuple[Sum, ...] = ()
    balances: tuple[Balance, ...] = ()
    forbidden_labels: tuple[str, ...] = ()  # labels of other versions of the format
    rule_making_levels: tuple[str, ...] = ()

    def table(self, table_id: str) -> Table:
        return next(t for t in self.tables if t.id == table_id)

    @property
    def info_ids(self) -> frozenset[str]:
        return frozenset(f.id for f in self.info_fields)

    def section(self, section_id: str) -> Section:
        return next(s for s in self.sections if s.id == section_id)

    def sheet_name(self, sheet_id: str) -> str:
        return dict(self.sheets)[sheet_id]

    def iter_cells(self) -> Iterator[Cell]:
        for table in self.tables:
            rows: tuple[Row | None, ...] = table.data_rows or (None,)
            for row in rows:
                for column in table.columns:
                    yield Cell(key=table.key(row.id if row else None, column.id),
                               table=table, row=row, column=column)

    @cached_property
    def cells(self) -> dict[str, Cell]:
        return {c.key: c for c in self.iter_cells()}

    @cached_property
    def table_labels(self) -> dict[str, tuple[tuple[str, str], ...]]:
        """Table id -> the labels a sheet must show to be that table (its data rows', then
        its columns'), each with its :func:`normalize_label` form."""
        return {t.id: tuple((label, normalize_label(label)) for label in
                            (*(r.label for r in t.data_rows), *(c.label for c in t.columns)))
                for t in self.tables}

    @property
    def input_keys(self) -> tuple[str, ...]:
        return tuple(k for k, c in self.cells.items() if c.kind is CellKind.INPUT)

    @property
    def computed_keys(self) -> tuple[str, ...]:
        return tuple(k for k, c in self.cells.items() if c.kind is CellKind.COMPUTED)

    @cached_property
    def formula_order(self) -> tuple[str, ...]:
        """The computed keys in an order where every formula's parts come first."""
        done, order = set(self.input_keys), []
        pending = list(self.computed_keys)
        while pending:
            ready = [k for k in pending if all(p in done for p in self.formulas[k].parts)]
            if not ready:
                raise ValueError(f"circular formulas in {self.id}: {pending}")
            for key in ready:
                order.append(key)
                done.add(key)
                pending.remove(key)
        return tuple(order)

    def recompute(self, values: dict[str, int | Decimal | None]) -> None:
        """Fill every computed cell of ``values`` from the inputs, in place.

        A total is ``None`` when any of its parts is ``None`` (could not be read).
        """
        for key in self.formula_order:
            parts = [values.get(p) for p in self.formulas[key].parts]
            values[key] = None if any(p is None for p in parts) else sum(
                p for p in parts if p is not None)

    @cached_property
    def formulas(self) -> dict[str, Sum]:
        """The one formula that computes each computed cell (first matching Sum)."""
        out: dict[str, Sum] = {}
        for rule in self.sums:
            out.setdefault(rule.target, rule)
        return out


def normalize_label(text: str) -> str:
    """Fold the spelling differences seen in real workbooks (see :func:`_normalize_label`).

    Labels are short and the same in every workbook of a batch, so they are
    remembered; long texts (a unit's narrative) are each seen once and are not.
    """
    return _normalize_short(text) if len(text) <= _SHORT else _normalize_label(text)


_SHORT = 80  # the longest label of the format is about 40 characters


@lru_cache(maxsize=1 << 14)
def _normalize_short(text: str) -> str:
    return _normalize_label(text)


def _normalize_label(text: str) -> str:
    """Fold the spelling differences seen in real workbooks.

    Full-width/half-width forms (（）/(), digits), curly/straight quotes, all
    whitespace (incl. NBSP and line breaks inside a cell), a trailing colon, and
    the numbering of an item: ``1、`` ``1．`` ``(1)`` ``1)`` ``1 `` read as ``1.``,
    ``一、`` ``一.`` as ``（一）``.
    """
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(_QUOTES)
    text = _NUMBER.sub(r"\1.", text, count=1)
    text = _CN_NUMBER.sub(r"(\1)", text, count=1)
    text = "".join(text.split())  # every whitespace character, as str.isspace() has it
    return text.rstrip(":")


_NUMBER = re.compile(r"^\s*\(?(\d{1,2})(?:[.、,，)]|\s+(?=\D))\s*")
_CN_NUMBER = re.compile(r"^\s*\(?([一二三四五六七八九十]{1,3})[)、.,，]\s*")
_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "「": '"', "」": '"'})


# --------------------------------------------------------------------------- gb2021

_T3_COLUMNS = (
    Column(id="natural", label="自然人"),
    Column(id="commercial", label="商业企业"),
    Column(id="research", label="科研机构"),
    Column(id="social", label="社会公益组织", aliases=("社会组织",)),
    Column(id="legal", label="法律服务机构"),
    Column(id="other", label="其他"),
    Column(id="total", label="总计", computed=True),
)
_APPLICANTS = tuple(c.id for c in _T3_COLUMNS if not c.computed)

_T3_ROWS = (
    Row(id="r1", label="一、本年新收政府信息公开申请数量"),
    Row(id="r2", label="二、上年结转政府信息公开申请数量"),
    Row(id="r3", label="三、本年度办理结果", group=True),
    Row(id="r3_1", parent="r3", label="（一）予以公开"),
    Row(id="r3_2", parent="r3", label="（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
        aliases=("（二）部分公开",)),
    Row(id="r3_3", parent="r3", label="（三）不予公开", group=True),
    Row(id="r3_3_1", parent="r3_3", label="1.属于国家秘密"),
    Row(id="r3_3_2", parent="r3_3", label="2.其他法律行政法规禁止公开",
        aliases=("2.其他法律法规禁止公开",)),
    Row(id="r3_3_3", parent="r3_3", label="3.危及“三安全一稳定”"),
    Row(id="r3_3_4", parent="r3_3", label="4.保护第三方合法权益"),
    Row(id="r3_3_5", parent="r3_3", label="5.属于三类内部事务信息"),
    Row(id="r3_3_6", parent="r3_3", label="6.属于四类过程性信息"),
    Row(id="r3_3_7", parent="r3_3", label="7.属于行政执法案卷"),
    Row(id="r3_3_8", parent="r3_3", label="8.属于行政查询事项"),
    Row(id="r3_4", parent="r3", label="（四）无法提供", group=True),
    Row(id="r3_4_1", parent="r3_4", label="1.本机关不掌握相关政府信息"),
    Row(id="r3_4_2", parent="r3_4", label="2.没有现成信息需要另行制作"),
    Row(id="r3_4_3", parent="r3_4", label="3.补正后申请内容仍不明确"),
    Row(id="r3_5", parent="r3", label="（五）不予处理", group=True),
    Row(id="r3_5_1", parent="r3_5", label="1.信访举报投诉类申请"),
    Row(id="r3_5_2", parent="r3_5", label="2.重复申请"),
    Row(id="r3_5_3", parent="r3_5", label="3.要求提供公开出版物"),
    Row(id="r3_5_4", parent="r3_5", label="4.无正当理由大量反复申请"),
    Row(id="r3_5_5", parent="r3_5", label="5.要求行政机关确认或重新出具已获取信息"),
    Row(id="r3_6", parent="r3", label="（六）其他处理", group=True),
    Row(id="r3_6_1", parent="r3_6",
        label="1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"),
    Row(id="r3_6_2", parent="r3_6",
        label="2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"),
    Row(id="r3_6_3", parent="r3_6", label="3.其他"),
    Row(id="r3_7", parent="r3", label="（七）总计", computed=True),
    Row(id="r4", label="四、结转下年度继续办理"),
)
_RESULT_ROWS = tuple(
    r.id for r in _T3_ROWS if r.parent and r.parent.startswith("r3") and not r.group
    and not r.computed
)

_T4_GROUPS = (("rv", "行政复议"), ("ld", "未经复议直接起诉"), ("la", "复议后起诉"))
_T4_LEAVES = (("keep", "结果维持"), ("correct", "结果纠正"), ("other", "其他结果"),
              ("pending", "尚未审结"), ("total", "总计"))


def _t4_leaves(prefix: str) -> tuple[HeaderNode, ...]:
    return tuple(HeaderNode(label=label, column=f"{prefix}_{leaf}") for leaf, label in _T4_LEAVES)


_T4 = Table(
    id="t4", sheet="t4", caption=None, rows=(),
    columns=tuple(
        Column(id=f"{p}_{leaf}", label=label, computed=leaf == "total")
        for p, _ in _T4_GROUPS for leaf, label in _T4_LEAVES
    ),
    header=(
        HeaderNode(label="行政复议", children=_t4_leaves("rv")),
        HeaderNode(label="行政诉讼", children=(
            HeaderNode(label="未经复议直接起诉", children=_t4_leaves("ld")),
            HeaderNode(label="复议后起诉", children=_t4_leaves("la")),
        )),
    ),
)

_T3 = Table(
    id="t3", sheet="t3", caption=None,
    corner_note="（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）",
    columns=_T3_COLUMNS, rows=_T3_ROWS,
    header=(HeaderNode(label="申请人情况", children=(
        HeaderNode(label="自然人", column="natural"),
        HeaderNode(label="法人或其他组织", children=tuple(
            HeaderNode(label=c.label, column=c.id) for c in _T3_COLUMNS[1:6])),
        HeaderNode(label="总计", column="total"),
    )),),
)

_T2 = (
    Table(id="t2_1", sheet="t2", caption="第二十条第（一）项", stub_header="信息内容",
          columns=(Column(id="issued", label="本年制发件数"),
                   Column(id="repealed", label="本年废止件数", aliases=("本年度废止件数",)),
                   Column(id="in_force", label="现行有效件数")),
          rows=(Row(id="rules", label="规章"),
                Row(id="normative", label="行政规范性文件"))),
    Table(id="t2_5", sheet="t2", caption="第二十条第（五）项", stub_header="信息内容",
          columns=(Column(id="decisions", label="本年处理决定数量"),),
          rows=(Row(id="licensing", label="行政许可"),)),
    Table(id="t2_6", sheet="t2", caption="第二十条第（六）项", stub_header="信息内容",
          columns=(Column(id="decisions", label="本年处理决定数量"),),
          rows=(Row(id="penalty", label="行政处罚"), Row(id="coercion", label="行政强制"))),
    Table(id="t2_8", sheet="t2", caption="第二十条第（八）项", stub_header="信息内容",
          columns=(Column(id="amount", label="本年收费金额（单位：万元）", type=ValueType.AMOUNT,
                          aliases=("本年收费金额（单位：万元，保留4位小数）", "本年收费金额（万元）",
                                   "本年收费金额（单位:万元）", "本年收费金额")),),
          rows=(Row(id="fees", label="行政事业性收费"),)),
)


def _gb2021_sums(t3: Table | None = None) -> tuple[Sum, ...]:
    t3 = t3 or _T3
    result_rows = tuple(r.id for r in t3.data_rows if r.parent and not r.computed)
    sums: list[Sum] = []
    for row in t3.data_rows:
        if row.computed:
            continue
        sums.append(Sum(
            code="t3-row-total", target=t3.key(row.id, "total"),
            parts=tuple(t3.key(row.id, c) for c in _APPLICANTS),
            description="总计列应等于自然人、商业企业、科研机构、社会公益组织、法律服务机构、其他六列之和",
        ))
    for col in (*_APPLICANTS, "total"):
        sums.append(Sum(
            code="t3-result-total", target=t3.key("r3_7", col),
            parts=tuple(t3.key(r, col) for r in result_rows),
            description="（七）总计应等于（一）至（六）各项办理结果之和",
        ))
    for prefix, label in _T4_GROUPS:
        sums.append(Sum(
            code="t4-total", target=f"t4.{prefix}_total",
            parts=tuple(f"t4.{prefix}_{leaf}" for leaf, _ in _T4_LEAVES[:4]),
            description=f"{label}的总计应等于结果维持、结果纠正、其他结果、尚未审结之和",
        ))
    return tuple(sums)


def _gb2021_balances(t3: Table | None = None) -> tuple[Balance, ...]:
    t3 = t3 or _T3
    return tuple(
        Balance(
            code="t3-balance",
            left=(t3.key("r1", col), t3.key("r2", col)),
            right=(t3.key("r3_7", col), t3.key("r4", col)),
            description="第一项加第二项之和，应等于第三项加第四项之和",
        )
        for col in (*_APPLICANTS, "total")
    )


GB2021 = FormatSpec(
    id="gb2021",
    name="中华人民共和国政府信息公开工作年度报告格式",
    document="国办公开办函〔2021〕30号",
    form_version="gb2021-1",
    first_year=2021,
    sections=(
        Section(id="s1", no="一", title="总体情况"),
        Section(id="s2", no="二", title="主动公开政府信息情况",
                tables=("t2_1", "t2_5", "t2_6", "t2_8")),
        Section(id="s3", no="三", title="收到和处理政府信息公开申请情况", tables=("t3",)),
        Section(id="s4", no="四", title="政府信息公开行政复议、行政诉讼情况", tables=("t4",),
                aliases=("因政府信息公开工作被申请行政复议、提起行政诉讼情况",
                         "政府信息公开行政复议及行政诉讼情况")),
        Section(id="s5", no="五", title="存在的主要问题及改进情况",
                aliases=("政府信息公开工作存在的主要问题及改进情况", "存在问题及改进情况")),
        Section(id="s6", no="六", title="其他需要报告的事项"),
    ),
    tables=(*_T2, _T3, _T4),
    sheets=(("guide", "填报说明"), ("info", "基本信息"), ("t2", "表二 主动公开"),
            ("t3", "表三 依申请公开"), ("t4", "表四 复议诉讼")),
    info_fields=(
        InfoField(id="agency", label="单位全称", aliases=("单位名称", "填报单位"), prefilled=True),
        InfoField(id="code", label="单位编码", aliases=("统一社会信用代码", "单位代码"),
                  prefilled=True),
        InfoField(id="year", label="报告年度", aliases=("年度", "统计年度"), prefilled=True),
        InfoField(id="level", label="单位层级", prefilled=True,
                  choices=("国务院部门", "省级人民政府", "设区的市级人民政府", "省级部门",
                           "市级部门", "县级人民政府", "县级部门", "乡镇（街道）", "其他"),
                  prompt="从下拉列表中选择；用于判断能否制定规章"),
        InfoField(id="contact", label="联系人"),
        InfoField(id="phone", label="联系电话"),
    ),
    sums=_gb2021_sums(),
    balances=_gb2021_balances(),
    forbidden_labels=("本年新制作数量", "本年新公开数量", "对外公开总数量", "上一年项目数量",
                      "本年增/减", "其他对外管理服务事项", "第二十条第（九）项"),
    rule_making_levels=("国务院部门", "省级人民政府", "设区的市级人民政府"),
)


# --------------------------------------------------------------------------- gb2019
# The 2019 format (国办公开办函〔2019〕60号), used for the 2019 and 2020 reports.  It is
# only ever read (importing old reports), never written: FORMAT.md §3 and §5.2.

def _t2_2019(table_id: str, caption: str, columns: tuple[Column, ...],
             rows: tuple[Row, ...]) -> Table:
    return Table(id=table_id, sheet="t2", caption=caption, stub_header="信息内容",
                 columns=columns, rows=rows)


_ITEMS_2019 = (Column(id="prev_items", label="上一年项目数量"),
               Column(id="delta", label="本年增/减", aliases=("本年增减",)),
               Column(id="decisions", label="处理决定数量"))
_T3_2019 = Table(
    id="t3", sheet="t3", caption=None, corner_note=_T3.corner_note, columns=_T3_COLUMNS,
    header=_T3.header,
    rows=(*(r for r in _T3_ROWS if not (r.id.startswith("r3_6") or r.id in ("r3_7", "r4"))),
          Row(id="r3_6", parent="r3", label="（六）其他处理"),
          *(r for r in _T3_ROWS if r.id in ("r3_7", "r4"))),
)

GB2019 = FormatSpec(
    id="gb2019",
    name="中华人民共和国政府信息公开工作年度报告格式（试行）",
    document="国办公开办函〔2019〕60号",
    form_version="gb2019-import",
    first_year=2019,
    sections=tuple(Section(id=s.id, no=s.no, title=s.title, aliases=s.aliases,
                           tables=(*s.tables, "t2_9") if s.id == "s2" else s.tables)
                   for s in GB2021.sections),
    tables=(
        _t2_2019("t2_1", "第二十条第（一）项",
                 (Column(id="made", label="本年新制作数量"),
                  Column(id="published", label="本年新公开数量"),
                  Column(id="total_public", label="对外公开总数量")),
                 (Row(id="rules", label="规章"), Row(id="normative", label="规范性文件"))),
        _t2_2019("t2_5", "第二十条第（五）项", _ITEMS_2019,
                 (Row(id="licensing", label="行政许可"),
                  Row(id="other_service", label="其他对外管理服务事项"))),
        _t2_2019("t2_6", "第二十条第（六）项", _ITEMS_2019,
                 (Row(id="penalty", label="行政处罚"), Row(id="coercion", label="行政强制"))),
        _t2_2019("t2_8", "第二十条第（八）项", _ITEMS_2019[:2],
                 (Row(id="fees", label="行政事业性收费"),)),
        _t2_2019("t2_9", "第二十条第（九）项",
                 (Column(id="items", label="采购项目数量"),
                  Column(id="amount", label="采购总金额", type=ValueType.AMOUNT)),
                 (Row(id="procurement", label="政府集中采购"),)),
        _T3_2019, _T4,
    ),
    sheets=GB2021.sheets,
    info_fields=GB2021.info_fields,
    sums=_gb2021_sums(_T3_2019),
    balances=_gb2021_balances(_T3_2019),
)

# The 2019 tables with no 2021 counterpart at all: not finding them is no error.
GB2019_OPTIONAL_TABLES = ("t2_1", "t2_8", "t2_9")

# How a 2019-format value carries over to the 2021 format: 2021 key -> the 2019 keys
# that sum to it.  The whole （六）其他处理 of 2019 goes to 2021's “3.其他” (it cannot
# be split); 2021 keys not listed here (规章 and 规范性文件 counts, the fee amount)
# have no 2019 counterpart.
GB2019_TO_GB2021: dict[str, tuple[str, ...]] = {
    **{k: (k,) for k in GB2021.input_keys
       if k.startswith(("t3.", "t4.")) and not k.startswith("t3.r3_6_")},
    **{f"t3.r3_6_3.{c}": (f"t3.r3_6.{c}",) for c in _APPLICANTS},
    **{f"t3.r3_6_{i}.{c}": () for i in (1, 2) for c in _APPLICANTS},
    "t2_5.licensing.decisions": ("t2_5.licensing.decisions",),
    "t2_6.penalty.decisions": ("t2_6.penalty.decisions",),
    "t2_6.coercion.decisions": ("t2_6.coercion.decisions",),
}

FORMATS: dict[str, FormatSpec] = {GB2021.id: GB2021}
READ_ONLY_FORMATS: dict[str, FormatSpec] = {GB2019.id: GB2019}
DEFAULT_FORMAT = GB2021
FORM_ID = "nianbao-intake"
