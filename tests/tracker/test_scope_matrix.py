"""The scope matrix: each role against a record inside and outside its region, for list, detail,
create, update and delete — through one real resource (beneficiaries), since scoping lives in the
one base viewset every resource uses.

The record lives in 萍乡市 (360300). Outside 404 (existence does not leak); a role that may not write
gets 403; writing into a region outside one's scope gets 403 and writes nothing.
"""

from __future__ import annotations

import pytest

from beneficiaries.models import Beneficiary
from seeds.factories.beneficiaries import BeneficiaryFactory, person_data
from tracker.changelog.models import ChangeEntry

# role fixture -> (sees it, may write in 萍乡)
MATRIX = {
    "clerk": (True, True),  # 萍乡 clerk
    "reviewer": (True, False),  # 萍乡 reviewer: reads, does not enter data
    "inspector": (True, False),  # 江西省 inspector: reads everything below
    "analyst": (True, False),  # national analyst: reads everything
    "outsider": (False, False),  # 梧州 clerk
    "superuser": (True, True),
}


@pytest.fixture
def person(regions):
    return BeneficiaryFactory(region=regions["360300"], seq=4242)


@pytest.mark.parametrize("role", MATRIX)
def test_list_and_detail(role, request, api, person):
    sees, _ = MATRIX[role]
    client = api(request.getfixturevalue(role))
    ids = [p["id"] for p in client.get("/api/v1/beneficiaries/", {"page_size": 500}).json()["results"]]
    assert (person.pk in ids) is sees
    detail = client.get(f"/api/v1/beneficiaries/{person.pk}/")
    assert detail.status_code == (200 if sees else 404)
    history = client.get(f"/api/v1/beneficiaries/{person.pk}/history/")
    assert history.status_code == (200 if sees else 404)


@pytest.mark.parametrize("role", MATRIX)
def test_create_in_pingxiang(role, request, api, regions):
    _, writes = MATRIX[role]
    user = request.getfixturevalue(role)
    before = Beneficiary.objects.count()
    entries = ChangeEntry.objects.count()
    res = api(user).post("/api/v1/beneficiaries/", person_data(region_code="360300", seq=77), format="json")
    if writes:
        assert res.status_code == 201, res.json()
        assert Beneficiary.objects.count() == before + 1
    else:
        assert res.status_code == 403, res.json()
        assert Beneficiary.objects.count() == before
        assert ChangeEntry.objects.count() == entries  # nothing written, not even a log entry


@pytest.mark.parametrize("role", MATRIX)
def test_update(role, request, api, person):
    sees, writes = MATRIX[role]
    res = api(request.getfixturevalue(role)).patch(
        f"/api/v1/beneficiaries/{person.pk}/", {"address": "萍乡市安源区某路 1 号"}, format="json"
    )
    expected = 200 if writes else (403 if sees else 404)
    assert res.status_code == expected
    person.refresh_from_db()
    assert (person.address == "萍乡市安源区某路 1 号") is writes


@pytest.mark.parametrize("role", MATRIX)
def test_delete(role, request, api, person):
    sees, writes = MATRIX[role]
    res = api(request.getfixturevalue(role)).delete(f"/api/v1/beneficiaries/{person.pk}/")
    expected = 204 if writes else (403 if sees else 404)
    assert res.status_code == expected
    assert Beneficiary.objects.filter(pk=person.pk).exists() is not writes


def test_moving_a_record_out_of_scope_is_refused_and_writes_nothing(api, clerk, person):
    entries = ChangeEntry.objects.count()
    res = api(clerk).patch(f"/api/v1/beneficiaries/{person.pk}/", {"region": "450400"}, format="json")
    assert res.status_code == 403
    person.refresh_from_db()
    assert person.region.code == "360300"
    assert ChangeEntry.objects.count() == entries


def test_outsider_cannot_create_in_pingxiang_even_as_clerk(api, outsider, regions):
    res = api(outsider).post(
        "/api/v1/beneficiaries/", person_data(region_code="360300", seq=78), format="json"
    )
    assert res.status_code == 403
    assert "outside your region" in res.json()["detail"]


def test_api_write_is_logged_with_actor_request_id_and_masked_values(api, clerk, regions):
    data = person_data(region_code="360300", seq=79)
    res = api(clerk).post(
        "/api/v1/beneficiaries/", data, format="json", HTTP_X_REQUEST_ID="trace-abcdef-0001"
    )
    assert res.status_code == 201
    entry = ChangeEntry.objects.get(model="beneficiaries.beneficiary", object_id=str(res.json()["id"]))
    assert (entry.source, entry.action, entry.actor_name, entry.request_id) == (
        "api",
        "create",
        "clerk_pingxiang",
        "trace-abcdef-0001",
    )
    text = str(entry.changes)
    assert data["id_number"] not in text and data["phone"] not in text
    assert entry.changes["id_number_masked"][1] == data["id_number"][:6] + "********" + data["id_number"][-4:]


def test_stale_if_match_is_412_and_changes_nothing(api, clerk, person):
    client = api(clerk)
    etag = client.get(f"/api/v1/beneficiaries/{person.pk}/")["ETag"]
    first = client.patch(
        f"/api/v1/beneficiaries/{person.pk}/", {"notes": "one"}, format="json", HTTP_IF_MATCH=etag
    )
    assert first.status_code == 200 and first["ETag"] != etag
    second = client.patch(
        f"/api/v1/beneficiaries/{person.pk}/", {"notes": "two"}, format="json", HTTP_IF_MATCH=etag
    )
    assert second.status_code == 412
    assert second.json()["status"] == 412
    person.refresh_from_db()
    assert person.notes == "one"
