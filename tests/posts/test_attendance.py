"""Attendance (one month, a whole roster) and assessments: every rule at its boundary, all or
nothing, constant queries, and a paid month kept as it was paid."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from programs.posts import services
from programs.posts.models import Assessment, Attendance
from programs.posts.rules import working_days
from programs.posts.services import AttendanceRow
from tests.posts.conftest import JAN, TOWNSHIP, VILLAGE
from tests.posts.test_services import codes
from tracker.changelog.models import ChangeEntry
from tracker.periods import Month
from tracker.regions.models import Region

pytestmark = pytest.mark.django_db


def record(clerk, assignment, month="2021-03", required=23, present=23, leave=0):
    return services.attendance_record(
        actor=clerk,
        assignment=assignment,
        month=month,
        days_required=required,
        days_present=present,
        paid_leave_days=leave,
    )


def test_present_and_leave_up_to_the_days_required(post, person, hire, clerk):
    held = hire(post, person)
    attendance, created = record(clerk, held, required=22, present=20, leave=2)
    assert created and (attendance.days_present, attendance.paid_leave_days) == (20, 2)
    with pytest.raises(ValidationError) as excinfo:
        record(clerk, held, month="2021-04", required=22, present=20, leave=3)
    assert codes(excinfo) == {"days_present": ["ATTENDANCE_DAYS"]}


def test_the_days_required_up_to_the_days_in_the_month(post, person, hire, clerk):
    held = hire(post, person)
    assert record(clerk, held, month="2021-02", required=28, present=0)[1]
    with pytest.raises(ValidationError) as excinfo:
        record(clerk, held, month="2021-04", required=31, present=0)
    assert codes(excinfo) == {"days_required": ["REQUIRED_DAYS"]}
    with pytest.raises(ValidationError) as excinfo:
        record(clerk, held, month="2021-05", required=0, present=0)
    assert codes(excinfo) == {"days_required": ["REQUIRED_DAYS"]}


def test_no_more_days_than_the_holder_held_the_post_that_month(post, person, hire, clerk):
    held = hire(post, person, dt.date(2021, 3, 20))  # 12 days of March
    assert record(clerk, held, required=23, present=12)[1]
    with pytest.raises(ValidationError) as excinfo:
        record(clerk, held, required=23, present=12, leave=1)
    assert codes(excinfo) == {"days_present": ["ATTENDANCE_COVERED_DAYS"]}


def test_the_month_overlaps_the_holding_and_has_begun(post, person, hire, clerk):
    held = hire(post, person, dt.date(2021, 3, 20))
    with pytest.raises(ValidationError) as excinfo:
        record(clerk, held, month="2021-02", required=20, present=0)
    assert codes(excinfo) == {"month": ["MONTH_OUTSIDE_ASSIGNMENT"]}
    next_month = Month.of(timezone.localdate().replace(day=1) + dt.timedelta(days=32))
    with pytest.raises(ValidationError) as excinfo:
        record(clerk, held, month=str(next_month), required=20, present=0)
    assert codes(excinfo) == {"month": ["MONTH_IN_FUTURE"]}
    with pytest.raises(ValidationError) as excinfo:
        record(clerk, held, month="2021-13")
    assert "month" in excinfo.value.message_dict


def test_recording_a_month_again_corrects_it(post, person, hire, clerk):
    held = hire(post, person)
    first, created = record(clerk, held, present=20)
    second, created_again = record(clerk, held, present=21)
    assert created and not created_again and first.pk == second.pk
    assert Attendance.objects.get().days_present == 21
    assert ChangeEntry.objects.filter(model="posts.attendance", object_id=str(first.pk)).count() == 2


def test_a_roster_is_all_or_nothing_with_errors_by_row(make_post, person_in, hire, clerk):
    post = make_post(headcount=3)
    holders = [hire(post, person_in()) for _ in range(3)]
    rows = [
        AttendanceRow(holders[0], 22, 22),
        AttendanceRow(holders[1], 22, 23),
        AttendanceRow(holders[2], 22, 20, 2),
    ]
    with pytest.raises(ValidationError) as excinfo:
        services.attendance_bulk_upsert(actor=clerk, month="2021-04", rows=rows)
    assert codes(excinfo) == {"rows.1.days_present": ["ATTENDANCE_DAYS"]}
    assert not Attendance.objects.exists()
    rows[1] = AttendanceRow(holders[1], 22, 21)
    result = services.attendance_bulk_upsert(actor=clerk, month="2021-04", rows=rows)
    assert len(result.created) == 3 and Attendance.objects.count() == 3
    # The same roster again with one row changed updates that row only.
    rows[0] = AttendanceRow(holders[0], 22, 21)
    result = services.attendance_bulk_upsert(actor=clerk, month="2021-04", rows=rows)
    assert (len(result.created), len(result.updated), len(result.unchanged)) == (0, 1, 2)


def test_a_holder_given_twice_is_refused(post, person, hire, clerk):
    held = hire(post, person)
    with pytest.raises(ValidationError) as excinfo:
        services.attendance_bulk_upsert(
            actor=clerk, month="2021-04", rows=[AttendanceRow(held, 22, 22), AttendanceRow(held, 22, 21)]
        )
    assert codes(excinfo) == {"rows.1.assignment": ["DUPLICATE_ROW"]}


def test_a_roster_costs_the_same_queries_whatever_its_size(make_post, person_in, hire, clerk, regions):
    assert clerk.roles
    Region.cache_paths([regions[VILLAGE].pk])
    small = make_post(headcount=3)
    large = make_post(headcount=30)
    few = [hire(small, person_in()) for _ in range(3)]
    many = [hire(large, person_in()) for _ in range(30)]

    def count(holders):
        with CaptureQueriesContext(connection) as ctx:
            services.attendance_bulk_upsert(
                actor=clerk, month="2021-04", rows=[AttendanceRow(h, 22, 22) for h in holders]
            )
        return len(ctx.captured_queries)

    assert count(few) == count(many)


def test_an_outsider_records_nothing(post, person, hire, outsider):
    held = hire(post, person)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        record(outsider, held)


def test_working_days_prefill():
    assert working_days(Month(2021, 3)) == 23
    assert working_days(Month(2021, 2)) == 20


# -- assessments --------------------------------------------------------------------------------------


@pytest.fixture
def standard(regions, clerk):
    return services.assessment_standard_create(
        actor=clerk,
        region=regions[VILLAGE],
        effective_from=JAN,
        title="示例东村公益性岗位考核细则",
        text="出勤、履职、群众评价三项，每月考核。",
    )


def test_an_assessment_names_the_standard_in_force(post, person, hire, clerk, standard, regions):
    held = hire(post, person)
    assessment = services.assessment_create(
        actor=clerk, assignment=held, period_kind="month", period="2021-03", rating="qualified"
    )
    assert assessment.standard == standard and assessment.assessor == clerk
    assert (assessment.period_start, assessment.period_end) == (dt.date(2021, 3, 1), dt.date(2021, 3, 31))
    later = services.assessment_standard_create(
        actor=clerk,
        region=regions[TOWNSHIP],
        effective_from=dt.date(2021, 6, 1),
        title="乡细则",
        text="乡统一细则",
    )
    # The village's own standard is preferred over its township's.
    june = services.assessment_create(
        actor=clerk, assignment=held, period_kind="month", period="2021-06", rating="excellent"
    )
    assert june.standard == standard
    quarter = services.assessment_create(
        actor=clerk,
        assignment=held,
        period_kind="quarter",
        period="2021-Q2",
        rating="unqualified",
        standard=later,
    )
    assert (quarter.period_start, quarter.period_end) == (dt.date(2021, 4, 1), dt.date(2021, 6, 30))


def test_an_assessment_needs_a_standard_and_a_period_held(post, person, hire, clerk, standard):
    held = hire(post, person, dt.date(2021, 3, 1))
    with pytest.raises(ValidationError) as excinfo:
        services.assessment_create(
            actor=clerk, assignment=held, period_kind="month", period="2021-02", rating="qualified"
        )
    assert codes(excinfo) == {"period": ["PERIOD_OUTSIDE_ASSIGNMENT"]}
    with pytest.raises(ValidationError) as excinfo:
        services.assessment_create(
            actor=clerk, assignment=held, period_kind="quarter", period="2021-Q5", rating="qualified"
        )
    assert "period" in excinfo.value.message_dict
    services.assessment_create(
        actor=clerk, assignment=held, period_kind="month", period="2021-03", rating="qualified"
    )
    with pytest.raises(ValidationError):
        services.assessment_create(
            actor=clerk, assignment=held, period_kind="month", period="2021-03", rating="qualified"
        )
    assert Assessment.objects.count() == 1


def test_no_standard_in_force_is_refused(post, person, hire, clerk):
    held = hire(post, person)
    with pytest.raises(ValidationError) as excinfo:
        services.assessment_create(
            actor=clerk, assignment=held, period_kind="month", period="2021-03", rating="qualified"
        )
    assert codes(excinfo) == {"standard": ["STANDARD_NOT_APPLICABLE"]}


def test_a_standard_of_another_village_does_not_apply(post, person, hire, clerk, regions):
    held = hire(post, person)
    elsewhere = services.assessment_standard_create(
        actor=clerk, region=regions["3603X1902001"], effective_from=JAN, title="南村细则", text="…"
    )
    with pytest.raises(ValidationError) as excinfo:
        services.assessment_create(
            actor=clerk,
            assignment=held,
            period_kind="month",
            period="2021-03",
            rating="qualified",
            standard=elsewhere,
        )
    assert codes(excinfo) == {"standard": ["STANDARD_NOT_APPLICABLE"]}
    with pytest.raises(ValidationError):
        services.assessment_standard_create(
            actor=clerk, region=regions["3603X1"], effective_from=JAN, title="x", text="y"
        )
