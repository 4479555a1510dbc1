"""Services of the training-voucher app: the only way types, plans, courses, vouchers and their
check-ins, certificates and evaluations are written.

A voucher moves `issued → claimed → enrolled → completed → redeemed`; `issued/claimed → expired`;
`issued/claimed/enrolled → cancelled` (VOUCHER_FLOW, tracker.transitions): a move from any other
status is a 409 naming the current one, and every move is a change entry with its verb. Expiry is
checked at every step by date, before the expiry job (`expire_vouchers`) has marked the voucher.

Locks: issuing locks the plan row, then the holders' rows in id order (the cap, one live voucher per
type and three subsidised trainings a year are serialised per plan and per person); every step of a
voucher locks the voucher row first, then (redemption, advance allowances) the payments service locks
the program row. Money goes only through programs.funding.services (payments_create_batch, with the
voucher as the payment's cause), so every payment rule applies.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hmac
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from beneficiaries.models import ID_NUMBER_PURPOSE, Beneficiary
from beneficiaries.selectors import beneficiary_group_codes_on
from programs.funding import services as funding
from programs.funding.choices import PaymentStatus, Unit
from programs.funding.models import Employer, Payment, Program, TrainingInstitution
from programs.funding.rules import RuleErrors
from programs.vouchers import rules, selectors
from programs.vouchers.choices import ClaimChannel, Datum, VoucherPayee, VoucherStatus
from programs.vouchers.codes import generate_code
from programs.vouchers.models import (
    Certificate,
    CheckIn,
    Course,
    CourseSession,
    Evaluation,
    TrainingAllowance,
    Voucher,
    VoucherPlan,
    VoucherType,
    WorkerTrainingProfile,
)
from tracker.accounts.choices import Role
from tracker.accounts.roles import require_role
from tracker.changelog.context import acting
from tracker.changelog.services import tracked_bulk_create, tracked_bulk_update
from tracker.errors import Conflict, TooManyRequests
from tracker.geo import Point, to_wgs84, valid_coordinates
from tracker.pii import decrypt
from tracker.regions.models import Region, designations_for_path
from tracker.scope import require_in_scope
from tracker.transactions import atomic_service
from tracker.transitions import StateMachine, Transition

S = VoucherStatus
VOUCHER_FLOW = StateMachine(
    {
        "claim": Transition(
            sources={S.ISSUED}, target=S.CLAIMED, actor_field="claimed_by", time_field="claimed_at"
        ),
        "enroll": Transition(
            sources={S.CLAIMED}, target=S.ENROLLED, actor_field="enrolled_by", time_field="enrolled_at"
        ),
        "move": Transition(sources={S.ENROLLED}, target=S.ENROLLED),
        "complete": Transition(
            sources={S.ENROLLED}, target=S.COMPLETED, actor_field="completed_by", time_field="completed_at"
        ),
        "redeem": Transition(
            sources={S.COMPLETED}, target=S.REDEEMED, actor_field="redeemed_by", time_field="redeemed_at"
        ),
        "expire": Transition(sources={S.ISSUED, S.CLAIMED}, target=S.EXPIRED, time_field="expired_at"),
        "cancel": Transition(
            sources={S.ISSUED, S.CLAIMED, S.ENROLLED},
            target=S.CANCELLED,
            actor_field="cancelled_by",
            time_field="cancelled_at",
        ),
    }
)

VOUCHER_TYPE_FIELDS: tuple[str, ...] = (
    "code",
    "name_zh",
    "name_en",
    "region",
    "payee",
    "program",
    "eligible_groups",
    "min_ui_contribution_months",
    "face_value_rule",
    "face_value",
    "face_value_cap",
    "validity_days",
    "occupations",
    "policy_reference",
    "notes",
    "assumption",
)
VOUCHER_PLAN_FIELDS: tuple[str, ...] = (
    "region",
    "year",
    "type",
    "planned_count",
    "cap",
    "policy_reference",
    "notes",
    "assumption",
)
COURSE_FIELDS: tuple[str, ...] = (
    "institution",
    "title",
    "occupation_code",
    "occupation_name",
    "level",
    "hours",
    "fee",
    "subsidy_standard",
    "min_attendance_rate",
    "starts_on",
    "ends_on",
    "site_name",
    "site_latitude",
    "site_longitude",
    "site_radius_m",
)
SESSION_FIELDS: tuple[str, ...] = ("course", "starts_at", "ends_at", "title")
# Most people one batch issue may name (a filter matching more is refused: narrow it).
MAX_BATCH = 10_000
# How far ahead of the server's clock a device's check-in time may be (clock skew).
CLOCK_SKEW = dt.timedelta(minutes=5)
DEGREE_PLACES = decimal.Decimal("0.0000001")
CENTI = decimal.Decimal("0.01")


def _unknown(fields: Mapping[str, Any], allowed: Sequence[str]) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValidationError({name: [_("Unknown field.")] for name in sorted(unknown)})


def _degrees(value: float) -> decimal.Decimal:
    return decimal.Decimal(repr(float(value))).quantize(DEGREE_PLACES, rounding=decimal.ROUND_HALF_UP)


def _metres(value: float | None) -> decimal.Decimal | None:
    if value is None:
        return None
    return decimal.Decimal(repr(float(value))).quantize(CENTI, rounding=decimal.ROUND_HALF_UP)


# -- types and plans ---------------------------------------------------------------------------------


def _check_setup_writer(actor: Any, region: Region) -> None:
    """Voucher types and plans are set up by reviewers (and superusers) of their region or above, as
    programs are."""
    require_role(actor, Role.REVIEWER)
    require_in_scope(actor, region)


@atomic_service
def voucher_type_create(*, actor: Any, fields: Mapping[str, Any], dry_run: bool = False) -> VoucherType:
    _unknown(fields, VOUCHER_TYPE_FIELDS)
    voucher_type = VoucherType(**fields)
    _check_setup_writer(actor, voucher_type.region)
    voucher_type.validate_row(dry_run=dry_run)
    if dry_run:
        return voucher_type
    with acting(actor):
        voucher_type.save()
    return voucher_type


@atomic_service
def voucher_type_update(
    *, voucher_type: VoucherType, actor: Any, fields: Mapping[str, Any], dry_run: bool = False
) -> VoucherType:
    """Changes apply to vouchers redeemed from now on. Who a type pays and the program that pays it
    stay once vouchers exist (their holders were told)."""
    _unknown(fields, VOUCHER_TYPE_FIELDS)
    return _update_setup(
        voucher_type,
        actor=actor,
        fields=fields,
        fixed=("payee", "program", "code"),
        message=_("Vouchers of this type exist; this cannot change."),
        dry_run=dry_run,
    )


@atomic_service
def voucher_plan_create(*, actor: Any, fields: Mapping[str, Any], dry_run: bool = False) -> VoucherPlan:
    _unknown(fields, VOUCHER_PLAN_FIELDS)
    plan = VoucherPlan(**fields)
    _check_setup_writer(actor, plan.region)
    plan.validate_row(dry_run=dry_run)
    if dry_run:
        return plan
    with acting(actor):
        plan.save()
    return plan


@atomic_service
def voucher_plan_update(
    *, plan: VoucherPlan, actor: Any, fields: Mapping[str, Any], dry_run: bool = False
) -> VoucherPlan:
    """The planned figure, the cap and the notes change; the region, year and type of a plan with
    vouchers stay. A cap lowered below what is already issued refuses every further issue."""
    _unknown(fields, VOUCHER_PLAN_FIELDS)
    plan = VoucherPlan.objects.select_for_update().select_related("region", "type__region").get(pk=plan.pk)
    return _update_setup(
        plan,
        actor=actor,
        fields=fields,
        fixed=("region", "year", "type"),
        message=_("The plan has vouchers; this cannot change."),
        dry_run=dry_run,
    )


def _update_setup(
    record: VoucherType | VoucherPlan,
    *,
    actor: Any,
    fields: Mapping[str, Any],
    fixed: Sequence[str],
    message: str,
    dry_run: bool,
) -> Any:
    """Change a type or a plan: by a reviewer of its region before and after the change; the `fixed`
    fields stay once vouchers exist (their holders were told)."""
    _check_setup_writer(actor, record.region)
    changing = sorted(name for name in fixed if name in fields and getattr(record, name) != fields[name])
    if changing and record.vouchers.exists():
        raise ValidationError({name: [message] for name in changing})
    for name, value in fields.items():
        setattr(record, name, value)
    _check_setup_writer(actor, record.region)
    record.validate_row(dry_run=dry_run)
    if dry_run:
        return record
    with acting(actor):
        record.save()
    return record


@atomic_service
def training_allowance_set(
    *, program: Program, actor: Any, pays_in_advance: bool, notes: str = "", dry_run: bool = False
) -> TrainingAllowance:
    """Name a living-allowance program as one that pays voucher holders, and whether it pays in
    advance at enrolment (a per-program setting: Guangzhou's 提前发放)."""
    require_role(actor, Role.REVIEWER)
    require_in_scope(actor, program.region)
    allowance = TrainingAllowance.objects.filter(program=program).first() or TrainingAllowance(
        program=program
    )
    allowance.pays_in_advance = pays_in_advance
    allowance.notes = (notes or "").strip()
    allowance.validate_row(dry_run=dry_run)
    if dry_run:
        return allowance
    with acting(actor):
        allowance.save()
    return allowance


# -- courses -------------------------------------------------------------------------------------------


def _site_in_wgs84(fields: dict[str, Any], datum: str) -> None:
    """A site given in GCJ-02 (picked on a Chinese map) is stored in WGS-84, the datum distances are
    measured in (tracker.geo)."""
    lat, lon = fields.get("site_latitude"), fields.get("site_longitude")
    if lat is None or lon is None:
        return
    if not valid_coordinates(lat, lon):
        raise ValidationError(
            {"site_latitude": [_("Latitude -90 to 90 and longitude -180 to 180, as finite numbers.")]}
        )
    point = to_wgs84(Point(float(lat), float(lon)), datum)
    fields["site_latitude"] = _degrees(point.latitude)
    fields["site_longitude"] = _degrees(point.longitude)


@atomic_service
def course_create(
    *, actor: Any, fields: Mapping[str, Any], site_datum: str = Datum.WGS84, dry_run: bool = False
) -> Course:
    _unknown(fields, COURSE_FIELDS)
    require_role(actor, Role.CLERK, Role.REVIEWER)
    data = dict(fields)
    _site_in_wgs84(data, site_datum)
    course = Course(**data)
    require_in_scope(actor, course.institution)
    course.validate_row(dry_run=dry_run)
    if dry_run:
        return course
    with acting(actor):
        course.save()
    return course


@atomic_service
def course_update(
    *,
    course: Course,
    actor: Any,
    fields: Mapping[str, Any],
    site_datum: str = Datum.WGS84,
    dry_run: bool = False,
) -> Course:
    """Correct a course. Its institution stays once vouchers are enrolled in it; sessions keep
    within its dates."""
    _unknown(fields, COURSE_FIELDS)
    require_role(actor, Role.CLERK, Role.REVIEWER)
    course = Course.objects.select_for_update().select_related("institution").get(pk=course.pk)
    require_in_scope(actor, course)
    data = dict(fields)
    if ("site_latitude" in data) != ("site_longitude" in data):
        data.setdefault("site_latitude", course.site_latitude)
        data.setdefault("site_longitude", course.site_longitude)
    _site_in_wgs84(data, site_datum)
    if "institution" in data and data["institution"] != course.institution and course.vouchers.exists():
        raise ValidationError(
            {"institution": [_("Vouchers are enrolled in this course; its institution stays.")]}
        )
    for name, value in data.items():
        setattr(course, name, value)
    require_in_scope(actor, course.institution)
    course.validate_row(dry_run=dry_run)
    _check_sessions_within(course)
    if dry_run:
        return course
    with acting(actor):
        course.save()
    return course


def _check_sessions_within(course: Course) -> None:
    if course.pk is None:
        return
    outside = (
        CourseSession.objects.filter(course=course)
        .exclude(starts_at__date__gte=course.starts_on, ends_at__date__lte=course.ends_on)
        .exists()
    )
    if outside:
        raise ValidationError({"starts_on": [_("Some sessions of the course lie outside these dates.")]})


def check_session_within_course(session: CourseSession) -> None:
    """A session lies within its course's dates (local dates of its start and end)."""
    course = session.course
    start = timezone.localdate(session.starts_at)
    end = timezone.localdate(session.ends_at)
    if start < course.starts_on or end > course.ends_on:
        raise ValidationError(
            {
                "starts_at": [
                    _("A session lies within its course's dates (%(start)s to %(end)s).")
                    % {"start": course.starts_on.isoformat(), "end": course.ends_on.isoformat()}
                ]
            }
        )


@atomic_service
def course_session_create(*, actor: Any, fields: Mapping[str, Any], dry_run: bool = False) -> CourseSession:
    _unknown(fields, SESSION_FIELDS)
    require_role(actor, Role.CLERK, Role.REVIEWER)
    session = CourseSession(**fields)
    require_in_scope(actor, session.course)
    session.validate_row(dry_run=dry_run)
    check_session_within_course(session)
    if dry_run:
        return session
    with acting(actor):
        session.save()
    return session


@atomic_service
def course_session_update(
    *, session: CourseSession, actor: Any, fields: Mapping[str, Any], dry_run: bool = False
) -> CourseSession:
    """Move or retitle a session; a session with check-ins keeps its course."""
    _unknown(fields, SESSION_FIELDS)
    require_role(actor, Role.CLERK, Role.REVIEWER)
    session = CourseSession.objects.select_for_update().select_related("course").get(pk=session.pk)
    require_in_scope(actor, session)
    if "course" in fields and fields["course"] != session.course and session.check_ins.exists():
        raise ValidationError({"course": [_("The session has check-ins; it stays in its course.")]})
    for name, value in fields.items():
        setattr(session, name, value)
    require_in_scope(actor, session.course)
    session.validate_row(dry_run=dry_run)
    check_session_within_course(session)
    if dry_run:
        return session
    with acting(actor):
        session.save()
    return session


@atomic_service
def worker_training_profile_set(
    *,
    beneficiary: Beneficiary,
    actor: Any,
    ui_contribution_months: int,
    ui_months_as_of: dt.date | None = None,
    notes: str = "",
    dry_run: bool = False,
) -> WorkerTrainingProfile:
    """Record (or correct) a worker's months of unemployment-insurance contributions, as of a date
    (default today), from the social-insurance records."""
    require_role(actor, Role.CLERK)
    require_in_scope(actor, beneficiary)
    today = timezone.localdate()
    as_of = ui_months_as_of or today
    if as_of > today:
        raise ValidationError({"ui_months_as_of": [_("The date cannot be in the future.")]})
    profile = WorkerTrainingProfile.objects.filter(beneficiary=beneficiary).first() or WorkerTrainingProfile(
        beneficiary=beneficiary
    )
    profile.ui_contribution_months = ui_contribution_months
    profile.ui_months_as_of = as_of
    profile.notes = (notes or "").strip()
    profile.validate_row(dry_run=dry_run)
    if dry_run:
        return profile
    with acting(actor):
        profile.save()
    return profile


# -- issuing -------------------------------------------------------------------------------------------


@dataclass
class IssueResult:
    """The vouchers a batch issued and, by the holder's index in the request, the refusals."""

    issued: list[Voucher] = field(default_factory=list)
    refused: dict[int, ValidationError] = field(default_factory=dict)

    def refusal_codes(self, index: int) -> list[str]:
        error = self.refused[index]
        return sorted({e.code or "INVALID" for errors in error.error_dict.values() for e in errors})


def _new_codes(count: int) -> list[str]:
    """`count` fresh codes no voucher has (a collision of 54-bit codes is astronomically rare, but a
    code must never name two vouchers; the unique index backs this)."""
    codes: set[str] = set()
    while len(codes) < count:
        wanted = {generate_code() for _ in range(count - len(codes))} - codes
        taken = set(Voucher.objects.filter(code__in=wanted).values_list("code", flat=True))
        codes |= wanted - taken
    return sorted(codes)


@atomic_service
def vouchers_issue_batch(
    *,
    plan: VoucherPlan,
    holders: Sequence[Beneficiary],
    actor: Any,
    employer: Employer | None = None,
    skip_refused: bool = False,
    now: dt.datetime | None = None,
    dry_run: bool = False,
) -> IssueResult:
    """Issue a voucher of the plan's type to each holder, with every issue rule (rules.check_holder)
    and the plan's cap, in a constant number of queries per 5,000 holders: the plan row is locked,
    then the holders' rows in id order, their facts are loaded set-based, the vouchers and their
    change entries are written in bulk.

    All or nothing by default: any refusal raises a ValidationError keyed `holders.<index>.<field>`.
    With `skip_refused=True` (a batch to everyone matching a filter) the refused holders are
    reported and the rest are issued. The cap is all or nothing either way: a batch that would pass
    it issues nothing."""
    require_role(actor, Role.CLERK)
    now = now or timezone.now()
    today = timezone.localdate(now)
    ids = [h.pk for h in holders]
    if len(set(ids)) != len(ids):
        raise ValidationError({"holders": [_("Each person may appear once.")]})
    if len(ids) > MAX_BATCH:
        raise ValidationError(
            {"holders": [_("At most %(max)s people per batch; narrow the selection.") % {"max": MAX_BATCH}]}
        )
    if not ids:
        return IssueResult()
    # The plan row lock serialises every issue under the plan (its cap); then the people, in id order.
    plan = (
        VoucherPlan.objects.select_for_update(of=("self",))
        .select_related("region", "type__region", "type__program")
        .get(pk=plan.pk)
    )
    voucher_type = plan.type
    people = {
        p.pk: p for p in Beneficiary.objects.select_for_update().filter(pk__in=sorted(ids)).order_by("pk")
    }
    missing = {f"holders.{i}": [_("Not found.")] for i, pk in enumerate(ids) if pk not in people}
    if missing:
        raise ValidationError(missing)
    Region.cache_paths(p.region_id for p in people.values())
    # Scope before any rule looks at a person: a refusal must not reveal anyone outside the region.
    for person in people.values():
        require_in_scope(actor, Region.cached_path(person.region_id))
    if employer is not None:
        require_in_scope(actor, employer)
    result = IssueResult()
    plan_errors = RuleErrors()
    rules.check_plan_year(plan, today, plan_errors)
    plan_errors.raise_if_any()
    facts = selectors.holder_facts(list(people.values()), on=today)
    max_per_year = settings.VOUCHER_MAX_SUBSIDISED_PER_YEAR
    accepted: list[Beneficiary] = []
    for index, pk in enumerate(ids):
        errors = RuleErrors()
        rules.check_holder(
            facts[pk],
            voucher_type,
            plan,
            employer_given=employer is not None,
            max_subsidised_per_year=max_per_year,
            errors=errors,
        )
        if errors:
            result.refused[index] = ValidationError(errors.errors)
        else:
            accepted.append(people[pk])
    if result.refused and not skip_refused:
        raise ValidationError(
            {
                f"holders.{index}.{name}": messages
                for index, error in sorted(result.refused.items())
                for name, messages in error.error_dict.items()
            }
        )
    cap_errors = RuleErrors()
    rules.check_plan_cap(plan, selectors.plan_used(plan), len(accepted), cap_errors)
    cap_errors.raise_if_any()
    expires_on = today + dt.timedelta(days=voucher_type.validity_days - 1)
    codes = _new_codes(len(accepted))
    vouchers = [
        Voucher(
            code=code,
            type=voucher_type,
            plan=plan,
            holder=person,
            employer=employer,
            status=VoucherStatus.ISSUED,
            issued_at=now,
            issued_by=actor,
            expires_on=expires_on,
        )
        for code, person in zip(codes, accepted, strict=True)
    ]
    if dry_run:
        result.issued = vouchers
        return result
    with acting(actor, action="issue"):
        result.issued = tracked_bulk_create(Voucher, vouchers)
    return result


def voucher_issue(
    *,
    plan: VoucherPlan,
    holder: Beneficiary,
    actor: Any,
    employer: Employer | None = None,
    now: dt.datetime | None = None,
    dry_run: bool = False,
) -> Voucher:
    """Issue one voucher: the batch path with one holder, so both obey the same code. Errors name
    the fields (no `holders.0.` prefix)."""
    result = vouchers_issue_batch(
        plan=plan,
        holders=[holder],
        actor=actor,
        employer=employer,
        skip_refused=True,
        now=now,
        dry_run=dry_run,
    )
    if result.refused:
        raise result.refused[0]
    return result.issued[0]


# -- the voucher's steps ---------------------------------------------------------------------------------


def _lock(voucher: Voucher) -> Voucher:
    """The voucher row, locked (every step of one voucher queues behind the one before it), with
    what the steps read."""
    return (
        Voucher.objects.select_for_update(of=("self",))
        .select_related(
            "type__region",
            "type__program__region",
            "plan",
            "holder",
            "employer",
            "course__institution__region",
        )
        .get(pk=voucher.pk)
    )


def _refuse_if_expired(voucher: Voucher, today: dt.date, verb: str) -> None:
    """409 for a voucher past its last valid day, whatever its status says (the expiry job may not
    have run yet)."""
    if rules.is_expired(voucher, today):
        raise Conflict(
            _("%(code)s: the voucher expired after %(date)s; it cannot be %(verb)s.")
            % {"code": rules.EXPIRED, "date": voucher.expires_on.isoformat(), "verb": verb},
            extra={
                "status_now": voucher.status,
                "expired": True,
                "expires_on": voucher.expires_on.isoformat(),
            },
        )


def _normalise_proof(value: str) -> str:
    return "".join(str(value or "").split()).upper()


def _proof_matches(voucher: Voucher, channel: str, proof: str) -> bool:
    """Compare in constant time: the electronic social-security card number on file, or the last 6
    characters of the identity number (decrypted here and nowhere shown)."""
    holder = voucher.holder
    given = _normalise_proof(proof).encode()
    if channel == ClaimChannel.E_SSC:
        expected = _normalise_proof(holder.social_security_card).encode()
    else:
        expected = decrypt(holder.id_number_encrypted, purpose=ID_NUMBER_PURPOSE)[-6:].upper().encode()
    return bool(given) and hmac.compare_digest(given, expected)


@atomic_service
def _claim_attempt(
    *, voucher: Voucher, actor: Any, channel: str, proof: str, now: dt.datetime
) -> Voucher | Exception:
    """One claim attempt in its own transaction: a wrong proof is counted and committed, and the
    refusal is returned (not raised) so the count survives it."""
    voucher = _lock(voucher)
    require_in_scope(actor, voucher)
    if voucher.claim_locked_until is not None and now < voucher.claim_locked_until:
        wait = math.ceil((voucher.claim_locked_until - now).total_seconds())
        return TooManyRequests(
            _("%(code)s: too many wrong proofs; claiming this voucher is locked until %(until)s.")
            % {
                "code": rules.CLAIM_LOCKED,
                "until": timezone.localtime(voucher.claim_locked_until).isoformat(),
            },
            retry_after=wait,
        )
    VOUCHER_FLOW.expect(voucher, "claim")
    _refuse_if_expired(voucher, timezone.localdate(now), _("claimed"))
    if channel not in ClaimChannel.values:
        raise ValidationError({"channel": [_("Unknown claim channel.")]})
    if channel == ClaimChannel.E_SSC and not voucher.holder.social_security_card:
        raise ValidationError(
            {
                "channel": [
                    ValidationError(
                        f"{rules.NO_CARD_ON_FILE}: "
                        + _("no social-security card number is on file; claim at a counter."),
                        code=rules.NO_CARD_ON_FILE,
                    )
                ]
            }
        )
    if not _proof_matches(voucher, channel, proof):
        failures = voucher.claim_failures + 1
        limit = settings.VOUCHER_CLAIM_MAX_FAILURES
        fields: dict[str, Any] = {"claim_failures": failures}
        if failures >= limit:
            fields = {
                "claim_failures": 0,
                "claim_locked_until": now + dt.timedelta(seconds=settings.VOUCHER_CLAIM_LOCK_SECONDS),
            }
        for name, value in fields.items():
            setattr(voucher, name, value)
        with acting(actor, action="claim_failed", reason=channel):
            voucher.save(update_fields=list(fields))
        left = max(limit - failures, 0)
        message = (
            _("the proof does not match; %(left)s more wrong tries lock claiming for an hour.")
            % {"left": left}
            if left
            else _("the proof does not match; claiming this voucher is now locked.")
        )
        return ValidationError(
            {"proof": [ValidationError(f"{rules.WRONG_PROOF}: {message}", code=rules.WRONG_PROOF)]}
        )
    return VOUCHER_FLOW.apply(
        voucher,
        "claim",
        actor=actor,
        at=now,
        reason=channel,
        fields={"claim_channel": channel, "claim_failures": 0, "claim_locked_until": None},
        check=False,
    )


def voucher_claim(
    *, voucher: Voucher, actor: Any, channel: str, proof: str, now: dt.datetime | None = None
) -> Voucher:
    """issued → claimed, by the holder proving who they are (实名制领取): the electronic
    social-security card number on file, or at a counter the last 6 characters of the identity
    number. A wrong proof is a 400 and is counted on the voucher; settings.VOUCHER_CLAIM_MAX_FAILURES
    (5) wrong proofs lock claiming that voucher for VOUCHER_CLAIM_LOCK_SECONDS (an hour), answered
    429 with Retry-After, even to the right proof. The count is written in the attempt's own
    transaction, so call this outside any transaction that a refusal would roll back (the API does)."""
    require_role(actor, Role.CLERK)
    outcome = _claim_attempt(
        voucher=voucher, actor=actor, channel=channel, proof=proof, now=now or timezone.now()
    )
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


@dataclass
class StepResult:
    """A step that may pay: the voucher, the payments made, and the allowances a payment rule refused
    (program code -> the refusal), which do not stop the step."""

    voucher: Voucher
    payments: list[Payment] = field(default_factory=list)
    refused: dict[str, ValidationError] = field(default_factory=dict)


def _allowance_items(
    voucher: Voucher, *, in_advance: bool, period: tuple[dt.date, dt.date]
) -> list[funding.PaymentItem]:
    """The living allowances due to the holder of a subsidised voucher: the allowance programs (of
    TrainingAllowance) that apply in the holder's region, pay at this moment (in advance at
    enrolment, otherwise at redemption) and whose groups the holder is in on the training's first
    day, not already paid for this voucher. Per training, or per training day attended (distinct
    days of accepted check-ins)."""
    if not voucher.type.subsidised:
        return []
    holder = voucher.holder
    path = Region.cached_path(holder.region_id)
    codes = [code for code in path.split("/") if code]
    allowances = list(
        TrainingAllowance.objects.filter(pays_in_advance=in_advance, program__region__code__in=codes)
        .select_related("program__region")
        .order_by("program__code")
    )
    if not allowances:
        return []
    paid = set(
        Payment.objects.filter(
            cause_label=selectors.VOUCHER_CAUSE,
            cause_object_id=str(voucher.pk),
            program_id__in=[a.program_id for a in allowances],
            status__in=(
                PaymentStatus.DRAFT,
                PaymentStatus.SUBMITTED,
                PaymentStatus.APPROVED,
                PaymentStatus.PAID,
            ),
        ).values_list("program_id", flat=True)
    )
    groups = beneficiary_group_codes_on(beneficiary=holder, on=period[0])
    items = []
    for allowance in allowances:
        program = allowance.program
        if program.pk in paid or (program.eligible_groups and not groups & set(program.eligible_groups)):
            continue
        quantity = selectors.training_days(voucher) if program.unit == Unit.PERSON_DAY else 1
        if quantity <= 0:
            continue
        items.append(
            funding.PaymentItem(
                program=program,
                period_start=period[0],
                period_end=period[1],
                beneficiary=holder,
                quantity=quantity,
                reason=_("Training living allowance for voucher %(code)s") % {"code": voucher.code},
                cause=voucher,
            )
        )
    return items


def _pay(items: list[funding.PaymentItem], actor: Any, today: dt.date) -> funding.BatchResult:
    return funding.payments_create_batch(
        items=items, actor=actor, submit=True, skip_refused=True, today=today
    )


def _refusals(items: list[funding.PaymentItem], result: funding.BatchResult, offset: int = 0) -> dict:
    return {items[index].program.code: error for index, error in result.refused.items() if index >= offset}


@atomic_service
def voucher_enroll(
    *, voucher: Voucher, course: Course, actor: Any, now: dt.datetime | None = None
) -> StepResult:
    """claimed → enrolled in a course (rules.check_course_for: an active institution within the type's
    region, an occupation the type allows, a course that has not ended and ends before the voucher
    does). Where the holder's region has a living allowance paid in advance (Guangzhou's 提前发放)
    and the holder is eligible, it is paid now (a submitted payment, cause: the voucher)."""
    require_role(actor, Role.CLERK)
    now = now or timezone.now()
    today = timezone.localdate(now)
    voucher = _lock(voucher)
    require_in_scope(actor, voucher)
    VOUCHER_FLOW.expect(voucher, "enroll")
    _refuse_if_expired(voucher, today, _("enrolled"))
    course = Course.objects.select_related("institution__region").get(pk=course.pk)
    errors = RuleErrors()
    rules.check_course_for(voucher, course, today, errors)
    errors.raise_if_any()
    VOUCHER_FLOW.apply(voucher, "enroll", actor=actor, at=now, fields={"course": course}, check=False)
    result = StepResult(voucher=voucher)
    items = _allowance_items(voucher, in_advance=True, period=(course.starts_on, course.ends_on))
    if items:
        paid = _pay(items, actor, today)
        result.payments = paid.created
        result.refused = _refusals(items, paid)
    return result


@atomic_service
def voucher_move(
    *, voucher: Voucher, course: Course, actor: Any, reason: str, now: dt.datetime | None = None
) -> Voucher:
    """enrolled → enrolled in another course (e.g. away from a suspended institution), with the same
    checks as enrolment. Check-ins to the first course stay in the record but no longer count."""
    require_role(actor, Role.CLERK)
    now = now or timezone.now()
    today = timezone.localdate(now)
    voucher = _lock(voucher)
    require_in_scope(actor, voucher)
    VOUCHER_FLOW.expect(voucher, "move")
    _refuse_if_expired(voucher, today, _("moved"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("REASON_REQUIRED: say why the voucher moves.")]})
    course = Course.objects.select_related("institution__region").get(pk=course.pk)
    if course.pk == voucher.course_id:
        raise ValidationError({"course": [_("The voucher is already enrolled in this course.")]})
    errors = RuleErrors()
    rules.check_course_for(voucher, course, today, errors)
    errors.raise_if_any()
    return VOUCHER_FLOW.apply(
        voucher, "move", actor=actor, reason=reason, fields={"course": course}, check=False
    )


