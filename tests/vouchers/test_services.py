"""The voucher services: issuing (plan cap, one live voucher per type, three a year), every
transition legal and illegal, expiry at each step, claim proofs and lock-out, completion, evaluation,
redemption per payee, living allowances, institution suspension, moving, expiry job."""

from __future__ import annotations

import datetime as dt
import decimal
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from programs.funding import services as funding
from programs.funding.choices import InstitutionStatus, PayeeKind, PaymentStatus, ProgramKind, Unit
from programs.funding.models import Payment
from programs.vouchers import rules, services
from programs.vouchers.choices import (
    CheckInRejection,
    ClaimChannel,
    Datum,
    FaceValueRule,
    VoucherPayee,
    VoucherStatus,
)
from programs.vouchers.models import (
    Certificate,
    CheckIn,
    Evaluation,
    TrainingAllowance,
    Voucher,
    WorkerTrainingProfile,
)
from seeds.factories.funding import EmployerFactory, ProgramFactory, TrainingInstitutionFactory
from tests.programs.conftest import make_group
from tests.vouchers.conftest import check_in_at_site, holder_last6, make_holder, near_site, sessions
from tracker.changelog.models import ChangeEntry
from tracker.errors import Conflict, TooManyRequests
from tracker.geo import wgs84_to_gcj02

D = decimal.Decimal
S = VoucherStatus
pytestmark = pytest.mark.django_db


def codes_of(exc: ValidationError) -> set[str]:
    return {e.code for errors in exc.error_dict.values() for e in errors}


# -- issuing ---------------------------------------------------------------------------------------------


def test_issue_one(clerk, plan, holder):
    voucher = services.voucher_issue(plan=plan, holder=holder, actor=clerk)
    assert voucher.status == S.ISSUED
    assert voucher.type == plan.type and voucher.holder == holder
    assert voucher.expires_on == timezone.localdate() + dt.timedelta(days=364)
    assert voucher.region_path == holder.region_path
    entry = ChangeEntry.objects.get(model="vouchers.voucher", object_id=str(voucher.pk))
    assert (entry.action, entry.actor_name) == ("issue", "clerk_pingxiang")
    assert entry.changes["code"] == [None, voucher.code]


def test_issue_refuses_a_person_outside_the_groups(clerk, plan, holder_in):
    with pytest.raises(ValidationError) as exc:
        services.voucher_issue(plan=plan, holder=holder_in(groups=("veteran",)), actor=clerk)
    assert codes_of(exc.value) == {rules.NOT_ELIGIBLE}
    assert not Voucher.objects.exists()


def test_one_live_voucher_per_type_until_it_is_cancelled_or_used(clerk, plan, holder, issue, walk):
    first = issue(holder)
    with pytest.raises(ValidationError) as exc:
        issue(holder)
    assert codes_of(exc.value) == {rules.ONE_LIVE_PER_TYPE}
    services.voucher_cancel(voucher=first, actor=clerk, reason="issued by mistake")
    second = issue(holder)
    walk(second, S.COMPLETED)
    assert issue(holder).status == S.ISSUED  # a completed training frees the type


def test_three_subsidised_vouchers_a_year(clerk, make_type, make_plan, holder):
    plans = [make_plan(make_type()) for _ in range(4)]
    for plan in plans[:3]:
        services.voucher_issue(plan=plan, holder=holder, actor=clerk)
    with pytest.raises(ValidationError) as exc:
        services.voucher_issue(plan=plans[3], holder=holder, actor=clerk)
    assert codes_of(exc.value) == {rules.SUBSIDISED_PER_YEAR}
    # A check-in-only voucher is no subsidised training.
    check_in_only = make_plan(make_type(payee=VoucherPayee.NONE, eligible_groups=[]))
    assert services.voucher_issue(plan=check_in_only, holder=holder, actor=clerk).status == S.ISSUED
    # A cancelled one no longer counts.
    services.voucher_cancel(
        voucher=Voucher.objects.filter(plan=plans[0]).get(), actor=clerk, reason="mistake"
    )
    assert services.voucher_issue(plan=plans[3], holder=holder, actor=clerk)


@override_settings(VOUCHER_MAX_SUBSIDISED_PER_YEAR=1)
def test_the_yearly_limit_is_a_setting(clerk, make_type, make_plan, holder):
    services.voucher_issue(plan=make_plan(make_type()), holder=holder, actor=clerk)
    with pytest.raises(ValidationError) as exc:
        services.voucher_issue(plan=make_plan(make_type()), holder=holder, actor=clerk)
    assert codes_of(exc.value) == {rules.SUBSIDISED_PER_YEAR}


