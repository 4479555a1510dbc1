"""Constant query counts: the follow-ups list at any page size, and the file view however long a
person's history is."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext

from beneficiaries.choices import Gender
from beneficiaries.names import make_name
from beneficiaries.services import beneficiary_create, membership_add, status_change_record
from seeds.factories.beneficiaries import make_id_number

URL = "/api/v1/beneficiaries/"


def _person(clerk, seq: int, *, changes: int = 2):
    person = beneficiary_create(
        actor=clerk,
        name=make_name("测", seq),
        id_number=make_id_number("360300", dt.date(1980, 1, 1) + dt.timedelta(days=seq), seq, Gender.MALE),
        region=clerk.region,
        groups=["veteran", "disabled"],
    )
    start = dt.date(2023, 1, 1)
    for i in range(changes):
        status = "employed_local" if i % 2 == 0 else "unemployed"
        status_change_record(
            beneficiary=person,
            actor=clerk,
            status=status,
            effective_on=start + dt.timedelta(days=30 * i),
            source="visit",
        )
    return person


def _count(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        res = client.get(url, params or {})
    assert res.status_code == 200, res.json()
    return len(ctx.captured_queries)


def test_follow_ups_list_query_count_is_constant(api, clerk, groups):
    for seq in range(1, 4):
        _person(clerk, seq)
    client = api(clerk)
    few = _count(client, "/api/v1/follow-ups/", {"page_size": 10})
    for seq in range(4, 15):
        _person(clerk, seq)
    many = _count(client, "/api/v1/follow-ups/", {"page_size": 500})
    assert few == many


def test_file_view_query_count_does_not_grow_with_history(api, clerk, groups):
    client = api(clerk)
    short = _person(clerk, 1, changes=2)
    long = _person(clerk, 2, changes=12)
    for code in ("retired_fisherman", "migrant_worker", "college_graduate"):
        membership_add(
            beneficiary=long, group=groups[code], valid_from=dt.date(2000, 1, 1), valid_to=None, actor=clerk
        )
    assert _count(client, f"{URL}{short.pk}/file/") == _count(client, f"{URL}{long.pk}/file/")
