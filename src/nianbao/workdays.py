"""Working days in China: public holidays and 调休 working weekends, from ``chinesecalendar``.

The 条例 counts its deadlines in working days (工作日).  Which days are working
days is decided by the State Council each year (including the Saturdays and
Sundays worked to make up for a long holiday), so nothing here is computed from
rules: every day comes from the ``chinese_calendar`` data.  A year that library
does not know yet gives :class:`UnknownYear` (the caller makes a finding of it)
rather than a guess.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import chinese_calendar


class UnknownYear(Exception):
    """The calendar library has no holiday data for ``year``."""

    def __init__(self, year: int) -> None:
        super().__init__(year)
        self.year = year


@cache
def covered_years() -> tuple[int, int]:
    """The first and last year the installed calendar data covers."""
    from chinese_calendar import constants

    days = [*constants.holidays, *constants.workdays]
    return min(days).year, max(days).year


@cache
def is_workday(day: dt.date) -> bool:
    """Whether ``day`` is a working day (weekdays minus holidays plus 调休 weekends)."""
    first, last = covered_years()
    if not first <= day.year <= last:
        raise UnknownYear(day.year)
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError as exc:  # a year inside the range with no data
        raise UnknownYear(day.year) from exc


def add_workdays(start: dt.date, count: int) -> dt.date:
    """The ``count``-th working day after ``start`` (``start`` itself is not counted).

    This is how the 条例 counts: an application received on a Friday before a
    holiday has its first day on the next working day.
    """
    day = start
    left = count
    while left > 0:
        day += dt.timedelta(days=1)
        if is_workday(day):
            left -= 1
    return day


def workdays_between(start: dt.date, end: dt.date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 if ``end`` <= ``start``)."""
    count = 0
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        if is_workday(day):
            count += 1
    return count