@atomic_service
def voucher_check_in(
    *,
    voucher: Voucher,
    session: CourseSession,
    actor: Any,
    latitude: float,
    longitude: float,
    at: dt.datetime,
    datum: str = Datum.WGS84,
    accuracy_m: float | None = None,
    device_id: str = "",
    now: dt.datetime | None = None,
) -> CheckIn:
    """Record one located check-in attempt (定位打卡签到), accepted or rejected with its reason
    (rules.check_in_verdict); every attempt is kept. A GCJ-02 position (what Chinese map apps
    report) is converted to WGS-84 before the distance is measured. Positions that are not
    positions (out of range, NaN) and times in the future are refused (400) and not kept."""
    require_role(actor, Role.CLERK)
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if not valid_coordinates(latitude, longitude):
        errors["latitude"] = [_("Latitude -90 to 90 and longitude -180 to 180, as finite numbers.")]
    if accuracy_m is not None and not (
        math.isfinite(float(accuracy_m)) and 0 <= float(accuracy_m) <= 100_000
    ):
        errors["accuracy_m"] = [_("The accuracy is a distance in metres, 0 to 100,000.")]
    if datum not in Datum.values:
        errors["datum"] = [_("wgs84 or gcj02.")]
    if at > now + CLOCK_SKEW:
        errors["at"] = [_("The check-in time is in the future.")]
    if errors:
        raise ValidationError(errors)
    voucher = _lock(voucher)
    require_in_scope(actor, voucher)
    session = CourseSession.objects.select_related("course").get(pk=session.pk)
    position = to_wgs84(Point(float(latitude), float(longitude)), datum)
    already = CheckIn.objects.filter(voucher=voucher, session=session, accepted=True).exists()
    verdict = rules.check_in_verdict(
        voucher=voucher,
        session=session,
        position=position,
        accuracy_m=None if accuracy_m is None else float(accuracy_m),
        at=at,
        at_day=timezone.localdate(at),
        early=dt.timedelta(minutes=settings.VOUCHER_CHECK_IN_EARLY_MINUTES),
        already_accepted=already,
    )
    record = CheckIn(
        voucher=voucher,
        session=session,
        at=at,
        latitude=_degrees(latitude),
        longitude=_degrees(longitude),
        datum=datum,
        latitude_wgs84=_degrees(position.latitude),
        longitude_wgs84=_degrees(position.longitude),
        accuracy_m=_metres(accuracy_m),
        device_id=(device_id or "")[:128],
        distance_m=_metres(verdict.distance_m),
        accepted=verdict.accepted,
        rejection=verdict.rejection,
        recorded_by=actor,
    )
    record.validate_row(exclude=["recorded_by"])
    action = "check_in" if verdict.accepted else "check_in_rejected"
    with acting(actor, action=action, reason=verdict.rejection):
        record.save()
    return record