def test_skill_upgrading_needs_twelve_months_of_contributions(
    clerk, make_type, make_plan, make_voucher_program, holder
):
    program = make_voucher_program(code="PX_SKILL_UPGRADING", payee_kind=PayeeKind.PERSON)
    plan = make_plan(
        make_type(
            payee=VoucherPayee.PERSON,
            program=program,
            min_ui_contribution_months=12,
            face_value_rule=FaceValueRule.FIXED,
            face_value=D("1000.00"),
        )
    )
    with pytest.raises(ValidationError) as exc:
        services.voucher_issue(plan=plan, holder=holder, actor=clerk)
    assert codes_of(exc.value) == {rules.UI_CONTRIBUTIONS}
    services.worker_training_profile_set(beneficiary=holder, actor=clerk, ui_contribution_months=11)
    with pytest.raises(ValidationError):
        services.voucher_issue(plan=plan, holder=holder, actor=clerk)
    services.worker_training_profile_set(beneficiary=holder, actor=clerk, ui_contribution_months=12)
    assert services.voucher_issue(plan=plan, holder=holder, actor=clerk)
    assert WorkerTrainingProfile.objects.get(beneficiary=holder).version == 2


def test_plan_cap_at_its_boundary_and_all_or_nothing(clerk, make_plan, voucher_type, holder_in):
    plan = make_plan(voucher_type, cap=3)
    people = [holder_in() for _ in range(4)]
    with pytest.raises(ValidationError) as exc:
        services.vouchers_issue_batch(plan=plan, holders=people, actor=clerk)
    assert codes_of(exc.value) == {rules.PLAN_CAP}
    assert not Voucher.objects.exists()
    result = services.vouchers_issue_batch(plan=plan, holders=people[:3], actor=clerk)
    assert len(result.issued) == 3
    with pytest.raises(ValidationError):
        services.voucher_issue(plan=plan, holder=people[3], actor=clerk)
    # A cancelled voucher gives its place back.
    services.voucher_cancel(voucher=result.issued[0], actor=clerk, reason="moved away")
    assert services.voucher_issue(plan=plan, holder=people[3], actor=clerk)


def test_batch_with_refusals_all_or_nothing_or_skipping(clerk, plan, holder_in):
    good = [holder_in(), holder_in()]
    bad = holder_in(groups=("veteran",))
    with pytest.raises(ValidationError) as exc:
        services.vouchers_issue_batch(plan=plan, holders=[good[0], bad, good[1]], actor=clerk)
    assert set(exc.value.error_dict) == {"holders.1.holder"}
    assert not Voucher.objects.exists()
    result = services.vouchers_issue_batch(
        plan=plan, holders=[good[0], bad, good[1]], actor=clerk, skip_refused=True
    )
    assert [v.holder for v in result.issued] == good
    assert result.refusal_codes(1) == [rules.NOT_ELIGIBLE]


def test_batch_refuses_duplicates_and_a_person_outside_the_actor_region(clerk, plan, holder, holder_in):
    with pytest.raises(ValidationError):
        services.vouchers_issue_batch(plan=plan, holders=[holder, holder], actor=clerk)
    with pytest.raises(PermissionDenied):
        services.vouchers_issue_batch(plan=plan, holders=[holder, holder_in("450400")], actor=clerk)
    assert not Voucher.objects.exists()


def test_issue_outside_the_plan_region_or_year(
    clerk, reviewer, make_plan, voucher_type, regions, holder_in, superuser
):
    wuzhou = holder_in("450400")
    with pytest.raises(ValidationError) as exc:
        services.voucher_issue(plan=make_plan(voucher_type), holder=wuzhou, actor=superuser)
    assert codes_of(exc.value) == {rules.HOLDER_OUTSIDE_PLAN}
    last_year = make_plan(voucher_type, year=timezone.localdate().year - 1)
    with pytest.raises(ValidationError) as exc:
        services.voucher_issue(plan=last_year, holder=holder_in(), actor=clerk)
    assert codes_of(exc.value) == {rules.PLAN_YEAR}


def test_batch_query_count_is_constant(clerk, plan, holder_in):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    clerk.roles  # noqa: B018 - warm the per-user cache
    services.vouchers_issue_batch(plan=plan, holders=[holder_in()], actor=clerk)  # warm the region caches
    few = [holder_in() for _ in range(3)]
    many = [holder_in() for _ in range(30)]  # one INSERT on SQLite too (999 parameters, 27 columns)
    with CaptureQueriesContext(connection) as small:
        services.vouchers_issue_batch(plan=plan, holders=few, actor=clerk)
    with CaptureQueriesContext(connection) as large:
        services.vouchers_issue_batch(plan=plan, holders=many, actor=clerk)
    assert len(large) == len(small)


# -- transitions ---------------------------------------------------------------------------------------------


def _move(verb, voucher, clerk, course, now):
    later = now + dt.timedelta(days=7)
    calls = {
        "claim": lambda: services.voucher_claim(
            voucher=voucher, actor=clerk, channel=ClaimChannel.COUNTER, proof=holder_last6(voucher.holder)
        ),
        "enroll": lambda: services.voucher_enroll(voucher=voucher, course=course, actor=clerk),
        "complete": lambda: services.voucher_complete(voucher=voucher, actor=clerk, now=later),
        "redeem": lambda: services.voucher_redeem(voucher=voucher, actor=clerk, now=later),
        "cancel": lambda: services.voucher_cancel(voucher=voucher, actor=clerk, reason="test"),
    }
    return calls[verb]()


ALLOWED = {
    "claim": {S.ISSUED},
    "enroll": {S.CLAIMED},
    "complete": {S.ENROLLED},
    "redeem": {S.COMPLETED},
    "cancel": {S.ISSUED, S.CLAIMED, S.ENROLLED},
}
REACHABLE = [S.ISSUED, S.CLAIMED, S.ENROLLED, S.COMPLETED, S.REDEEMED, S.CANCELLED, S.EXPIRED]


