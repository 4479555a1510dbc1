"""Hostile and odd input: every one is a 400 (or 413) with field errors, never a 500, and nothing
is written; personal data the caller did not type never comes back."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from beneficiaries.choices import Gender
from beneficiaries.models import Beneficiary, GroupMembership
from beneficiaries.names import make_name
from beneficiaries.services import beneficiary_create, status_change_record
from seeds.factories.beneficiaries import make_id_number
from tracker.changelog.models import ChangeEntry

URL = "/api/v1/beneficiaries/"
NUMBER = make_id_number("360300", dt.date(1975, 2, 3), 5, Gender.MALE)


@pytest.fixture
def person(clerk, groups):
    return beneficiary_create(
        actor=clerk,
        name="王样例",
        id_number=NUMBER,
        phone="13900001111",
        region=clerk.region,
        groups=["veteran"],
    )


def test_registered_since_at_the_ends_of_the_calendar(api, clerk, person):
    client = api(clerk)
    res = client.get(URL, {"registered_since": "0001-01-01"})
    assert res.status_code == 200, res.json()
    assert [p["id"] for p in res.json()["results"]] == [person.pk]
    res = client.get(URL, {"registered_since": "9999-12-31"})
    assert res.status_code == 200 and res.json()["results"] == []


def test_follow_up_filter_by_out_of_range_id_is_400(api, clerk, person):
    client = api(clerk)
    for value in ("99999999999999999999", "9223372036854775808", "1.5", "0"):
        res = client.get("/api/v1/follow-ups/", {"beneficiary": value})
        assert res.status_code == 400, (value, res.status_code)
        assert "beneficiary" in res.json()["errors"]
    assert client.get("/api/v1/follow-ups/", {"beneficiary": "9223372036854775807"}).status_code == 200


@pytest.mark.parametrize(
    ("url", "name"),
    [
        (URL + "?willing_to_work=maybe", "willing_to_work"),
        (URL + "?active=perhaps", "active"),
        ("/api/v1/follow-ups/?overdue=soon", "overdue"),
    ],
)
def test_unknown_boolean_filter_value_is_400_not_ignored(api, clerk, person, url, name):
    res = api(clerk).get(url)
    assert res.status_code == 400
    assert name in res.json()["errors"]


def test_boolean_filters_accept_true_false_1_0(api, clerk, person):
    client = api(clerk)
    for value, expected in (("true", 1), ("True", 1), ("1", 1), ("false", 0), ("0", 0)):
        res = client.get(URL, {"willing_to_work": value})
        assert res.status_code == 200 and len(res.json()["results"]) == expected, value
    # An empty value is a mistake to report, not "no filter" (see tracker.api.filters).
    res = client.get(URL, {"willing_to_work": ""})
    assert res.status_code == 400 and "willing_to_work" in res.json()["errors"]


def test_body_over_the_upload_limit_is_413_not_500(api, clerk, person, settings):
    status_change_record(
        beneficiary=person,
        actor=clerk,
        status="employed_local",
        effective_on=dt.date(2024, 1, 1),
        source="visit",
    )
    status_change_record(
        beneficiary=person, actor=clerk, status="unemployed", effective_on=dt.date(2024, 2, 1), source="visit"
    )
    follow_up = person.follow_ups.get()
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    client = api(clerk)
    big = json.dumps({"name": "x", "notes": "x" * 10_000_000})
    before = ChangeEntry.objects.count()
    res = client.post(URL, big, content_type="application/json")
    assert res.status_code == 413 and res.json()["status"] == 413
    res = client.patch(f"{URL}{person.pk}/", big, content_type="application/json")
    assert res.status_code == 413
    res = client.post(
        f"/api/v1/follow-ups/{follow_up.pk}/record-service/", big, content_type="application/json"
    )
    assert res.status_code == 413
    assert Beneficiary.objects.count() == 1
    assert ChangeEntry.objects.count() == before


def test_nul_in_csv_past_the_sniffed_prefix_is_a_row_error(api, clerk, groups):
    lines = ["姓名,身份证号码,户籍地区代码,备注"]
    for seq in range(1, 1200):
        number = make_id_number("360300", dt.date(1980, 1, 1) + dt.timedelta(days=seq), seq, Gender.MALE)
        lines.append(f"{make_name('张', seq)},{number},360300,{'备注' * 20}")
    bad = make_id_number("360300", dt.date(1970, 1, 1), 999, Gender.MALE)
    lines.append(f"坏\x00名,{bad},360300,")
    content = ("\n".join(lines) + "\n").encode()
    assert len(content) > 65536 and b"\x00" not in content[:65536]
    res = api(clerk).post(f"{URL}import/", {"file": SimpleUploadedFile("a.csv", content)}, format="multipart")
    assert res.status_code == 400, res.json()
    errors = res.json()["row_errors"]
    assert errors == [{"row": 1201, "column": "姓名", "message": errors[0]["message"]}]
    assert "null" in errors[0]["message"].lower() or "空字符" in errors[0]["message"]
    assert not Beneficiary.objects.exists()


def test_patch_cannot_copy_the_identity_number_into_the_card_number(api, clerk, person):
    client = api(clerk)
    version = person.version
    for card in (NUMBER, NUMBER.lower()):
        res = client.patch(f"{URL}{person.pk}/", {"social_security_card": card}, format="json")
        assert res.status_code == 400
        assert "social_security_card" in res.json()["errors"]
        assert NUMBER not in json.dumps(res.json())
    person.refresh_from_db()
    assert person.social_security_card == "" and person.version == version
    assert not ChangeEntry.objects.filter(
        changes__has_key="social_security_card"
    ).exists() or NUMBER not in str(list(ChangeEntry.objects.values_list("changes", flat=True)))
    assert (
        client.patch(f"{URL}{person.pk}/", {"social_security_card": "A12345678"}, format="json").status_code
        == 200
    )


def test_membership_before_birth_is_400(api, clerk, person):
    client = api(clerk)
    url = f"{URL}{person.pk}/memberships/"
    res = client.post(
        url, {"group": "disabled", "valid_from": "0001-01-01", "valid_to": "9999-12-31"}, format="json"
    )
    assert res.status_code == 400 and "valid_from" in res.json()["errors"]
    day_before = (person.birth_date - dt.timedelta(days=1)).isoformat()
    assert client.post(url, {"group": "disabled", "valid_from": day_before}, format="json").status_code == 400
    assert not GroupMembership.objects.filter(group__code="disabled").exists()
    res = client.post(url, {"group": "disabled", "valid_from": person.birth_date.isoformat()}, format="json")
    assert res.status_code == 201, res.json()


def test_membership_add_honours_if_match(api, clerk, person):
    client = api(clerk)
    etag = client.get(f"{URL}{person.pk}/")["ETag"]
    client.patch(f"{URL}{person.pk}/", {"address": "改"}, format="json")
    url = f"{URL}{person.pk}/memberships/"
    body = {"group": "disabled", "valid_from": "2020-01-01"}
    res = client.post(url, body, format="json", HTTP_IF_MATCH=etag)
    assert res.status_code == 412
    assert not GroupMembership.objects.filter(group__code="disabled").exists()
    fresh = client.get(f"{URL}{person.pk}/")["ETag"]
    assert client.post(url, body, format="json", HTTP_IF_MATCH=fresh).status_code == 201


@pytest.mark.parametrize(
    "action",
    ["deactivate", "status-changes", "record-service", "delete"],
)
def test_stale_if_match_on_write_actions_is_412_and_writes_nothing(api, clerk, person, action):
    status_change_record(
        beneficiary=person,
        actor=clerk,
        status="employed_local",
        effective_on=dt.date(2024, 1, 1),
        source="visit",
    )
    status_change_record(
        beneficiary=person, actor=clerk, status="unemployed", effective_on=dt.date(2024, 2, 1), source="visit"
    )
    client = api(clerk)
    follow_up = person.follow_ups.get()
    stale = '"stale"'
    before = ChangeEntry.objects.count()
    if action == "deactivate":
        body = {"deactivated_on": "2024-03-01", "reason": "deceased"}
        res = client.post(f"{URL}{person.pk}/deactivate/", body, format="json", HTTP_IF_MATCH=stale)
    elif action == "status-changes":
        body = {"status": "flexible", "effective_on": "2024-03-01", "source": "phone"}
        res = client.post(f"{URL}{person.pk}/status-changes/", body, format="json", HTTP_IF_MATCH=stale)
    elif action == "record-service":
        body = {"service": "guidance", "service_on": "2024-02-02"}
        res = client.post(
            f"/api/v1/follow-ups/{follow_up.pk}/record-service/", body, format="json", HTTP_IF_MATCH=stale
        )
    else:
        res = client.delete(f"{URL}{person.pk}/", HTTP_IF_MATCH=stale)
    assert res.status_code == 412
    assert ChangeEntry.objects.count() == before


def test_import_upsert_does_not_overlap_a_future_membership(api, clerk, person, groups):
    from beneficiaries.services import membership_add

    starts = dt.date.today() + dt.timedelta(days=10)
    membership_add(
        beneficiary=person, group=groups["disabled"], valid_from=starts, valid_to=None, actor=clerk
    )
    content = f"姓名,身份证号码,户籍地区代码,人员类别\n王样例,{NUMBER},360300,disabled\n".encode()
    res = api(clerk).post(
        f"{URL}import/?mode=upsert", {"file": SimpleUploadedFile("a.csv", content)}, format="multipart"
    )
    assert res.status_code == 201, res.json()
    periods = list(
        GroupMembership.objects.filter(beneficiary=person, group__code="disabled").values_list(
            "valid_from", "valid_to"
        )
    )
    assert periods == [(starts, None)]


@pytest.mark.parametrize("method", ["post", "patch"])
def test_second_group_invalid_writes_nothing(api, clerk, person, method):
    client = api(clerk)
    before = (ChangeEntry.objects.count(), list(Beneficiary.objects.values_list("name", "version")))
    if method == "post":
        body = {
            "name": "新人",
            "id_number": make_id_number("360300", dt.date(1990, 1, 1), 8, Gender.FEMALE),
            "region": "360300",
            "groups": ["veteran", "no_such_group"],
        }
        res = client.post(URL, body, format="json")
    else:
        body = {"name": "改名", "address": "新址", "groups": ["disabled", "no_such_group"]}
        res = client.patch(f"{URL}{person.pk}/", body, format="json")
    assert res.status_code == 400 and "no_such_group" in " ".join(res.json()["errors"]["groups"])
    assert (ChangeEntry.objects.count(), list(Beneficiary.objects.values_list("name", "version"))) == before
    assert set(GroupMembership.objects.values_list("group__code", flat=True)) == {"veteran"}


def test_new_messages_in_chinese_by_default_and_english_on_request(api, clerk, person, settings):
    settings.LANGUAGE_CODE = "zh-hans"  # the project's default (the test settings use English)
    client = api(clerk)
    url = f"{URL}{person.pk}/memberships/"
    body = {"group": "disabled", "valid_from": "1900-01-01"}
    zh = client.post(url, body, format="json").json()["errors"]["valid_from"][0]
    en = client.post(url, body, format="json", HTTP_ACCEPT_LANGUAGE="en").json()["errors"]["valid_from"][0]
    assert zh == "人员类别的起始日期不能早于出生日期。"
    assert en == "A membership cannot start before the person's date of birth."
    zh = client.get(URL, {"active": "perhaps"}).json()["errors"]["active"][0]
    en = client.get(URL, {"active": "perhaps"}, HTTP_ACCEPT_LANGUAGE="en").json()["errors"]["active"][0]
    assert zh == "应为 true 或 false。" and en == "Expected true or false."
    res = client.patch(f"{URL}{person.pk}/", {"social_security_card": NUMBER}, format="json")
    assert "身份证号码" in res.json()["errors"]["social_security_card"][0]


def test_group_detail_with_nul_or_odd_code_is_404(api, clerk, groups):
    client = api(clerk)
    assert client.get("/api/v1/beneficiary-groups/veteran/").status_code == 200
    # A NUL anywhere in the URL is refused before routing (tracker.api.middleware): 400.
    for code in ("%00", "a%00b"):
        assert client.get(f"/api/v1/beneficiary-groups/{code}/").status_code == 400, code
    assert client.get("/api/v1/beneficiary-groups/%E9%80%80%E5%BD%B9/").status_code == 404
