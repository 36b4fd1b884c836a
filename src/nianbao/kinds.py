"""The catalogue of finding kinds: every code, severity, message and fix, declared once.

Every :class:`~nianbao.model.Finding` nianbao reports is built here, by
:func:`finding`, from a :class:`Kind` in :data:`KINDS`.  Nothing else spells a
rule code, a severity or a message (tests/test_kinds.py enforces it).

A kind is data:

* ``id``: the rule code (kebab-case, stable, shown to users and in ``--json``),
  optionally followed by ``:variant`` when one code has several wordings
  (``"narrative-empty:s5"``); the code is the part before the colon;
* ``severity``, ``stage`` (where in the pipeline it is found, :class:`Stage`);
* ``message``: a ``str.format`` template in Chinese; its ``{fields}`` are passed
  as keyword arguments to :func:`finding`;
* ``hint``: one short Chinese sentence on how to fix it (``Finding.hint``);
* ``summary``: the README rule table's 含义 column (on the code's first kind);
* ``escalate``: a :class:`~nianbao.settings.Settings` attribute; when true, the
  warning becomes an error (``blank_is_error``, ``carryover_error``);
* ``switch``: a ``Settings`` attribute; when false, findings of the kind are
  dropped (:func:`apply_switches`, called once in check.check_file).

Adding a kind (other modules, later issues)::

    # here, in KINDS, in the block of its stage:
    _k("t2-something", W, Stage.RULE, "“{label}”为 {value}，……。", "请核对……。",
       summary="README 里的一句话说明"),
    # at the call site:
    yield kinds.finding("t2-something", settings=settings, sheet=s, cell=c,
                        label=label, value=value)

then run ``python -m nianbao.kinds README.md`` to regenerate the README rule
table (between the ``kinds:begin``/``kinds:end`` markers); a test fails when the
table and the catalogue differ.  Messages that are not findings (template
problems) take their wording from :func:`text`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from nianbao.model import Finding, Severity, Value
from nianbao.settings import DEFAULT_SETTINGS, Settings


class Stage(enum.StrEnum):
    """Where in the pipeline a kind of finding is found."""

    FILE = "file"  # the file as a package, before any cell is read
    READ = "read"  # finding the tables and reading each cell
    RULE = "rule"  # 勾稽关系 and plausibility rules on the numbers and 基本信息
    CROSS_YEAR = "cross-year"  # against last year's workbook
    TEXT = "text"  # the narrative sections
    BUILD = "build"  # writing reports
    TEMPLATE = "template"  # `template check` on a Word template
    REGISTER = "register"  # the register sheets (依申请公开登记台账, 复议诉讼案件登记)
    INDICATOR = "indicator"  # reviewer indicators over the archived years (indicators.py)

    @property
    def zh(self) -> str:
        return {"file": "文件", "read": "读取", "rule": "勾稽与规则", "cross-year": "跨年度",
                "text": "文字", "build": "生成", "template": "模板",
                "register": "登记台账", "indicator": "指标"}[self.value]


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of finding (see the module docstring)."""

    id: str
    severity: Severity
    stage: Stage
    message: str
    hint: str
    summary: str = ""
    escalate: str | None = None
    switch: str | None = None

    @property
    def code(self) -> str:
        return self.id.split(":", 1)[0]

    def severity_for(self, settings: Settings) -> Severity:
        if self.escalate and getattr(settings, self.escalate):
            return Severity.ERROR
        return self.severity

    def enabled(self, settings: Settings) -> bool:
        return not self.switch or bool(getattr(settings, self.switch))


E, W = Severity.ERROR, Severity.WARNING
_REFORM = "请用 Excel 或 WPS 打开后“另存为”Excel 工作簿（*.xlsx）"
_TRUNCATED = "文件已损坏或不完整（可能下载或复制时被截断），请重新保存后报送。"
_SUM = "{description}。“{label}”按各项计算应为 {computed}，表中为 {claim}（差 {diff}）。请核对各分项数字。"
_SUM_HINT = "核对各分项数字；合计由公式计算，不要手工改写。"


def _k(id: str, severity: Severity, stage: Stage, message: str, hint: str, *,
       summary: str = "", escalate: str | None = None, switch: str | None = None) -> Kind:
    return Kind(id, severity, stage, message, hint, summary, escalate, switch)