def _voucher_in(status, issue, walk, clerk):
    if status == S.CANCELLED:
        voucher = issue()
        return services.voucher_cancel(voucher=voucher, actor=clerk, reason="test")
    if status == S.EXPIRED:
        voucher = issue()
        services.vouchers_expire(actor=clerk, today=voucher.expires_on + dt.timedelta(days=1))
        voucher.refresh_from_db()
        return voucher
    return walk(issue(), status)


@pytest.mark.parametrize("verb", sorted(ALLOWED))
@pytest.mark.parametrize("status", REACHABLE)
def test_every_transition_legal_and_illegal(verb, status, issue, walk, clerk, course, now):
    voucher = _voucher_in(status, issue, walk, clerk)
    assert voucher.status == status
    if verb == "complete" and status == S.ENROLLED:
        for session in sessions(course):
            check_in_at_site(voucher, session, clerk)
    if status in ALLOWED[verb]:
        result = _move(verb, voucher, clerk, course, now)
        result = getattr(result, "voucher", result)
        assert result.status != status or verb == "move"
        entry = ChangeEntry.objects.filter(model="vouchers.voucher", object_id=str(voucher.pk)).order_by(
            "-id"
        )
        assert entry.filter(action=verb).exists()
    else:
        with pytest.raises(Conflict) as exc:
            _move(verb, voucher, clerk, course, now)
        assert exc.value.extra["status_now"] == status
        voucher.refresh_from_db()
        assert voucher.status == status


def _past_expiry(voucher):
    return timezone.make_aware(dt.datetime.combine(voucher.expires_on + dt.timedelta(days=1), dt.time(10)))


def test_expiry_is_checked_at_every_step_before_the_job_runs(issue, walk, clerk, course):
    issued = issue()
    with pytest.raises(Conflict) as exc:
        services.voucher_claim(
            voucher=issued,
            actor=clerk,
            channel=ClaimChannel.COUNTER,
            proof=holder_last6(issued.holder),
            now=_past_expiry(issued),
        )
    assert "EXPIRED" in str(exc.value.detail) and exc.value.extra["expired"] is True
    claimed = walk(issue(), S.CLAIMED)
    with pytest.raises(Conflict):
        services.voucher_enroll(voucher=claimed, course=course, actor=clerk, now=_past_expiry(claimed))
    enrolled = walk(issue(), S.ENROLLED)
    session = sessions(course)[0]
    late = _past_expiry(enrolled)
    record = check_in_at_site(enrolled, session, clerk, at=late)
    assert (record.accepted, record.rejection) == (False, CheckInRejection.EXPIRED)
    with pytest.raises(Conflict):
        services.voucher_complete(voucher=enrolled, actor=clerk, now=late)
    completed = walk(issue(), S.COMPLETED)
    with pytest.raises(Conflict):
        services.voucher_redeem(voucher=completed, actor=clerk, now=_past_expiry(completed))
    assert not Payment.objects.exists()
    # Statuses are unchanged: only the job marks them.
    assert set(Voucher.objects.values_list("status", flat=True)) == {
        S.ISSUED,
        S.CLAIMED,
        S.ENROLLED,
        S.COMPLETED,
    }


def test_expire_job_marks_issued_and_claimed_past_their_day(issue, walk, clerk, reviewer):
    issued, claimed, enrolled = issue(), walk(issue(), S.CLAIMED), walk(issue(), S.ENROLLED)
    day_after = issued.expires_on + dt.timedelta(days=1)
    assert services.vouchers_expire(actor=clerk, today=issued.expires_on) == 0
    call_command("expire_vouchers", "--today", day_after.isoformat(), stdout=io.StringIO())
    statuses = dict(Voucher.objects.values_list("pk", "status"))
    assert statuses == {issued.pk: S.EXPIRED, claimed.pk: S.EXPIRED, enrolled.pk: S.ENROLLED}
    entry = ChangeEntry.objects.get(model="vouchers.voucher", object_id=str(issued.pk), action="expire")
    assert entry.actor_name == "expire_vouchers" and entry.changes["status"] == [S.ISSUED, S.EXPIRED]
    assert services.vouchers_expire(actor=reviewer, today=day_after) == 0  # nothing left


# -- claiming --------------------------------------------------------------------------------------------------


def test_claim_with_the_card_on_file_or_the_identity_number(issue, clerk, holder_in):
    with_card = issue(holder_in(card="PX0000777777"))
    claimed = services.voucher_claim(
        voucher=with_card, actor=clerk, channel=ClaimChannel.E_SSC, proof="px0000777777 "
    )
    assert (claimed.status, claimed.claim_channel, claimed.claimed_by) == (S.CLAIMED, "e_ssc", clerk)
    at_counter = issue(holder_in())
    services.voucher_claim(
        voucher=at_counter,
        actor=clerk,
        channel=ClaimChannel.COUNTER,
        proof=holder_last6(at_counter.holder).lower(),
    )
    at_counter.refresh_from_db()
    assert at_counter.status == S.CLAIMED
    entry = ChangeEntry.objects.get(model="vouchers.voucher", object_id=str(at_counter.pk), action="claim")
    assert entry.reason == "counter"


