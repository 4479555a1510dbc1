"""The services of posts and holdings: every rule at its boundary, the registry's status history, the
personnel changes they write, and who may do what."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.utils import timezone

from beneficiaries.models import FollowUp, StatusChange
from beneficiaries.selectors import beneficiary_status_on
from programs.posts import services
from programs.posts.choices import (
    EmployingUnit,
    EndReason,
    PersonnelChangeKind,
    PersonnelChangeStatus,
    PostStatus,
    UrbanRural,
)
from programs.posts.models import Assignment, PersonnelChange, Post
from programs.posts.payee_accounts import PAYEE_ACCOUNT_PURPOSE
from seeds.factories.funding import EmployerFactory
from tests.conftest import make_user
from tests.posts.conftest import JAN, OTHER_VILLAGE, TOWNSHIP, VILLAGE, make_person
from tracker.accounts.choices import Role
from tracker.changelog.models import ChangeEntry
from tracker.errors import Conflict
from tracker.pii import decrypt, keyed_hash

D = decimal.Decimal
pytestmark = pytest.mark.django_db


def codes(excinfo: pytest.ExceptionInfo) -> dict[str, list[str]]:
    """{field: [rule codes]} of a refusal."""
    return {
        field: [message.split(":")[0] for message in messages]
        for field, messages in excinfo.value.message_dict.items()
    }


# -- posts --------------------------------------------------------------------------------------------


def test_a_post_is_created_and_logged(post, clerk):
    assert post.status == PostStatus.OPEN and post.region.code == VILLAGE
    assert post.region_path.endswith(f"{VILLAGE}/")
    entry = ChangeEntry.objects.get(model="posts.post", object_id=str(post.pk))
    assert entry.actor_name == clerk.username and entry.changes["justification"][1]


def test_the_program_must_pay_posts_in_the_region(make_post, make_post_program):
    with pytest.raises(ValidationError) as excinfo:
        make_post(program=make_post_program(kind="training"))
    assert codes(excinfo) == {"program": ["PROGRAM_NOT_POST"]}
    with pytest.raises(ValidationError) as excinfo:
        make_post(program=make_post_program(region="450400"))
    assert codes(excinfo) == {"program": ["PROGRAM_REGION"]}


def test_the_standard_lies_within_the_program_at_the_boundary(make_post):
    assert make_post(monthly_standard=D("500.00")).pk
    with pytest.raises(ValidationError) as excinfo:
        make_post(monthly_standard=D("500.01"))
    assert codes(excinfo) == {"monthly_standard": ["POST_STANDARD_ABOVE_PROGRAM"]}


def test_a_rural_post_stays_within_its_county_urban_standard(make_post, regions, reviewer):
    services.post_standard_create(
        actor=reviewer, region=regions["3603X1"], year=2021, urban_standard=D("450.00")
    )
    assert make_post(monthly_standard=D("450.00")).pk
    with pytest.raises(ValidationError) as excinfo:
        make_post(monthly_standard=D("450.01"))
    assert codes(excinfo) == {"monthly_standard": ["RURAL_ABOVE_URBAN_STANDARD"]}
    # An urban post is not capped by the rural rule.
    assert make_post(monthly_standard=D("500.00"), urban_rural=UrbanRural.URBAN).pk


def test_a_rural_cap_below_the_urban_standard_applies(make_post, regions, reviewer):
    services.post_standard_create(
        actor=reviewer, region=regions["3603X1"], year=2021, urban_standard=D("500.00"), rural_cap=D("400.00")
    )
    with pytest.raises(ValidationError) as excinfo:
        make_post(monthly_standard=D("400.01"))
    assert codes(excinfo) == {"monthly_standard": ["RURAL_ABOVE_URBAN_STANDARD"]}


def test_a_standard_cannot_be_set_below_rural_posts_already_paid_more(make_post, regions, reviewer):
    make_post(monthly_standard=D("480.00"))
    with pytest.raises(ValidationError) as excinfo:
        services.post_standard_create(
            actor=reviewer, region=regions["3603X1"], year=2021, urban_standard=D("479.99")
        )
    assert codes(excinfo) == {"urban_standard": ["RURAL_ABOVE_URBAN_STANDARD"]}
    standard = services.post_standard_create(
        actor=reviewer, region=regions["3603X1"], year=2021, urban_standard=D("480.00")
    )
    with pytest.raises(ValidationError):
        services.post_standard_update(standard=standard, actor=reviewer, fields={"rural_cap": D("300.00")})


def test_post_standards_are_per_county_by_reviewers(regions, reviewer, clerk):
    with pytest.raises(PermissionDenied):
        services.post_standard_create(actor=clerk, region=regions["3603X1"], year=2021, urban_standard=D("1"))
    with pytest.raises(ValidationError):
        services.post_standard_create(
            actor=reviewer, region=regions[VILLAGE], year=2021, urban_standard=D("1")
        )
    with pytest.raises(ValidationError):
        services.post_standard_create(
            actor=reviewer, region=regions["3603X1"], year=2021, urban_standard=D("300"), rural_cap=D("301")
        )


def test_a_village_committee_employs_within_its_village(make_post, regions):
    with pytest.raises(ValidationError) as excinfo:
        make_post(region=regions[TOWNSHIP])
    assert codes(excinfo) == {"region": ["EMPLOYING_UNIT"]}
    with pytest.raises(ValidationError) as excinfo:
        make_post(employing_unit=EmployingUnit.EMPLOYER)
    assert "employer" in excinfo.value.message_dict
    employer = EmployerFactory(region=regions["360300"])
    assert make_post(employing_unit=EmployingUnit.EMPLOYER, employer=employer, region=regions[TOWNSHIP]).pk


def test_a_post_needs_its_reason(make_post):
    with pytest.raises(ValidationError) as excinfo:
        make_post(justification="  ")
    assert "justification" in excinfo.value.message_dict


def test_an_outsider_cannot_set_a_post_in_pingxiang(regions, post_program, outsider):
    with pytest.raises(PermissionDenied):
        services.post_create(
            actor=outsider,
            fields={
                "region": regions[VILLAGE],
                "employing_unit": EmployingUnit.VILLAGE_COMMITTEE,
                "category": "cleaning",
                "urban_rural": "rural",
                "title": "保洁",
                "headcount": 1,
                "monthly_standard": D("100"),
                "program": post_program,
                "opened_on": JAN,
                "justification": "需要",
            },
        )


# -- hiring: each rule at its boundary ------------------------------------------------------------------


def test_hiring_records_the_holding_the_status_and_the_change(post, person, hire, clerk):
    assignment = hire(
        post,
        person,
        dt.date(2021, 3, 1),
        payee_account_kind="bank_card",
        payee_account="6217 0000 1000 1234 567",
    )
    assert assignment.region_id == post.region_id
    assert beneficiary_status_on(beneficiary=person, on=dt.date(2021, 3, 1)) == "public_welfare_post"
    assert beneficiary_status_on(beneficiary=person, on=dt.date(2021, 2, 28)) == "unemployed"
    change = PersonnelChange.objects.get(assignment=assignment)
    assert (change.kind, change.effective_on, change.reported_on) == (
        PersonnelChangeKind.HIRE,
        dt.date(2021, 3, 1),
        timezone.localdate(),
    )
    assert change.late and change.status == PersonnelChangeStatus.REPORTED and change.reported_by == clerk
    entry = ChangeEntry.objects.get(model="posts.assignment", object_id=str(assignment.pk))
    assert entry.action == "hire"


def test_the_payee_account_is_encrypted_hashed_and_masked(post, person, hire):
    assignment = hire(post, person, payee_account_kind="bank_card", payee_account="6217-0000-1000-1234-567")
    number = "6217000010001234567"
    assert assignment.payee_account_masked == "6217***********4567"
    assert decrypt(assignment.payee_account_encrypted, purpose=PAYEE_ACCOUNT_PURPOSE) == number
    assert assignment.payee_account_hash == keyed_hash(number, purpose=PAYEE_ACCOUNT_PURPOSE)
    entry = ChangeEntry.objects.get(model="posts.assignment", object_id=str(assignment.pk))
    assert number not in str(entry.changes) and assignment.payee_account_encrypted not in str(entry.changes)
    assert entry.changes["payee_account_masked"][1] == "6217***********4567"
    assert "payee_account_hash" not in entry.changes


def test_a_bad_account_number_is_refused(post, person, hire):
    with pytest.raises(ValidationError) as excinfo:
        hire(post, person, payee_account_kind="bank_card", payee_account="12345")
    assert "payee_account" in excinfo.value.message_dict


def test_eligible_group_on_the_start_date(post, person_in, hire):
    person = person_in(since=dt.date(2021, 3, 1))
    with pytest.raises(ValidationError) as excinfo:
        hire(post, person, dt.date(2021, 2, 28))
    assert codes(excinfo) == {"beneficiary": ["NOT_ELIGIBLE"]}
    assert hire(post, person, dt.date(2021, 3, 1)).pk


def test_one_post_at_a_time(make_post, person, hire, clerk):
    first, second = make_post(), make_post()
    held = hire(first, person, JAN)
    with pytest.raises(ValidationError) as excinfo:
        hire(second, person, dt.date(2021, 6, 1))
    assert codes(excinfo) == {"beneficiary": ["ONE_POST_AT_A_TIME"]}
    services.assignment_end(
        assignment=held, actor=clerk, end_date=dt.date(2021, 3, 31), end_reason=EndReason.RESIGNED
    )
    with pytest.raises(ValidationError) as excinfo:
        hire(second, person, dt.date(2021, 3, 31))
    assert codes(excinfo) == {"beneficiary": ["ONE_POST_AT_A_TIME"]}
    assert hire(second, person, dt.date(2021, 4, 1)).pk


def test_the_headcount_holds_on_every_day(make_post, person_in, hire, clerk):
    post = make_post(headcount=2)
    first = hire(post, person_in(), JAN)
    hire(post, person_in(), dt.date(2021, 2, 1))
    with pytest.raises(ValidationError) as excinfo:
        hire(post, person_in(), dt.date(2021, 7, 1))
    assert codes(excinfo) == {"post": ["HEADCOUNT_EXCEEDED"]}
    services.assignment_end(
        assignment=first, actor=clerk, end_date=dt.date(2021, 5, 31), end_reason=EndReason.RESIGNED
    )
    with pytest.raises(ValidationError) as excinfo:
        hire(post, person_in(), dt.date(2021, 5, 31))
    assert codes(excinfo) == {"post": ["HEADCOUNT_EXCEEDED"]}
    assert hire(post, person_in(), dt.date(2021, 6, 1)).pk
    # A back-dated hire into a period that was full is refused too (any day, not only today).
    with pytest.raises(ValidationError) as excinfo:
        hire(post, person_in(), dt.date(2021, 3, 1))
    assert codes(excinfo) == {"post": ["HEADCOUNT_EXCEEDED"]}


def test_the_holding_lies_inside_the_post_open_period(make_post, person, hire):
    post = make_post(opened_on=dt.date(2021, 2, 1))
    with pytest.raises(ValidationError) as excinfo:
        hire(post, person, dt.date(2021, 1, 31))
    assert codes(excinfo) == {"start_date": ["OUTSIDE_POST_PERIOD"]}
    assert hire(post, person, dt.date(2021, 2, 1)).pk


def test_no_hire_recorded_before_it_starts(post, person_in, hire):
    today = timezone.localdate()
    with pytest.raises(ValidationError) as excinfo:
        hire(post, person_in(), today + dt.timedelta(days=1))
    assert codes(excinfo) == {"start_date": ["START_IN_FUTURE"]}
    assert hire(post, person_in(), today).pk


def test_an_end_lies_between_the_start_and_today(make_post, person_in, hire, clerk):
    post = make_post(headcount=5)
    today = timezone.localdate()
    held = hire(post, person_in(), dt.date(2021, 3, 1))
    with pytest.raises(ValidationError) as excinfo:
        services.assignment_end(
            assignment=held, actor=clerk, end_date=dt.date(2021, 2, 28), end_reason="resigned"
        )
    assert codes(excinfo) == {"end_date": ["END_BEFORE_START"]}
    with pytest.raises(ValidationError) as excinfo:
        services.assignment_end(
            assignment=held, actor=clerk, end_date=today + dt.timedelta(days=1), end_reason="resigned"
        )
    assert codes(excinfo) == {"end_date": ["END_IN_FUTURE"]}
    assert services.assignment_end(
        assignment=held, actor=clerk, end_date=dt.date(2021, 3, 1), end_reason="resigned"
    )
    other = hire(post, person_in(), dt.date(2021, 3, 1))
    ended = services.assignment_end(assignment=other, actor=clerk, end_date=today, end_reason="resigned")
    assert ended.end_date == today
    # The status cannot be recorded for tomorrow: it takes effect on the last day itself.
    assert StatusChange.objects.filter(
        beneficiary=other.beneficiary, effective_on=today, status="unemployed"
    ).exists()
    with pytest.raises(Conflict):
        services.assignment_end(assignment=ended, actor=clerk, end_date=today, end_reason="resigned")


def test_rural_posts_exclude_urban_insured_where_the_program_says_so(
    make_post, make_post_program, person_in, hire
):
    program = make_post_program(rural_posts_exclude_urban_insured=True)
    rural = make_post(program=program)
    with pytest.raises(ValidationError) as excinfo:
        hire(rural, person_in(), urban_employee_insured=True)
    assert codes(excinfo) == {"urban_employee_insured": ["URBAN_INSURED_ON_RURAL_POST"]}
    assert hire(rural, person_in(), urban_employee_insured=False).pk
    urban = make_post(program=program, urban_rural=UrbanRural.URBAN)
    assert hire(urban, person_in(), urban_employee_insured=True).pk
    plain = make_post()  # a program without the condition
    assert hire(plain, person_in(), urban_employee_insured=True).pk


def test_the_insurance_rule_holds_on_correction_too(make_post, make_post_program, person, hire, clerk):
    rural = make_post(program=make_post_program(rural_posts_exclude_urban_insured=True))
    held = hire(rural, person)
    with pytest.raises(ValidationError) as excinfo:
        services.assignment_update(assignment=held, actor=clerk, fields={"urban_employee_insured": True})
    assert codes(excinfo) == {"urban_employee_insured": ["URBAN_INSURED_ON_RURAL_POST"]}


def test_no_hire_into_a_suspended_or_closed_post(post, person_in, hire, clerk):
    services.post_suspend(post=post, actor=clerk, reason="整改")
    with pytest.raises(Conflict) as excinfo:
        hire(post, person_in())
    assert excinfo.value.extra["status_now"] == "suspended"
    services.post_resume(post=post, actor=clerk)
    assert hire(post, person_in()).pk


def test_a_post_closes_only_when_its_holders_have_left(post, person, hire, clerk):
    held = hire(post, person, JAN)
    with pytest.raises(ValidationError) as excinfo:
        services.post_close(post=post, actor=clerk, closed_on=dt.date(2021, 6, 30))
    assert codes(excinfo) == {"closed_on": ["POST_HAS_HOLDERS"]}
    services.assignment_end(
        assignment=held, actor=clerk, end_date=dt.date(2021, 6, 30), end_reason="term_expired"
    )
    closed = services.post_close(post=post, actor=clerk, closed_on=dt.date(2021, 6, 30))
    assert (closed.status, closed.closed_on) == (PostStatus.CLOSED, dt.date(2021, 6, 30))
    with pytest.raises(Conflict):
        services.post_close(post=closed, actor=clerk, closed_on=dt.date(2021, 7, 1))


def test_a_post_cannot_shrink_below_its_busiest_day_nor_move(make_post, person_in, hire, clerk, regions):
    post = make_post(headcount=3)
    hire(post, person_in(), JAN)
    hire(post, person_in(), JAN)
    with pytest.raises(ValidationError) as excinfo:
        services.post_update(post=post, actor=clerk, fields={"headcount": 1})
    assert codes(excinfo) == {"headcount": ["HEADCOUNT_EXCEEDED"]}
    assert services.post_update(post=post, actor=clerk, fields={"headcount": 2}).headcount == 2
    with pytest.raises(ValidationError) as excinfo:
        services.post_update(post=post, actor=clerk, fields={"region": regions[OTHER_VILLAGE]})
    assert codes(excinfo) == {"region": ["REGION_FIXED"]}


def test_an_inactive_person_is_not_hired(post, person, hire):
    person.active = False
    person.deactivated_on = dt.date(2020, 12, 1)
    person.deactivation_reason = "moved_away"
    person.save()
    with pytest.raises(ValidationError) as excinfo:
        hire(post, person)
    assert codes(excinfo) == {"beneficiary": ["PERSON_INACTIVE"]}


def test_a_person_outside_the_clerk_region_is_not_hired(post, regions, hire):
    wuzhou = make_person(regions["450400"])
    with pytest.raises(PermissionDenied):
        hire(post, wuzhou)


# -- ending and replacing ------------------------------------------------------------------------------


def test_ending_records_unemployment_which_opens_a_follow_up(post, person, hire, clerk):
    held = hire(post, person, JAN)
    services.assignment_end(
        assignment=held, actor=clerk, end_date=dt.date(2021, 6, 30), end_reason="resigned"
    )
    assert beneficiary_status_on(beneficiary=person, on=dt.date(2021, 6, 30)) == "public_welfare_post"
    assert beneficiary_status_on(beneficiary=person, on=dt.date(2021, 7, 1)) == "unemployed"
    assert FollowUp.objects.filter(beneficiary=person, opened_on=dt.date(2021, 7, 1)).exists()
    change = PersonnelChange.objects.get(assignment=held, kind=PersonnelChangeKind.END)
    assert change.effective_on == dt.date(2021, 6, 30)


def test_ending_records_the_status_given(post, person, hire, clerk):
    held = hire(post, person, JAN)
    services.assignment_end(
        assignment=held,
        actor=clerk,
        end_date=dt.date(2021, 6, 30),
        end_reason=EndReason.FOUND_OTHER_JOB,
        status="employed_local",
    )
    assert beneficiary_status_on(beneficiary=person, on=dt.date(2021, 7, 1)) == "employed_local"
    assert not FollowUp.objects.filter(beneficiary=person).exists()


def test_replacement_ends_and_hires_in_one_change(make_post, person_in, hire, clerk):
    post = make_post(headcount=1)
    leaving, successor = person_in(), person_in()
    held = hire(post, leaving, JAN)
    ended, new = services.assignment_replace(
        assignment=held,
        actor=clerk,
        end_date=dt.date(2021, 4, 30),
        end_reason=EndReason.RESIGNED,
        successor=successor,
        contract_kind="service_agreement",
        contract_signed_on=dt.date(2021, 4, 28),
    )
    assert ended.end_date == dt.date(2021, 4, 30) and new.start_date == dt.date(2021, 5, 1)
    change = PersonnelChange.objects.get(kind=PersonnelChangeKind.REPLACE)
    assert (change.assignment, change.successor, change.effective_on) == (ended, new, dt.date(2021, 5, 1))
    assert PersonnelChange.objects.count() == 2  # the first hire, then the replacement (not a hire too)
    assert beneficiary_status_on(beneficiary=successor, on=dt.date(2021, 5, 1)) == "public_welfare_post"


def test_a_refused_successor_leaves_the_holder_in_post(make_post, person_in, hire, clerk):
    post = make_post(headcount=1)
    held = hire(post, person_in(), JAN)
    veteran = person_in(groups=("veteran",))
    with pytest.raises(ValidationError) as excinfo:
        services.assignment_replace(
            assignment=held,
            actor=clerk,
            end_date=dt.date(2021, 4, 30),
            end_reason="resigned",
            successor=veteran,
        )
    assert codes(excinfo) == {"successor": ["NOT_ELIGIBLE"]}
    held.refresh_from_db()
    assert held.end_date is None and not PersonnelChange.objects.filter(kind="replace").exists()


def test_a_dry_run_replacement_into_a_full_post_passes(make_post, person_in, hire, clerk):
    post = make_post(headcount=1)
    held = hire(post, person_in(), JAN)
    successor = person_in()
    entries = ChangeEntry.objects.count()
    services.assignment_replace(
        assignment=held,
        actor=clerk,
        end_date=dt.date(2021, 4, 30),
        end_reason="resigned",
        successor=successor,
        dry_run=True,
    )
    assert ChangeEntry.objects.count() == entries
    assert Assignment.objects.get(pk=held.pk).end_date is None


# -- personnel changes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("days", "late"), [(30, False), (31, True)])
def test_a_change_reported_more_than_30_days_after_is_late(post, person, hire, days, late):
    held = hire(post, person, JAN, reported_on=JAN + dt.timedelta(days=days))
    assert PersonnelChange.objects.get(assignment=held).late is late


@override_settings(POST_CHANGE_LATE_DAYS=5)
def test_the_lateness_is_a_setting(post, person, hire):
    held = hire(post, person, JAN, reported_on=JAN + dt.timedelta(days=6))
    assert PersonnelChange.objects.get(assignment=held).late


def test_a_report_date_cannot_be_in_the_future(post, person, hire):
    with pytest.raises(ValidationError) as excinfo:
        hire(post, person, reported_on=timezone.localdate() + dt.timedelta(days=1))
    assert codes(excinfo) == {"reported_on": ["REPORTED_IN_FUTURE"]}


def test_a_reviewer_of_the_township_or_above_approves(post, person, hire, reviewer, clerk, regions):
    held = hire(post, person)
    change = PersonnelChange.objects.get(assignment=held)
    with pytest.raises(PermissionDenied):
        services.personnel_change_approve(change=change, actor=clerk)
    village_reviewer = make_user("reviewer_village", regions[VILLAGE], Role.REVIEWER)
    with pytest.raises(PermissionDenied, match="APPROVER_BELOW_TOWNSHIP"):
        services.personnel_change_approve(change=change, actor=village_reviewer)
    township_reviewer = make_user("reviewer_township", regions[TOWNSHIP], Role.REVIEWER)
    approved = services.personnel_change_approve(change=change, actor=township_reviewer)
    assert (approved.status, approved.approved_by) == (PersonnelChangeStatus.APPROVED, township_reviewer)
    with pytest.raises(Conflict):
        services.personnel_change_approve(change=change, actor=reviewer)


def test_the_reporter_never_approves(post, person, regions):
    both = make_user("clerk_and_reviewer", regions["360300"], Role.CLERK, Role.REVIEWER)
    held = services.assignment_hire(actor=both, post=post, beneficiary=person, start_date=JAN)
    with pytest.raises(PermissionDenied, match="MAKER_CHECKER"):
        services.personnel_change_approve(change=PersonnelChange.objects.get(assignment=held), actor=both)


def test_dry_runs_write_nothing(regions, post_program, person, clerk, post):
    entries = ChangeEntry.objects.count()
    services.post_create(
        actor=clerk,
        fields={
            "region": regions[VILLAGE],
            "employing_unit": EmployingUnit.VILLAGE_COMMITTEE,
            "category": "cleaning",
            "urban_rural": "rural",
            "title": "保洁",
            "headcount": 1,
            "monthly_standard": D("100"),
            "program": post_program,
            "opened_on": JAN,
            "justification": "需要",
        },
        dry_run=True,
    )
    services.assignment_hire(actor=clerk, post=post, beneficiary=person, start_date=JAN, dry_run=True)
    assert ChangeEntry.objects.count() == entries
    assert not Assignment.objects.exists() and Post.objects.count() == 1
