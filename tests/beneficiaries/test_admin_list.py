"""The registry's list in the admin: the columns a clerk needs (names, masked numbers, regions and
groups by name), and filters by group today and by region subtree within the clerk's own region."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from seeds.factories.beneficiaries import BeneficiaryFactory

pytestmark = pytest.mark.django_db


def login(user: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def test_the_registry_list_columns_and_filters(clerk: Any, regions: Any, groups: Any) -> None:
    from beneficiaries.models import GroupMembership

    in_city = BeneficiaryFactory(region=regions["360300"], name="城区某")
    in_county = BeneficiaryFactory(region=regions["360323"], name="芦溪某")
    GroupMembership(
        beneficiary=in_county, group=groups["lifted_out_of_poverty"], valid_from=dt.date(2020, 1, 1)
    ).save()
    GroupMembership(
        beneficiary=in_city,
        group=groups["employment_difficulty"],
        valid_from=dt.date(2020, 1, 1),
        valid_to=dt.date(2020, 12, 31),  # ended: not a member today
    ).save()
    client = login(clerk)
    listing = client.get("/admin/beneficiaries/beneficiary/")
    text = listing.content.decode()
    # (the first column is the action checkbox when the list offers actions, e.g. batch voucher issue)
    headers = [
        h["text"]
        for h in listing.context["result_headers"]
        if h.get("class_attrib") != ' class="action-checkbox-column"'
    ]
    assert [str(h) for h in headers] == [
        "姓名",
        "身份证号码",
        "地区",
        "人员类别",
        "就业状态",
        "状态核实日期",
    ]
    assert '<td class="field-region_name">芦溪县</td>' in text
    assert "脱贫人口" in text
    # People in a group today.
    members = client.get("/admin/beneficiaries/beneficiary/", {"group": "lifted_out_of_poverty"})
    assert {p.pk for p in members.context["cl"].result_list} == {in_county.pk}
    nobody = client.get("/admin/beneficiaries/beneficiary/", {"group": "employment_difficulty"})
    assert list(nobody.context["cl"].result_list) == []
    # A region's subtree.
    county = client.get("/admin/beneficiaries/beneficiary/", {"within": "360323"})
    assert {p.pk for p in county.context["cl"].result_list} == {in_county.pk}
    city = client.get("/admin/beneficiaries/beneficiary/", {"within": "360300"})
    assert {p.pk for p in city.context["cl"].result_list} == {in_city.pk, in_county.pk}
    # Only regions in the clerk's own subtree are offered.
    offered = {code for code, _label in _filter_choices(city, "within")}
    assert "360300" in offered and "360323" in offered and "450400" not in offered and "360000" not in offered


def _filter_choices(response: Any, parameter: str) -> list[tuple[str, str]]:
    for spec in response.context["cl"].filter_specs:
        if getattr(spec, "parameter_name", None) == parameter:
            return list(spec.lookup_choices)
    raise AssertionError(parameter)