KINDS: tuple[Kind, ...] = (
    # --- file: the package, before any cell is read (package.py, check.py)
    _k("file-too-large", E, Stage.FILE,
       "文件过大（{size_mb:.1f} MB，上限 {limit_mb} MB），填报表正常只有几十 KB，请检查是否误传了其他文件。",
       "确认报送的是填报表本身。", summary="文件过大或解压后过大（疑似误传或压缩炸弹）"),
    _k("file-too-large:unzipped", E, Stage.FILE,
       "文件解压后过大（{unzipped_mb:.0f} MB），不像是填报表，已拒绝读取。", "确认报送的是填报表本身。"),
    _k("file-unreadable", E, Stage.FILE, "无法打开文件：{reason}。", "检查文件是否存在、是否有读取权限。",
       summary="文件无法打开"),
    _k("file-unreadable:crash", E, Stage.FILE,
       "读取文件时发生意外错误（{error}），请用 Excel 或 WPS 重新保存后报送。", "用 Excel 或 WPS 重新保存后报送。"),
    _k("file-unreadable:stalled", E, Stage.FILE,
       "读取这个文件的子进程 {seconds} 秒没有任何进展，已被停止，本次没有读取它。",
       "用 Excel 或 WPS 打开后另存为 .xlsx 再报送；如仍如此，请把文件发给技术支持。"),
    _k("file-corrupt", E, Stage.FILE, _TRUNCATED, "用 Excel 或 WPS 打开后重新保存再报送。",
       summary="文件损坏或不完整"),
    _k("file-corrupt:sheet", E, Stage.FILE,
       "文件已损坏：工作表“{sheet_name}”无法读取。请用 Excel 或 WPS 打开后重新保存再报送；如果打不开，请重新填报。",
       "用 Excel 或 WPS 打开后重新保存再报送。"),
    _k("file-corrupt:detail", E, Stage.FILE,
       "文件已损坏，无法读取（{detail}）。请用 Excel 或 WPS 打开后重新保存再报送。",
       "用 Excel 或 WPS 打开后重新保存再报送。"),
    _k("file-too-complex", E, Stage.FILE,
       "文件无法处理：{reason}。请确认上传的是本单位的年报填报表（不要包含大量工作表、图片或其他内容），"
       "用 Excel 或 WPS 重新保存后再上传。", "确认上传的是填报表本身，重新保存后再上传。",
       summary="网上报送的文件处理超时或占用内存过多（疑似压缩炸弹或误传的大文件）"),
    _k("file-empty", E, Stage.FILE, "文件为空（0 字节），可能在传输中损坏，请重新报送。", "重新报送文件。",
       summary="文件为 0 字节"),
    _k("file-encrypted", E, Stage.FILE,
       "文件设置了打开密码，无法读取。请取消密码（文件→信息→保护工作簿）后另存为 .xlsx 重新报送。",
       "取消打开密码后重新报送。", summary="文件设置了打开密码"),
    _k("file-old-format", E, Stage.FILE,
       "这是{program}格式的文件，无法读取。请用 Excel 或 WPS 打开，“另存为”Excel 工作簿（*.xlsx）后重新报送。",
       _REFORM + "。", summary="旧版 Excel（.xls）或 WPS（.et）文件"),
    _k("file-not-xlsx:html", E, Stage.FILE,
       "这是网页（HTML/XML）格式的文件，只是扩展名像 Excel，常见于从业务系统“导出 Excel”。"
       + _REFORM + "，或改用下发的填报表填写。",
       "改用下发的填报表填写。", summary="不是 .xlsx 工作簿（网页、CSV、ODS、Word 等改了扩展名）"),
    _k("file-not-xlsx:renamed-xls", E, Stage.FILE,
       "文件不是有效的 Excel 工作簿（.xlsx）。" + _REFORM + "。", "改用下发的填报表填写。"),
    _k("file-not-xlsx:renamed", E, Stage.FILE,
       "文件不是有效的 Excel 工作簿（.xlsx）。可能是把其他文件（如 CSV、网页或文本）改了扩展名，"
       "请使用下发的 .xlsx 填报表。", "改用下发的填报表填写。"),
    _k("file-not-xlsx:ods", E, Stage.FILE,
       "这是 ODS（OpenDocument 表格）格式的文件，只是扩展名改成了 .xlsx。"
       "请用 WPS 或 LibreOffice 打开后“另存为”Excel 工作簿（*.xlsx）再报送。", "另存为 .xlsx 后报送。"),
    _k("file-not-xlsx:docx", E, Stage.FILE,
       "这是 Word 文档，不是填报表。请填写下发的 Excel 填报表后报送。", "改用下发的填报表填写。"),
    _k("file-not-xlsx", E, Stage.FILE, "文件不是 Excel 工作簿（.xlsx），请使用下发的填报表。",
       "改用下发的填报表填写。"),
    _k("file-old-format:read", W, Stage.FILE,
       "这是{program}格式的文件，已照常读取。今后请在下发的 .xlsx 填报表上填写，保存为 Excel 工作簿（*.xlsx）后报送。",
       "今后保存为 .xlsx 报送。"),
    _k("file-corrupt:duplicate-part", E, Stage.FILE,
       "文件已损坏：其中有重复的部件（同一部分出现两次），无法确定以哪一份为准。请用 Excel 或 WPS 打开后重新保存再报送。",
       "用 Excel 或 WPS 打开后重新保存再报送。"),
    _k("file-corrupt:content", E, Stage.FILE,
       "文件已损坏：其中的内容无法读取。请用 Excel 或 WPS 打开后重新保存再报送；如果打不开，请重新填报。",
       "用 Excel 或 WPS 打开后重新保存再报送。"),
    _k("file-unreadable:zip", E, Stage.FILE, "{reason}", "把填报表直接作为附件发送，或重新打包为普通的 .zip。"),
    _k("file-not-workbook", E, Stage.FILE,
       "{what}，未读取。请使用下发的 Excel 填报表（.xlsx）填写后报送（报送函、扫描件等可以随附，但数据以填报表为准）。",
       "用下发的 Excel 填报表报送数据。", summary="不是工作簿（PDF、Word、图片、其他压缩包等），列出但不读取"),
    _k("macros-ignored", W, Stage.FILE,
       "文件中含有宏（VBA 代码），nianbao 不运行宏、只读取单元格里的数据。"
       "填报表不需要宏，请确认数据是直接填写的，今后请保存为不含宏的 .xlsx。",
       "保存为不含宏的 .xlsx。", summary="文件含宏，nianbao 不运行它"),
    _k("external-links-ignored", W, Stage.FILE,
       "文件中有 {count} 处引用了其他工作簿的外部链接，nianbao 不读取外部文件，"
       "只使用表中保存的数值。请把引用其他文件的公式改为直接填写数字后重新报送。",
       "把引用其他文件的公式改为数字。", summary="文件含外部链接，nianbao 不读取它们"),
    _k("stray-far-cells", W, Stage.FILE,
       "工作表“{sheet_name}”在远离表格的地方（如 {far}）有 {count} 个单元格有内容，已忽略"
       "（只读取前 {max_rows} 行、前 {max_cols} 列）。请删除这些多余内容（Ctrl+End 可定位）。",
       "删除表格远处的多余内容。", summary="表格远处有零星内容（已忽略）"),
    # --- read: finding the tables and reading each cell (reader.py, values.Issue)
    _k("form-version", E, Stage.READ,
       "这是其他版本的填报表（版本 {other}），本次应使用 {wanted} 版。"
       "请向公开办索取新版填报表，把数据录入新表后重新报送。", "改用本年度下发的填报表。",
       summary="填报表版本不是本次下发的版本"),
    _k("format-version", E, Stage.READ,
       "表中出现了旧版（2019年）格式的栏目“{label}”。{first_year}年起须使用《{name}》（{document}）的新格式，"
       "请使用下发的新版填报表。", "改用新版填报表。", summary="使用了旧版（2019年）格式"),
    _k("tables-missing", E, Stage.READ,
       "文件中没有找到年度报告的统计表（表二、表三、表四）。请使用下发的填报表填写后报送。",
       "改用下发的填报表填写。", summary="文件中没有统计表"),
    _k("table-missing", E, Stage.READ,
       "找不到工作表“{sheet_name}”中的统计表，这部分数据无法读取（没有找到栏目{labels}）。"
       "工作表可能被删除，或表头文字被改动；请使用下发的原表重新填报。", "使用下发的原表重新填报。",
       summary="缺少某一张统计表"),
    _k("table-missing:captions", E, Stage.READ,
       "找不到{captions}（应在工作表“{sheet_name}”中），这部分数据无法读取（没有找到栏目{labels}）。"
       "工作表可能被删除，或表头文字被改动；请使用下发的原表重新填报。", "使用下发的原表重新填报。"),
    _k("table-duplicate:differ", E, Stage.READ,
       "工作表“{copy}”与“{read}”是同一张表，但数字不同，无法确定以哪一张为准（目前读取的是“{read}”）。"
       "请删除多余的工作表后重新报送。", "删除多余的工作表。",
       summary="同一张表出现两次（数字不同为错误，相同为警告）"),
    _k("table-duplicate:same", W, Stage.READ,
       "工作表“{copy}”是“{read}”的重复副本（数字相同），已读取“{read}”。请删除多余的工作表。",
       "删除多余的工作表。"),
    _k("sheet-hidden", W, Stage.READ,
       "数据所在的工作表“{sheet_name}”被隐藏了，已照常读取；请确认这是本单位要报送的数据。",
       "取消隐藏并确认数据。", summary="数据所在工作表被隐藏"),
    _k("values-hidden", W, Stage.READ,
       "工作表“{sheet_name}”中有数字填在被隐藏的行或列里（{cells}），已照常读取并计入；"
       "请取消隐藏，确认这些数字是本单位要报送的。", "取消隐藏行或列并核对其中的数字。",
       summary="数字位于隐藏的行或列"),
    _k("label-missing", E, Stage.READ,
       "在工作表“{sheet_name}”中找不到栏目“{label}”，该栏数据无法读取。"
       "请不要修改或删除表中的行、列标题，必要时改用下发的原表重新填报。", "恢复原表的行、列标题。",
       summary="找不到某个栏目"),
    _k("label-variant", W, Stage.READ,
       "工作表“{sheet_name}”使用了非标准的栏目名称（{variants}），已按国家格式的对应栏目读取，报告中使用标准名称。",
       "今后使用下发的原表。", summary="使用了非标准栏目名称"),
    _k("total-unreadable", W, Stage.READ,
       "合计单元格“{label}”显示为“{shown}”，合计公式可能被改坏了；nianbao 按各分项重新计算，不使用此单元格。",
       "恢复合计公式或使用原表。", summary="合计单元格显示错误值"),
    _k("input-merged", E, Stage.READ,
       "“{label}”所在的单元格 {address} 被合并进了 {merged_into}，其中的数字无法读取（已按空白处理）。"
       "请取消合并，逐格填写。", "取消合并，逐格填写。", summary="填报单元格被合并"),
    _k("form-blank", W, Stage.READ,
       "填报表中所有数字单元格都是空白，像是未填写的空表。请确认是否报错了文件；确实没有数据的，请在各栏填 0 后重新报送。",
       "确认文件；没有数据的各栏填 0。", summary="交回的是空表"),
    _k("form-blank:return", E, Stage.READ,
       "交回的是未填写的空表：所有数字单元格都是空白，报告文字也没有填写，不能生成报告。"
       "请填写后重新报送；确实没有数据的，请在各栏填 0。", "填写后重新报送；没有数据的各栏填 0。"),
    _k("agency-alias", W, Stage.READ,
       "单位全称填的是“{typed}”，与名单中的全称“{name}”不同；报告标题和文件名按名单中的全称生成。"
       "请核实，今后请填写单位全称。", "填写名单中的单位全称。",
       summary="单位全称填的是简称或别名（报告按名单全称生成）"),
    _k("agency-mismatch", W, Stage.READ,
       "这份填报表是下发给“{issued}”的，但“基本信息”中填写的是“{given}”。"
       "可能是复制了其他单位的表格填写；请确认数据属于哪个单位，必要时使用本单位的填报表重新报送。",
       "使用本单位的填报表。", summary="表内单位与下发单位不同"),
    _k("blank-as-zero", W, Stage.READ, "{what}未填写，已按 0 处理；没有数据请直接填 0。", "没有数据请填 0。",
       summary="空白、“/”“-”“—”“无”按 0 处理", escalate="blank_is_error"),
    _k("blank-as-zero:shown", W, Stage.READ, "{what}为空白或“{content}”，已按 0 处理；没有数据请直接填 0。",
       "没有数据请填 0。", escalate="blank_is_error"),
    _k("number-as-text", W, Stage.READ, "{what}的内容 {got} 是文本格式的数字，已按数值读取；请确认数值无误。",
       "改为数值格式的数字。", summary="文本格式的数字、全角数字等，已按数值读取"),
    _k("not-a-number", E, Stage.READ, "{what}应填写数字，实际为 {got}。", "改为填写数字。",
       summary="数值单元格中不是数字"),
    _k("boolean-value", E, Stage.READ, "{what}应填写数字，实际为逻辑值 {got}。", "改为填写数字。",
       summary="数值单元格中是逻辑值（TRUE/FALSE）"),
    _k("date-value", E, Stage.READ,
       "{what}应填写数字，实际为日期或时间 {got}（单元格格式可能被设成了日期）。",
       "把单元格格式改为“常规”后填写数字。", summary="数值单元格中是日期或时间"),
    _k("formula-error", E, Stage.READ, "{what}是出错的公式（{content}），请改为直接填写数字。", "改为直接填写数字。",
       summary="数值单元格中是出错的公式（#REF! 等）"),
    _k("formula-no-value", E, Stage.READ,
       "{what}是公式（{content}），但文件中没有计算结果（可能由程序生成、未在 Excel 或 WPS 中打开保存过），"
       "无法读取数值。请改为直接填写数字，或用 Excel/WPS 打开后保存再报送。", "用 Excel/WPS 打开后保存再报送。",
       summary="公式没有计算结果"),
    _k("negative-value", E, Stage.READ, "{what}不能为负数，实际为 {got}。", "改为 0 或正数。",
       summary="负数"),
    _k("not-an-integer", E, Stage.READ, "{what}是件数，只能填写整数，实际为 {got}。", "件数填写整数。",
       summary="件数有小数"),
    _k("value-too-large", E, Stage.READ, "{what}的数值 {got} 大得不合常理，请核对是否多输入了数字。",
       "核对是否多输入了数字。", summary="数值大得不合常理"),
    _k("fee-precision", W, Stage.READ, "{what}的小数位数超过 {decimals} 位（{content}），请按规定位数填写。",
       "按规定位数填写金额。", summary="收费金额小数位过多"),
    _k("fee-too-large", W, Stage.READ, "{what}为 {content} 万元，数额异常大；请确认是否把“元”误填为“万元”。",
       "金额单位是万元，核对是否误填了元。", summary="疑似把“元”填成“万元”"),
    # --- import: published or returned reports read from Word, PDF, HTML, text (importer/)
    _k("file-unreadable:document", E, Stage.FILE, "{reason}",
       "提供 Word（.docx）、网页（.html）、有文字层的 PDF 或文本（.txt）格式的报告。"),
    _k("import-unreadable", E, Stage.READ,
       "“{label}”无法读取{why}，报告中印出的合计也不足以推算；请在生成的填报表中补填。",
       "对照原文在生成的填报表中补填。",
       summary="导入报告时某格无法确定（行或数缺失、对不上列），合计也无法推算"),
    _k("import-repaired", W, Stage.READ,
       "“{label}”未能读出{why}，已按报告中印出的合计推算为 {value}，请核对原文。", "对照原文核对推算的数。",
       summary="导入报告时某格未能读出，已按印出的合计推算"),
    _k("import-realigned", W, Stage.READ, "{note}，请核对原文。", "对照原文核对这一行。",
       summary="导入文本报告时一行的数少于栏目数，均为 0，已按整行为 0 读取"),
    _k("import-format-2019", W, Stage.READ,
       "这是2019年格式（国办公开办函〔2019〕60号）的报告，已按2021年格式读取能对应的数据：表三"
       "（“（六）其他处理”只有一行，已全部计入“3.其他”）、表四、表二的行政许可、行政处罚、行政强制处理决定数量。",
       "核对转换后的数据。", summary="导入的是2019年格式的报告（读取能对应的数据）"),
    _k("import-not-converted", W, Stage.READ,
       "2019年格式的以下数据在2021年格式中没有对应栏目，未转入（报告中的数值为：{said}）；"
       "2021年格式的规章、行政规范性文件件数和收费金额无从得知，填报表中留空。",
       "如需要，在生成的填报表中补填2021年格式的数据。",
       summary="2019年格式中没有对应栏目的数据（未转入，逐项列出）"),
    # --- rule: 勾稽关系 (schema.py) and plausibility (rules.py)
    _k("t3-balance", E, Stage.RULE,
       "表三“{column}”列：{description}。一+二 = {left}，三（七）总计+四 = {right}（差 {diff}）。本列各项为：{parts}。",
       "核对本列各项，使一+二 等于（七）总计+四。", summary="表三每一列：一 + 二 = 三（七）总计 + 四"),
    _k("t3-row-total", E, Stage.RULE, _SUM, _SUM_HINT, summary="表中的“总计”列与六类申请人之和不符"),
    _k("t3-result-total", E, Stage.RULE, _SUM, _SUM_HINT, summary="表中的“（七）总计”与各项办理结果之和不符"),
    _k("t4-total", E, Stage.RULE, _SUM, _SUM_HINT, summary="表四各“总计”与维持、纠正、其他、尚未审结之和不符"),
    _k("agency-missing", E, Stage.RULE, "未填写单位全称，无法生成报告。请在“基本信息”中填写单位全称。",
       "在“基本信息”中填写单位全称。", summary="未填写单位全称"),
    _k("year-missing", E, Stage.RULE, "未填写报告年度，请在“基本信息”中填写四位数年份，如 2025。",
       "填写四位数年份。", summary="未填写报告年度（或无法识别）"),
    _k("year-missing:shown", E, Stage.RULE,
       "未填写报告年度（填写的是“{shown}”），请在“基本信息”中填写四位数年份，如 2025。", "填写四位数年份。"),
    _k("year-mismatch", E, Stage.RULE,
       "报告年度为 {year} 年，本次汇总的是 {wanted} 年的数据。可能误报了往年的表，请核对。",
       "核对是否误报了往年的表。", summary="年度与应报年度不同"),
    _k("rules-authority", W, Stage.RULE,
       "“规章”一行填有数字，但单位层级为“{level}”。" "只有国务院部门和省、设区的市人民政府可以制定规章，"
       "县级部门、乡镇的文件应计入“行政规范性文件”。请核实。", "县级部门、乡镇的文件计入“行政规范性文件”。",
       summary="无规章制定权的单位填了“规章”"),
    _k("rules-authority:no-level", W, Stage.RULE,
       "“规章”一行填有数字，但未填写单位层级。只有国务院部门和省、设区的市人民政府可以制定规章，"
       "县级部门、乡镇的文件应计入“行政规范性文件”。请核实。", "填写单位层级并核实“规章”一行。"),
    _k("in-force-lower-bound", W, Stage.RULE,
       "“{row}”现行有效件数 {in_force} 小于本年制发 {issued} 减本年废止 {repealed}，请核对。",
       "核对现行有效件数。", summary="现行有效件数小于本年制发减本年废止"),
    # --- text: the narrative sections (textchecks.py); each check has a [text] switch
    _k("narrative-empty:s1", W, Stage.TEXT, "报告第一部分“总体情况”没有填写文字。", "填写总体情况。",
       summary="第一、五、六部分文字为空（或只写“无”）"),
    _k("narrative-empty:s5", W, Stage.TEXT,
       "报告第五部分“存在的主要问题及改进情况”为空或只写了“无”，请写明存在的问题和改进措施。",
       "写明存在的问题和改进措施。"),
    _k("narrative-empty:s6", W, Stage.TEXT,
       "报告第六部分“其他需要报告的事项”为空。没有其他事项的，请写明“本年度无其他需要报告的事项。”，"
       "并说明信息处理费收取情况。", "写明其他事项或“本年度无其他需要报告的事项。”"),
    _k("text-zero-claim:received", W, Stage.TEXT,
       "{section}中写有“{quote}”，但表三本年新收申请为 {new} 件，文字与表格不一致。", "使文字与表格一致。",
       summary="文字说“未收到申请”“未发生行政复议”“未被纠错”等，但表格有数", switch="text_numbers"),
    _k("text-zero-claim:dispute", W, Stage.TEXT,
       "{section}中写有“{quote}”，但表四{what}，文字与表格不一致。", "使文字与表格一致。",
       switch="text_numbers"),
    _k("text-zero-claim:corrected", W, Stage.TEXT,
       "{section}中写有“{quote}”，但表四{what}，文字与表格不一致。",
       "核对表四“结果纠正”，使文字与表格一致。", switch="text_numbers"),
    _k("text-number-mismatch:received", W, Stage.TEXT,
       "{section}中写有“{quote}”，但表三本年新收 {new} 件（含上年结转共 {total} 件），与文字不符。",
       "使文字与表格一致。", summary="文字中的申请数、办理结果及占比、复议诉讼数及结果、收费通知数与表格不符",
       switch="text_numbers"),
    _k("text-number-mismatch:table", W, Stage.TEXT,
       "{section}中写有“{quote}”，但{table}为 {value} 件，与文字不符。", "使文字与表格一致。",
       switch="text_numbers"),
    _k("text-number-mismatch:share", W, Stage.TEXT,
       "{section}中写有“{quote}”，但按 {count} 件占 {base} 件计算应为 {share}%，与文字不符。",
       "按表三重新计算占比。", switch="text_numbers"),
    _k("text-number-mismatch:all-kept", W, Stage.TEXT,
       "{section}中写有“{quote}”，但表四{what}共 {total} 件，其中结果维持 {keep} 件，并非全部维持。",
       "使文字与表四一致。", switch="text_numbers"),
    _k("text-number-mismatch:fee-notice", W, Stage.TEXT,
       "{section}中写有“{quote}”，但表三“（六）其他处理”第2项（逾期未按收费通知缴费、不再处理）为 {cases} 件，"
       "说明至少发出过 {cases} 份收费通知，与文字不符。", "使文字与表三一致。", switch="text_numbers"),
    _k("text-other-scope", W, Stage.TEXT,
       "{section}中写有“{quote}”，与本单位表格（{table}为 {value} 件）不同；这句话说的似乎是另一统计口径"
       "（{scope}），请确认文字所指的范围，必要时注明“本机关”的数字。",
       "确认文字所指的范围；报告中的数字应是本机关的。",
       summary="文字中的数字与表格不同，但说的是另一统计口径（代表政府受理、全市等），提示核实",
       switch="text_numbers"),
    _k("fee-notice-text", W, Stage.TEXT,
       "表三有 {cases} 件申请因逾期未缴费不再处理，说明发出过收费通知；请在第六部分说明信息处理费的收取情况。",
       "在第六部分说明信息处理费的收取情况。",
       summary="有因逾期未缴费不再处理的申请，但第六部分未说明信息处理费", switch="text_numbers"),
    _k("text-agency-other", W, Stage.TEXT,
       "{section}中写有“{quote}”，以“{other}”作为本报告的主体，但这是“{agency}”的报告；"
       "可能是从其他单位的报告复制后没有改名称。", "把文字中的单位名称改为本单位。",
       summary="文字以名单中另一单位作为“我局/本单位”（复制其他单位的报告未改名称）", switch="text_agency"),
    _k("text-date-malformed", W, Stage.TEXT, "{section}中的日期“{quote}”写法有误：{why}。",
       "日期写成“2025年1月1日”的形式。", summary="日期写法有误（如“20251月1日”“202512月31日”、13月、2月30日）",
       switch="text_dates"),
    _k("text-date-year", W, Stage.TEXT,
       "{section}中写有“{quote}”，年份为 {got} 年，但本报告是 {year} 年度的；可能沿用了往年的文字。",
       "把年份改为报告年度。", summary="统计期限或叙述年度的年份不是报告年度（沿用往年文字）",
       switch="text_dates"),
    _k("text-old-format:citation", W, Stage.TEXT,
       "{section}中写有“{quote}”，这是2019年旧版格式的依据；{year}年度报告应依据《中华人民共和国政府信息公开工作"
       "年度报告格式》（国办公开办函〔2021〕30号）。", "改为引用国办公开办函〔2021〕30号。",
       summary="文字引用旧版格式（国办公开办函〔2019〕60号、“格式（试行）”）、使用2019年格式栏目或把"
               "“行政规范性文件”写作“规范性文件”", switch="text_old_format"),
    _k("text-old-format:label", W, Stage.TEXT,
       "{section}中使用了2019年旧版格式的栏目“{label}”，2021年起的格式已没有这一栏目。",
       "按2021年格式的栏目表述。", switch="text_old_format"),
    _k("text-old-format:normative", W, Stage.TEXT,
       "{section}中写有“{quote}”：2021年格式的栏目是“行政规范性文件”，请写全称"
       "（共 {count} 处）。", "把“规范性文件”改为“行政规范性文件”。", switch="text_old_format"),
    _k("text-parts-count", W, Stage.TEXT,
       "{section}中写有“{quote}”，但{found}，与所说的“{stated}部分”不符。",
       "按报告实际的部分改写这句话。", summary="“本报告由……六部分组成”与实际的部分数不符", switch="text_parts"),
    _k("text-similar:previous", W, Stage.TEXT,
       "“{title}”与本单位{last_year}年报告的同一部分几乎相同（相似度 {similarity:.0%}，上年文件：{last_file}），"
       "可能照搬了去年的文字。", "按本年度实际工作重写这一部分。",
       summary="某一部分文字与本单位上年或同批其他单位几乎相同（雷同，阈值可设）", switch="text_similar"),
    _k("text-similar:batch", W, Stage.TEXT,
       "“{title}”与同批“{other}”（{other_file}）的同一部分几乎相同（相似度 {similarity:.0%}），"
       "可能套用了其他单位的文字。", "按本单位实际工作重写这一部分。", switch="text_similar"),
    # --- cross-year: against last year's workbook (previous.py)
    _k("xyear-carryover", W, Stage.CROSS_YEAR,
       "表三“二、上年结转政府信息公开申请数量”“{column}”列为 {now}，但{last_year}报表“四、结转下年度继续办理”"
       "为 {before}（差 {diff}）。本年文件：{file}；上年文件：{last_file}。请核对；"
       "如因机构改革等原因确实不同，请在第六部分说明。", "使上年结转等于上年的结转下年度继续办理。",
       summary="本年“上年结转”与上年“结转下年度继续办理”不符", escalate="carryover_error"),
    _k("xyear-in-force", W, Stage.CROSS_YEAR,
       "“{row}”{this_year}现行有效件数为 {in_force}，按{last_year}现行有效 {before} + 本年制发 {issued} "
       "− 本年废止 {repealed} 应为 {should}。本年文件：{file}；上年文件：{last_file}。"
       "如有期满失效、修改等情况，请在报告中说明。", "核对现行有效件数，或在报告中说明。",
       summary="现行有效件数与“上年现行有效 + 本年制发 − 本年废止”不符"),
    # --- indicator: what reviewers look at, over the archived years (indicators.py)
    _k("trend-jump", W, Stage.INDICATOR,
       "“{label}”{year}年为 {now} 件，{last_year}年为 {before} 件，是上年的 {ratio} 倍"
       "（超过 {limit} 倍）。请核实数字；如确有原因，宜在报告中说明。",
       "核实数字，或在报告中说明变化的原因。",
       summary="本年新收或某项办理结果是上年的 5 倍以上、0.2 倍以下或上年为 0"
               "（本年或上年达到最小件数 `trend_min_sample` 时；倍数可在 [checks] 中设置）"),
    _k("trend-jump:drop", W, Stage.INDICATOR,
       "“{label}”{year}年为 {now} 件，{last_year}年为 {before} 件，只有上年的 {ratio} 倍"
       "（低于 {limit} 倍）。请核实数字；如确有原因，宜在报告中说明。",
       "核实数字，或在报告中说明变化的原因。"),
    _k("trend-jump:from-zero", W, Stage.INDICATOR,
       "“{label}”{year}年为 {now} 件，{last_year}年为 0 件。请核实数字；如确有原因，宜在报告中说明。",
       "核实数字，或在报告中说明变化的原因。"),
    _k("trend-zero-peer", W, Stage.INDICATOR,
       "“{label}”{year}年为 0 件，而{group}中 {peers} 个单位的中位数为 {median} 件。请核实是否漏填。",
       "核实是否漏填。",
       summary="某项为 0，而同层级可比单位的中位数达到最小件数 `trend_min_sample`"),
    # --- build: writing reports (build.py)
    # --- register: 表三/表四 counted from the register sheets (register_checks.py, register_read.py)
    _k("reg-count-mismatch", E, Stage.REGISTER,
       "“{label}”表中为 {claim}，按“{register}”统计为 {count}（差 {diff}）。{rows}{advice}",
       "表三、表四由登记台账自动统计，不要手工改写；核对台账各行。",
       summary="表三、表四中的数字与登记台账的统计不符（列出计入该格的台账行）"),
    _k("reg-field-missing", E, Stage.REGISTER, "{register}：{row}未填写“{field}”。", "补填该项。",
       summary="登记台账必填项为空（编号、收到日期、申请人类型、来源，已办结的答复日期）"),
    _k("reg-field-invalid", E, Stage.REGISTER, "{register}：{row}的“{field}”无法识别：{allowed}。",
       "从下拉列表中选择，日期写成 2025-03-05 的形式。", summary="登记台账中的日期或下拉项无法识别"),
    _k("reg-duplicate-no", E, Stage.REGISTER,
       "{register}：编号 {no} 出现了 {times} 次（第 {rows} 行）；每件申请只登记一行。",
       "删除重复的行或改正编号。", summary="登记台账编号重复"),
    _k("reg-carried-with-result", E, Stage.REGISTER,
       "{register}：{row}标记为结转下年度，但又填写了办理结果或答复日期；已办结的不结转，"
       "未办结的请清空办理结果和答复日期。", "已办结的不结转；未办结的清空办理结果和答复日期。",
       summary="既结转下年度又有办理结果"),
    _k("reg-unfinished", E, Stage.REGISTER,
       "{register}：{row}没有办理结果，也没有标记结转下年度。年底尚未办结的申请，请在“是否结转下年度”中选“是”。",
       "已办结的选办理结果；未办结的标记结转下年度。", summary="未办结的申请没有标记结转下年度"),
    _k("reg-date-outside-year", E, Stage.REGISTER,
       "{register}：{row}收到日期为 {date}，{what}（{want} 年）。", "核对收到日期和来源。",
       summary="收到或答复日期不在报告年度（上年结转的收到日期应在上年）"),
    _k("reg-date-outside-year:replied", E, Stage.REGISTER,
       "{register}：{row}答复日期为 {date}，不在报告年度 {year} 年内；年底未答复的申请应标记结转下年度。",
       "核对答复日期；年底未答复的标记结转下年度。"),
    _k("reg-date-order", E, Stage.REGISTER, "{register}：{row}“{later}” {b} 早于“{earlier}” {a}。",
       "核对两个日期。", summary="日期先后颠倒（如答复早于收到）"),
    _k("reg-reply-late", W, Stage.REGISTER,
       "{register}：{row}答复日期 {replied} 超过答复期限 {due}（{rule}，晚 {late} 个工作日）。"
       "条例第三十三条：应自收到申请之日起20个工作日内答复，延长不超过20个工作日。",
       "按期答复；需要延长的，经负责人同意并告知申请人，在台账中标记延期。",
       summary="答复超过20个工作日（延期的40个），按法定节假日和调休计算"),
    _k("reg-reply-late:carried", W, Stage.REGISTER,
       "{register}：{row}结转下年度，但答复期限 {due}（{rule}）在年底前已经届满，年底时已逾期未答复。",
       "尽快答复。"),
    _k("reg-correction-late", W, Stage.REGISTER,
       "{register}：{row}补正通知日期 {correction} 晚于收到申请后 7 个工作日（应不晚于 {due}，晚 {late} 个工作日）。"
       "条例第三十条：申请内容不明确的，应自收到申请之日起7个工作日内一次性告知补正。",
       "收到申请后7个工作日内一次性告知补正。", summary="补正通知晚于7个工作日"),
    _k("reg-third-party-late", W, Stage.REGISTER,
       "{register}：{row}第三方意见 {back} 才收到，超过征求意见后 15 个工作日（{due}）；超出的时间计入答复期限。"
       "条例第三十二条：第三方逾期未提出意见的，由行政机关依照条例决定是否公开。",
       "第三方逾期的，按条例自行决定是否公开。", summary="第三方意见超过15个工作日（超出部分计入答复期限）"),
    _k("reg-calendar-unknown", W, Stage.REGISTER,
       "{register}：已安装的节假日数据（chinesecalendar）只包括 {first}–{last} 年，没有 {year} 年的放假和调休安排，"
       "{n} 件申请的答复、补正期限未核对（不作推测）。",
       "国务院公布该年放假安排后，升级 chinesecalendar（pip install -U chinesecalendar）再校验。",
       summary="节假日数据不包括某一年，相关期限未核对"),
    _k("reg-case-unknown-application", W, Stage.REGISTER,
       "{register}：{row}关联的申请编号 {linked} 不在“{applications}”中，请核对。", "核对关联申请编号。",
       summary="复议诉讼案件关联的申请编号不在登记台账中"),
    # `nianbao register import`: an office's own register into the form (register_import.py)
    _k("reg-import-unreadable", E, Stage.REGISTER, "无法读取登记台账文件 {file}：{reason}。",
       "用 Excel 或 WPS 另存为 .xlsx 或 CSV（UTF-8）后再导入。", summary="要导入的登记台账文件无法读取"),
    _k("reg-import-no-header", E, Stage.REGISTER,
       "{file}：前 10 行中找不到登记台账的表头。至少需要这几列：{required}（也认常见写法，如 {variants}）。",
       "把表头改成可识别的写法后再导入。", summary="要导入的登记台账找不到表头"),
    _k("reg-import-unknown", E, Stage.REGISTER,
       "{file}：第 {row} 行 {column} 列（{header}）的“{value}”无法识别，{allowed}。",
       "改成可识别的写法后再导入；nianbao 不作猜测。",
       summary="要导入的登记台账中有无法识别的值（指明文件、行、列），整个文件不导入"),
    _k("reg-import-unknown:missing", E, Stage.REGISTER,
       "{file}：第 {row} 行 {column} 列（{header}）为空，这一项必须填写。", "补填后再导入。"),
    _k("reg-import-form", E, Stage.REGISTER, "{form}：{reason}",
       "导入到 nianbao form 生成的填报表；台账中已有数据时加 --replace 替换。",
       summary="导入的目标不是 nianbao 填报表，或其中的台账已有数据"),
    _k("reg-xyear-missing", W, Stage.CROSS_YEAR,
       "{register}：上年（{last_file}）结转下年度的 {n} 件申请在本年（{this_file}）没有作为“上年结转”登记："
       "编号 {nos}。", "补登这些申请（来源选“上年结转”，沿用上年编号）。",
       summary="上年结转下年度的申请（按编号）本年没有作为上年结转登记", escalate="carryover_error"),
    _k("reg-xyear-unexpected", W, Stage.CROSS_YEAR,
       "{register}：第 {row} 行（编号 {no}）登记为“上年结转”，但上年（{last_file}）没有结转下年度的编号 {no}。",
       "核对编号或来源。", summary="本年登记为上年结转的编号上年没有结转", escalate="carryover_error"),
    _k("duplicate-agency", E, Stage.BUILD,
       "与较新的文件“{winner}”是同一单位、同一年度的报表，已以较新的文件为准；请确认哪一份是最终报送的数据。",
       "确认哪一份是最终报送的数据，删除另一份。", summary="同一单位同一年度有多个文件（以最新的为准）"),
    _k("render-failed", E, Stage.BUILD, "报告生成失败：{error}", "检查 Word 模板（nianbao template check）。",
       summary="报告生成失败"),
    _k("render-failed:stalled", E, Stage.BUILD,
       "生成报告的子进程 {seconds} 秒没有任何进展，已被停止，这份报告没有生成。",
       "检查 Word 模板（nianbao template check）后重新运行。"),
    _k("pdf-punctuation-lost", W, Stage.BUILD,
       "PDF 文件“{file}”比 Word 文件少了 {count} 个标点（{marks}），LibreOffice 排版时把它们丢了。",
       "以 Word 文件为准；需要 PDF 时可用 Word 或 WPS 打开 .docx 另存为 PDF。",
       summary="PDF 与 Word 文字比对，PDF 丢失了标点（--pdf）"),
    _k("write-failed", E, Stage.BUILD,
       "无法在输出目录 {out_dir} 中写入报告（{reason}），请检查磁盘空间和文件夹权限。",
       "检查磁盘空间和文件夹权限。", summary="报告无法写入输出目录"),
    # --- template: `nianbao template check` on a Word template (engine.lint_template, via text())
    _k("unreadable:template", E, Stage.TEMPLATE, "{reason}", "换用能正常打开的 .docx 模板。",
       summary="模板文件无法读取或不是 Word 文档"),
    _k("unreadable:template-file", E, Stage.TEMPLATE, "无法读取模板：{reason}",
       "检查模板文件是否存在、能否打开。"),
    _k("unreadable:template-no-body", E, Stage.TEMPLATE,
       "不是 Word 文档：找不到正文部分（word/document.xml）", "换用 .docx 格式的 Word 模板。"),
    _k("unreadable:template-part", E, Stage.TEMPLATE, "这一部分已损坏，无法读取（{reason}）",
       "用 Word 打开模板后重新保存。"),
    _k("full-width-tag", E, Stage.TEMPLATE,
       "“{tag}”含有全角符号，nianbao 不会把它当作标签；请切换到英文输入法，改为半角的 {{{{ }}}} 或 {{% %}}",
       "改用半角符号。", summary="模板标签使用了全角符号"),
    _k("tag-with-space", E, Stage.TEMPLATE, "“{opener} {word}”中间不能有空格，应写作“{opener}{word}”",
       "删去标签中的空格。", summary="模板标签 {% p 等中间多了空格"),
    _k("two-p-tags", E, Stage.TEMPLATE,
       "同一段落里有两个 {{%p … %}} 标签；每个 {{%p … %}} 标签必须单独占一个段落",
       "把每个 {%p … %} 标签放到单独的段落。", summary="同一段落里有两个 {%p} 标签"),
    _k("syntax-error", E, Stage.TEMPLATE, "{explanation}", "按提示修改模板标签。",
       summary="模板标签语法错误"),
    _k("unknown-variable", E, Stage.TEMPLATE,
       "模板使用了变量“{variable}”，但 nianbao 不提供它（可用的变量：{known}）", "检查变量名的拼写。",
       summary="模板使用了 nianbao 不提供的变量或表格键名"),
    _k("unknown-variable:path", E, Stage.TEMPLATE,
       "模板使用了“{missing}”，但 nianbao 不提供它（检查表格键名的拼写）", "检查表格键名的拼写。"),
    _k("render-failed:template", E, Stage.TEMPLATE, "用示例数据试生成失败：{error}",
       "按提示修改模板。"),
)

