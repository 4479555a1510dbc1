"""Fixtures of the audit tests: the posts fixtures (a Pingxiang post program, posts in the Wugongshan
villages, people, hires) plus a small inspected area with one planted gap per checklist item."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from programs.posts import services as posts
from programs.posts.models import Assignment, Post
from tests.posts.conftest import (  # noqa: F401 (fixtures)
    JAN,
    OTHER_VILLAGE,
    VILLAGE,
    fund,
    hire,
    make_post,
    make_post_program,
    person,
    person_in,
    post,
    post_program,
)
from tests.posts.test_attendance import record
from tracker.changelog.services import tracked_update

AREA = "3603X1"  # 武功山风景名胜区


@dataclass
class Area:
    """One post of 示例东村 with four holders (clean; no contract; no attendance for February; paid
    for June after leaving on 31 May, reported late), and a post of 示例西村 set without a reason."""

    post: Post
    unjustified: Post
    clean: Assignment
    no_contract: Assignment
    no_february: Assignment
    left: Assignment


@pytest.fixture
def area(make_post, person_in, hire, clerk, regions) -> Area:  # noqa: F811 (fixtures)
    village_post = make_post(headcount=4)
    clean = hire(village_post, person_in(), reported_on=JAN)
    no_contract = hire(village_post, person_in(), contract=False, reported_on=JAN)
    no_february = hire(village_post, person_in(), reported_on=JAN)
    left = hire(village_post, person_in(), reported_on=JAN)
    for month in ("2021-01", "2021-02", "2021-03", "2021-04", "2021-05", "2021-06"):
        for holding in (clean, no_contract, no_february, left):
            if holding is no_february and month == "2021-02":
                continue
            if holding is left and month > "2021-05":
                if month == "2021-06":
                    record(clerk, holding, month=month, required=22, present=22)
                continue
            record(clerk, holding, month=month, required=20, present=20)
    posts.subsidy_run_create(actor=clerk, region=regions[VILLAGE], month="2021-06")
    posts.assignment_end(
        assignment=left,
        actor=clerk,
        end_date=dt.date(2021, 5, 31),
        end_reason="found_other_job",
        reported_on=dt.date(2021, 8, 10),
    )
    unjustified = make_post(region=regions[OTHER_VILLAGE])
    tracked_update(Post.objects.filter(pk=unjustified.pk), justification="")
    return Area(village_post, Post.objects.get(pk=unjustified.pk), clean, no_contract, no_february, left)


def inspection_body(**fields: Any) -> dict[str, Any]:
    body = {
        "region": AREA,
        "title": "武功山风景名胜区公益性岗位督查",
        "starts_on": "2021-08-02",
        "first_month": "2021-01",
        "last_month": "2021-06",
        "methods": ["record_review", "face_to_face"],
    }
    body.update(fields)
    return body
