"""The name rule (beneficiaries.names) at its boundaries, and the same rule at every door: API,
admin, CSV and XLSX import."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from beneficiaries.models import Beneficiary
from beneficiaries.names import NAME_MAX, clean_name, make_name, normalise_name
from tests.beneficiaries.test_imports import csv_bytes, row, xlsx_bytes


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("张三", "张三"),
        ("  张  三 ", "张 三"),  # blanks collapse and are trimmed
        ("张\u3000三", "张 三"),  # the full-width space is a blank
        ("张\u00a0三", "张 三"),
        ("买买提·艾力", "买买提·艾力"),
        ("买买提・艾力", "买买提·艾力"),  # katakana middle dot
        ("买买提•艾力", "买买提·艾力"),  # bullet
        ("买买提‧艾力", "买买提·艾力"),  # hyphenation point
        ("买买提 · 艾力", "买买提·艾力"),
        ("阿沛·阿旺晋美", "阿沛·阿旺晋美"),
        ("李〇", "李〇"),  # ideographic zero
        ("\U00020000\U0002a700\U00030000", "\U00020000\U0002a700\U00030000"),  # extensions B, C, G
        ("㐀", "㐀"),  # extension A
        ("Anna Müller", "Anna Müller"),
        ("Ｌｉ Ｌｅｉ", "Li Lei"),  # full-width Latin
        ("Zoe\u0301", "Zoé"),  # NFC: e + combining acute is é
        ("张" * NAME_MAX, "张" * NAME_MAX),  # at the limit
    ],
)
def test_accepted_names_and_their_stored_form(raw, stored):
    assert clean_name(raw) == stored


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "required"),
        ("   ", "required"),
        ("\u3000", "required"),
        ("·", "blank"),
        (" · ", "blank"),
        ("张\t三", "control"),
        ("张\n三", "control"),
        ("张\x00三", "control"),
        ("张\x7f三", "control"),
        ("张\u202e三", "bidi"),  # right-to-left override
        ("张\u202a三", "bidi"),  # left-to-right embedding
        ("张\u2066三", "bidi"),  # left-to-right isolate
        ("张\u2069三", "bidi"),  # pop directional isolate
        ("张\u200e三", "bidi"),  # left-to-right mark
        ("张\u200f三", "bidi"),  # right-to-left mark
        ("张\u061c三", "bidi"),  # Arabic letter mark
        ("张\u200b三", "invisible"),  # zero-width space
        ("张\u200d三", "invisible"),  # zero-width joiner
        ("张\u2060三", "invisible"),  # word joiner
        ("\ufeff张三", "invisible"),  # byte-order mark
        ("张\u00ad三", "invisible"),  # soft hyphen
        ("张\ufe00三", "invisible"),  # variation selector
        ("\U000e0041张", "invisible"),  # tag character
        ("张三1", "character"),
        ("张三.李", "character"),
        ("=张三", "character"),
        ("O'Neil", "character"),
        ("张😀", "character"),
        ("Иван", "character"),  # Cyrillic is not Latin
        ("김철수", "character"),
        ("やまだ", "character"),
        ("\uf8ff", "invisible"),  # private use
        ("·买买提", "dot_position"),
        ("买买提·", "dot_position"),
        ("买买提··艾力", "dot_position"),
        ("张" * (NAME_MAX + 1), "max_length"),
    ],
)
def test_refused_names_name_the_rule(raw, code):
    with pytest.raises(ValidationError) as caught:
        clean_name(raw)
    assert caught.value.code == code, caught.value.messages


def test_messages_show_invisible_characters_by_code_point():
    with pytest.raises(ValidationError) as caught:
        clean_name("张\u202e三")
    assert "U+202E" in caught.value.messages[0]


def test_normalise_name_for_searches_and_make_name_for_test_data():
    assert normalise_name(" 买买提・ ") == "买买提·"
    assert make_name("测试", 1203) == "测试一二〇三"
    assert clean_name(make_name("测试", 1203)) == "测试一二〇三"


# -- one rule at every door ------------------------------------------------------------------------------


def test_api_create_and_patch_apply_the_rule(api, clerk, groups):
    client = api(clerk)
    body = row(1, name="张\u202e三")
    body = {k: v for k, v in body.items() if k in ("name", "id_number", "region")}
    res = client.post("/api/v1/beneficiaries/", body, format="json")
    assert res.status_code == 400 and "U+202E" in res.json()["errors"]["name"][0]
    res = client.post("/api/v1/beneficiaries/", {**body, "name": "买买提・艾力"}, format="json")
    assert res.status_code == 201, res.json()
    assert res.json()["name"] == "买买提·艾力"
    person = res.json()["id"]
    res = client.patch(f"/api/v1/beneficiaries/{person}/", {"name": "张\u200b三"}, format="json")
    assert res.status_code == 400 and "U+200B" in res.json()["errors"]["name"][0]
    assert client.get("/api/v1/beneficiaries/", {"q": "买买提・"}).json()["results"][0]["id"] == person


def test_admin_applies_the_rule(client, superuser, regions):
    from tests.beneficiaries.test_admin import NUMBER

    client.force_login(superuser)
    form = {
        "name": "张\u2066三",
        "id_number": NUMBER,
        "phone": "",
        "region": regions["360300"].pk,
        "willing_to_work": "on",
        "memberships-TOTAL_FORMS": 0,
        "memberships-INITIAL_FORMS": 0,
        "status_changes-TOTAL_FORMS": 0,
        "status_changes-INITIAL_FORMS": 0,
    }
    res = client.post("/admin/beneficiaries/beneficiary/add/", form)
    assert res.status_code == 200 and "U+2066" in res.content.decode()
    assert not Beneficiary.objects.exists()
    form["name"] = "  买买提 • 艾力 "
    assert client.post("/admin/beneficiaries/beneficiary/add/", form).status_code == 302
    assert Beneficiary.objects.get().name == "买买提·艾力"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_both_import_formats_apply_the_rule(api, clerk, groups, fmt):
    people = [row(1, name="张\u200f三"), row(2, name="·"), row(3, name="阿依古丽・买买提")]
    content = csv_bytes(people) if fmt == "csv" else xlsx_bytes(people)
    upload = SimpleUploadedFile(f"people.{fmt}", content)
    res = api(clerk).post("/api/v1/beneficiaries/import/", {"file": upload}, format="multipart")
    assert res.status_code == 400
    assert [(e["row"], e["column"]) for e in res.json()["row_errors"]] == [(2, "姓名"), (3, "姓名")]
    assert "U+200F" in res.json()["row_errors"][0]["message"]
    upload = SimpleUploadedFile(
        f"people.{fmt}", csv_bytes(people[2:]) if fmt == "csv" else xlsx_bytes(people[2:])
    )
    res = api(clerk).post("/api/v1/beneficiaries/import/", {"file": upload}, format="multipart")
    assert res.status_code == 201, res.json()
    assert Beneficiary.objects.get().name == "阿依古丽·买买提"