def test_no_card_on_file_is_refused_without_counting(issue, clerk, holder_in):
    voucher = issue(holder_in(card=""))
    with pytest.raises(ValidationError) as exc:
        services.voucher_claim(voucher=voucher, actor=clerk, channel=ClaimChannel.E_SSC, proof="anything")
    assert codes_of(exc.value) == {rules.NO_CARD_ON_FILE}
    voucher.refresh_from_db()
    assert voucher.claim_failures == 0


def test_five_wrong_proofs_lock_claiming_for_an_hour(issue, clerk, now):
    voucher = issue()
    right = holder_last6(voucher.holder)
    for attempt in range(1, 5):
        with pytest.raises(ValidationError) as exc:
            services.voucher_claim(
                voucher=voucher, actor=clerk, channel=ClaimChannel.COUNTER, proof="000000", now=now
            )
        assert codes_of(exc.value) == {rules.WRONG_PROOF}
        voucher.refresh_from_db()
        assert voucher.claim_failures == attempt
    with pytest.raises(ValidationError):
        services.voucher_claim(
            voucher=voucher, actor=clerk, channel=ClaimChannel.COUNTER, proof="000000", now=now
        )
    voucher.refresh_from_db()
    assert voucher.claim_locked_until == now + dt.timedelta(hours=1)
    # Locked: even the right proof is refused, with how long to wait.
    later = now + dt.timedelta(minutes=59, seconds=30)
    with pytest.raises(TooManyRequests) as exc:
        services.voucher_claim(
            voucher=voucher, actor=clerk, channel=ClaimChannel.COUNTER, proof=right, now=later
        )
    assert exc.value.retry_after == 30
    # After the hour the right proof claims it and the count starts afresh.
    claimed = services.voucher_claim(
        voucher=voucher,
        actor=clerk,
        channel=ClaimChannel.COUNTER,
        proof=right,
        now=now + dt.timedelta(hours=1),
    )
    assert (claimed.status, claimed.claim_failures, claimed.claim_locked_until) == (S.CLAIMED, 0, None)
    failed = ChangeEntry.objects.filter(
        model="vouchers.voucher", object_id=str(voucher.pk), action="claim_failed"
    )
    assert failed.count() == 5


@override_settings(VOUCHER_CLAIM_MAX_FAILURES=2, VOUCHER_CLAIM_LOCK_SECONDS=60)
def test_lock_out_limits_are_settings(issue, clerk, now):
    voucher = issue()
    for _ in range(2):
        with pytest.raises(ValidationError):
            services.voucher_claim(
                voucher=voucher, actor=clerk, channel=ClaimChannel.COUNTER, proof="0", now=now
            )
    voucher.refresh_from_db()
    assert voucher.claim_locked_until == now + dt.timedelta(seconds=60)


# -- enrolment, check-ins, completion, evaluation ----------------------------------------------------------------


def test_enrolment_refusals(
    issue, walk, clerk, make_course, make_type, make_plan, holder_in, institution, reviewer
):
    voucher = walk(issue(), S.CLAIMED)
    ended = make_course(
        starts_on=timezone.localdate() - dt.timedelta(days=30),
        ends_on=timezone.localdate() - dt.timedelta(days=1),
        sessions=[],
    )
    with pytest.raises(ValidationError) as exc:
        services.voucher_enroll(voucher=voucher, course=ended, actor=clerk)
    assert codes_of(exc.value) == {rules.COURSE_ENDED}
    cooks_only = make_plan(make_type(occupations=["4-03-02-01"]))
    other = walk(services.voucher_issue(plan=cooks_only, holder=holder_in(), actor=clerk), S.CLAIMED)
    with pytest.raises(ValidationError) as exc:
        services.voucher_enroll(voucher=other, course=make_course(sessions=[]), actor=clerk)
    assert codes_of(exc.value) == {rules.OCCUPATION_NOT_ALLOWED}
    voucher.refresh_from_db()
    assert voucher.status == S.CLAIMED


