"""The workspace configuration (nianbao.toml): found from the current folder, read with tomllib.

A coordinator keeps one folder per reporting year.  ``nianbao.toml`` in that
folder (or a parent) names the roster, the folders and the rule settings;
command-line options override it (:meth:`Config.override`).  The file is
written by hand (:func:`render_config`) so that it carries Chinese comments.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from nianbao.atomic import describe_os_error
from nianbao.errors import NianbaoError
from nianbao.settings import DEFAULT_SETTINGS, Settings

CONFIG_NAME = "nianbao.toml"
DATE_KEYS = {"issue": "下发", "deadline": "报送截止", "review": "审核", "publish": "发布"}
# [text]: the switch of each text check (Settings.text_<key>) and its name in messages
TEXT_SWITCHES = {"agency": "文字中的单位名称", "dates": "文字中的日期", "old_format": "旧版格式痕迹",
                 "parts": "报告部分数", "numbers": "文字中的数字与表格", "similar": "雷同"}
ALL_SCOPE = frozenset({"全部", "全县", "全市", "全区", "all", "*"})



class CycleError(NianbaoError):
    """The yearly cycle cannot go on (bad roster, bad configuration, …): a tool failure."""


class ConfigError(CycleError):
    """nianbao.toml cannot be used; the message says which key and why, in Chinese."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """Everything a cycle command needs, with every path absolute."""

    root: Path
    year: int
    roster: Path
    inputs: Path
    outputs: Path
    forms: Path
    template: Path | None = None  # None: the package's default template
    previous: Path | None = None  # last year's workspace, 汇总 workbook or folder
    jobs: int | None = None
    settings: Settings = field(default_factory=Settings)
    summary_name: str = ""
    scope: tuple[str, ...] = ()  # unit codes or levels; empty: every unit
    dates: Mapping[str, dt.date] = field(default_factory=dict)
    pins: Mapping[str, str] = field(default_factory=dict)  # file (name or path) -> unit code
    path: Path | None = None  # the nianbao.toml read, if any
    database_url: str = ""  # PostgreSQL for `nianbao serve`; empty: SQLite in the workspace
    base_url: str = ""  # where `nianbao serve` is reached, for the units' links

    def override(self, **changes: Any) -> Config:
        """A copy with the given fields replaced; ``None`` values are ignored."""
        given = {k: v for k, v in changes.items() if v is not None}
        settings_fields = {f.name for f in dataclasses.fields(Settings)}
        rule_changes = {k: given.pop(k) for k in list(given) if k in settings_fields}
        config = dataclasses.replace(self, **given)
        if rule_changes:
            config = dataclasses.replace(
                config, settings=dataclasses.replace(config.settings, **rule_changes))
        return config

    @property
    def logs(self) -> Path:
        return self.outputs / "logs"

    @property
    def lock_file(self) -> Path:
        return self.outputs / ".nianbao.lock"  # the same name as runner.LOCK_NAME


def find_config(start: Path) -> Path | None:
    """``nianbao.toml`` in ``start`` or the nearest parent folder that has one."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def load_config(start: Path) -> Config | None:
    """The configuration of the workspace containing ``start``; None outside a workspace.

    Raises :class:`ConfigError` when the file exists but is not valid.
    """
    path = start if start.is_file() else find_config(start)
    if path is None:
        return None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+), column (\d+)", str(exc))
        where = f"第 {found[1]} 行第 {found[2]} 列附近" if found else "某一行"
        raise ConfigError(f"{path} 格式有误，无法读取：{where}不符合 TOML 写法"
                          "（常见原因：文字两边缺少英文双引号、同一项写了两次、方括号不成对）。") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} 不是 UTF-8 编码，无法读取：请用记事本“另存为”UTF-8 编码。") from exc
    except OSError as exc:
        raise ConfigError(f"无法读取 {path}：{describe_os_error(exc)}") from exc
    return parse_config(data, path)


