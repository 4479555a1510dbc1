"""The monthly subsidy run: proration, every reason not to pay, idempotency, the ledger's batch path
(every payment rule, constant queries per batch) and what an inspection finds afterwards."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from beneficiaries.models import Beneficiary, GroupMembership, StatusChange
from programs.funding import services as ledger
from programs.funding.choices import PaymentStatus
from programs.funding.models import Payment
from programs.posts import services
from programs.posts.choices import ContractKind
from programs.posts.models import Assignment, Attendance, SubsidyRun
from programs.posts.rules import subsidy_amount
from programs.posts.selectors import inspection_findings
from tests.posts.conftest import JAN, OTHER_VILLAGE, VILLAGE, make_group
from tests.posts.test_attendance import record
from tests.posts.test_services import codes
from tracker.changelog.models import ChangeEntry
from tracker.changelog.services import tracked_bulk_create
from tracker.periods import Month
from tracker.regions.models import Region

D = decimal.Decimal
pytestmark = pytest.mark.django_db


def run(clerk, regions, month="2021-03", region=VILLAGE, **kwargs):
    return services.subsidy_run_create(actor=clerk, region=regions[region], month=month, **kwargs)


def only_skip(result):
    assert result.paid_count == 0 and len(result.skipped) == 1, result.skipped
    return result.skipped[0]


@pytest.mark.parametrize(
    ("present", "leave", "required", "amount"),
    [
        (23, 0, 23, "500.00"),
        (11, 0, 22, "250.00"),
        (18, 4, 22, "500.00"),
        (10, 0, 21, "238.10"),
        (1, 0, 3, "166.67"),
    ],
)
def test_proration(present, leave, required, amount):
    assert subsidy_amount(D("500.00"), present=present, leave=leave, required=required) == D(amount)


def test_a_full_month_pays_the_standard_as_a_submitted_payment_caused_by_the_assignment(
    post, person, hire, clerk, regions
):
    held = hire(post, person)
    record(clerk, held, required=23, present=23)
    result = run(clerk, regions)
    assert (result.considered, result.paid_count, result.skipped_count, result.total) == (
        1,
        1,
        0,
        D("500.00"),
    )
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.SUBMITTED and payment.submitted_by == clerk
    assert (payment.period_start, payment.period_end, payment.amount) == (
        dt.date(2021, 3, 1),
        dt.date(2021, 3, 31),
        D("500.00"),
    )
    assert (payment.cause_label, payment.cause_object_id, payment.beneficiary) == (
        "posts.assignment",
        str(held.pk),
        person,
    )
    assert payment.cause == held
    assert result.payments == [
        {
            "payment": payment.pk,
            "assignment": held.pk,
            "beneficiary": person.pk,
            "period_start": "2021-03-01",
            "period_end": "2021-03-31",
            "amount": "500.00",
        }
    ]
    assert SubsidyRun.objects.get().created_by == clerk
    assert ChangeEntry.objects.filter(model="posts.subsidyrun", action="subsidy_run").count() == 1


def test_hired_mid_month_and_present_11_of_22_pays_half_for_the_days_held(post, person, hire, clerk, regions):
    hire(post, person, dt.date(2021, 3, 16))
    record(clerk, Assignment.objects.get(), required=22, present=11)
    result = run(clerk, regions)
    payment = Payment.objects.get()
    assert (payment.period_start, payment.amount, result.total) == (
        dt.date(2021, 3, 16),
        D("250.00"),
        D("250.00"),
    )


def test_paid_leave_counts_as_present(post, person, hire, clerk, regions):
    record(clerk, hire(post, person), required=22, present=18, leave=4)
    assert run(clerk, regions).total == D("500.00")


def test_a_holder_who_left_mid_month_is_paid_for_the_days_held(post, person, hire, clerk, regions):
    held = hire(post, person)
    services.assignment_end(
        assignment=held, actor=clerk, end_date=dt.date(2021, 3, 15), end_reason="resigned"
    )
    record(clerk, Assignment.objects.get(), required=23, present=10)
    run(clerk, regions)
    payment = Payment.objects.get()
    assert (payment.period_end, payment.amount) == (dt.date(2021, 3, 15), D("217.39"))
    # April: the holding is over, so the run does not even consider it.
    assert run(clerk, regions, month="2021-04").considered == 0


def test_an_unqualified_assessment_stops_the_month(post, person, hire, clerk, regions):
    held = hire(post, person)
    record(clerk, held)
    services.assessment_standard_create(
        actor=clerk, region=regions[VILLAGE], effective_from=JAN, title="细则", text="…"
    )
    services.assessment_create(
        actor=clerk, assignment=held, period_kind="quarter", period="2021-Q1", rating="unqualified"
    )
    skip = only_skip(run(clerk, regions))
    assert (skip["code"], skip["assignment"]) == ("UNQUALIFIED_ASSESSMENT", held.pk)
    assert "2021-Q1" in skip["message"]
    assert not Payment.objects.exists()


def test_a_qualified_assessment_pays(post, person, hire, clerk, regions):
    held = hire(post, person)
    record(clerk, held)
    services.assessment_standard_create(
        actor=clerk, region=regions[VILLAGE], effective_from=JAN, title="细则", text="…"
    )
    services.assessment_create(
        actor=clerk, assignment=held, period_kind="month", period="2021-03", rating="basically_qualified"
    )
    assert run(clerk, regions).paid_count == 1


def test_no_signed_contract_by_the_month_end_is_not_paid(post, person_in, hire, clerk, regions):
    unsigned = hire(post, person_in(), contract=False)
    late = hire(post, person_in(), contract=False)
    services.assignment_update(
        assignment=late,
        actor=clerk,
        fields={"contract_kind": ContractKind.LABOUR_CONTRACT, "contract_signed_on": dt.date(2021, 4, 1)},
    )
    for held in (unsigned, late):
        record(clerk, held)
    result = run(clerk, regions)
    assert [s["code"] for s in result.skipped] == ["NO_CONTRACT", "NO_CONTRACT"]
    services.assignment_update(
        assignment=late, actor=clerk, fields={"contract_signed_on": dt.date(2021, 3, 31)}
    )
    assert run(clerk, regions).paid_count == 1


def test_no_attendance_is_not_paid(post, person, hire, clerk, regions):
    hire(post, person)
    assert only_skip(run(clerk, regions))["code"] == "NO_ATTENDANCE"


def test_a_month_without_a_day_worked_is_not_paid(post, person, hire, clerk, regions):
    record(clerk, hire(post, person), present=0)
    assert only_skip(run(clerk, regions))["code"] == "NOTHING_TO_PAY"


def test_a_payment_rule_refusal_is_reported_by_its_code(post, person, hire, clerk, regions):
    held = hire(post, person)
    record(clerk, held)
    membership = GroupMembership.objects.get(beneficiary=person)
    membership.valid_to = dt.date(2021, 2, 28)
    membership.save()
    skip = only_skip(run(clerk, regions))
    assert (skip["code"], skip["codes"]) == ("NOT_ELIGIBLE", ["NOT_ELIGIBLE"])
    assert skip["message"].startswith("NOT_ELIGIBLE")


def test_running_a_month_twice_creates_nothing_new_and_reports_the_payments(
    post, person_in, hire, clerk, reviewer, regions
):
    first, second = hire(post, person_in()), hire(post, person_in())
    record(clerk, first)
    one = run(clerk, regions)
    assert (one.paid_count, one.skipped[0]["code"]) == (1, "NO_ATTENDANCE")
    record(clerk, second)
    two = run(clerk, regions)
    assert two.paid_count == 1 and two.already_paid_count == 1
    paid = Payment.objects.get(cause_object_id=str(first.pk))
    assert two.skipped == [
        {
            "assignment": first.pk,
            "post": post.pk,
            "beneficiary": first.beneficiary_id,
            "code": "ALREADY_PAID",
            "codes": ["ALREADY_PAID"],
            "message": f"already paid for 2021-03 (payment #{paid.pk}).",
            "payment": paid.pk,
        }
    ]
    payments = Payment.objects.count()
    three = run(clerk, regions)
    assert (three.paid_count, three.already_paid_count, Payment.objects.count()) == (0, 2, payments)
    # A rejected payment no longer pays the month: the next run pays it again.
    ledger.payment_reject(payment=paid, actor=reviewer, reason="材料不全")
    assert run(clerk, regions).paid_count == 1


def test_a_paid_month_keeps_its_attendance(post, person, hire, clerk, regions):
    held = hire(post, person)
    record(clerk, held, present=23)
    run(clerk, regions)
    assert record(clerk, held, present=23)[0].days_present == 23  # the same figures: no change
    with pytest.raises(ValidationError) as excinfo:
        record(clerk, held, present=20)
    assert codes(excinfo) == {"days_present": ["ATTENDANCE_ALREADY_PAID"]}


def test_a_dry_run_writes_nothing(post, person, hire, clerk, regions):
    record(clerk, hire(post, person))
    entries = ChangeEntry.objects.count()
    result = run(clerk, regions, dry_run=True)
    assert result.pk is None and result.paid_count == 1 and result.payments[0]["payment"] is None
    assert not Payment.objects.exists() and not SubsidyRun.objects.exists()
    assert ChangeEntry.objects.count() == entries


def test_a_month_not_begun_is_refused(post, clerk, regions):
    later = Month.of(timezone.localdate().replace(day=1) + dt.timedelta(days=32))
    with pytest.raises(ValidationError) as excinfo:
        run(clerk, regions, month=str(later))
    assert codes(excinfo) == {"month": ["MONTH_IN_FUTURE"]}


def test_an_outsider_cannot_run_pingxiang(post, outsider, regions):
    with pytest.raises(PermissionDenied):
        run(outsider, regions)


def test_a_run_over_a_wider_region_covers_its_villages(make_post, person_in, hire, clerk, regions):
    east = make_post()
    west = make_post(region=regions[OTHER_VILLAGE])
    record(clerk, hire(east, person_in()))
    record(clerk, hire(west, person_in(OTHER_VILLAGE)))
    assert run(clerk, regions, region="3603X1").paid_count == 2
    assert run(clerk, regions, region=VILLAGE).already_paid_count == 1


def test_a_late_end_leaves_a_paid_month_the_inspection_finds(post, person, hire, clerk, regions):
    held = hire(post, person)
    record(clerk, held, month="2021-06", required=22, present=22)
    run(clerk, regions, month="2021-06")
    # Reported on 2021-08-10: the holder had left on 2021-05-31.
    services.assignment_end(
        assignment=held,
        actor=clerk,
        end_date=dt.date(2021, 5, 31),
        end_reason="found_other_job",
        reported_on=dt.date(2021, 8, 10),
    )
    findings = inspection_findings(
        region_path=regions["3603X1"].path, first=Month(2021, 1), last=Month(2021, 7)
    )
    paid_after = [f for f in findings["subsidy_payment"] if f["problem"] == "paid_after_leaving"]
    assert paid_after == [
        {
            "payment": Payment.objects.get().pk,
            "assignment": held.pk,
            "left_on": "2021-05-31",
            "period_end": "2021-06-30",
            "problem": "paid_after_leaving",
        }
    ]
    assert {f["problem"] for f in findings["personnel_changes"]} == {"reported_late", "not_approved"}
    months = {f["month"] for f in findings["attendance_assessment"] if f["problem"] == "no_attendance"}
    assert months == {"2021-01", "2021-02", "2021-03", "2021-04", "2021-05"}
    assert findings["labor_contract_signing"] == []


# -- constant queries per batch ------------------------------------------------------------------------


def _bulk_holders(post, clerk, count: int) -> list[Assignment]:
    """`count` holders of the post with everything a full March needs, written in bulk (test data)."""
    group = make_group("lifted_out_of_poverty")
    people = [
        Beneficiary(
            name="王五",
            id_number_encrypted=f"bulk-{post.pk}-{n}",
            id_number_hash=f"bulk-hash-{post.pk}-{n}",
            id_number_masked="360323********0000",
            gender="female",
            birth_date=dt.date(1970, 1, 1),
            region_id=post.region_id,
        )
        for n in range(count)
    ]
    tracked_bulk_create(Beneficiary, people)
    tracked_bulk_create(
        GroupMembership, [GroupMembership(beneficiary=p, group=group, valid_from=JAN) for p in people]
    )
    tracked_bulk_create(
        StatusChange,
        [
            StatusChange(beneficiary=p, status="public_welfare_post", effective_on=JAN, source="visit")
            for p in people
        ],
    )
    holdings = [
        Assignment(
            post=post,
            beneficiary=p,
            region_id=post.region_id,
            start_date=JAN,
            contract_kind=ContractKind.LABOUR_CONTRACT,
            contract_signed_on=JAN,
        )
        for p in people
    ]
    tracked_bulk_create(Assignment, holdings)
    now = timezone.now()
    tracked_bulk_create(
        Attendance,
        [
            Attendance(
                assignment=a,
                region_id=post.region_id,
                month="2021-03",
                days_required=23,
                days_present=23,
                source="sign_in_sheet",
                recorded_by=clerk,
                recorded_at=now,
            )
            for a in holdings
        ],
    )
    return holdings


def test_a_run_costs_the_same_queries_for_10_and_1000_assignments(make_post, clerk, regions):
    # Read once per request or process, not part of the comparison.
    assert clerk.roles
    ContentType.objects.get_for_model(Assignment)
    Region.cache_paths([regions[VILLAGE].pk, regions[OTHER_VILLAGE].pk])
    small = make_post(headcount=10)
    large = make_post(headcount=1000, region=regions[OTHER_VILLAGE])
    _bulk_holders(small, clerk, 10)
    _bulk_holders(large, clerk, 1000)

    def measure(village: str) -> tuple[int, int, SubsidyRun]:
        with CaptureQueriesContext(connection) as ctx:
            result = run(clerk, regions, region=village)
        inserts = [q for q in ctx.captured_queries if q["sql"].startswith('INSERT INTO "funding_payment"')]
        return len(ctx.captured_queries), len(inserts), result

    few, few_inserts, few_run = measure(VILLAGE)
    many, many_inserts, many_run = measure(OTHER_VILLAGE)
    assert (few_run.paid_count, many_run.paid_count) == (10, 1000)
    assert many_run.total == D("500000.00")
    if connection.vendor == "postgresql":
        assert few == many
    else:
        # SQLite: Django splits a bulk INSERT at 999 parameters, so 1,000 payments take several
        # INSERT statements of one batch; every other query is the same.
        assert few_inserts == 1 and many_inserts > 1
        assert few - few_inserts == many - many_inserts