CATALOGUE: dict[str, Kind] = {k.id: k for k in KINDS}
assert len(CATALOGUE) == len(KINDS), "a kind id is declared twice"
CODES: tuple[str, ...] = tuple(dict.fromkeys(k.code for k in KINDS))


RULE_NAMES: dict[str, str] = {}
for _kind in KINDS:
    if _kind.summary:
        RULE_NAMES.setdefault(_kind.code, _kind.summary)


def rule_name(code: str) -> str:
    """A rule code's name in Chinese (the README table's 含义); the code itself if unknown."""
    return RULE_NAMES.get(code, code)


def kind(kind_id: str) -> Kind:
    """The kind declared under ``kind_id`` (KeyError for an undeclared one: a programming error)."""
    return CATALOGUE[kind_id]


def finding(kind_id: str, *, settings: Settings = DEFAULT_SETTINGS, sheet: str | None = None,
            cell: str | None = None, key: str | None = None, related: Iterable[str] = (),
            expected: Value | str | None = None, actual: Value | str | None = None,
            **fields: object) -> Finding:
    """The one way to build a :class:`Finding`: ``fields`` fill the kind's message template."""
    k = CATALOGUE[kind_id]
    return Finding(code=k.code, severity=k.severity_for(settings), message=k.message.format(**fields),
                   sheet=sheet, cell=cell, key=key, related=tuple(related), expected=expected,
                   actual=actual, hint=k.hint)