@atomic_service
def voucher_complete(
    *,
    voucher: Voucher,
    actor: Any,
    certificate_number: str = "",
    certificate_level: str = "",
    certificate_issued_on: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Voucher:
    """enrolled → completed, with the certificate the training earned (number, level — default the
    course's — and date, default today), refused below the course's minimum attendance over the
    sessions held so far (rules.check_attendance). A check-in-only training may complete without a
    certificate; only a voucher with one is redeemed."""
    require_role(actor, Role.CLERK)
    now = now or timezone.now()
    today = timezone.localdate(now)
    voucher = _lock(voucher)
    require_in_scope(actor, voucher)
    VOUCHER_FLOW.expect(voucher, "complete")
    _refuse_if_expired(voucher, today, _("completed"))
    counted = selectors.attendance_of(voucher, now=now)
    errors = RuleErrors()
    rules.check_attendance(voucher.course, counted["accepted_check_ins"], counted["sessions_held"], errors)
    errors.raise_if_any()
    number = (certificate_number or "").strip()
    certificate = None
    if number:
        issued_on = certificate_issued_on or today
        if issued_on > today:
            raise ValidationError(
                {"certificate_issued_on": [_("The certificate date cannot be in the future.")]}
            )
        if issued_on < voucher.course.starts_on:
            raise ValidationError(
                {"certificate_issued_on": [_("The certificate cannot be dated before the course started.")]}
            )
        if Certificate.objects.filter(number=number).exists():
            raise ValidationError({"certificate_number": [_("This certificate number is already recorded.")]})
        certificate = Certificate(
            number=number,
            voucher=voucher,
            level=certificate_level or voucher.course.level,
            issued_on=issued_on,
        )
        certificate.validate_row()
    elif certificate_level or certificate_issued_on:
        raise ValidationError(
            {"certificate_number": [_("Give the certificate's number with its level and date.")]}
        )
    VOUCHER_FLOW.apply(voucher, "complete", actor=actor, at=now, check=False)
    if certificate is not None:
        with acting(actor, action="certify"):
            certificate.save()
    return voucher


@atomic_service
def voucher_evaluate(
    *,
    voucher: Voucher,
    actor: Any,
    course_rating: int,
    institution_rating: int,
    comment: str = "",
    now: dt.datetime | None = None,
) -> Evaluation:
    """The worker's rating of the course and the institution (培训评价), 1 to 5 with a comment: once,
    after completion (completed or redeemed)."""
    require_role(actor, Role.CLERK)
    voucher = _lock(voucher)
    require_in_scope(actor, voucher)
    if voucher.status not in (S.COMPLETED, S.REDEEMED):
        raise Conflict(
            _("STATUS: the voucher is %(status)s; a training is evaluated after it is completed.")
            % {"status": voucher.get_status_display()},
            extra={"status_now": voucher.status, "verb": "evaluate"},
        )
    if Evaluation.objects.filter(voucher=voucher).exists():
        raise Conflict(_("EVALUATED: this training has already been evaluated."), extra={"verb": "evaluate"})
    evaluation = Evaluation(
        voucher=voucher,
        course_rating=course_rating,
        institution_rating=institution_rating,
        comment=(comment or "").strip(),
        evaluated_at=now or timezone.now(),
        recorded_by=actor,
    )
    evaluation.validate_row(exclude=["recorded_by"])
    with acting(actor, action="evaluate"):
        evaluation.save()
    return evaluation


def _redemption_payee(voucher: Voucher) -> dict[str, Any]:
    payee = voucher.type.payee
    if payee == VoucherPayee.INSTITUTION:
        return {"institution": voucher.course.institution}
    if payee == VoucherPayee.EMPLOYER:
        return {"employer": voucher.employer}
    return {}


def _payee_region_id(voucher: Voucher) -> int:
    payee = voucher.type.payee
    if payee == VoucherPayee.INSTITUTION:
        return voucher.course.institution.region_id
    if payee == VoucherPayee.EMPLOYER and voucher.employer is not None:
        return voucher.employer.region_id
    return voucher.holder.region_id


def redemption_amount(voucher: Voucher) -> decimal.Decimal:
    """The face value rule applied to the voucher's course, with the paying program's uplift for the
    payee region's designations (rules.face_value)."""
    program = voucher.type.program
    designations = designations_for_path(Region.cached_path(_payee_region_id(voucher)))
    return rules.face_value(voucher.type, voucher.course, program.uplift_percent(designations))


@atomic_service
def voucher_redeem(*, voucher: Voucher, actor: Any, now: dt.datetime | None = None) -> StepResult:
    """completed → redeemed (settlement): one payment to the type's payee — the training institution,
    the employer or the worker — for the holder, from the type's program, of the face value
    (redemption_amount), submitted for a reviewer's approval, with the voucher as its cause; and
    the living allowances due at the end of the training (refusals of those are reported, not
    fatal). Only a subsidised voucher with a certificate, of an active institution.

    Exactly once: the voucher row is locked first, so of concurrent requests one redeems and the
    others find it redeemed (409). A payment rule's refusal of the redemption itself is a 400 and
    nothing changes."""
    require_role(actor, Role.CLERK)
    now = now or timezone.now()
    today = timezone.localdate(now)
    voucher = _lock(voucher)
    require_in_scope(actor, voucher)
    VOUCHER_FLOW.expect(voucher, "redeem")
    _refuse_if_expired(voucher, today, _("redeemed"))
    errors = RuleErrors()
    has_certificate = Certificate.objects.filter(voucher=voucher).exists()
    rules.check_redeemable(voucher, has_certificate, errors)
    errors.raise_if_any()
    amount = redemption_amount(voucher)
    if amount <= 0:
        errors.add("voucher", rules.NOTHING_TO_PAY, _("the course is free; there is nothing to pay."))
        errors.raise_if_any()
    course = voucher.course
    period = (course.starts_on, max(course.starts_on, timezone.localdate(voucher.completed_at)))
    items = [
        funding.PaymentItem(
            program=voucher.type.program,
            period_start=period[0],
            period_end=period[1],
            beneficiary=voucher.holder,
            quantity=1,
            unit_amount=amount,
            amount=amount,
            reason=_("Redemption of training voucher %(code)s") % {"code": voucher.code},
            cause=voucher,
            **_redemption_payee(voucher),
        ),
        *_allowance_items(voucher, in_advance=False, period=period),
    ]
    paid = _pay(items, actor, today)
    if 0 in paid.refused:
        raise paid.refused[0]
    VOUCHER_FLOW.apply(voucher, "redeem", actor=actor, at=now, check=False)
    return StepResult(voucher=voucher, payments=paid.created, refused=_refusals(items, paid, offset=1))


@atomic_service
def voucher_cancel(*, voucher: Voucher, actor: Any, reason: str, now: dt.datetime | None = None) -> Voucher:
    """issued/claimed/enrolled → cancelled, with the reason. A living allowance paid in advance for
    the voucher is undone in the ledger, never silently: a submitted one is rejected, a paid one is
    reversed (a linked negative entry). That is a reviewer's decision (maker-checker), so a voucher
    with a live advance is cancelled by a reviewer; one approved but not yet paid must be paid (then
    reversed) or is refused here (409), since the ledger has no way back from approved."""
    require_role(actor, Role.CLERK, Role.REVIEWER)
    voucher = _lock(voucher)
    require_in_scope(actor, voucher)
    VOUCHER_FLOW.expect(voucher, "cancel")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("REASON_REQUIRED: say why the voucher is cancelled.")]})
    advances = selectors.live_advances(voucher)
    if advances and not actor.has_role(Role.REVIEWER):
        raise PermissionDenied(
            _(
                "%(code)s: a living allowance was paid in advance for this voucher (payment #%(id)s); "
                "a reviewer cancels it so the advance is reversed."
            )
            % {"code": rules.ADVANCE_REVERSAL, "id": advances[0].pk}
        )
    undo_reason = _("Voucher %(code)s cancelled: %(reason)s") % {"code": voucher.code, "reason": reason}
    for payment in advances:
        if payment.status == PaymentStatus.SUBMITTED:
            funding.payment_reject(payment=payment, actor=actor, reason=undo_reason)
        elif payment.status == PaymentStatus.PAID:
            funding.payment_reverse(payment=payment, actor=actor, reason=undo_reason)
        else:
            raise Conflict(
                _(
                    "%(code)s: the advance payment #%(id)s is %(status)s; it can be reversed only once paid. "
                    "Mark it paid, then cancel the voucher."
                )
                % {"code": rules.ADVANCE_REVERSAL, "id": payment.pk, "status": payment.get_status_display()},
                extra={"payment": payment.pk, "payment_status": payment.status},
            )
    return VOUCHER_FLOW.apply(
        voucher, "cancel", actor=actor, reason=reason, at=now, fields={"cancel_reason": reason}, check=False
    )