def test_check_ins_accepted_and_rejected_are_all_kept(walk, issue, clerk, course, now):
    voucher = walk(issue(), S.ENROLLED)
    first, second, running = sessions(course)[:3]

    def check_in(session, *, at=None, point=None, datum=Datum.WGS84, accuracy=None):
        point = point or near_site()
        return services.voucher_check_in(
            voucher=voucher,
            session=session,
            actor=clerk,
            latitude=point.latitude,
            longitude=point.longitude,
            at=at or session.starts_at,
            datum=datum,
            accuracy_m=accuracy,
            now=now,
        )

    early = check_in(first, at=first.starts_at - dt.timedelta(minutes=16))
    far = check_in(first, point=near_site(800))
    ok = check_in(first, at=first.starts_at - dt.timedelta(minutes=15))
    again = check_in(first)
    # A phone reporting GCJ-02 at the site is accepted once converted; the same numbers read as
    # WGS-84 would lie hundreds of metres away.
    gcj_point = wgs84_to_gcj02(near_site(30))
    via_gcj = check_in(second, point=gcj_point, datum=Datum.GCJ02)
    assert via_gcj.accepted and float(via_gcj.distance_m) == pytest.approx(30, abs=0.5)
    assert float(via_gcj.latitude) == pytest.approx(gcj_point.latitude, abs=1e-7)
    misread = check_in(running, point=gcj_point, datum=Datum.WGS84)
    assert (misread.accepted, misread.rejection) == (False, CheckInRejection.OUTSIDE_GEOFENCE)
    assert [r.rejection for r in (early, far, ok, again)] == [
        CheckInRejection.OUTSIDE_WINDOW,
        CheckInRejection.OUTSIDE_GEOFENCE,
        "",
        CheckInRejection.DUPLICATE,
    ]
    assert CheckIn.objects.filter(voucher=voucher).count() == 6
    assert CheckIn.objects.filter(voucher=voucher, accepted=True).count() == 2
    actions = set(ChangeEntry.objects.filter(model="vouchers.checkin").values_list("action", flat=True))
    assert actions == {"check_in", "check_in_rejected"}


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"latitude": float("nan")}, "latitude"),
        ({"longitude": 181}, "latitude"),
        ({"accuracy_m": -1}, "accuracy_m"),
    ],
)
def test_positions_that_are_not_positions_are_refused_and_not_kept(
    bad, field, walk, issue, clerk, course, now
):
    voucher = walk(issue(), S.ENROLLED)
    session = sessions(course)[0]
    data = {"latitude": 27.6, "longitude": 113.8, "at": session.starts_at, **bad}
    with pytest.raises(ValidationError) as exc:
        services.voucher_check_in(voucher=voucher, session=session, actor=clerk, now=now, **data)
    assert field in exc.value.error_dict
    assert not CheckIn.objects.exists()


def test_a_check_in_of_a_voucher_not_enrolled_in_that_course(walk, issue, clerk, course, make_course, now):
    claimed = walk(issue(), S.CLAIMED)
    session = sessions(course)[0]
    record = check_in_at_site(claimed, session, clerk, now=now)
    assert record.rejection == CheckInRejection.NOT_ENROLLED
    enrolled = walk(issue(), S.ENROLLED)
    other_session = sessions(make_course(title="另一期"))[0]
    record = check_in_at_site(enrolled, other_session, clerk, now=now)
    assert record.rejection == CheckInRejection.NOT_ENROLLED


@pytest.mark.parametrize(("attended", "completes"), [(4, True), (3, False)])
def test_completion_needs_the_minimum_attendance(attended, completes, walk, issue, clerk, now):
    voucher = issue()
    if completes:
        walk(voucher, S.COMPLETED, attend=attended)
        voucher.refresh_from_db()
        assert voucher.status == S.COMPLETED
        certificate = Certificate.objects.get(voucher=voucher)
        assert certificate.level == "level_4" and certificate.issued_on == timezone.localdate(
            now + dt.timedelta(days=7)
        )
    else:
        with pytest.raises(ValidationError) as exc:
            walk(voucher, S.COMPLETED, attend=attended)
        assert codes_of(exc.value) == {rules.ATTENDANCE_TOO_LOW}
        assert "60.00%" in str(exc.value)


def test_attendance_counts_sessions_held_so_far(walk, issue, clerk, course, now):
    voucher = walk(issue(), S.ENROLLED)
    for session in sessions(course)[:3]:
        check_in_at_site(voucher, session, clerk, now=now)
    # Now three of five sessions have started, all three attended: 100% so far.
    completed = services.voucher_complete(voucher=voucher, actor=clerk, certificate_number="C-1", now=now)
    assert completed.status == S.COMPLETED


def test_certificate_numbers_are_unique_and_not_in_the_future(walk, issue, clerk, now):
    walk(issue(), S.COMPLETED)
    taken = Certificate.objects.get().number
    voucher = walk(issue(), S.ENROLLED)
    for session in sessions(voucher.course):
        check_in_at_site(voucher, session, clerk)
    done = now + dt.timedelta(days=7)
    with pytest.raises(ValidationError) as exc:
        services.voucher_complete(voucher=voucher, actor=clerk, certificate_number=taken, now=done)
    assert "certificate_number" in exc.value.error_dict
    with pytest.raises(ValidationError):
        services.voucher_complete(
            voucher=voucher,
            actor=clerk,
            certificate_number="NEW-1",
            certificate_issued_on=timezone.localdate(done) + dt.timedelta(days=1),
            now=done,
        )
    voucher.refresh_from_db()
    assert voucher.status == S.ENROLLED


def test_evaluation_once_after_completion(walk, issue, clerk):
    enrolled = walk(issue(), S.ENROLLED)
    with pytest.raises(Conflict):
        services.voucher_evaluate(voucher=enrolled, actor=clerk, course_rating=5, institution_rating=5)
    completed = walk(issue(), S.COMPLETED)
    with pytest.raises(ValidationError):
        services.voucher_evaluate(voucher=completed, actor=clerk, course_rating=6, institution_rating=5)
    evaluation = services.voucher_evaluate(
        voucher=completed, actor=clerk, course_rating=4, institution_rating=5, comment=" 很实用 "
    )
    assert (evaluation.course_rating, evaluation.institution_rating, evaluation.comment) == (4, 5, "很实用")
    with pytest.raises(Conflict):
        services.voucher_evaluate(voucher=completed, actor=clerk, course_rating=1, institution_rating=1)
    assert Evaluation.objects.count() == 1


