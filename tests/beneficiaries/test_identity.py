"""Identity-number validation: each check has its own message, at its boundary. No database."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from beneficiaries.choices import Gender
from beneficiaries.identity import id_number_prefix_for_region, make_id_number, parse_id_number
from tracker.pii import decrypt, encrypt, keyed_hash, mask_id_number, mask_phone

TODAY = dt.date(2024, 6, 15)
VALID = make_id_number("360302", dt.date(1990, 1, 1), 12, Gender.MALE)


def _with_check(body: str) -> str:
    from stdnum.cn import ric

    return body + ric.calc_check_digit(body + "0")


def _code(raw: str) -> str:
    with pytest.raises(ValidationError) as info:
        parse_id_number(raw, registered_on=TODAY)
    return info.value.code


def test_valid_number_derives_birth_date_and_gender():
    identity = parse_id_number(VALID, registered_on=TODAY)
    assert identity.birth_date == dt.date(1990, 1, 1)
    assert identity.gender == Gender.MALE
    assert identity.number == VALID
    female = make_id_number("360302", dt.date(1990, 1, 1), 12, Gender.FEMALE)
    assert parse_id_number(female, registered_on=TODAY).gender == Gender.FEMALE


def test_stdnum_documented_example_is_valid():
    assert parse_id_number("360426199101010071", registered_on=TODAY).birth_date == dt.date(1991, 1, 1)


def test_lower_case_x_is_accepted_and_stored_upper_case():
    number = next(
        make_id_number("360302", dt.date(1985, 3, d), 7, Gender.FEMALE)
        for d in range(1, 29)
        if make_id_number("360302", dt.date(1985, 3, d), 7, Gender.FEMALE).endswith("X")
    )
    assert parse_id_number(number.lower(), registered_on=TODAY).number == number


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "required"),
        ("360302900101123", "legacy"),  # first-generation 15-digit number
        ("36030219900101123", "length"),
        ("3603021990010112345", "length"),
        ("36030219900101A12X", "format"),
        ("36030219900101123Y", "format"),
    ],
)
def test_shape_checks(raw, code):
    assert _code(raw) == code


def test_wrong_check_digit():
    wrong = VALID[:-1] + ("0" if VALID[-1] != "0" else "1")
    assert _code(wrong) == "check_digit"


def test_impossible_birth_date():
    assert _code(_with_check("36030219900230123")) == "birth_date"


def test_future_birth_date():
    assert _code(_with_check("36030220240616123")) == "birth_date_future"


def test_age_boundaries_16_to_100():
    sixteen_today = _with_check("36030220080615123")
    assert parse_id_number(sixteen_today, registered_on=TODAY)
    assert _code(_with_check("36030220080616123")) == "age"  # 16 tomorrow
    hundred = _with_check("11010119240615123")
    assert parse_id_number(hundred, registered_on=TODAY)
    assert _code(_with_check("11010119230614123")) == "age"  # 101


def test_unknown_region_prefix():
    assert _code(_with_check("99999919900101123")) == "region_prefix"
    assert _code(_with_check("36038119900101123")) == "region_prefix"  # no county under that code


def test_historical_code_valid_for_its_years():
    # 360302 was 城关区 from 1983 (安源区 since 1993): accepted for people born then.
    assert parse_id_number(_with_check("36030219850101123"), registered_on=TODAY)
    # 530114 (呈贡区) exists only since 2011, but a code that exists is a plausible prefix whatever
    # the birth year: numbers are issued (and re-issued after a move) with the codes in force then.
    assert parse_id_number(_with_check("53011419900101123"), registered_on=TODAY)


def test_prefix_created_after_birth_is_accepted():
    # Born 1975 in 萍乡 安源区: first-generation numbers were issued from 1984 with the codes in
    # force then (360302 since 1983), and people keep their numbers.
    identity = parse_id_number(_with_check("36030219750101123"), registered_on=TODAY)
    assert identity.region_prefix == "360302"
    assert parse_id_number(_with_check("36030219830101123"), registered_on=TODAY)  # year it was created
    assert parse_id_number(_with_check("36030219820101123"), registered_on=TODAY)  # the year before


def test_prefix_never_assigned_is_refused():
    assert _code(_with_check("36999919750101123")) == "region_prefix"
    assert _code(_with_check("36999919900101123")) == "region_prefix"
    with pytest.raises(ValidationError) as info:
        parse_id_number(_with_check("36999919750101123"), registered_on=TODAY)
    assert "369999" in info.value.messages[0] and "1975" not in info.value.messages[0]


def test_messages_name_the_check():
    with pytest.raises(ValidationError) as info:
        parse_id_number(VALID[:-1] + ("0" if VALID[-1] != "0" else "1"), registered_on=TODAY)
    assert "Check digit" in info.value.messages[0]


def test_prefix_for_local_codes():
    assert id_number_prefix_for_region("3603X1") == "360300"
    assert id_number_prefix_for_region("110113901001") == "110113"
    assert id_number_prefix_for_region("360300") == "360300"


def test_pii_helpers(settings):
    token = encrypt("360302199001011234", purpose="id_number")
    assert "360302" not in token
    assert decrypt(token, purpose="id_number") == "360302199001011234"
    assert encrypt("x", purpose="id_number") != encrypt("x", purpose="id_number")  # random nonce
    with pytest.raises(ValueError):
        decrypt(token, purpose="phone")  # bound to its purpose
    assert keyed_hash("a", purpose="id_number") == keyed_hash("a", purpose="id_number")
    assert keyed_hash("a", purpose="id_number") != keyed_hash("a", purpose="phone")
    other = keyed_hash("a", purpose="id_number")
    settings.PII_HASH_KEY = "another-key"
    assert keyed_hash("a", purpose="id_number") != other
    assert mask_id_number("36030219900101123X") == "360302********123X"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("") == ""
