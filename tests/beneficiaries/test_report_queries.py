"""Each section the figures' apps register answers in a number of queries that does not grow with the
data: the same count for one record as for many."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from beneficiaries.households import household_create
from beneficiaries.registrations import registrations_create_batch
from tests.figures_support import person_with_status, scope_for
from tests.programs.conftest import set_status
from tracker.reporting import report_sections

pytestmark = pytest.mark.django_db

SECTIONS = ("households", "registrations", "reemployment", "entrepreneurship", "allocations", "targets")


def _counts(user, region) -> dict[str, int]:
    counts = {}
    scope = scope_for(user, region, date_from=dt.date(2021, 1, 1), date_to=dt.date(2021, 12, 31))
    for report in ("overview",):
        for section in report_sections(report):
            if section.key not in SECTIONS:
                continue
            with CaptureQueriesContext(connection) as queries:
                section.rows(scope)
            counts[section.key] = len(queries)
    return counts


def _add(regions, clerk, n: int, start: int) -> None:
    luxi = regions["360323"]
    people = [person_with_status(luxi, "unemployed", since=dt.date(2020, 12, 1)) for _ in range(n)]
    for person in people:
        set_status(person, "employed_local", dt.date(2021, 4, 1))
    registrations_create_batch(
        actor=clerk, items=[{"beneficiary": p, "registered_on": dt.date(2021, 4, 1)} for p in people]
    )
    for i, person in enumerate(people):
        household_create(
            actor=clerk,
            number=f"Q{start + i}",
            region=luxi,
            relocated=True,
            members=[{"beneficiary": person}],
        )


def test_section_queries_do_not_grow_with_the_data(regions, clerk, analyst):
    assert set(SECTIONS) <= {s.key for s in report_sections("overview")}
    _add(regions, clerk, 1, 0)
    _counts(analyst, regions["360000"])  # warm the caches (the user's region path)
    one = _counts(analyst, regions["360000"])
    _add(regions, clerk, 6, 100)
    many = _counts(analyst, regions["360000"])
    assert one == many, (one, many)
    assert all(n <= 6 for n in many.values()), many