# -- redemption ------------------------------------------------------------------------------------------------


def test_redemption_pays_the_institution_once_through_the_ledger(walk, issue, clerk, course):
    voucher = walk(issue(), S.REDEEMED)
    payment = Payment.objects.get()
    assert payment.payee_kind == PayeeKind.INSTITUTION
    assert payment.institution == course.institution and payment.beneficiary == voucher.holder
    # min(course standard 1,800, the type's cap 2,500, the fee 2,000)
    assert (payment.amount, payment.status) == (D("1800.00"), PaymentStatus.SUBMITTED)
    assert (payment.cause_label, payment.cause_object_id) == ("vouchers.voucher", str(voucher.pk))
    assert payment.period_start == course.starts_on
    entry = ChangeEntry.objects.get(model="vouchers.voucher", object_id=str(voucher.pk), action="redeem")
    assert entry.changes["status"] == [S.COMPLETED, S.REDEEMED]
    with pytest.raises(Conflict):
        services.voucher_redeem(voucher=voucher, actor=clerk)
    assert Payment.objects.count() == 1


def test_redemption_to_the_employer_and_to_the_worker(
    clerk, make_type, make_plan, make_voucher_program, holder_in, walk, regions
):
    employer = EmployerFactory(region=regions["360300"])
    to_employer = make_plan(
        make_type(
            payee=VoucherPayee.EMPLOYER,
            program=make_voucher_program(
                code="PX_ENTERPRISE", payee_kind=PayeeKind.EMPLOYER, max_amount=D("1500.00")
            ),
            face_value_cap=D("1500.00"),
        )
    )
    voucher = services.voucher_issue(plan=to_employer, holder=holder_in(), actor=clerk, employer=employer)
    walk(voucher, S.REDEEMED)
    paid = Payment.objects.get(cause_object_id=str(voucher.pk))
    assert (paid.payee_kind, paid.employer, paid.amount) == (PayeeKind.EMPLOYER, employer, D("1500.00"))

    to_worker = make_plan(
        make_type(
            payee=VoucherPayee.PERSON,
            program=make_voucher_program(
                code="PX_UPGRADING", payee_kind=PayeeKind.PERSON, max_amount=D("1000.00")
            ),
            face_value_rule=FaceValueRule.FIXED,
            face_value=D("1000.00"),
        )
    )
    worker = holder_in()
    walk(services.voucher_issue(plan=to_worker, holder=worker, actor=clerk), S.REDEEMED)
    paid = Payment.objects.get(beneficiary=worker)
    assert (paid.payee_kind, paid.institution, paid.employer, paid.amount) == (
        PayeeKind.PERSON,
        None,
        None,
        D("1000.00"),
    )


def test_check_in_only_vouchers_are_never_redeemed(clerk, make_type, make_plan, holder, walk):
    plan = make_plan(make_type(payee=VoucherPayee.NONE, eligible_groups=[]))
    voucher = walk(
        services.voucher_issue(plan=plan, holder=holder, actor=clerk), S.COMPLETED, certificate=False
    )
    with pytest.raises(ValidationError) as exc:
        services.voucher_redeem(voucher=voucher, actor=clerk, now=timezone.now() + dt.timedelta(days=7))
    assert codes_of(exc.value) == {rules.NOT_REDEEMABLE}
    assert not Payment.objects.exists()


def test_no_certificate_no_redemption(walk, issue, clerk, now):
    voucher = walk(issue(), S.COMPLETED, certificate=False)
    with pytest.raises(ValidationError) as exc:
        services.voucher_redeem(voucher=voucher, actor=clerk, now=now + dt.timedelta(days=7))
    assert codes_of(exc.value) == {rules.NO_CERTIFICATE}


def test_a_payment_rule_refusal_leaves_the_voucher_completed(
    walk, issue, clerk, voucher_program, reviewer, now
):
    funding.program_update(program=voucher_program, actor=reviewer, fields={"max_amount": D("1000.00")})
    voucher = walk(issue(), S.COMPLETED)
    with pytest.raises(ValidationError) as exc:
        services.voucher_redeem(voucher=voucher, actor=clerk, now=now + dt.timedelta(days=7))
    assert "UNIT_AMOUNT_OUT_OF_RANGE" in codes_of(exc.value)
    voucher.refresh_from_db()
    assert voucher.status == S.COMPLETED and not Payment.objects.exists()


# -- living allowances ---------------------------------------------------------------------------------------


