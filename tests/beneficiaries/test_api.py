"""The registry's API: create, read, update, delete, uniqueness, masking, reveal and scope."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from beneficiaries.choices import Gender
from beneficiaries.models import Beneficiary, GroupMembership
from beneficiaries.services import beneficiary_create, status_change_record
from seeds.factories.beneficiaries import BeneficiaryFactory, make_id_number
from tracker.changelog.models import ChangeEntry

URL = "/api/v1/beneficiaries/"
ID = make_id_number("360302", dt.date(1990, 5, 17), 42, Gender.FEMALE)
PHONE = "13812345678"


def payload(**overrides):
    body = {
        "name": "李测试",
        "id_number": ID,
        "phone": PHONE,
        "region": "360300",
        "address": "萍乡市安源区测试路1号",
        "willing_to_work": True,
        "groups": ["lifted_out_of_poverty"],
    }
    body.update(overrides)
    return body


def entries_for(obj):
    return ChangeEntry.objects.filter(model=obj._meta.label_lower, object_id=str(obj.pk)).order_by("id")


@pytest.fixture
def person(clerk, groups):
    return beneficiary_create(
        actor=clerk,
        name="王样例",
        id_number=make_id_number("360300", dt.date(1975, 2, 3), 5, Gender.MALE),
        phone="13900001111",
        region=clerk.region,
        groups=["veteran"],
    )


def test_create_masks_personal_data_everywhere(api, clerk, groups):
    res = api(clerk).post(URL, payload(), format="json")
    assert res.status_code == 201, res.json()
    body = res.json()
    assert body["id_number"] == f"{ID[:6]}********{ID[-4:]}"
    assert body["phone"] == "138****5678"
    assert body["gender"] == "female" and body["birth_date"] == "1990-05-17"
    assert body["region"] == "360300" and body["groups"] == ["lifted_out_of_poverty"]
    assert body["status"] == "" and body["active"] is True
    assert res["ETag"]
    person = Beneficiary.objects.get(pk=body["id"])
    # Encrypted at rest: the number appears in no column in the clear.
    assert ID not in person.id_number_encrypted and PHONE not in person.phone_encrypted
    assert ID not in person.id_number_hash
    # The change log holds the masked copy only, with actor and source.
    entry = entries_for(person).get()
    assert entry.action == "create" and entry.actor_name == "clerk_pingxiang" and entry.source == "api"
    assert entry.changes["id_number_masked"] == [None, body["id_number"]]
    assert entry.changes["phone_masked"] == [None, "138****5678"]
    flat = str(entry.changes)
    assert ID not in flat and PHONE not in flat and "encrypted" not in flat and "hash" not in flat
    membership = GroupMembership.objects.get(beneficiary=person)
    assert membership.valid_from == dt.date.today() or membership.valid_from
    assert entries_for(membership).get().source == "api"
    # Detail, list and history are masked too.
    client = api(clerk)
    detail = client.get(f"{URL}{person.pk}/").json()
    assert detail["id_number"] == body["id_number"] and detail["phone"] == "138****5678"
    listed = client.get(URL).json()["results"]
    assert listed[0]["id_number"] == body["id_number"]
    history = client.get(f"{URL}{person.pk}/history/")
    assert history.status_code == 200
    assert ID not in history.content.decode() and PHONE not in history.content.decode()
    audit = client.get("/api/v1/audit/changes/", {"object_id": person.pk})
    assert ID not in audit.content.decode() and PHONE not in audit.content.decode()


def test_lower_case_x_stored_upper(api, clerk, groups):
    number = next(
        n
        for n in (make_id_number("360302", dt.date(1985, 3, d), 7, Gender.FEMALE) for d in range(1, 29))
        if n.endswith("X")
    )
    res = api(clerk).post(URL, payload(id_number=number.lower(), groups=[]), format="json")
    assert res.status_code == 201
    assert res.json()["id_number"].endswith("X")
    assert api(clerk).get(URL, {"q": number.lower()}).json()["results"][0]["id"] == res.json()["id"]


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("id_number", ID[:-1] + ("0" if ID[-1] != "0" else "1"), "Check digit"),
        ("id_number", "360302900101123", "15-digit"),
        ("gender", "male", "does not match"),
        ("birth_date", "1990-05-18", "does not match"),
        ("phone", "12345", "Phone"),
        ("birth_date", "not-a-date", "format"),
        ("region", "999999", "not exist"),
    ],
)
def test_invalid_input_is_400_with_field_error_and_writes_nothing(api, clerk, groups, field, value, fragment):
    res = api(clerk).post(URL, payload(**{field: value}), format="json")
    assert res.status_code == 400
    body = res.json()
    assert {"type", "title", "status", "detail", "errors"} <= set(body)
    assert body["status"] == 400
    assert fragment.lower() in " ".join(body["errors"][field]).lower()
    assert not Beneficiary.objects.exists()


def test_wrong_types_are_400_not_500(api, clerk, groups):
    for bad in ({"name": ["x"]}, {"groups": "veteran"}, {"willing_to_work": "maybe"}, {"region": 5}):
        res = api(clerk).post(URL, payload(**bad), format="json")
        assert res.status_code == 400, bad
    assert api(clerk).post(URL, payload(groups=["no_such_group"]), format="json").status_code == 400
    assert not Beneficiary.objects.exists()


def test_same_id_number_is_409_pointing_at_visible_record(api, clerk, person, groups):
    number = make_id_number("360300", dt.date(1975, 2, 3), 5, Gender.MALE)
    res = api(clerk).post(URL, payload(id_number=number, region="3603X1"), format="json")
    assert res.status_code == 409
    assert res.json()["existing_id"] == person.pk
    assert Beneficiary.objects.count() == 1


def test_same_id_number_elsewhere_is_409_without_pointing(api, outsider, person, groups):
    number = make_id_number("360300", dt.date(1975, 2, 3), 5, Gender.MALE)
    res = api(outsider).post(URL, payload(id_number=number, region="450400"), format="json")
    assert res.status_code == 409
    body = res.json()
    assert "existing_id" not in body and "elsewhere" in body["detail"]
    assert str(person.pk) not in body["detail"]
    assert Beneficiary.objects.count() == 1


def test_create_outside_scope_is_403_and_writes_nothing(api, clerk, groups):
    before = ChangeEntry.objects.count()
    res = api(clerk).post(URL, payload(region="450400"), format="json")
    assert res.status_code == 403
    assert not Beneficiary.objects.exists()
    assert ChangeEntry.objects.count() == before


def test_outsider_cannot_see_or_change(api, outsider, person):
    client = api(outsider)
    assert client.get(URL).json()["results"] == []
    for method, path, body in [
        ("get", f"{URL}{person.pk}/", None),
        ("get", f"{URL}{person.pk}/history/", None),
        ("get", f"{URL}{person.pk}/file/", None),
        ("get", f"{URL}{person.pk}/status-changes/", None),
        ("patch", f"{URL}{person.pk}/", {"name": "改"}),
        ("delete", f"{URL}{person.pk}/", None),
        (
            "post",
            f"{URL}{person.pk}/status-changes/",
            {"status": "unemployed", "effective_on": "2024-01-01", "source": "phone"},
        ),
        ("post", f"{URL}{person.pk}/deactivate/", {"deactivated_on": "2024-01-01", "reason": "deceased"}),
        ("post", f"{URL}{person.pk}/reveal/", {"reason": "x"}),
    ]:
        res = getattr(client, method)(path, body, format="json")
        assert res.status_code == 404, (method, path, res.status_code)
    assert client.get(URL, {"q": person.name}).json()["results"] == []
    person.refresh_from_db()
    assert person.name == "王样例" and person.active


def test_patch_with_etag_and_stale_if_match_412(api, clerk, person):
    client = api(clerk)
    res = client.get(f"{URL}{person.pk}/")
    etag = res["ETag"]
    ok = client.patch(
        f"{URL}{person.pk}/",
        {"address": "新地址", "groups": ["veteran", "disabled"]},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert ok.status_code == 200, ok.json()
    assert ok.json()["groups"] == ["disabled", "veteran"]
    stale = client.patch(f"{URL}{person.pk}/", {"address": "又一个"}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412 and stale.json()["status"] == 412
    person.refresh_from_db()
    assert person.address == "新地址"
    entry = entries_for(person).last()
    assert entry.action == "update" and entry.changes == {"address": ["", "新地址"]}


def test_patch_cannot_contradict_the_identity_number(api, clerk, person):
    res = api(clerk).patch(f"{URL}{person.pk}/", {"gender": "female"}, format="json")
    assert res.status_code == 400 and "gender" in res.json()["errors"]


def test_patch_to_a_taken_number_is_409(api, clerk, person, groups):
    other = api(clerk).post(URL, payload(), format="json").json()
    number = make_id_number("360300", dt.date(1975, 2, 3), 5, Gender.MALE)
    res = api(clerk).patch(f"{URL}{other['id']}/", {"id_number": number}, format="json")
    assert res.status_code == 409 and res.json()["existing_id"] == person.pk


def test_patch_moving_out_of_scope_is_403(api, clerk, person):
    res = api(clerk).patch(f"{URL}{person.pk}/", {"region": "450400"}, format="json")
    assert res.status_code == 403
    person.refresh_from_db()
    assert person.region.code == "360300"


def test_reveal_needs_the_permission_and_is_logged(api, clerk, reviewer, superuser, person):
    url = f"{URL}{person.pk}/reveal/"
    assert api(clerk).post(url, {"reason": "核实"}, format="json").status_code == 403
    assert api(reviewer).post(url, {"reason": "核实"}, format="json").status_code == 403
    assert not entries_for(person).filter(action="pii_reveal").exists()
    res = api(superuser).post(url, {"reason": "入户核实身份"}, format="json")
    assert res.status_code == 200
    assert res.json()["id_number"] == make_id_number("360300", dt.date(1975, 2, 3), 5, Gender.MALE)
    assert res.json()["phone"] == "13900001111"
    assert res["Cache-Control"] == "no-store"
    entry = entries_for(person).filter(action="pii_reveal").get()
    assert entry.reason == "入户核实身份" and entry.actor_name == "admin" and entry.changes == {}
    # Granted to a named user, it works for them within their scope.
    clerk.user_permissions.add(Permission.objects.get(codename="reveal_pii"))
    from tracker.accounts.models import User

    clerk = User.objects.get(pk=clerk.pk)
    assert api(clerk).post(url, {"reason": ""}, format="json").status_code == 400
    assert api(clerk).post(url, {"reason": "电话回访"}, format="json").status_code == 200
    assert entries_for(person).filter(action="pii_reveal").count() == 2


def test_search_by_full_id_number_reveals_nothing_more(api, inspector, person):
    number = make_id_number("360300", dt.date(1975, 2, 3), 5, Gender.MALE)
    res = api(inspector).get(URL, {"q": number})
    assert [r["id"] for r in res.json()["results"]] == [person.pk]
    assert number not in res.content.decode()
    assert api(inspector).get(URL, {"q": "王"}).json()["results"][0]["id"] == person.pk
    assert api(inspector).get(URL, {"q": "样例"}).json()["results"] == []  # prefix only


def test_filters(api, clerk, person, groups):
    status_change_record(
        beneficiary=person, actor=clerk, status="employed_local", effective_on=dt.date.today(), source="visit"
    )
    client = api(clerk)

    def ids(**params):
        res = client.get(URL, params)
        assert res.status_code == 200, res.json()
        return [r["id"] for r in res.json()["results"]]

    assert ids(within="360300") == [person.pk]
    assert ids(within="450400") == []
    assert ids(group="veteran") == [person.pk]
    assert ids(group="disabled") == []
    assert ids(status="employed_local") == [person.pk]
    assert ids(status="unemployed") == []
    assert ids(willing_to_work="true") == [person.pk]
    assert ids(registered_since=dt.date.today().isoformat()) == [person.pk]
    assert ids(registered_since=(dt.date.today() + dt.timedelta(days=1)).isoformat()) == []
    assert ids(unverified_for_days=0) == []
    assert client.get(URL, {"status": "nonsense"}).status_code == 400
    assert client.get(URL, {"unverified_for_days": "-1"}).status_code == 400
    assert client.get(URL, {"registered_since": "2024-13-01"}).status_code == 400


def test_list_query_count_is_constant(api, clerk, groups):
    client = api(clerk)

    def count(page_size):
        with CaptureQueriesContext(connection) as ctx:
            res = client.get(URL, {"page_size": page_size})
        assert res.status_code == 200 and len(res.json()["results"]) == min(page_size, 30)
        return len(ctx)

    people = BeneficiaryFactory.create_batch(30, region=clerk.region)
    for p in people:
        GroupMembership(beneficiary=p, group=groups["veteran"], valid_from=dt.date(2020, 1, 1)).save()
    count(10)  # warm the process-wide region-path cache
    assert count(10) == count(500)


def test_delete_unreferenced_person_204_referenced_409(api, clerk, groups):
    client = api(clerk)
    lone = client.post(URL, payload(groups=[]), format="json").json()
    assert client.delete(f"{URL}{lone['id']}/").status_code == 204
    assert not Beneficiary.objects.filter(pk=lone["id"]).exists()
    assert ChangeEntry.objects.filter(
        model="beneficiaries.beneficiary", object_id=str(lone["id"]), action="delete"
    ).exists()
    member = client.post(URL, payload(), format="json").json()
    res = client.delete(f"{URL}{member['id']}/")
    assert res.status_code == 409 and res.json()["referenced_by"]
    assert Beneficiary.objects.filter(pk=member["id"]).exists()


def test_delete_with_status_history_is_409(api, clerk, person):
    status_change_record(
        beneficiary=person, actor=clerk, status="flexible", effective_on=dt.date(2024, 1, 1), source="phone"
    )
    res = api(clerk).delete(f"{URL}{person.pk}/")
    assert res.status_code == 409
    assert "employment status changes" in res.json()["detail"]


def test_deactivate(api, clerk, analyst, person):
    url = f"{URL}{person.pk}/deactivate/"
    assert (
        api(analyst)
        .post(url, {"deactivated_on": "2024-01-01", "reason": "deceased"}, format="json")
        .status_code
        == 403
    )
    future = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    assert (
        api(clerk).post(url, {"deactivated_on": future, "reason": "deceased"}, format="json").status_code
        == 400
    )
    assert (
        api(clerk).post(url, {"deactivated_on": "2024-01-01", "reason": "bored"}, format="json").status_code
        == 400
    )
    res = api(clerk).post(
        url, {"deactivated_on": "2024-01-01", "reason": "moved_away", "note": "迁往广州"}, format="json"
    )
    assert res.status_code == 200
    body = res.json()
    assert (
        body["active"] is False
        and body["deactivated_on"] == "2024-01-01"
        and body["deactivation_reason"] == "moved_away"
    )
    entry = entries_for(person).last()
    assert entry.action == "deactivate" and entry.reason == "迁往广州"
    assert (
        api(clerk)
        .post(url, {"deactivated_on": "2024-01-01", "reason": "deceased"}, format="json")
        .status_code
        == 409
    )
    assert [r["id"] for r in api(clerk).get(URL, {"active": "false"}).json()["results"]] == [person.pk]


def test_groups_endpoint_lists_all_45(api, outsider, groups):
    res = api(outsider).get("/api/v1/beneficiary-groups/", {"page_size": 100})
    assert res.status_code == 200
    codes = {g["code"] for g in res.json()["results"]}
    assert len(codes) == 45 and {"rural_4045", "lifted_out_of_poverty", "veteran"} <= codes
    assert api(None).get("/api/v1/beneficiary-groups/").status_code == 401


def test_memberships_with_dates(api, clerk, person, groups):
    url = f"{URL}{person.pk}/memberships/"
    res = api(clerk).post(
        url, {"group": "disabled", "valid_from": "2020-01-01", "valid_to": "2020-12-31"}, format="json"
    )
    assert res.status_code == 201, res.json()
    assert (
        api(clerk).post(url, {"group": "disabled", "valid_from": "2020-06-01"}, format="json").status_code
        == 400
    )
    assert (
        api(clerk)
        .post(url, {"group": "disabled", "valid_from": "2021-01-01", "valid_to": "2020-01-01"}, format="json")
        .status_code
        == 400
    )
    listed = api(clerk).get(url).json()
    assert {m["group"] for m in listed} == {"disabled", "veteran"}
    assert api(clerk).get(f"{URL}{person.pk}/").json()["groups"] == ["veteran"]  # disabled ended in 2020


def test_anonymous_and_read_only_roles(api, analyst, person):
    assert api(None).get(URL).status_code == 401
    assert api(analyst).get(f"{URL}{person.pk}/").status_code == 200
    assert api(analyst).post(URL, payload(), format="json").status_code == 403
    assert api(analyst).patch(f"{URL}{person.pk}/", {"name": "x"}, format="json").status_code == 403


def test_file_view_has_registered_sections(api, clerk, person):
    from beneficiaries.file_sections import register_file_section

    status_change_record(
        beneficiary=person,
        actor=clerk,
        status="employed_local",
        effective_on=dt.date(2024, 1, 1),
        source="visit",
    )
    status_change_record(
        beneficiary=person, actor=clerk, status="unemployed", effective_on=dt.date(2024, 3, 1), source="phone"
    )
    register_file_section("test_extra", "Extra", lambda b, u: {"who": u.username}, order=999)
    try:
        res = api(clerk).get(f"{URL}{person.pk}/file/", {"as_of": "2024-02-01"})
    finally:
        from beneficiaries import file_sections

        file_sections._sections.pop("test_extra")
    assert res.status_code == 200
    body = res.json()
    keys = [s["key"] for s in body["sections"]]
    assert keys[:4] == ["person", "groups", "status_history", "follow_ups"] and keys[-1] == "test_extra"
    assert body["status_as_of"] == "employed_local"
    sections = {s["key"]: s["data"] for s in body["sections"]}
    assert sections["person"]["id_number"].count("*") == 8
    assert [c["status"] for c in sections["status_history"]] == ["unemployed", "employed_local"]
    assert len(sections["follow_ups"]) == 1
    assert sections["test_extra"] == {"who": "clerk_pingxiang"}
    assert api(clerk).get(f"{URL}{person.pk}/file/", {"as_of": "bad"}).status_code == 400


def test_errors_in_chinese_by_accept_language(api, clerk, groups):
    wrong = ID[:-1] + ("0" if ID[-1] != "0" else "1")
    res = api(clerk).post(URL, payload(id_number=wrong), format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert res.status_code == 400
    assert res.json()["errors"]["id_number"] == [
        "校验码错误：末位与计算结果不符（GB 11643，ISO 7064 MOD 11-2）。"
    ]
