"""/api/v1/households/ and /api/v1/employment-registrations/: list, detail, create, patch, filters, and
the outsider (Wuzhou) who can neither see nor change Pingxiang's."""

from __future__ import annotations

import pytest

from beneficiaries.models import EmploymentRegistration, Household
from tests.figures_support import person_with_status

pytestmark = pytest.mark.django_db


def test_household_create_list_filter_patch_and_outsider(api, clerk, outsider, regions):
    a = person_with_status(regions["360323"], "employed_local")
    client = api(clerk)
    created = client.post(
        "/api/v1/households/",
        {
            "number": "PX-1",
            "region": "360323",
            "relocated": True,
            "members": [{"beneficiary": a.pk, "relation": "head"}],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert Household.objects.get(pk=pk).members.get().beneficiary == a
    listed = client.get("/api/v1/households/?relocated=true&within=360300")
    assert [(h["number"], h["members"], h["members_employed"]) for h in listed.json()["results"]] == [
        ("PX-1", 1, 1)
    ]
    assert client.get("/api/v1/households/?zero_employment=true").json()["results"] == []
    etag = client.get(f"/api/v1/households/{pk}/")["ETag"]
    patched = client.patch(
        f"/api/v1/households/{pk}/", {"zero_employment": True}, format="json", HTTP_IF_MATCH=etag
    )
    assert patched.status_code == 200, patched.content and patched.json()["zero_employment"] is True

    other = api(outsider)
    assert other.get("/api/v1/households/").json()["results"] == []
    assert other.get(f"/api/v1/households/{pk}/").status_code == 404
    assert other.patch(f"/api/v1/households/{pk}/", {"notes": "x"}, format="json").status_code == 404
    refused = other.post("/api/v1/households/", {"number": "PX-2", "region": "360323"}, format="json")
    assert refused.status_code == 403
    # A Pingxiang person offered by the outsider is unknown to them.
    answer = other.post(
        "/api/v1/households/",
        {"number": "WZ-1", "region": "450400", "members": [{"beneficiary": a.pk}]},
        format="json",
    )
    assert answer.status_code == 400 and not Household.objects.filter(number="WZ-1").exists()


def test_registration_create_list_and_outsider(api, clerk, outsider, regions):
    a = person_with_status(regions["360323"], "employed_local")
    client = api(clerk)
    created = client.post(
        "/api/v1/employment-registrations/",
        {"beneficiary": a.pk, "registered_on": "2021-03-01"},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["region"] == "360323" and created.json()["kind"] == "new_employment"
    assert (
        len(client.get("/api/v1/employment-registrations/?registered_from=2021-01-01").json()["results"]) == 1
    )
    future = client.post(
        "/api/v1/employment-registrations/",
        {"beneficiary": a.pk, "registered_on": "2999-01-01"},
        format="json",
    )
    assert future.status_code == 400

    other = api(outsider)
    assert other.get("/api/v1/employment-registrations/").json()["results"] == []
    assert other.get(f"/api/v1/employment-registrations/{created.json()['id']}/").status_code == 404
    refused = other.post(
        "/api/v1/employment-registrations/",
        {"beneficiary": a.pk, "registered_on": "2021-03-01"},
        format="json",
    )
    assert refused.status_code == 400 and EmploymentRegistration.objects.count() == 1
