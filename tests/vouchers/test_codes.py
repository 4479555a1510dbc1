"""Voucher codes: unguessable, without characters people confuse, and a check character that catches
every single mistyped character and every swap of neighbours but one documented pair."""

from __future__ import annotations

import string

import pytest

from programs.vouchers.codes import (
    ALPHABET,
    CODE_LENGTH,
    check_character,
    format_code,
    generate_code,
    is_valid_code,
    normalise_code,
)


def test_alphabet_has_no_ambiguous_characters():
    for confusable in "0O1IL U":
        assert confusable not in ALPHABET
    assert len(set(ALPHABET)) == len(ALPHABET) == 30
    assert set(ALPHABET) <= set(string.digits + string.ascii_uppercase)


def test_generated_codes_are_well_formed_distinct_and_valid():
    codes = {generate_code() for _ in range(2000)}
    assert len(codes) == 2000  # 54 bits: no collision in a sample this size
    for code in codes:
        assert len(code) == CODE_LENGTH == 12
        assert set(code) <= set(ALPHABET)
        assert is_valid_code(code)


def test_check_character_catches_every_single_substitution():
    code = generate_code()
    for position in range(CODE_LENGTH):
        for replacement in ALPHABET:
            if replacement == code[position]:
                continue
            typo = code[:position] + replacement + code[position + 1 :]
            assert not is_valid_code(typo), (code, typo)


def test_check_character_catches_adjacent_swaps_except_2_and_z():
    missed = set()
    for first in ALPHABET:
        for second in ALPHABET:
            if first == second:
                continue
            body = f"3456{first}{second}789AB"
            code = body + check_character(body)
            swapped = f"3456{second}{first}789AB" + code[-1]
            if is_valid_code(swapped):
                missed.add(frozenset((first, second)))
    assert missed == {frozenset({"2", "Z"})}


@pytest.mark.parametrize("typed", ["k7qx-m3vd-9tnf", " K7QX M3VD 9TNF ", "K7QX_M3VD.9TNF"])
def test_typed_codes_are_normalised(typed):
    assert normalise_code(typed) == "K7QXM3VD9TNF"


def test_format_and_validity_of_odd_input():
    code = generate_code()
    assert format_code(code) == f"{code[:4]}-{code[4:8]}-{code[8:]}"
    assert not is_valid_code(code[:-1])
    assert not is_valid_code(code + "2")
    assert not is_valid_code("0" * 12)
    assert not is_valid_code("")