@pytest.fixture
def gansu(regions, fund, reviewer):
    """Gansu's allowance of at least 30 yuan a training day, +20% in the 两州一县 (天祝县, 620623)."""
    from tracker.regions.models import Designation

    Designation.objects.get_or_create(
        code="two_prefectures_one_county", defaults={"name_zh": "两州一县", "name_en": "2+1"}
    )
    tianzhu = regions["620623"]
    if "two_prefectures_one_county" not in tianzhu.designations:
        tianzhu.designations = [*tianzhu.designations, "two_prefectures_one_county"]
        tianzhu.save()
    make_group("lifted_out_of_poverty")
    return ProgramFactory(
        code="GS_TRAINING_LIVING_ALLOWANCE",
        region=regions["620000"],
        kind=ProgramKind.TRAINING_LIVING_ALLOWANCE,
        payee_kind=PayeeKind.PERSON,
        unit=Unit.PERSON_DAY,
        standard_amount=D("30.00"),
        min_amount=D("30.00"),
        max_amount=None,
        eligible_groups=["lifted_out_of_poverty"],
        uplifts={"two_prefectures_one_county": "20"},
        fund_source=fund,
    )


def test_gansu_allowance_per_training_day_with_the_key_county_uplift(
    gansu, superuser, regions, make_type, make_plan, make_course, now
):
    services.training_allowance_set(program=gansu, actor=superuser, pays_in_advance=False)
    tianzhu_school = TrainingInstitutionFactory(region=regions["620623"])
    paying = ProgramFactory(
        code="GS_VOUCHER",
        region=regions["620000"],
        kind=ProgramKind.TRAINING,
        payee_kind=PayeeKind.INSTITUTION,
        unit=Unit.PER_TRAINING,
        standard_amount=None,
        max_amount=D("3000.00"),
        fund_source=gansu.fund_source,
    )
    voucher_type = make_type(
        region=regions["620000"], program=paying, eligible_groups=["lifted_out_of_poverty"]
    )
    plan = make_plan(voucher_type, region=regions["620000"])
    course = make_course(institution=tianzhu_school)
    person = make_holder(regions["620623"], groups=("lifted_out_of_poverty",))
    voucher = services.voucher_issue(plan=plan, holder=person, actor=superuser)
    services.voucher_claim(
        voucher=voucher, actor=superuser, channel=ClaimChannel.COUNTER, proof=holder_last6(person)
    )
    services.voucher_enroll(voucher=voucher, course=course, actor=superuser)
    for session in sessions(course)[:4]:
        check_in_at_site(voucher, session, superuser)
    done = now + dt.timedelta(days=7)
    services.voucher_complete(voucher=voucher, actor=superuser, certificate_number="GS-1", now=done)
    result = services.voucher_redeem(voucher=voucher, actor=superuser, now=done)
    allowance = Payment.objects.get(program=gansu)
    # 4 days attended × 36 yuan (30 + 20% in 天祝县)
    assert (allowance.quantity, allowance.unit_amount, allowance.amount) == (D("4"), D("36.00"), D("144.00"))
    assert allowance.beneficiary == person and allowance.cause_object_id == str(voucher.pk)
    assert {p.program.code for p in result.payments} == {"GS_VOUCHER", "GS_TRAINING_LIVING_ALLOWANCE"}
    assert result.refused == {}


@pytest.fixture
def guangzhou_advance(regions, fund, reviewer, superuser):
    """An allowance of 500 yuan per training for people in hardship, paid in advance at enrolment
    (Guangzhou's 提前发放), here as a program of 萍乡市 so the fixed cast can work it."""
    make_group("hardship_person")
    program = ProgramFactory(
        code="PX_HARDSHIP_LIVING_ALLOWANCE",
        region=regions["360300"],
        kind=ProgramKind.TRAINING_LIVING_ALLOWANCE,
        payee_kind=PayeeKind.PERSON,
        unit=Unit.PER_TRAINING,
        standard_amount=D("500.00"),
        eligible_groups=["hardship_person"],
        fund_source=fund,
    )
    services.training_allowance_set(program=program, actor=reviewer, pays_in_advance=True)
    return program


def test_advance_allowance_at_enrolment_is_rejected_or_reversed_on_cancel(
    guangzhou_advance, clerk, reviewer, issue, holder_in, course, regions
):

    person = holder_in(groups=("registered_unemployed", "hardship_person"))
    voucher = issue(person)
    services.voucher_claim(
        voucher=voucher, actor=clerk, channel=ClaimChannel.COUNTER, proof=holder_last6(person)
    )
    result = services.voucher_enroll(voucher=voucher, course=course, actor=clerk)
    advance = Payment.objects.get(program=guangzhou_advance)
    assert result.payments == [advance]
    assert (advance.amount, advance.status, advance.beneficiary) == (
        D("500.00"),
        PaymentStatus.SUBMITTED,
        person,
    )
    # A clerk cannot undo money: a reviewer cancels, and the submitted advance is rejected.
    with pytest.raises(PermissionDenied):
        services.voucher_cancel(voucher=voucher, actor=clerk, reason="dropped out")
    services.voucher_cancel(voucher=voucher, actor=reviewer, reason="dropped out")
    advance.refresh_from_db()
    assert advance.status == PaymentStatus.REJECTED and "dropped out" in advance.rejection_reason

    # Paid before the cancellation: reversed by a linked negative entry.
    other = holder_in(groups=("registered_unemployed", "hardship_person"))
    voucher = issue(other)
    services.voucher_claim(
        voucher=voucher, actor=clerk, channel=ClaimChannel.COUNTER, proof=holder_last6(other)
    )
    services.voucher_enroll(voucher=voucher, course=course, actor=clerk)
    advance = Payment.objects.get(program=guangzhou_advance, beneficiary=other)
    funding.payment_approve(payment=advance, actor=reviewer)
    advance = funding.payment_mark_paid(payment=advance, actor=reviewer)
    services.voucher_cancel(voucher=voucher, actor=reviewer, reason="moved to another city")
    advance.refresh_from_db()
    assert advance.status == PaymentStatus.REVERSED
    assert advance.reversal.amount == D("-500.00")
    # Approved but unpaid: the ledger has no way back yet, so the cancellation waits.
    third = holder_in(groups=("registered_unemployed", "hardship_person"))
    voucher = issue(third)
    services.voucher_claim(
        voucher=voucher, actor=clerk, channel=ClaimChannel.COUNTER, proof=holder_last6(third)
    )
    services.voucher_enroll(voucher=voucher, course=course, actor=clerk)
    advance = Payment.objects.get(program=guangzhou_advance, beneficiary=third)
    funding.payment_approve(payment=advance, actor=reviewer)
    with pytest.raises(Conflict):
        services.voucher_cancel(voucher=voucher, actor=reviewer, reason="dropped out")
    voucher.refresh_from_db()
    assert voucher.status == S.ENROLLED


