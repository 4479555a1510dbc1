"""The admin pages of the figures' records load for a clerk (scoped) and write through the services."""

from __future__ import annotations

import pytest
from django.test import Client

from beneficiaries.households import household_create
from beneficiaries.models import Household

pytestmark = pytest.mark.django_db

PAGES = [
    "/admin/beneficiaries/household/",
    "/admin/beneficiaries/employmentregistration/",
    "/admin/entrepreneurship/entrepreneur/",
    "/admin/entrepreneurship/guaranteedloan/",
    "/admin/funding/allocation/",
    "/admin/targets/target/",
]


def test_pages_load_and_a_household_is_added_through_the_service(superuser, clerk, outsider, regions):
    admin = Client()
    admin.force_login(superuser)
    for page in PAGES:
        assert admin.get(page).status_code == 200, page
        assert admin.get(page + "add/").status_code == 200, page
    household_create(actor=outsider, number="WZ-9", region=regions["450400"])

    client = Client()
    client.force_login(clerk)
    answer = client.post(
        "/admin/beneficiaries/household/add/",
        {
            "number": "PX-ADMIN",
            "region": regions["360323"].pk,
            "head_name": "",
            "address": "",
            "notes": "",
            "members-TOTAL_FORMS": "0",
            "members-INITIAL_FORMS": "0",
        },
    )
    assert answer.status_code == 302, answer.content[:2000]
    assert Household.objects.get(number="PX-ADMIN").region == regions["360323"]
    listed = client.get("/admin/beneficiaries/household/").content.decode()
    assert "PX-ADMIN" in listed and "WZ-9" not in listed
