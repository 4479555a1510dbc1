"""Voucher codes: unguessable, typed by hand at training sites, with a check character.

A code is 11 characters drawn with `secrets` from an alphabet without the characters people misread
or mistype (no 0/O, 1/I/L, no U beside V), then one check character: 12 characters, shown in
groups of four (`K7QX-M3VD-9TNF`). 30^11 is about 1.8 × 10^16 codes (54 bits), so a guessed code
names no voucher, and a claim also needs the holder's proof.

The check character is Luhn mod N over that alphabet (python-stdnum's `luhn` with our alphabet, the
algorithm ISO/IEC 7812 uses for card numbers generalised to N characters): it catches every single
mistyped character and every swap of two neighbours except one pair (`2` and `Z`, the first and last
characters of the alphabet), so a typo is answered "check the code" before any look-up.
"""

from __future__ import annotations

import secrets

from stdnum import luhn

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
BODY_LENGTH = 11
CODE_LENGTH = BODY_LENGTH + 1
_SEPARATORS = str.maketrans("", "", " -_.")


def check_character(body: str) -> str:
    return luhn.calc_check_digit(body, alphabet=ALPHABET)


def generate_code() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return body + check_character(body)


def normalise_code(raw: object) -> str:
    """What a person typed, as stored: upper case, without spaces or separators."""
    return str(raw or "").translate(_SEPARATORS).upper()


def is_valid_code(code: str) -> bool:
    """Well formed (length and alphabet) and its check character matches."""
    if len(code) != CODE_LENGTH or any(c not in ALPHABET for c in code):
        return False
    return luhn.is_valid(code, alphabet=ALPHABET)


def format_code(code: str) -> str:
    """`K7QXM3VD9TNF` -> `K7QX-M3VD-9TNF` (as printed for people)."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))
