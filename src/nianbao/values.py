"""Turn what a spreadsheet cell holds into a count or an amount, or say why not.

Cells come from python-calamine (float, int, str, bool, date/time) or from the
tests.  Nothing here raises on bad data: :func:`parse_cell` returns the value
(or ``None``) and the problems seen, each a :class:`Issue` the checks turn into
findings with the cell's address.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from nianbao.model import Value
from nianbao.schema import ValueType

MAX_COUNT = 10**9  # more applications than people in China: certainly a typing error
MAX_AMOUNT = Decimal(10**9)  # 万元 (10 万亿元): beyond any fee income, and beyond exact arithmetic
PLACEHOLDERS = frozenset({"", "/", "-", "—", "——", "－", "／", "无", "空", "暂无", "0件"})
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_UNIT = re.compile(r"^(.*?)(件|万元)$")
_EXCEL_ERRORS = frozenset({"#REF!", "#DIV/0!", "#VALUE!", "#NAME?", "#N/A", "#NUM!", "#NULL!",
                           "#SPILL!", "#CALC!", "#GETTING_DATA"})


class Issue(enum.StrEnum):
    """A problem with one cell's content; the value is the finding's rule code."""

    BLANK = "blank-as-zero"  # warning (error by setting): read as 0
    TEXT_NUMBER = "number-as-text"  # warning: "12" typed as text, full-width, "3.0", "5件"
    NOT_NUMBER = "not-a-number"  # error
    BOOLEAN = "boolean-value"  # error
    DATE = "date-value"  # error
    FORMULA_ERROR = "formula-error"  # error: #REF!, #DIV/0! …
    FORMULA_NO_VALUE = "formula-no-value"  # error: a formula never calculated (no cached value)
    NEGATIVE = "negative-value"  # error
    NOT_INTEGER = "not-an-integer"  # error: a count with decimals
    TOO_LARGE = "value-too-large"  # error: a count beyond any real office
    FEE_PRECISION = "fee-precision"  # warning: more decimals than configured
    FEE_LARGE = "fee-too-large"  # warning: 元 typed into a 万元 cell?


@dataclass(frozen=True, slots=True)
class Uncalculated:
    """A formula cell whose file holds no calculated value (never opened in a spreadsheet)."""

    formula: str

    def __str__(self) -> str:
        return "=" + self.formula


@dataclass(frozen=True, slots=True)
class Parsed:
    value: Value | None
    issues: tuple[Issue, ...]
    shown: str  # the cell's content as the user would see it, for messages


def shown(raw: object) -> str:
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "TRUE" if raw else "FALSE"  # as Excel and WPS show it
    if isinstance(raw, float) and raw.is_integer() and abs(raw) < 1e15:
        return str(int(raw))
    return str(raw)


def _decimal(raw: object) -> tuple[Decimal | None, tuple[Issue, ...]]:
    """Any cell content to a Decimal; the issues say how it had to be read."""
    if raw is None:
        return None, (Issue.BLANK,)
    if isinstance(raw, Uncalculated):
        return None, (Issue.FORMULA_NO_VALUE,)
    if isinstance(raw, bool):
        return None, (Issue.BOOLEAN,)
    if isinstance(raw, int):
        return Decimal(raw), ()
    if isinstance(raw, float):
        if raw != raw or raw in (float("inf"), float("-inf")):
            return None, (Issue.NOT_NUMBER,)
        return Decimal(repr(raw)), ()
    if isinstance(raw, Decimal):
        return (raw, ()) if raw.is_finite() else (None, (Issue.NOT_NUMBER,))
    if isinstance(raw, dt.date | dt.time | dt.timedelta):
        return None, (Issue.DATE,)
    text = str(raw)
    if text.strip() in _EXCEL_ERRORS:
        return None, (Issue.FORMULA_ERROR,)
    folded = unicodedata.normalize("NFKC", text)
    folded = "".join(ch for ch in folded if not ch.isspace() and unicodedata.category(ch) != "Cf")
    if folded in PLACEHOLDERS:
        return None, (Issue.BLANK,)
    unit = _UNIT.match(folded)
    if unit:
        folded = unit.group(1)
    if _THOUSANDS.match(folded):
        folded = folded.replace(",", "")
    try:
        number = Decimal(folded)
    except InvalidOperation:
        return None, (Issue.NOT_NUMBER,)
    if not number.is_finite():
        return None, (Issue.NOT_NUMBER,)
    return number, (Issue.TEXT_NUMBER,)


def parse_cell(raw: object, kind: ValueType, *, fee_decimals: int = 4,
               fee_max: Decimal = Decimal("10000")) -> Parsed:
    """Read a count (int >= 0) or an amount (Decimal >= 0, 万元) from a cell.

    A blank or placeholder ("/", "-", "—", "无") reads as 0 with
    :attr:`Issue.BLANK`.  Numbers typed as text are read with
    :attr:`Issue.TEXT_NUMBER`.  Anything else that is not a number gives ``None``.
    """
    number, issues = _decimal(raw)
    text = shown(raw)
    if issues and issues[0] is Issue.BLANK:
        return Parsed(0 if kind is ValueType.COUNT else Decimal(0), issues, text)
    if number is None:
        return Parsed(None, issues, text)
    if number < 0:
        return Parsed(None, (*issues, Issue.NEGATIVE), text)
    if kind is ValueType.COUNT:
        if number != number.to_integral_value():
            return Parsed(None, (*issues, Issue.NOT_INTEGER), text)
        if number > MAX_COUNT:
            return Parsed(None, (*issues, Issue.TOO_LARGE), text)
        return Parsed(int(number), issues, text)
    if number > MAX_AMOUNT:
        return Parsed(None, (*issues, Issue.TOO_LARGE), text)
    amount = number.normalize() if number else Decimal(0)
    exponent = amount.as_tuple().exponent
    assert isinstance(exponent, int)  # finite numbers only, checked above
    extra: tuple[Issue, ...] = ()
    if -exponent > fee_decimals:
        extra += (Issue.FEE_PRECISION,)
    if amount > fee_max:
        extra += (Issue.FEE_LARGE,)
    if amount == amount.to_integral_value():
        amount = amount.quantize(Decimal(1))  # 1E+2 -> 100
    return Parsed(amount, issues + extra, text)