@atomic_service
def vouchers_expire(
    *, actor: Any = None, today: dt.date | None = None, now: dt.datetime | None = None
) -> int:
    """Mark issued and claimed vouchers past their last valid day expired (the `expire_vouchers`
    command; later a scheduled job), in bulk with one change entry each (`expire`). With an actor,
    only the vouchers in their region; without one, inside a command's context, all of them."""
    if actor is not None:
        require_role(actor, Role.CLERK, Role.REVIEWER)
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    queryset = Voucher.objects.filter(status__in=[S.ISSUED, S.CLAIMED], expires_on__lt=today)
    if actor is not None:
        queryset = queryset.writable_by(actor)
    ids = list(queryset.order_by("pk").values_list("pk", flat=True))
    done = 0
    for start in range(0, len(ids), 2000):
        chunk = list(
            Voucher.objects.select_for_update(of=("self",))
            .select_related("holder")
            .filter(pk__in=ids[start : start + 2000], status__in=[S.ISSUED, S.CLAIMED])
            .order_by("pk")
        )
        for voucher in chunk:
            voucher.status = VOUCHER_FLOW["expire"].target
            voucher.expired_at = now
        with acting(actor, action="expire"):
            tracked_bulk_update(Voucher, chunk, ["status", "expired_at"])
        done += len(chunk)
    return done


@atomic_service
def institution_suspend(*, institution: TrainingInstitution, actor: Any, reason: str) -> list[Voucher]:
    """Suspend an institution (programs.funding) and list the vouchers enrolled there, to move or
    cancel one by one: none is voided by the suspension."""
    funding.training_institution_suspend(institution=institution, actor=actor, reason=reason)
    return list(selectors.vouchers_enrolled_at(institution).visible_to(actor))


__all__ = [
    "VOUCHER_FLOW",
    "IssueResult",
    "StepResult",
    "course_create",
    "course_session_create",
    "course_session_update",
    "course_update",
    "institution_suspend",
    "redemption_amount",
    "training_allowance_set",
    "voucher_cancel",
    "voucher_check_in",
    "voucher_claim",
    "voucher_complete",
    "voucher_enroll",
    "voucher_evaluate",
    "voucher_issue",
    "voucher_move",
    "voucher_plan_create",
    "voucher_plan_update",
    "voucher_redeem",
    "voucher_type_create",
    "voucher_type_update",
    "vouchers_expire",
    "vouchers_issue_batch",
    "worker_training_profile_set",
]
