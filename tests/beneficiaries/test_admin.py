"""Admin: masked data only, scope, writes through the services, the import page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from beneficiaries.choices import Gender
from beneficiaries.models import Beneficiary
from beneficiaries.services import beneficiary_create
from seeds.factories.beneficiaries import make_id_number
from tracker.changelog.models import ChangeEntry

NUMBER = make_id_number("360300", dt.date(1980, 7, 1), 9, Gender.MALE)


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def person(superuser, groups):
    return beneficiary_create(
        actor=superuser,
        name="周示例",
        id_number=NUMBER,
        phone="13912345678",
        region=superuser.region.__class__.objects.get(code="360300"),
    )


def test_changelist_and_change_page_show_masked_only(superuser, person):
    client = admin_client(superuser)
    for url in (
        "/admin/beneficiaries/beneficiary/",
        f"/admin/beneficiaries/beneficiary/{person.pk}/change/",
        f"/admin/beneficiaries/beneficiary/{person.pk}/history/",
    ):
        res = client.get(url)
        assert res.status_code == 200, url
        html = res.content.decode()
        assert NUMBER not in html and "13912345678" not in html
    assert person.id_number_masked in client.get("/admin/beneficiaries/beneficiary/").content.decode()


def test_search_by_exact_id_number(superuser, person):
    res = admin_client(superuser).get("/admin/beneficiaries/beneficiary/", {"q": NUMBER})
    assert person.id_number_masked in res.content.decode()
    res = admin_client(superuser).get("/admin/beneficiaries/beneficiary/", {"q": "周"})
    assert person.id_number_masked in res.content.decode()


def test_add_through_the_service(superuser, groups):
    client = admin_client(superuser)
    res = client.post(
        "/admin/beneficiaries/beneficiary/add/",
        {
            "name": "吴示例",
            "id_number": NUMBER,
            "phone": "",
            "region": superuser.region.__class__.objects.get(code="360300").pk,
            "willing_to_work": "on",
            "memberships-TOTAL_FORMS": 0,
            "memberships-INITIAL_FORMS": 0,
            "status_changes-TOTAL_FORMS": 0,
            "status_changes-INITIAL_FORMS": 0,
        },
    )
    assert res.status_code == 302, res.content.decode()[:2000]
    person = Beneficiary.objects.get()
    entry = ChangeEntry.objects.get(model="beneficiaries.beneficiary", object_id=str(person.pk))
    assert entry.source == "admin" and entry.actor_name == "admin"
    # A second one with the same number is refused (the service's 409, shown as a message).
    res = client.post(
        "/admin/beneficiaries/beneficiary/add/",
        {
            "name": "重复",
            "id_number": NUMBER,
            "region": person.region_id,
            "memberships-TOTAL_FORMS": 0,
            "memberships-INITIAL_FORMS": 0,
            "status_changes-TOTAL_FORMS": 0,
            "status_changes-INITIAL_FORMS": 0,
        },
        follow=True,
    )
    assert Beneficiary.objects.count() == 1


def test_outsider_does_not_see_it(outsider, person):
    client = admin_client(outsider)
    res = client.get(f"/admin/beneficiaries/beneficiary/{person.pk}/change/")
    assert res.status_code in (302, 403, 404)
    assert person.id_number_masked not in client.get("/admin/beneficiaries/beneficiary/").content.decode()


def test_import_page_runs_the_service(superuser, groups):
    client = admin_client(superuser)
    assert client.get("/admin/beneficiaries/beneficiary/import/").status_code == 200
    content = f"姓名,身份证号码,户籍地区代码\n郑示例,{NUMBER},360300\n".encode()
    res = client.post(
        "/admin/beneficiaries/beneficiary/import/",
        {"file": SimpleUploadedFile("a.csv", content), "dry_run": "on"},
    )
    assert res.status_code == 200 and not Beneficiary.objects.exists()
    wrong = NUMBER[:-1] + ("0" if NUMBER[-1] != "0" else "1")
    bad = f"姓名,身份证号码,户籍地区代码\n郑示例,{wrong},360300\n".encode()
    res = client.post(
        "/admin/beneficiaries/beneficiary/import/", {"file": SimpleUploadedFile("a.csv", bad), "dry_run": ""}
    )
    assert "Check digit" in res.content.decode() and not Beneficiary.objects.exists()
    res = client.post(
        "/admin/beneficiaries/beneficiary/import/",
        {"file": SimpleUploadedFile("a.csv", content), "dry_run": ""},
    )
    assert Beneficiary.objects.count() == 1
    assert ChangeEntry.objects.filter(model="beneficiaries.beneficiary", source="import").count() == 1


def test_groups_and_follow_ups_pages(superuser, clerk, groups):
    client = admin_client(superuser)
    assert client.get("/admin/beneficiaries/beneficiarygroup/").status_code == 200
    assert client.get("/admin/beneficiaries/followup/").status_code == 200