def parse_config(data: Mapping[str, object], path: Path) -> Config:
    """A :class:`Config` from parsed TOML; relative paths are relative to the file's folder."""
    root = path.parent.resolve()
    where = f"{path}："

    def get(table: Mapping[str, object], key: str, kind: type | tuple[type, ...],
            default: object, label: str) -> object:
        value = table.get(key, default)
        if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
            raise ConfigError(f"{where}“{label}”（{key}）的值 {value!r} 无效。")
        return value

    def table(name: str) -> Mapping[str, object]:
        value = data.get(name, {})
        if not isinstance(value, dict):
            raise ConfigError(f"{where}[{name}] 应为一个表。")
        return value

    def a_path(text: object, label: str) -> Path | None:
        if not isinstance(text, str):
            raise ConfigError(f"{where}“{label}”应为文字（路径）。")
        return (root / text).resolve() if text.strip() else None

    year = get(data, "year", int, None, "报告年度")
    assert isinstance(year, int)
    if not 2000 <= year <= 2100:
        raise ConfigError(f"{where}报告年度 year = {year} 不合理。")
    roster = a_path(get(data, "roster", str, "", "单位名单"), "单位名单")
    if roster is None:
        raise ConfigError(f"{where}未设置单位名单 roster。")
    checks = table("checks")
    fee_max_raw = get(checks, "fee_max", (str, int, float), "10000", "收费金额上限")
    try:
        fee_max = Decimal(str(fee_max_raw))
    except InvalidOperation as exc:
        raise ConfigError(f"{where}收费金额上限 fee_max = {fee_max_raw!r} 不是数字。") from exc
    if not fee_max.is_finite() or fee_max <= 0:
        raise ConfigError(f"{where}收费金额上限 fee_max = {fee_max_raw!r} 应为大于 0 的数（万元）。")
    fee_decimals = int(str(get(checks, "fee_decimals", int, 4, "收费金额小数位数")))
    if not 0 <= fee_decimals <= 6:
        raise ConfigError(f"{where}收费金额小数位数 fee_decimals = {fee_decimals} 应在 0 到 6 之间。")
    trend: dict[str, Decimal] = {}
    for key, label in (("trend_high", "指标提示倍数上限"), ("trend_low", "指标提示倍数下限")):
        raw = get(checks, key, (int, float, str), str(getattr(DEFAULT_SETTINGS, key)), label)
        try:
            trend[key] = Decimal(str(raw))
        except InvalidOperation:
            trend[key] = Decimal(-1)
        if not trend[key].is_finite() or trend[key] <= 0:
            raise ConfigError(f"{where}{label} {key} = {raw!r} 应为大于 0 的数。")
    if trend["trend_low"] >= 1 or trend["trend_high"] <= 1:
        raise ConfigError(f"{where}trend_low 应小于 1，trend_high 应大于 1。")
    trend_min = get(checks, "trend_min_sample", int, DEFAULT_SETTINGS.trend_min_sample,
                    "指标提示最小件数")
    assert isinstance(trend_min, int)
    if trend_min < 0:
        raise ConfigError(f"{where}指标提示最小件数 trend_min_sample = {trend_min} 不能为负数。")
    trend_high, trend_low = trend["trend_high"], trend["trend_low"]
    text = table("text")
    switches = {f"text_{key}": bool(get(text, key, bool, True, label))
                for key, label in TEXT_SWITCHES.items()}
    threshold_raw = get(text, "similar_threshold", (int, float), 0.9, "雷同阈值")
    assert isinstance(threshold_raw, int | float)
    threshold = float(threshold_raw)
    if not 0.5 <= threshold <= 1:
        raise ConfigError(f"{where}雷同阈值 similar_threshold = {threshold_raw!r} 应在 0.5 到 1 之间。")
    min_chars = get(text, "similar_min_chars", int, 120, "雷同比较的最少字数")
    assert isinstance(min_chars, int)
    if min_chars < 1:
        raise ConfigError(f"{where}雷同比较的最少字数 similar_min_chars = {min_chars} 应大于 0。")
    settings = Settings(
        **switches, similar_threshold=threshold, similar_min_chars=min_chars,
        trend_high=trend_high, trend_low=trend_low, trend_min_sample=trend_min,
        fee_decimals=fee_decimals,
        fee_max=fee_max,
        blank_is_error=bool(get(checks, "blank_is_error", bool, False, "空白按错误处理")),
        carryover_error=bool(get(checks, "carryover_error", bool, False, "上年结转不一致按错误处理")),
        expected_year=year,
    )
    summary = table("summary")
    scope = get(summary, "scope", list, [], "汇总范围")
    assert isinstance(scope, list)
    if not all(isinstance(s, str) for s in scope):
        raise ConfigError(f"{where}汇总范围 scope 应为文字列表，如 [\"县级部门\", \"乡镇\"]。")
    dates: dict[str, dt.date] = {}
    for key, value in table("dates").items():
        if key not in DATE_KEYS:
            raise ConfigError(f"{where}[dates] 中的“{key}”不认识；可用：{', '.join(DATE_KEYS)}。")
        dates[key] = _date(value, f"{where}[dates] {key}")
    pins: dict[str, str] = {}
    for name, code in table("pins").items():
        if not isinstance(code, str) or not code.strip():
            raise ConfigError(f"{where}[pins] 中“{name}”应对应一个单位编码（文字）。")
        pins[name] = code.strip()
    jobs = get(data, "jobs", int, 0, "并行进程数")
    assert isinstance(jobs, int)
    template = a_path(get(data, "template", str, "", "Word 模板"), "Word 模板")
    base_url = str(get(data, "base_url", str, "", "网上报送地址")).strip().rstrip("/")
    if base_url and not base_url.startswith(("http://", "https://")):
        raise ConfigError(f"{where}网上报送地址 base_url = {base_url!r} 应以 https:// 或 http:// 开头。")
    return Config(
        root=root, path=path, year=year, roster=roster,
        inputs=a_path(get(data, "inputs", str, "inputs", "报送文件夹"), "报送文件夹") or root,
        outputs=a_path(get(data, "outputs", str, "outputs", "输出文件夹"), "输出文件夹") or root,
        forms=a_path(get(data, "forms", str, "forms", "填报表文件夹"), "填报表文件夹") or root,
        template=template,
        previous=a_path(get(data, "previous", str, "", "上年数据"), "上年数据"),
        jobs=jobs or None, settings=settings,
        summary_name=str(get(summary, "name", str, "", "汇总单位名称")),
        scope=tuple(s.strip() for s in scope if s.strip()), dates=dates, pins=pins,
        database_url=str(get(data, "database_url", str, "", "数据库地址")).strip(),
        base_url=base_url,
    )


