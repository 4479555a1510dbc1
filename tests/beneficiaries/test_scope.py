"""Region scope: clerk_wuzhou (the outsider) learns nothing about a person in 萍乡 through any door,
and no one writes a person into a region outside their own."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from beneficiaries.choices import Gender
from beneficiaries.models import Beneficiary, FollowUp, GroupMembership, StatusChange
from beneficiaries.services import beneficiary_create, status_change_record
from seeds.factories.beneficiaries import make_id_number
from tracker.changelog.models import ChangeEntry

URL = "/api/v1/beneficiaries/"
NUMBER = make_id_number("360300", dt.date(1975, 2, 3), 5, Gender.MALE)
PHONE = "13900001111"


@pytest.fixture
def person(clerk, groups):
    person = beneficiary_create(
        actor=clerk, name="王样例", id_number=NUMBER, phone=PHONE, region=clerk.region, groups=["veteran"]
    )
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
    return person


def _snapshot():
    return (
        ChangeEntry.objects.count(),
        list(Beneficiary.objects.values_list("version", "region_id", "name", "active")),
        GroupMembership.objects.count(),
        StatusChange.objects.count(),
        list(FollowUp.objects.values_list("status", flat=True)),
    )


def test_outsider_learns_nothing_through_any_door(api, outsider, person):
    follow_up = FollowUp.objects.get()
    client = api(outsider)
    before = _snapshot()
    for method, path, body in [
        ("get", f"{URL}{person.pk}/memberships/", None),
        ("post", f"{URL}{person.pk}/memberships/", {"group": "disabled", "valid_from": "2024-01-01"}),
        ("get", f"/api/v1/follow-ups/{follow_up.pk}/", None),
        ("get", f"/api/v1/follow-ups/{follow_up.pk}/history/", None),
        (
            "post",
            f"/api/v1/follow-ups/{follow_up.pk}/record-service/",
            {"service": "guidance", "service_on": "2024-02-02"},
        ),
    ]:
        res = getattr(client, method)(path, body, format="json")
        assert res.status_code == 404, (method, path, res.status_code)
    for params in ({"q": NUMBER}, {"q": NUMBER.lower()}, {"q": PHONE}, {"q": "王"}, {"within": "360300"}):
        assert client.get(URL, params).json()["results"] == [], params
    assert client.get("/api/v1/follow-ups/").json()["results"] == []
    assert client.get("/api/v1/follow-ups/", {"beneficiary": person.pk}).json()["results"] == []
    assert client.get("/api/v1/audit/changes/", {"object_id": person.pk}).json()["results"] == []
    assert _snapshot() == before


def test_outsider_import_upsert_cannot_touch_or_identify_the_person(api, outsider, person):
    content = f"姓名,身份证号码,户籍地区代码\n改名,{NUMBER},450400\n".encode()
    before = _snapshot()
    for mode in ("create", "upsert"):
        res = api(outsider).post(
            f"{URL}import/?mode={mode}", {"file": SimpleUploadedFile("a.csv", content)}, format="multipart"
        )
        assert res.status_code == 400
        text = res.content.decode()
        assert str(person.pk) not in [str(e.get("existing_id")) for e in res.json()["row_errors"]]
        assert f"beneficiary {person.pk}" not in text and "王样例" not in text and "360300" not in text
        assert [e["message"] for e in res.json()["row_errors"]] == [
            "This person is already registered elsewhere."
        ]
    # Each answer is a duplicate probe logged on the person (their region's auditors see who asked);
    # the probe advances the person's version and changes nothing else.
    probes = ChangeEntry.objects.filter(action="duplicate_probe").order_by("id")
    assert [(e.object_id, e.actor_name, e.source, e.changes) for e in probes] == [
        (str(person.pk), "clerk_wuzhou", "import", {})
    ] * 2
    after = _snapshot()
    assert after[0] == before[0] + 2
    assert [(v + 2, *rest) for v, *rest in before[1]] == [tuple(r) for r in after[1]]
    assert after[2:] == before[2:]


def test_moving_a_person_out_of_scope_by_patch_is_403_and_writes_nothing(api, clerk, person):
    before = _snapshot()
    for body in ({"region": "450400"}, {"region": "450400", "groups": ["disabled"], "name": "改"}):
        res = api(clerk).patch(f"{URL}{person.pk}/", body, format="json")
        assert res.status_code == 403, res.json()
    assert _snapshot() == before


def test_moving_a_person_out_of_scope_in_the_admin_writes_nothing(clerk, person, regions):
    client = Client()
    client.force_login(clerk)
    before = _snapshot()
    res = client.post(
        f"/admin/beneficiaries/beneficiary/{person.pk}/change/",
        {
            "name": "改",
            "id_number": "",
            "phone": "",
            "region": regions["450400"].pk,
            "willing_to_work": "on",
            "memberships-TOTAL_FORMS": 0,
            "memberships-INITIAL_FORMS": 0,
            "status_changes-TOTAL_FORMS": 0,
            "status_changes-INITIAL_FORMS": 0,
        },
    )
    assert res.status_code in (200, 302)
    assert _snapshot() == before


def test_admin_pages_as_a_clerk_show_masked_data_only(clerk, outsider, person):
    follow_up = FollowUp.objects.get()
    pages = [
        "/admin/beneficiaries/beneficiary/",
        f"/admin/beneficiaries/beneficiary/{person.pk}/change/",
        f"/admin/beneficiaries/beneficiary/{person.pk}/history/",
        "/admin/beneficiaries/followup/",
        f"/admin/beneficiaries/followup/{follow_up.pk}/change/",
    ]
    client = Client()
    client.force_login(clerk)
    for url in pages:
        res = client.get(url)
        assert res.status_code == 200, url
        html = res.content.decode()
        assert NUMBER not in html and PHONE not in html, url
    assert person.id_number_masked in client.get(pages[0]).content.decode()
    client.force_login(outsider)
    assert "王样例" not in client.get(pages[0]).content.decode()
    assert "王样例" not in client.get(pages[3]).content.decode()
    for url in pages[1:3] + pages[4:]:
        assert client.get(url).status_code in (302, 404), url
