"""Households: the service's rules, members in work derived from current statuses, the two compliance
selectors (one query each), the households report section on hand-built data, and its scope."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from beneficiaries.households import (
    household_create,
    household_update,
    relocated_households_without_employment,
    with_employment,
    zero_employment_households,
)
from beneficiaries.models import Household
from beneficiaries.reports import households_rows
from tests.figures_support import person_with_status, scope_for, totals
from tracker.changelog.models import ChangeEntry
from tracker.errors import Conflict

pytestmark = pytest.mark.django_db


@pytest.fixture
def pingxiang_households(regions, clerk):
    """芦溪县 (360323): two relocated households, one with a member in work; one zero-employment
    household cleared and one not; Wugongshan (3603X1): one plain household with a member in work."""
    luxi, wgs = regions["360323"], regions["3603X1"]
    a1, a2 = person_with_status(luxi, "employed_local"), person_with_status(luxi, "unemployed")
    b1 = person_with_status(luxi, "unemployed")
    c1, c2 = person_with_status(luxi, "public_welfare_post"), person_with_status(luxi, "not_in_labour_force")
    d1 = person_with_status(luxi, "unemployed")
    e1 = person_with_status(wgs, "flexible")
    made = {
        "a": household_create(
            actor=clerk,
            number="A",
            region=luxi,
            relocated=True,
            relocated_on=dt.date(2019, 5, 1),
            members=[{"beneficiary": a1, "relation": "head"}, {"beneficiary": a2}],
        ),
        "b": household_create(
            actor=clerk, number="B", region=luxi, relocated=True, members=[{"beneficiary": b1}]
        ),
        "c": household_create(
            actor=clerk,
            number="C",
            region=luxi,
            zero_employment=True,
            members=[{"beneficiary": c1}, {"beneficiary": c2}],
        ),
        "d": household_create(
            actor=clerk, number="D", region=luxi, zero_employment=True, members=[{"beneficiary": d1}]
        ),
        "e": household_create(actor=clerk, number="E", region=wgs, members=[{"beneficiary": e1}]),
    }
    return made


def test_members_in_work_are_derived_from_current_statuses(pingxiang_households):
    rows = {h.number: (h.members_total, h.members_employed) for h in with_employment(Household.objects.all())}
    assert rows == {"A": (2, 1), "B": (1, 0), "C": (2, 1), "D": (1, 0), "E": (1, 1)}


def test_compliance_selectors_find_the_violating_households_in_one_query(
    pingxiang_households, django_assert_num_queries
):
    with django_assert_num_queries(1):
        assert [h.number for h in relocated_households_without_employment()] == ["B"]
    with django_assert_num_queries(1):
        assert [h.number for h in zero_employment_households()] == ["D"]


def test_household_rules(regions, clerk, outsider, pingxiang_households):
    luxi = regions["360323"]
    taken = pingxiang_households["a"].members.first().beneficiary
    with pytest.raises(Conflict):
        household_create(actor=clerk, number="F", region=luxi, members=[{"beneficiary": taken}])
    with pytest.raises(ValidationError) as exc:
        household_create(actor=clerk, number="G", region=luxi, relocated_on=dt.date(2020, 1, 1))
    assert "relocated_on" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        household_create(actor=outsider, number="H", region=luxi)
    with pytest.raises(PermissionDenied):
        household_update(household=pingxiang_households["a"], actor=outsider, fields={"notes": "x"})
    updated = household_update(
        household=pingxiang_households["b"], actor=clerk, fields={"zero_employment": True}
    )
    assert (
        updated.zero_employment
        and ChangeEntry.objects.filter(object_id=str(updated.pk), model="beneficiaries.household").count()
        == 2
    )


def test_households_section_on_hand_built_data(regions, clerk, outsider, pingxiang_households):
    # A Wuzhou household the Pingxiang report must never count.
    wuzhou = regions["450400"]
    other = person_with_status(wuzhou, "unemployed")
    household_create(
        actor=outsider, number="W", region=wuzhou, relocated=True, members=[{"beneficiary": other}]
    )

    rows = {r["subregion"]: r for r in households_rows(scope_for(clerk, regions["360300"]))}
    assert set(rows) == {"360323", "3603X1"}
    luxi = rows["360323"]
    assert (luxi["households"], luxi["relocated"], luxi["relocated_employed"]) == (4, 2, 1)
    assert (luxi["zero_employment_identified"], luxi["zero_employment_remaining"]) == (2, 1)
    assert (luxi["members"], luxi["members_employed"]) == (6, 2)
    assert str(luxi["relocated_employed_rate"]) == "0.5000"
    assert totals(rows.values(), "households", "members_employed") == {"households": 5, "members_employed": 3}
    # The outsider, asking about Pingxiang, sees nothing of it.
    assert households_rows(scope_for(outsider, regions["360300"])) == []