def test_no_advance_for_people_outside_the_allowance_groups(guangzhou_advance, walk, issue):
    walk(issue(), S.ENROLLED)
    assert not Payment.objects.filter(program=guangzhou_advance).exists()


def test_an_allowance_setting_needs_a_living_allowance_program(voucher_program, reviewer):
    with pytest.raises(ValidationError):
        services.training_allowance_set(program=voucher_program, actor=reviewer, pays_in_advance=False)
    assert not TrainingAllowance.objects.exists()


# -- institution suspension and moving ---------------------------------------------------------------------------


def test_suspension_stops_enrolments_and_redemptions_and_lists_the_enrolled(
    walk, issue, clerk, reviewer, course, make_course, now, institution
):
    enrolled = walk(issue(), S.ENROLLED)
    completed = walk(issue(), S.COMPLETED)
    claimed = walk(issue(), S.CLAIMED)
    with pytest.raises(PermissionDenied):
        services.institution_suspend(institution=institution, actor=clerk, reason="inspection")
    listed = services.institution_suspend(institution=institution, actor=reviewer, reason="无证办学")
    assert listed == [enrolled]
    institution.refresh_from_db()
    assert institution.status == InstitutionStatus.SUSPENDED
    entry = ChangeEntry.objects.get(
        model="funding.traininginstitution", object_id=str(institution.pk), action="suspend"
    )
    assert entry.reason == "无证办学"
    with pytest.raises(ValidationError) as exc:
        services.voucher_enroll(voucher=claimed, course=course, actor=clerk)
    assert codes_of(exc.value) == {rules.INSTITUTION_SUSPENDED}
    with pytest.raises(ValidationError) as exc:
        services.voucher_redeem(voucher=completed, actor=clerk, now=now + dt.timedelta(days=7))
    assert codes_of(exc.value) == {rules.INSTITUTION_SUSPENDED}
    # Nothing was voided: the enrolled voucher moves to another institution's course.
    elsewhere = make_course(
        institution=TrainingInstitutionFactory(region=institution.region), title="另一所学校"
    )
    with pytest.raises(ValidationError):
        services.voucher_move(voucher=enrolled, course=course, actor=clerk, reason="suspended")
    moved = services.voucher_move(voucher=enrolled, course=elsewhere, actor=clerk, reason="原机构暂停")
    assert moved.course == elsewhere and moved.status == S.ENROLLED
    funding.training_institution_reinstate(institution=institution, actor=reviewer)
    institution.refresh_from_db()
    assert institution.status == InstitutionStatus.ACTIVE
    assert (
        services.voucher_redeem(voucher=completed, actor=clerk, now=now + dt.timedelta(days=7)).voucher.status
        == S.REDEEMED
    )


def test_who_a_type_pays_and_a_plans_year_stay_once_vouchers_exist(
    reviewer, clerk, plan, voucher_type, issue
):
    services.voucher_type_update(voucher_type=voucher_type, actor=reviewer, fields={"validity_days": 180})
    services.voucher_plan_update(plan=plan, actor=reviewer, fields={"year": plan.year + 1})
    services.voucher_plan_update(plan=plan, actor=reviewer, fields={"year": plan.year})  # and back
    issue()
    with pytest.raises(ValidationError) as exc:
        services.voucher_type_update(
            voucher_type=voucher_type, actor=reviewer, fields={"payee": VoucherPayee.PERSON}
        )
    assert set(exc.value.error_dict) == {"payee"}
    with pytest.raises(ValidationError):
        services.voucher_plan_update(plan=plan, actor=reviewer, fields={"year": plan.year + 1})
    updated = services.voucher_plan_update(plan=plan, actor=reviewer, fields={"cap": 10, "year": plan.year})
    assert updated.cap == 10
    with pytest.raises(PermissionDenied):
        services.voucher_plan_update(plan=plan, actor=clerk, fields={"cap": 11})
    assert Voucher.objects.get().expires_on == timezone.localdate() + dt.timedelta(days=179)
