"""A post holder's own payee account (bank card or social-security-card financial account): personal
data, kept as identity numbers are (tracker.pii): encrypted at rest, found by a keyed hash, shown
masked (`6217********1234`); the clear number never reaches a response, an export or the change log.

The subsidy is paid to the holder's own account (实名发放): the account is recorded on the holder's
assignment, where an inspector checks who was paid."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tracker.pii import encrypt, keyed_hash

PAYEE_ACCOUNT_PURPOSE = "payee_account"
# Bank card numbers have 16 to 19 digits (ISO/IEC 7812); social-security-card financial accounts are
# bank accounts too. 12 to 24 digits leaves room for passbook accounts without accepting a typo.
_ACCOUNT = re.compile(r"[0-9]{12,24}")


@dataclass(frozen=True)
class StoredAccount:
    encrypted: str
    hash: str
    masked: str


def normalise_account(raw: object) -> str:
    """Digits only: the blanks and dashes people type between groups of digits are dropped."""
    return re.sub(r"[\s\-]", "", str(raw or ""))


def mask_account(number: str) -> str:
    """`6217000010001234567` -> `6217***********4567`: the issuer's first four digits and the last
    four, as banks print them."""
    if not number:
        return ""
    if len(number) <= 8:
        return "*" * len(number)
    return f"{number[:4]}{'*' * (len(number) - 8)}{number[-4:]}"


def store_account(raw: object) -> StoredAccount:
    """The stored forms of an account number; '' stores nothing. Raises a ValidationError on
    `payee_account` when it is not 12 to 24 digits."""
    number = normalise_account(raw)
    if not number:
        return StoredAccount("", "", "")
    if not _ACCOUNT.fullmatch(number):
        raise ValidationError(
            {"payee_account": [_("An account number has 12 to 24 digits (blanks and dashes are ignored).")]}
        )
    return StoredAccount(
        encrypted=encrypt(number, purpose=PAYEE_ACCOUNT_PURPOSE),
        hash=keyed_hash(number, purpose=PAYEE_ACCOUNT_PURPOSE),
        masked=mask_account(number),
    )