def _date(value: object, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ConfigError(f"{where} 应为日期，如 2026-01-20。")


def _toml_str(text: str) -> str:
    # A JSON string is a valid TOML basic string (same escapes); keep Chinese as is.
    return json.dumps(text, ensure_ascii=False)


def render_config(*, year: int, roster: str, summary_name: str, template: str | None,
                  settings: Settings = DEFAULT_SETTINGS, scope: Sequence[str] = (),
                  previous: str = "", deadline: dt.date | None = None) -> str:
    """The text of a new nianbao.toml, with a Chinese comment on every setting."""
    deadline = deadline or dt.date(year + 1, 1, 31)
    template_line = (f"template = {_toml_str(template)}" if template else
                     '# template = "templates/report.docx"   # 不设置则使用内置模板')
    scope_text = ", ".join(_toml_str(s) for s in scope)
    return f"""\
# nianbao 工作区配置：{year} 年度政府信息公开工作年度报告
# 用记事本等编辑器修改后保存即可（UTF-8 编码）；命令行选项优先于本文件的设置。
# 路径都相对于本文件所在的文件夹。

year = {year}                      # 报告年度
roster = {_toml_str(roster)}       # 单位名单（CSV 或 XLSX）：单位编码、单位全称、别名、层级、联系人、联系电话
{template_line}
inputs = "inputs"                  # 收到的填报表放在这里（可以有子文件夹，文件名不限）
outputs = "outputs"                # 报告、状态表、反馈意见、日志都写到这里
forms = "forms"                    # 下发给各单位的空白填报表
previous = {_toml_str(previous)}   # 上年数据：上年工作区、上年汇总表或上年填报表所在文件夹；留空则不做跨年度校验
jobs = 0                           # 并行生成报告的进程数；0 表示自动
# base_url = "https://nianbao.example.gov.cn"   # 网上报送（nianbao serve）的访问地址；设置后反馈意见和催报名单附上各单位的报送链接
# database_url = "postgresql://nianbao:密码@127.0.0.1/nianbao"   # 网上报送使用 PostgreSQL；不设置则使用工作区中的 SQLite 文件

[checks]
fee_decimals = {settings.fee_decimals}                   # 收费金额（万元）最多保留的小数位数
fee_max = {_toml_str(str(settings.fee_max))}               # 收费金额超过此数（万元）时提示“可能把元填成了万元”
blank_is_error = {str(settings.blank_is_error).lower()}  # 数字单元格留空：false 按 0 处理并提示；true 按错误处理
carryover_error = {str(settings.carryover_error).lower()} # 本年“上年结转”与上年“结转下年度”不一致：false 警告；true 错误
trend_high = {settings.trend_high}                     # 指标分析：本年是上年的几倍以上时提示
trend_low = {settings.trend_low}                    # 指标分析：本年不到上年的几倍时提示
trend_min_sample = {settings.trend_min_sample}              # 指标分析：件数（本年或上年、可比单位中位数）达到此数才提示

[text]
# 报告文字的校验（均为警告）；不需要的改为 false
agency = {str(settings.text_agency).lower()}            # 文字以名单中其他单位作为“我局/本单位”（复制其他单位报告未改名称）
dates = {str(settings.text_dates).lower()}             # 日期写法有误（如“20251月1日”），统计期限的年份不是报告年度
old_format = {str(settings.text_old_format).lower()}        # 引用旧版格式（国办公开办函〔2019〕60号）、2019年格式栏目、“规范性文件”
parts = {str(settings.text_parts).lower()}             # “本报告由……六部分组成”与实际部分数不符
numbers = {str(settings.text_numbers).lower()}           # 文字中的申请数、办理结果、复议诉讼数等与表格不符
similar = {str(settings.text_similar).lower()}           # 雷同：某一部分与本单位上年或同批其他单位几乎相同
similar_threshold = {settings.similar_threshold}   # 雷同的相似度阈值（0.5–1，越大越严格才算雷同）
similar_min_chars = {settings.similar_min_chars}   # 少于此字数的部分不比较雷同（如“本年度无其他需要报告的事项。”）

[summary]
name = {_toml_str(summary_name)}   # 汇总报告使用的单位名称
scope = [{scope_text}]             # 汇总范围：单位编码或层级，如 ["县级部门", "乡镇"]；空表示名单中全部单位

[dates]
# 工作时间节点（用于催报名单），格式 年-月-日
deadline = {deadline.isoformat()}  # 报送截止
# issue = {year + 1}-01-05          # 下发
# review = {year + 1}-01-25         # 审核
# publish = {year + 1}-01-31        # 发布

[pins]
# 自动识别不了或识别错的文件，在这里指定它属于哪个单位：文件名（或 inputs 下的相对路径） = 单位编码
# "新建 Microsoft Excel 工作表.xlsx" = "001"
"""
