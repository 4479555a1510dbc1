"""Change-log completeness: every write path of the registry (API, admin, import, command, seed)
leaves entries with the right source, actor and action, and the log verifies after a mixed
workload."""

from __future__ import annotations

import datetime as dt
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from beneficiaries.choices import Gender
from beneficiaries.models import Beneficiary, FollowUp
from seeds.beneficiaries import seed_beneficiaries
from seeds.factories.beneficiaries import make_id_number
from tracker.changelog.context import Source, command_context
from tracker.changelog.models import ChangeEntry
from tracker.changelog.selectors import changes_verify

URL = "/api/v1/beneficiaries/"


def _number(seq: int, region: str = "360300") -> str:
    return make_id_number(region, dt.date(1980, 1, 1) + dt.timedelta(days=seq), seq, Gender.MALE)


def _entries(model: str, pk: int) -> list[ChangeEntry]:
    return list(ChangeEntry.objects.filter(model=f"beneficiaries.{model}", object_id=str(pk)).order_by("id"))


def test_mixed_workload_is_fully_logged_and_verifies(api, clerk, superuser, groups, tmp_path):
    client = api(clerk)
    # API: create, update, status changes (opening a follow-up), closing it, deactivation.
    res = client.post(
        URL,
        {
            "name": "甲",
            "id_number": _number(1),
            "phone": "13800000001",
            "region": "360300",
            "groups": ["veteran"],
        },
        format="json",
    )
    assert res.status_code == 201, res.json()
    pk = res.json()["id"]
    assert (
        client.patch(f"{URL}{pk}/", {"address": "新地址", "groups": ["disabled"]}, format="json").status_code
        == 200
    )
    for status, day in (("employed_local", "2024-01-01"), ("unemployed", "2024-02-01")):
        body = {"status": status, "effective_on": day, "source": "visit"}
        assert client.post(f"{URL}{pk}/status-changes/", body, format="json").status_code == 201
    follow_up = FollowUp.objects.get(beneficiary_id=pk)
    body = {"service": "guidance", "service_on": "2024-02-05"}
    assert (
        client.post(f"/api/v1/follow-ups/{follow_up.pk}/record-service/", body, format="json").status_code
        == 200
    )
    body = {"deactivated_on": "2024-03-01", "reason": "moved_away"}
    assert client.post(f"{URL}{pk}/deactivate/", body, format="json").status_code == 200
    # API: delete of a person nothing refers to.
    res = client.post(URL, {"name": "乙", "id_number": _number(2), "region": "360300"}, format="json")
    gone = res.json()["id"]
    assert client.delete(f"{URL}{gone}/").status_code == 204
    # Import through the API, then an upsert of the same person.
    content = f"姓名,身份证号码,户籍地区代码,人员类别\n丙,{_number(3)},360300,veteran\n".encode()
    res = client.post(f"{URL}import/", {"file": SimpleUploadedFile("a.csv", content)}, format="multipart")
    assert res.status_code == 201, res.json()
    content = f"姓名,身份证号码,户籍地区代码,人员类别\n丙改,{_number(3)},360300,disabled\n".encode()
    res = client.post(
        f"{URL}import/?mode=upsert", {"file": SimpleUploadedFile("a.csv", content)}, format="multipart"
    )
    assert res.status_code == 201 and res.json()["updated"] == 1, res.json()
    imported = Beneficiary.objects.get(name="丙改")
    # Admin: add and change.
    admin = Client()
    admin.force_login(superuser)
    form = {
        "name": "丁",
        "id_number": _number(4),
        "phone": "",
        "region": clerk.region.pk,
        "willing_to_work": "on",
        "memberships-TOTAL_FORMS": 0,
        "memberships-INITIAL_FORMS": 0,
        "status_changes-TOTAL_FORMS": 0,
        "status_changes-INITIAL_FORMS": 0,
    }
    assert admin.post("/admin/beneficiaries/beneficiary/add/", form).status_code == 302
    by_admin = Beneficiary.objects.get(name="丁")
    form.update(name="丁改", id_number="")
    res = admin.post(f"/admin/beneficiaries/beneficiary/{by_admin.pk}/change/", form)
    assert res.status_code == 302, res.content.decode()[:1000]
    # Command and seed.
    path = tmp_path / "people.csv"
    path.write_bytes(f"姓名,身份证号码,户籍地区代码\n戊,{_number(5)},360300\n".encode())
    call_command("import_beneficiaries", str(path), "--user", "clerk_pingxiang")
    with command_context("seed", source=Source.SEED):
        seed_beneficiaries(io.StringIO())

    api_actions = [(e.action, e.source, e.actor_name) for e in _entries("beneficiary", pk)]
    assert api_actions[0] == ("create", "api", "clerk_pingxiang")
    assert ("deactivate", "api", "clerk_pingxiang") in api_actions
    assert all(source == "api" and actor == "clerk_pingxiang" for _a, source, actor in api_actions)
    assert [e.action for e in _entries("followup", follow_up.pk)] == ["create", "close"]
    assert [e.action for e in _entries("beneficiary", gone)] == ["create", "delete"]
    assert [(e.action, e.source) for e in _entries("beneficiary", imported.pk)] == [
        ("create", "import"),
        ("update", "import"),
    ]
    assert {e.actor_name for e in _entries("beneficiary", imported.pk)} == {"clerk_pingxiang"}
    assert [(e.action, e.source, e.actor_name) for e in _entries("beneficiary", by_admin.pk)] == [
        ("create", "admin", "admin"),
        ("update", "admin", "admin"),
    ]
    by_command = Beneficiary.objects.get(name="戊")
    assert [(e.source, e.actor_name) for e in _entries("beneficiary", by_command.pk)] == [
        ("import", "clerk_pingxiang")
    ]
    # The seed writes people as the administrator (a person acting), with source `seed`.
    seeded = ChangeEntry.objects.filter(model="beneficiaries.beneficiary", source="seed")
    assert seeded.exists() and set(seeded.values_list("actor_name", flat=True)) == {"admin"}
    result = changes_verify()
    assert result["ok"], result["problems"][:5]