def text(kind_id: str, **fields: object) -> str:
    """A kind's message alone, for problems reported outside a Finding (template check)."""
    return CATALOGUE[kind_id].message.format(**fields)


def apply_switches(findings: Iterable[Finding], settings: Settings) -> list[Finding]:
    """Drop the findings whose kind is switched off in ``settings``."""
    off = {k.code for k in KINDS if not k.enabled(settings)}
    return [f for f in findings if f.code not in off]


# --- the README rule table

README_BEGIN = "<!-- kinds:begin (generated from src/nianbao/kinds.py) -->"
README_END = "<!-- kinds:end -->"


def _severity_text(kinds: list[Kind]) -> str:
    levels = "/".join(dict.fromkeys(k.severity.zh for k in kinds))
    flags = sorted({f for k in kinds for f in (k.escalate, k.switch) if f})
    escalate = [k.escalate for k in kinds if k.escalate]
    if escalate:
        return f"{levels}（可设为错误：`{escalate[0]}`）"
    return levels + (f"（开关：`{flags[0]}`）" if flags else "")


def readme_table() -> str:
    """The README 校验规则 table: one row per code, in catalogue order."""
    lines = ["| 代码 | 级别 | 阶段 | 含义 |", "| --- | --- | --- | --- |"]
    for code in CODES:
        group = [k for k in KINDS if k.code == code]
        summary = next(k.summary for k in group if k.summary)
        lines.append(f"| `{code}` | {_severity_text(group)} | {group[0].stage.zh} | {summary} |")
    return "\n".join(lines)


def sync_readme(text_: str) -> str:
    """``text_`` (README.md) with the table between the markers regenerated."""
    pattern = re.compile(re.escape(README_BEGIN) + ".*?" + re.escape(README_END), re.S)
    return pattern.sub(lambda _: f"{README_BEGIN}\n{readme_table()}\n{README_END}", text_)


if __name__ == "__main__":  # developer use: python -m nianbao.kinds README.md
    import sys

    target = Path(sys.argv[1])
    target.write_text(sync_readme(target.read_text("utf-8")), "utf-8")
