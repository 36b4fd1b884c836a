"""Rule and run settings: defaults here, overridden by nianbao.toml and the command line."""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Knobs a coordinator may turn.  Every field has the documented default."""

    fee_decimals: int = 4  # 万元 decimals; 4 represents any amount in 元 exactly
    fee_max: Decimal = Decimal("10000")  # 万元 (1亿元); above this, 元 was probably typed
    blank_is_error: bool = False  # blank / "/" / "无" in a number cell: warning or error
    expected_year: int | None = None
    carryover_error: bool = False  # 上年结转 ≠ last year's 结转下年度: warning or error
    max_file_bytes: int = 20 * 1024 * 1024
    max_unzipped_bytes: int = 100 * 1024 * 1024
    # reviewer indicators (indicators.py): a row above trend_high × or below trend_low ×
    # last year, or 0 where comparable units are high, is a warning, only from
    # trend_min_sample 件 (this year or last year; the median of comparable units)
    trend_high: Decimal = Decimal(5)
    trend_low: Decimal = Decimal("0.2")
    trend_min_sample: int = 10
    # the text checks (nianbao.toml [text]); each one can be switched off
    text_agency: bool = True  # the narrative names another unit as its own subject
    text_dates: bool = True  # malformed dates, a year other than the report year
    text_old_format: bool = True  # citations and labels of the 2019 format
    text_parts: bool = True  # "本报告由……六部分组成" against the sections present
    text_numbers: bool = True  # numbers in the narrative against the tables
    text_similar: bool = True  # 雷同: a section nearly identical to last year or another unit
    similar_threshold: float = 0.9  # share of common text from which two sections are 雷同
    similar_min_chars: int = 120  # shorter sections (“本年度无其他需要报告的事项。”) are not compared


DEFAULT_SETTINGS = Settings()


def settings_fields(settings: Settings) -> dict[str, str]:
    """Every field of ``settings`` as text: what a digest of "the same settings" is made of
    (a build's manifest key, the check cache's)."""
    return {f.name: str(getattr(settings, f.name)) for f in fields(settings)}
