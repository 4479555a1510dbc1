"""Targets: achieved counted from the records in SQL (a query per measure), assumed targets explain
themselves, the section's rate, and the scope."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from beneficiaries.registrations import registrations_create_batch
from programs.targets.reports import target_rows
from programs.targets.services import target_create
from tests.figures_support import person_with_status, scope_for
from tests.programs.conftest import set_status

pytestmark = pytest.mark.django_db


def test_targets_against_records(regions, reviewer, clerk, outsider, analyst, django_assert_max_num_queries):
    luxi = regions["360323"]
    people = [person_with_status(luxi, "employed_local") for _ in range(3)]
    registrations_create_batch(
        actor=clerk, items=[{"beneficiary": p, "registered_on": dt.date(2021, 2, 1)} for p in people]
    )
    registrations_create_batch(
        actor=clerk, items=[{"beneficiary": people[0], "registered_on": dt.date(2020, 2, 1)}]
    )
    # Re-employment: unemployed, then in work in 2021 (counted once per person).
    back = person_with_status(luxi, "unemployed", since=dt.date(2020, 12, 1))
    set_status(back, "employed_local", dt.date(2021, 5, 1))
    target_create(
        actor=reviewer, region=regions["360300"], year=2021, measure="employment_registrations", figure=4
    )
    target_create(
        actor=reviewer,
        region=regions["360300"],
        year=2021,
        measure="reemployed_unemployed",
        figure=2,
        assumed=True,
        assumption="Not printed; assumed for the test.",
    )
    with pytest.raises(ValidationError):
        target_create(
            actor=reviewer,
            region=regions["360300"],
            year=2021,
            measure="vouchers_issued",
            figure=5,
            assumed=True,
        )
    with pytest.raises(PermissionDenied):
        target_create(
            actor=outsider, region=regions["360300"], year=2022, measure="vouchers_issued", figure=5
        )

    with django_assert_max_num_queries(5):
        rows = {r["measure"]: r for r in target_rows(scope_for(analyst, regions["360000"]))}
    assert (rows["employment_registrations"]["achieved"], str(rows["employment_registrations"]["rate"])) == (
        3,
        "0.7500",
    )
    assert (rows["reemployed_unemployed"]["achieved"], rows["reemployed_unemployed"]["assumed"]) == (1, True)
    assert rows["employment_registrations"]["subregion"] == "360300"
    assert target_rows(scope_for(outsider, regions["360000"])) == []
