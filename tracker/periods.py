"""Calendar months as periods (payments, attendance and subsidy runs are counted by month)."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_MONTH = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str, *, field: str = "month") -> Month:
        """'2021-05' -> Month(2021, 5); anything else is a ValidationError on `field`."""
        match = _MONTH.fullmatch((text or "").strip())
        if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1900:
            raise ValidationError({field: [_("A month is written YYYY-MM.")]})
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: dt.date) -> Month:
        return cls(day.year, day.month)

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def last_day(self) -> dt.date:
        return dt.date(self.year, self.month, self.days)

    @property
    def days(self) -> int:
        return calendar.monthrange(self.year, self.month)[1]

    def overlap_days(self, start: dt.date, end: dt.date | None) -> int:
        """Days of this month within [start, end] (end None: open)."""
        first = max(self.first_day, start)
        last = min(self.last_day, end) if end is not None else self.last_day
        return max((last - first).days + 1, 0)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"
