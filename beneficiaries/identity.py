"""Resident identity numbers (居民身份证号码, GB 11643-1999): validation and what they tell us.

An 18-character number is a 6-digit division code (where the number was first issued), the birth date
(8 digits), a 3-digit order code (odd for men, even for women) and an ISO 7064 MOD 11-2 check character
(0-9 or X). python-stdnum's `stdnum.cn.ric` holds the check-digit algorithm and the table of current
and historical division codes (people keep numbers issued under codes since abolished, e.g. 360302 as
城关区 before 1993); we call it rather than re-implement it, and add the registry's own rules (no
future birth date; age 16 to 100 at registration; 15-digit first-generation numbers refused).

Each failure names the check that failed, so a clerk knows what to correct.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum import numdb
from stdnum.cn import ric

from beneficiaries.choices import Gender

MIN_AGE = 16
MAX_AGE = 100

_ID_PATTERN = re.compile(r"[0-9]{17}[0-9X]")
_LEGACY_PATTERN = re.compile(r"[0-9]{15}")


@dataclass(frozen=True)
class Identity:
    number: str
    birth_date: dt.date
    gender: str
    region_prefix: str


def normalise_id_number(raw: object) -> str:
    """Trim surrounding blanks and upper-case a final x (stored as X)."""
    return str(raw).strip().upper() if raw is not None else ""


def age_on(birth_date: dt.date, on: dt.date) -> int:
    """Completed years on a date (a person born on 29 February ages on 1 March in common years)."""
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


@lru_cache(maxsize=8192)
def _known_prefix(prefix: str) -> bool:
    """Whether the division code is, or ever was, a county-level (or higher) code in stdnum's table
    of current and historical GB/T 2260 codes.

    Deliberately not judged against the birth year (as stdnum's `get_birth_place` does): numbers
    were first issued from 1984 with the codes in force then, and people keep their numbers, so a
    person born in 1975 in 安源区 holds 360302... although the code dates from 1983; and a code may
    be reissued to someone who moved. Any code that has existed at any time is plausible."""
    if not prefix.isdigit() or len(prefix) != 6:
        return False
    try:
        results = numdb.get("cn/loc").info(prefix)
    except Exception:
        return False
    info = {k: v for _part, props in results for k, v in props.items()}
    return bool(info.get("county"))


def parse_id_number(raw: object, *, registered_on: dt.date) -> Identity:
    """Validate an identity number and derive birth date and gender. Raises ValidationError with a
    message naming the failed check (codes: legacy, length, format, check_digit, birth_date,
    birth_date_future, age, region_prefix)."""
    number = normalise_id_number(raw)
    if not number:
        raise ValidationError(_("The identity number is required."), code="required")
    if _LEGACY_PATTERN.fullmatch(number):
        raise ValidationError(
            _("Legacy 15-digit identity numbers are not accepted; enter the 18-character number."),
            code="legacy",
        )
    if len(number) != 18:
        raise ValidationError(
            _("Length check failed: an identity number has 18 characters (got %(n)d).") % {"n": len(number)},
            code="length",
        )
    if not _ID_PATTERN.fullmatch(number):
        raise ValidationError(
            _("Format check failed: 17 digits followed by a digit or X."),
            code="format",
        )
    if number[-1] != ric.calc_check_digit(number):
        raise ValidationError(
            _("Check digit failed: the last character does not match (GB 11643, ISO 7064 MOD 11-2)."),
            code="check_digit",
        )
    try:
        # Characters 7 to 14, as stdnum's get_birth_date reads them (the number is already compact).
        birth_date = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            _("Birth date check failed: characters 7 to 14 are not a valid date."), code="birth_date"
        ) from None
    if birth_date > registered_on:
        raise ValidationError(
            _("Birth date check failed: the birth date is in the future."), code="birth_date_future"
        )
    age = age_on(birth_date, registered_on)
    if not MIN_AGE <= age <= MAX_AGE:
        raise ValidationError(
            _(
                "Age check failed: the person must be %(min)d to %(max)d years old at registration (is %(age)d)."
            )
            % {"min": MIN_AGE, "max": MAX_AGE, "age": age},
            code="age",
        )
    prefix = number[:6]
    if not _known_prefix(prefix):
        raise ValidationError(
            _(
                "Region prefix check failed: %(prefix)s is not an administrative division code "
                "(current or historical)."
            )
            % {"prefix": prefix},
            code="region_prefix",
        )
    gender = Gender.MALE if int(number[16]) % 2 == 1 else Gender.FEMALE
    return Identity(number=number, birth_date=birth_date, gender=gender, region_prefix=prefix)


def id_number_prefix_for_region(code: str) -> str:
    """The 6-digit prefix a real identity number issued in this region would carry: the code itself
    for a county or above; the county's code for a township or village; for a local code such as
    3603X1 (武功山风景名胜区, no GB/T 2260 code) the parent city's code (360300)."""
    if len(code) > 6:
        code = code[:6]
    if not code.isdigit():
        code = f"{code[:4]}00"
    return code


def make_id_number(region_code: str, birth_date: dt.date, seq: int, gender: str) -> str:
    """A well-formed identity number (correct check digit) for test data and seeds. The order code
    is derived from `seq` with the parity of the gender (odd men, even women)."""
    prefix = id_number_prefix_for_region(region_code)
    order = (seq % 500) * 2 + (1 if gender == Gender.MALE else 0)
    body = f"{prefix}{birth_date:%Y%m%d}{order:03d}"
    return body + ric.calc_check_digit(body + "0")
