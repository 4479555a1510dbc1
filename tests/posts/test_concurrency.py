"""Hires under concurrent requests, on PostgreSQL with real row locks: each thread has its own
connection (closed at the end of the thread)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from programs.posts import services
from programs.posts.models import Assignment, PersonnelChange
from tests.conftest import postgres_only
from tests.posts.conftest import JAN
from tests.programs.test_concurrency import run_together

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]


def test_twenty_concurrent_hires_for_five_places_hire_exactly_five(make_post, person_in, clerk):
    post = make_post(headcount=5)
    people = [person_in() for _ in range(20)]
    results = run_together(
        [
            lambda p=p: services.assignment_hire(actor=clerk, post=post, beneficiary=p, start_date=JAN)
            for p in people
        ]
    )
    hired = [r for r in results if isinstance(r, Assignment)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(hired) == 5, results
    assert len(refused) == 15 and all("HEADCOUNT_EXCEEDED" in str(r) for r in refused), results
    assert Assignment.objects.filter(post=post).count() == 5
    assert PersonnelChange.objects.filter(post=post).count() == 5


def test_one_person_hired_into_two_posts_at_once_holds_one(make_post, person, clerk):
    posts = [make_post(headcount=1) for _ in range(6)]

    def hire(post: Any) -> Any:
        return services.assignment_hire(
            actor=clerk, post=post, beneficiary=person, start_date=dt.date(2021, 2, 1)
        )

    results = run_together([lambda p=p: hire(p) for p in posts])
    hired = [r for r in results if isinstance(r, Assignment)]
    assert len(hired) == 1, results
    assert all(
        isinstance(r, ValidationError) and "ONE_POST_AT_A_TIME" in str(r) for r in results if r not in hired
    )
    assert Assignment.objects.filter(beneficiary=person).count() == 1
