"""Services of the public-welfare posts app: the only way posts, holdings, attendance, assessments,
personnel changes and subsidy runs are written. Every door (API, admin, import, seed) calls these.

Rules enforced here and why (each one a function in rules.py, refused with a 400 naming it):
- A post is paid by a public-welfare post program that applies in its region, at a standard within
  the program's bounds; a rural post's standard stays within its county's cap (Fujian R021/R022).
- A holding (assignment) starts when the person is in one of the program's groups, one post at a
  time per person, never more holders than positions on any day (the post's row is locked, so
  concurrent hires queue), inside the post's open period, ended between its start and today, and
  on a rural post only without urban employee social insurance where the program says so.
- Hiring records the person's employment status `public_welfare_post` from the start date; ending
  records the status the caller gives (default unemployed, which opens the registry's follow-up).
- Every hire, end and replacement is a personnel change (人员变动), marked late when reported more
  than POST_CHANGE_LATE_DAYS days after it took effect, approved by a reviewer of the township or
  above who did not report it.
- Attendance and assessments are per holding and month (or quarter); a month already paid keeps its
  attendance.
- The monthly subsidy run pays through the ledger's batch path (programs.funding.services
  payments_create_batch: every payment rule, set-based, constant queries per batch) and skips, with a
  reason, what it must not pay; a month already paid (a live payment caused by the assignment for
  that month) is never paid twice.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from beneficiaries.choices import EmploymentStatus, StatusSource
from beneficiaries.models import Beneficiary
from beneficiaries.selectors import beneficiary_group_codes_on
from beneficiaries.services import status_change_record
from programs.funding import rules as payment_rules
from programs.funding.rules import RuleErrors
from programs.funding.services import PaymentItem, payments_create_batch
from programs.posts import rules
from programs.posts.choices import (
    AssessmentPeriodKind,
    AttendanceSource,
    EndReason,
    PersonnelChangeKind,
    PersonnelChangeStatus,
    PostStatus,
    Rating,
)
from programs.posts.models import (
    Assessment,
    AssessmentStandard,
    Assignment,
    Attendance,
    PersonnelChange,
    Post,
    PostStandard,
    SubsidyRun,
)
from programs.posts.payee_accounts import store_account
from programs.posts.selectors import (
    CHUNK,
    county_standards,
    held_in,
    late_days,
    paid_months,
    person_periods,
    post_periods,
)
from tracker.accounts.choices import Role
from tracker.accounts.roles import require_role
from tracker.changelog.context import acting
from tracker.changelog.services import tracked_bulk_create, tracked_bulk_update
from tracker.errors import Conflict
from tracker.jobs.models import Job
from tracker.jobs.services import job_enqueue
from tracker.periods import Month
from tracker.regions.choices import RegionLevel
from tracker.regions.models import Region, designations_for_path
from tracker.scope import ancestor_paths, require_in_scope
from tracker.transactions import atomic_service
from tracker.transitions import StateMachine, Transition

# The fields a post is written with (services, API serializer and admin use this list).
POST_FIELDS: tuple[str, ...] = (
    "region",
    "employing_unit",
    "employer",
    "category",
    "urban_rural",
    "title",
    "duties",
    "headcount",
    "monthly_standard",
    "program",
    "opened_on",
    "justification",
)
# What may be corrected on a holding after the hire (its dates change only by ending it).
ASSIGNMENT_FIELDS: tuple[str, ...] = (
    "contract_kind",
    "contract_number",
    "contract_signed_on",
    "contract_from",
    "contract_to",
    "urban_employee_insured",
    "payee_account_kind",
    "payee_account",
)
STANDARD_FIELDS: tuple[str, ...] = ("urban_standard", "rural_cap", "policy_reference", "notes")

POST_FLOW = StateMachine(
    {
        "suspend": Transition(sources={PostStatus.OPEN}, target=PostStatus.SUSPENDED),
        "resume": Transition(sources={PostStatus.SUSPENDED}, target=PostStatus.OPEN),
        "close": Transition(sources={PostStatus.OPEN, PostStatus.SUSPENDED}, target=PostStatus.CLOSED),
    }
)
CHANGE_FLOW = StateMachine(
    {
        "approve": Transition(
            sources={PersonnelChangeStatus.REPORTED},
            target=PersonnelChangeStatus.APPROVED,
            actor_field="approved_by",
            time_field="approved_at",
        )
    }
)
# Regions at which a reviewer may approve a personnel change: the township or above (乡镇及以上).
APPROVING_LEVELS = frozenset(
    {
        RegionLevel.COUNTRY,
        RegionLevel.PROVINCE,
        RegionLevel.CITY,
        RegionLevel.COUNTY,
        RegionLevel.TOWNSHIP,
    }
)
# How a hire or an end reaches the registry's status history: the bureau's own post records are
# matched into it (数据比对), not a visit or a call.
STATUS_SOURCE = StatusSource.DATA_MATCH


def _unknown(fields: Mapping[str, Any], allowed: Sequence[str]) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValidationError({name: [_("Unknown field.")] for name in sorted(unknown)})


def _years(start: dt.date, end: dt.date) -> range:
    return range(start.year, max(start.year, end.year) + 1)


# -- county standards ------------------------------------------------------------------------------


def _rural_posts_above(standard: PostStandard) -> list[Post]:
    """Rural posts in the standard's county, open in its year, paid above its rural limit."""
    first, last = dt.date(standard.year, 1, 1), dt.date(standard.year, 12, 31)
    return list(
        Post.objects.within(standard.region.path)
        .filter(urban_rural="rural", opened_on__lte=last, monthly_standard__gt=standard.rural_limit)
        .filter(Q(closed_on__isnull=True) | Q(closed_on__gte=first))
        .order_by("id")[:5]
    )


def _check_standard(standard: PostStandard) -> None:
    if standard.region.level != RegionLevel.COUNTY:
        raise ValidationError({"region": [_("Post standards are set per county.")]})
    above = _rural_posts_above(standard)
    if above:
        errors = RuleErrors()
        errors.add(
            "rural_cap" if standard.rural_cap is not None else "urban_standard",
            rules.RURAL_ABOVE_URBAN_STANDARD,
            _("rural posts of the county are paid more than %(limit)s in %(year)s: %(posts)s."),
            {
                "limit": standard.rural_limit,
                "year": standard.year,
                "posts": ", ".join(f"{p.title} ({p.monthly_standard})" for p in above),
            },
        )
        errors.raise_if_any()


@atomic_service
def post_standard_create(
    *,
    actor: Any,
    region: Region,
    year: int,
    urban_standard: decimal.Decimal,
    rural_cap: decimal.Decimal | None = None,
    policy_reference: str = "",
    notes: str = "",
    dry_run: bool = False,
) -> PostStandard:
    """A county's standards for a year, set by a reviewer of the county or above."""
    require_role(actor, Role.REVIEWER)
    require_in_scope(actor, region)
    standard = PostStandard(
        region=region,
        year=year,
        urban_standard=urban_standard,
        rural_cap=rural_cap,
        policy_reference=policy_reference or "",
        notes=notes or "",
    )
    standard.validate_row(dry_run=dry_run)
    _check_standard(standard)
    if dry_run:
        return standard
    with acting(actor):
        standard.save()
    return standard


@atomic_service
def post_standard_update(
    *, standard: PostStandard, actor: Any, fields: Mapping[str, Any], dry_run: bool = False
) -> PostStandard:
    require_role(actor, Role.REVIEWER)
    _unknown(fields, STANDARD_FIELDS)
    standard = PostStandard.objects.select_for_update().select_related("region").get(pk=standard.pk)
    require_in_scope(actor, standard)
    for name, value in fields.items():
        setattr(standard, name, "" if value is None and name in ("policy_reference", "notes") else value)
    standard.validate_row(dry_run=dry_run)
    _check_standard(standard)
    if dry_run:
        return standard
    with acting(actor):
        standard.save()
    return standard


# -- posts -----------------------------------------------------------------------------------------


def _check_post(post: Post, today: dt.date) -> None:
    """Every rule of a post's own values (rules.py): its program, its standard within the program's
    bounds and the county's rural cap, its employing unit."""
    missing = {
        name: [_("This field is required.")]
        for name in ("region", "program")
        if getattr(post, f"{name}_id") is None
    }
    if missing:
        raise ValidationError(missing)
    errors = RuleErrors()
    program = post.program
    region = post.region
    rules.check_program(program, region.path, errors)
    if not errors:
        floor, ceiling = payment_rules.unit_bounds(program, designations_for_path(region.path))
        rules.check_standard_within_program(post.monthly_standard, floor, ceiling, errors)
    end = post.closed_on or max(today, post.opened_on)
    rules.check_rural_standard(
        post.urban_rural,
        post.monthly_standard,
        county_standards(region_path=region.path, years=_years(post.opened_on, end)),
        errors,
    )
    rules.check_employing_unit(post.employing_unit, post.employer_id is not None, region.level, errors)
    errors.raise_if_any()


@atomic_service
def post_create(
    *, actor: Any, fields: Mapping[str, Any], dry_run: bool = False, today: dt.date | None = None
) -> Post:
    """A town or village sets a post (a clerk of its region or above)."""
    _unknown(fields, POST_FIELDS)
    require_role(actor, Role.CLERK)
    post = Post(**{name: value for name, value in fields.items()})
    if post.region_id is None:
        raise ValidationError({"region": [_("This field is required.")]})
    require_in_scope(actor, post.region)
    if post.employer_id is not None:
        require_in_scope(actor, post.employer)
    post.status = PostStatus.OPEN
    post.validate_row(dry_run=dry_run)
    _check_post(post, today or timezone.localdate())
    if dry_run:
        return post
    with acting(actor):
        post.save()
    return post


def _lock_post(post: Post) -> Post:
    return (
        Post.objects.select_for_update(of=("self",))
        .select_related("program__region", "region", "employer")
        .get(pk=post.pk)
    )


@atomic_service
def post_update(
    *, post: Post, actor: Any, fields: Mapping[str, Any], dry_run: bool = False, today: dt.date | None = None
) -> Post:
    """Correct a post. Its region stays once it has holders (their records are scoped by it); its
    headcount never drops below the most holders it had on one day; its opening stays on or before
    its first holder's start. Runs under the post's row lock, as hires do."""
    _unknown(fields, POST_FIELDS)
    require_role(actor, Role.CLERK)
    post = _lock_post(post)
    require_in_scope(actor, post)
    periods = [period for _pk, period in post_periods(post)]
    errors = RuleErrors()
    if "region" in fields and fields["region"] != post.region and periods:
        errors.add("region", rules.REGION_FIXED, _("the post has holders; its region cannot change."))
    for name, value in fields.items():
        setattr(post, name, value)
    require_in_scope(actor, post.region)
    if post.employer_id is not None and "employer" in fields:
        require_in_scope(actor, post.employer)
    peak = rules.peak_holders(periods)
    if post.headcount is not None and peak > post.headcount:
        errors.add(
            "headcount",
            rules.HEADCOUNT_EXCEEDED,
            _("the post had %(peak)s holders on one day; it cannot have fewer positions."),
            {"peak": peak},
        )
    if periods and post.opened_on and min(start for start, _end in periods) < post.opened_on:
        errors.add(
            "opened_on",
            rules.OUTSIDE_POST_PERIOD,
            _("a holder started before %(date)s."),
            {"date": post.opened_on.isoformat()},
        )
    errors.raise_if_any()
    post.validate_row(dry_run=dry_run)
    _check_post(post, today or timezone.localdate())
    if dry_run:
        return post
    with acting(actor):
        post.save()
    return post


@atomic_service
def post_suspend(*, post: Post, actor: Any, reason: str = "") -> Post:
    """open → suspended: no one is hired while suspended; current holders keep their posts."""
    require_role(actor, Role.CLERK)
    post = _lock_post(post)
    require_in_scope(actor, post)
    return POST_FLOW.apply(post, "suspend", actor=actor, reason=reason)


@atomic_service
def post_resume(*, post: Post, actor: Any, reason: str = "") -> Post:
    require_role(actor, Role.CLERK)
    post = _lock_post(post)
    require_in_scope(actor, post)
    return POST_FLOW.apply(post, "resume", actor=actor, reason=reason)


@atomic_service
def post_close(*, post: Post, actor: Any, closed_on: dt.date, reason: str = "") -> Post:
    """open or suspended → closed on a day by which every holder has left (end them first)."""
    require_role(actor, Role.CLERK)
    post = _lock_post(post)
    require_in_scope(actor, post)
    POST_FLOW.expect(post, "close")
    errors = RuleErrors()
    if closed_on < post.opened_on:
        errors.add("closed_on", rules.OUTSIDE_POST_PERIOD, _("the post closes before it opened."))
    holding = [pk for pk, (_start, end) in post_periods(post) if end is None or end > closed_on]
    if holding:
        errors.add(
            "closed_on",
            rules.POST_HAS_HOLDERS,
            _("%(n)s holders still hold the post after %(date)s; end their holdings first."),
            {"n": len(holding), "date": closed_on.isoformat()},
        )
    errors.raise_if_any()
    return POST_FLOW.apply(
        post, "close", actor=actor, reason=reason, fields={"closed_on": closed_on}, check=False
    )


# -- holding a post --------------------------------------------------------------------------------


def _lock_person(beneficiary: Beneficiary) -> Beneficiary:
    return Beneficiary.objects.select_for_update().get(pk=beneficiary.pk)


def _record_change(
    *,
    actor: Any,
    kind: str,
    post: Post,
    assignment: Assignment,
    effective_on: dt.date,
    reported_on: dt.date,
    reason: str,
    successor: Assignment | None = None,
) -> PersonnelChange:
    change = PersonnelChange(
        kind=kind,
        post=post,
        region_id=post.region_id,
        assignment=assignment,
        successor=successor,
        effective_on=effective_on,
        reported_on=reported_on,
        late=rules.is_late(effective_on, reported_on, late_days()),
        reason=(reason or "").strip(),
        reported_by=actor,
    )
    change.validate_row()
    with acting(actor, reason=change.reason):
        change.save()
    return change


def _check_holding(
    assignment: Assignment,
    *,
    post: Post,
    person: Beneficiary,
    today: dt.date,
    ending: Mapping[int, dt.date] | None = None,
) -> None:
    """Every rule of a new holding (rules.py), collected: dates, the post's open period, the person's
    groups on the start date, one post at a time, the headcount on every day, urban insurance on a
    rural post, the contract date. `ending`: holdings ended in the same transaction (a replacement's
    holder), by id, which count as ended on the day given."""
    errors = RuleErrors()
    start, end = assignment.start_date, assignment.end_date
    if not person.active and (person.deactivated_on is None or person.deactivated_on <= start):
        errors.add("beneficiary", rules.PERSON_INACTIVE, _("the person is no longer active in the registry."))
    rules.check_dates(start, end, today, errors)
    rules.check_within_post(start, end, post.opened_on, post.closed_on, errors)
    rules.check_eligible(
        post.program.eligible_groups, beneficiary_group_codes_on(beneficiary=person, on=start), start, errors
    )

    def adjusted(periods: list[tuple[int, tuple[dt.date, dt.date | None]]]) -> list[tuple[int, Any]]:
        if not ending:
            return periods
        return [(pk, (s, ending.get(pk, e))) for pk, (s, e) in periods]

    exclude = [assignment.pk] if assignment.pk else []
    rules.check_one_post(adjusted(person_periods(person, exclude=exclude)), (start, end), errors)
    rules.check_headcount(
        post.headcount,
        [period for _pk, period in adjusted(post_periods(post, exclude=exclude))],
        (start, end),
        errors,
    )
    rules.check_urban_insurance(
        post.urban_rural,
        post.program.rural_posts_exclude_urban_insured,
        assignment.urban_employee_insured,
        errors,
    )
    rules.check_contract_signed(assignment.contract_signed_on, today, errors)
    errors.raise_if_any()


def _apply_account(assignment: Assignment, kind: str, number: object) -> None:
    stored = store_account(number)
    assignment.payee_account_kind = kind or ""
    assignment.payee_account_encrypted = stored.encrypted
    assignment.payee_account_hash = stored.hash
    assignment.payee_account_masked = stored.masked


def _hire(
    *,
    actor: Any,
    post: Post,
    beneficiary: Beneficiary,
    start_date: dt.date,
    today: dt.date,
    dry_run: bool,
    ending: Mapping[int, dt.date] | None = None,
    contract_kind: str = "",
    contract_number: str = "",
    contract_signed_on: dt.date | None = None,
    contract_from: dt.date | None = None,
    contract_to: dt.date | None = None,
    urban_employee_insured: bool = False,
    payee_account_kind: str = "",
    payee_account: str = "",
) -> Assignment:
    require_in_scope(actor, beneficiary)
    if post.status != PostStatus.OPEN:
        raise Conflict(
            _("POST_NOT_OPEN: the post is %(status)s; no one is hired.")
            % {"status": post.get_status_display()},
            extra={"status_now": post.status},
        )
    person = beneficiary if dry_run else _lock_person(beneficiary)
    assignment = Assignment(
        post=post,
        beneficiary=person,
        region_id=post.region_id,
        start_date=start_date,
        contract_kind=contract_kind or "",
        contract_number=(contract_number or "").strip(),
        contract_signed_on=contract_signed_on,
        contract_from=contract_from,
        contract_to=contract_to,
        urban_employee_insured=bool(urban_employee_insured),
    )
    _apply_account(assignment, payee_account_kind, payee_account)
    _check_holding(assignment, post=post, person=person, today=today, ending=ending)
    assignment.validate_row(dry_run=dry_run)
    if dry_run:
        return assignment
    with acting(actor, action="hire"):
        assignment.save()
    status_change_record(
        beneficiary=person,
        actor=actor,
        status=EmploymentStatus.PUBLIC_WELFARE_POST,
        effective_on=start_date,
        source=STATUS_SOURCE,
        employer_or_place=post.title[:200],
        note=_("Hired to public-welfare post #%(post)s (assignment #%(id)s).")
        % {"post": post.pk, "id": assignment.pk},
    )
    return assignment


@atomic_service
def assignment_hire(
    *,
    actor: Any,
    post: Post,
    beneficiary: Beneficiary,
    start_date: dt.date,
    reported_on: dt.date | None = None,
    reason: str = "",
    today: dt.date | None = None,
    dry_run: bool = False,
    ending: Mapping[int, dt.date] | None = None,
    **holding: Any,
) -> Assignment:
    """Place a person in a post from `start_date` (上岗): every rule of a holding under the post's row
    lock (so concurrent hires for the last places queue and the headcount holds), the person's status
    `public_welfare_post` from the start, and a personnel change (hire) reported on `reported_on`
    (default today). `holding`: the contract fields, `urban_employee_insured`, `payee_account_kind`
    and `payee_account` (in the clear; stored encrypted, hashed and masked). `ending`: for a dry run
    checked together with ends not yet written (the admin's holder table ends one holder and hires
    another in one save), the holdings that end first, by id, and their last days."""
    _unknown(holding, ASSIGNMENT_FIELDS)
    require_role(actor, Role.CLERK)
    today = today or timezone.localdate()
    post = _lock_post(post)
    require_in_scope(actor, post)
    reported_on = reported_on or today
    errors = RuleErrors()
    rules.check_reported_on(reported_on, today, errors)
    errors.raise_if_any()
    assignment = _hire(
        actor=actor,
        post=post,
        beneficiary=beneficiary,
        start_date=start_date,
        today=today,
        dry_run=dry_run,
        ending=ending,
        **holding,
    )
    if not dry_run:
        _record_change(
            actor=actor,
            kind=PersonnelChangeKind.HIRE,
            post=post,
            assignment=assignment,
            effective_on=start_date,
            reported_on=reported_on,
            reason=reason,
        )
    return assignment


def _lock_assignment(assignment: Assignment) -> Assignment:
    return (
        Assignment.objects.select_for_update(of=("self",))
        .select_related("post__program__region", "post__region", "beneficiary")
        .get(pk=assignment.pk)
    )


def _end(
    *,
    actor: Any,
    assignment: Assignment,
    end_date: dt.date,
    end_reason: str,
    status: str,
    today: dt.date,
    dry_run: bool,
) -> Assignment:
    if assignment.end_date is not None:
        raise Conflict(
            _("ASSIGNMENT_ENDED: the holder left on %(date)s.") % {"date": assignment.end_date.isoformat()},
            extra={"end_date": assignment.end_date.isoformat()},
        )
    errors = RuleErrors()
    if end_reason not in EndReason.values:
        raise ValidationError({"end_reason": [_("Unknown end reason.")]})
    if status not in EmploymentStatus.values:
        raise ValidationError({"status": [_("Unknown employment status.")]})
    rules.check_dates(assignment.start_date, end_date, today, errors)
    post = assignment.post
    if post.closed_on is not None and end_date > post.closed_on:
        errors.add(
            "end_date",
            rules.OUTSIDE_POST_PERIOD,
            _("the post closed on %(date)s."),
            {"date": post.closed_on.isoformat()},
        )
    errors.raise_if_any()
    assignment.end_date = end_date
    assignment.end_reason = end_reason
    assignment.validate_row()
    if dry_run:
        return assignment
    with acting(actor, action="end"):
        assignment.save(update_fields=["end_date", "end_reason"])
    # The new status holds from the day after the last day in post; an end recorded on its own day
    # takes effect that day (the registry takes no future dates).
    status_change_record(
        beneficiary=assignment.beneficiary,
        actor=actor,
        status=status,
        effective_on=min(end_date + dt.timedelta(days=1), today),
        source=STATUS_SOURCE,
        note=_("Left public-welfare post #%(post)s (assignment #%(id)s): %(reason)s.")
        % {"post": post.pk, "id": assignment.pk, "reason": EndReason(end_reason).label},
    )
    return assignment


@atomic_service
def assignment_end(
    *,
    assignment: Assignment,
    actor: Any,
    end_date: dt.date,
    end_reason: str,
    status: str = EmploymentStatus.UNEMPLOYED,
    reported_on: dt.date | None = None,
    reason: str = "",
    today: dt.date | None = None,
    dry_run: bool = False,
) -> Assignment:
    """End a holding on its last day (离岗): between its start and today. The person's status from the
    next day is `status` (default unemployed: the registry opens a follow-up for a move out of
    work). A personnel change (end) reported on `reported_on`; an end reported late may leave months
    paid after the holder left, which the inspection finds (selectors.inspection_findings)."""
    require_role(actor, Role.CLERK)
    today = today or timezone.localdate()
    post = _lock_post(assignment.post)
    assignment = _lock_assignment(assignment)
    require_in_scope(actor, assignment)
    reported_on = reported_on or today
    errors = RuleErrors()
    rules.check_reported_on(reported_on, today, errors)
    errors.raise_if_any()
    assignment.post = post
    ended = _end(
        actor=actor,
        assignment=assignment,
        end_date=end_date,
        end_reason=end_reason,
        status=status,
        today=today,
        dry_run=dry_run,
    )
    if not dry_run:
        _record_change(
            actor=actor,
            kind=PersonnelChangeKind.END,
            post=post,
            assignment=ended,
            effective_on=end_date,
            reported_on=reported_on,
            reason=reason or str(EndReason(end_reason).label),
        )
    return ended


@atomic_service
def assignment_replace(
    *,
    assignment: Assignment,
    actor: Any,
    end_date: dt.date,
    end_reason: str,
    successor: Beneficiary,
    start_date: dt.date | None = None,
    status: str = EmploymentStatus.UNEMPLOYED,
    reported_on: dt.date | None = None,
    reason: str = "",
    today: dt.date | None = None,
    dry_run: bool = False,
    **holding: Any,
) -> tuple[Assignment, Assignment]:
    """End one holder and hire the successor in one transaction (人员替换): the successor starts on
    `start_date` (default the day after the end) under every rule of a hire, and one personnel change
    (replacement) names both holdings. All or nothing."""
    _unknown(holding, ASSIGNMENT_FIELDS)
    require_role(actor, Role.CLERK)
    today = today or timezone.localdate()
    post = _lock_post(assignment.post)
    assignment = _lock_assignment(assignment)
    require_in_scope(actor, assignment)
    reported_on = reported_on or today
    start_date = start_date or end_date + dt.timedelta(days=1)
    errors = RuleErrors()
    rules.check_reported_on(reported_on, today, errors)
    if successor.pk == assignment.beneficiary_id:
        errors.add("successor", rules.ONE_POST_AT_A_TIME, _("the successor is the holder who leaves."))
    errors.raise_if_any()
    assignment.post = post
    ended = _end(
        actor=actor,
        assignment=assignment,
        end_date=end_date,
        end_reason=end_reason,
        status=status,
        today=today,
        dry_run=dry_run,
    )
    try:
        new = _hire(
            actor=actor,
            post=post,
            beneficiary=successor,
            start_date=start_date,
            today=today,
            dry_run=dry_run,
            ending={ended.pk: end_date},
            **holding,
        )
    except ValidationError as exc:
        # The successor's refusals are named as the successor's (the holder who leaves is fine).
        raise ValidationError(
            {
                ("successor" if name == "beneficiary" else name): messages
                for name, messages in exc.error_dict.items()
            }
        ) from exc
    if not dry_run:
        _record_change(
            actor=actor,
            kind=PersonnelChangeKind.REPLACE,
            post=post,
            assignment=ended,
            successor=new,
            effective_on=start_date,
            reported_on=reported_on,
            reason=reason or str(EndReason(end_reason).label),
        )
    return ended, new


@atomic_service
def assignment_update(
    *,
    assignment: Assignment,
    actor: Any,
    fields: Mapping[str, Any],
    today: dt.date | None = None,
    dry_run: bool = False,
) -> Assignment:
    """Record or correct a holding's contract, insurance and payee account (a contract signed after
    the hire, a new bank card). The period changes only by ending the holding."""
    _unknown(fields, ASSIGNMENT_FIELDS)
    require_role(actor, Role.CLERK)
    today = today or timezone.localdate()
    assignment = _lock_assignment(assignment) if not dry_run else assignment
    require_in_scope(actor, assignment)
    values = dict(fields)
    if "payee_account" in values or "payee_account_kind" in values:
        if "payee_account" in values:
            _apply_account(
                assignment,
                values.pop("payee_account_kind", assignment.payee_account_kind),
                values.pop("payee_account"),
            )
        else:
            assignment.payee_account_kind = values.pop("payee_account_kind") or ""
    for name, value in values.items():
        setattr(
            assignment, name, "" if value is None and name in ("contract_kind", "contract_number") else value
        )
    errors = RuleErrors()
    post = assignment.post
    rules.check_urban_insurance(
        post.urban_rural,
        post.program.rural_posts_exclude_urban_insured,
        assignment.urban_employee_insured,
        errors,
    )
    rules.check_contract_signed(assignment.contract_signed_on, today, errors)
    errors.raise_if_any()
    assignment.validate_row(dry_run=dry_run)
    if dry_run:
        return assignment
    with acting(actor):
        assignment.save()
    return assignment


@atomic_service
def personnel_change_approve(*, change: PersonnelChange, actor: Any) -> PersonnelChange:
    """A reviewer of the township or above approves a reported change; never the one who reported
    it (four eyes)."""
    require_role(actor, Role.REVIEWER)
    change = PersonnelChange.objects.select_for_update().get(pk=change.pk)
    require_in_scope(actor, change)
    if not actor.is_superuser:
        level = actor.region.level if actor.region_id else None
        if level not in APPROVING_LEVELS:
            raise PermissionDenied(
                f"{rules.APPROVER_BELOW_TOWNSHIP}: "
                + _("personnel changes are approved at the township or above.")
            )
    if actor.pk == change.reported_by_id:
        raise PermissionDenied(
            f"{rules.MAKER_CHECKER}: " + _("you reported this change; another reviewer must approve it.")
        )
    return CHANGE_FLOW.apply(change, "approve", actor=actor)


# -- attendance --------------------------------------------------------------------------------------


@dataclass
class AttendanceRow:
    """One holder's month, as entered (a roster page's row, an import line)."""

    assignment: Assignment
    days_required: int
    days_present: int
    paid_leave_days: int = 0


@dataclass
class AttendanceResult:
    created: list[Attendance] = field(default_factory=list)
    updated: list[Attendance] = field(default_factory=list)
    unchanged: list[Attendance] = field(default_factory=list)

    @property
    def rows(self) -> list[Attendance]:
        return [*self.created, *self.updated, *self.unchanged]


def attendance_errors(
    rows: Sequence[AttendanceRow],
    month: Month,
    *,
    existing: Mapping[int, Attendance],
    paid: Mapping[int, int],
    today: dt.date,
) -> dict[int, RuleErrors]:
    """The refusals of each row (by index): the attendance rules, a holder given twice, and a month
    already paid whose figures would change."""
    found: dict[int, RuleErrors] = {}
    seen: dict[int, int] = {}
    for index, row in enumerate(rows):
        errors = RuleErrors()
        assignment = row.assignment
        if assignment.pk in seen:
            errors.add(
                "assignment",
                rules.DUPLICATE_ROW,
                _("the holder is already in row %(row)s."),
                {"row": seen[assignment.pk] + 1},
            )
        seen.setdefault(assignment.pk, index)
        rules.check_attendance(
            month,
            required=row.days_required,
            present=row.days_present,
            leave=row.paid_leave_days,
            start=assignment.start_date,
            end=assignment.end_date,
            today=today,
            errors=errors,
        )
        current = existing.get(assignment.pk)
        figures = (row.days_required, row.days_present, row.paid_leave_days)
        if assignment.pk in paid and (
            current is None
            or (current.days_required, current.days_present, current.paid_leave_days) != figures
        ):
            errors.add(
                "days_present",
                rules.ATTENDANCE_ALREADY_PAID,
                _(
                    "%(month)s is paid on this attendance (payment #%(id)s); reverse the payment before changing it."
                ),
                {"month": str(month), "id": paid[assignment.pk]},
            )
        if errors:
            found[index] = errors
    return found


@atomic_service
def attendance_bulk_upsert(
    *,
    actor: Any,
    month: Month | str,
    rows: Sequence[AttendanceRow],
    source: str = AttendanceSource.SIGN_IN_SHEET,
    today: dt.date | None = None,
    dry_run: bool = False,
) -> AttendanceResult:
    """A month's attendance for many holders at once (a roster copied from the village's sign-in
    sheet), all or nothing: every row is checked (rules.check_attendance), each refusal keyed
    `rows.<index>.<field>`, and only when none is refused are the rows written, created or updated,
    with bulk writes and bulk change entries: a constant number of queries whatever the roster's
    size."""
    require_role(actor, Role.CLERK)
    if isinstance(month, str):
        month = Month.parse(month)
    if source not in AttendanceSource.values:
        raise ValidationError({"source": [_("Unknown source.")]})
    if not rows:
        raise ValidationError({"rows": [_("Give at least one row.")]})
    today = today or timezone.localdate()
    Region.cache_paths(row.assignment.region_id for row in rows)
    for row in rows:
        require_in_scope(actor, row.assignment)
    ids = sorted({row.assignment.pk for row in rows})
    current = Attendance.objects.filter(assignment_id__in=ids, month=str(month))
    if not dry_run:
        current = current.select_for_update()
    existing = {a.assignment_id: a for a in current}
    paid = paid_months(ids, month)
    errors = attendance_errors(rows, month, existing=existing, paid=paid, today=today)
    if errors:
        raise ValidationError(
            {
                f"rows.{index}.{name}": messages
                for index, error in sorted(errors.items())
                for name, messages in error.errors.items()
            }
        )
    now = timezone.now()
    result = AttendanceResult()
    for row in rows:
        record = existing.get(row.assignment.pk)
        figures = {
            "days_required": row.days_required,
            "days_present": row.days_present,
            "paid_leave_days": row.paid_leave_days,
        }
        if record is None:
            record = Attendance(
                assignment=row.assignment,
                region_id=row.assignment.region_id,
                month=str(month),
                source=source,
                recorded_by=actor,
                recorded_at=now,
                **figures,
            )
            result.created.append(record)
        elif any(getattr(record, name) != value for name, value in figures.items()):
            for name, value in figures.items():
                setattr(record, name, value)
            record.source, record.recorded_by, record.recorded_at = source, actor, now
            result.updated.append(record)
        else:
            result.unchanged.append(record)
    for record in [*result.created, *result.updated]:
        record.validate_row()
    if dry_run:
        return result
    with acting(actor):
        if result.created:
            tracked_bulk_create(Attendance, result.created)
        if result.updated:
            tracked_bulk_update(
                Attendance,
                result.updated,
                ["days_required", "days_present", "paid_leave_days", "source", "recorded_by", "recorded_at"],
            )
    return result


@atomic_service
def attendance_record(
    *,
    actor: Any,
    assignment: Assignment,
    month: Month | str,
    days_required: int,
    days_present: int,
    paid_leave_days: int = 0,
    source: str = AttendanceSource.SIGN_IN_SHEET,
    today: dt.date | None = None,
    dry_run: bool = False,
) -> tuple[Attendance, bool]:
    """One holder's month (created or updated): the bulk path with one row, so both obey the same
    code; errors name the fields (no `rows.0.` prefix). Returns (record, created)."""
    try:
        result = attendance_bulk_upsert(
            actor=actor,
            month=month,
            rows=[AttendanceRow(assignment, days_required, days_present, paid_leave_days)],
            source=source,
            today=today,
            dry_run=dry_run,
        )
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            raise ValidationError(
                {name.removeprefix("rows.0."): messages for name, messages in exc.error_dict.items()}
            ) from exc
        raise
    return result.rows[0], bool(result.created)


# -- assessments -------------------------------------------------------------------------------------


def assessment_period(kind: str, period: str) -> tuple[dt.date, dt.date]:
    """The days of an assessment period: a month `YYYY-MM` or a quarter `YYYY-Qn`."""
    text = (period or "").strip()
    if kind == AssessmentPeriodKind.MONTH:
        month = Month.parse(text, field="period")
        return month.first_day, month.last_day
    if kind == AssessmentPeriodKind.QUARTER:
        year, _sep, quarter = text.partition("-Q")
        if year.isdigit() and len(year) == 4 and quarter in {"1", "2", "3", "4"}:
            first = Month(int(year), 3 * int(quarter) - 2)
            return first.first_day, Month(int(year), 3 * int(quarter)).last_day
        raise ValidationError({"period": [_("A quarter is written YYYY-Qn (n from 1 to 4).")]})
    raise ValidationError({"period_kind": [_("Unknown period kind.")]})


def applicable_standard(*, region_path: str, on: dt.date) -> AssessmentStandard | None:
    """The assessment standard in force on a day for a post's region: the latest one effective by
    then, of the village itself or else of its township (the nearest region that has one)."""
    paths = [*ancestor_paths(region_path), region_path]
    candidates = (
        AssessmentStandard.objects.filter(region__path__in=paths, effective_from__lte=on)
        .select_related("region")
        .order_by("-effective_from", "-id")
    )
    best: AssessmentStandard | None = None
    for standard in candidates:
        if best is None or len(standard.region.path) > len(best.region.path):
            best = standard
    return best


@atomic_service
def assessment_standard_create(
    *,
    actor: Any,
    region: Region,
    effective_from: dt.date,
    title: str,
    text: str,
    dry_run: bool = False,
) -> AssessmentStandard:
    """A village's or township's refined assessment standard (细化考核标准), in force from a day."""
    require_role(actor, Role.CLERK, Role.REVIEWER)
    require_in_scope(actor, region)
    if region.level not in (RegionLevel.VILLAGE, RegionLevel.TOWNSHIP):
        raise ValidationError({"region": [_("Assessment standards are set by a village or a township.")]})
    standard = AssessmentStandard(
        region=region, effective_from=effective_from, title=(title or "").strip(), text=(text or "").strip()
    )
    standard.validate_row(dry_run=dry_run)
    if dry_run:
        return standard
    with acting(actor):
        standard.save()
    return standard


@atomic_service
def assessment_create(
    *,
    actor: Any,
    assignment: Assignment,
    period_kind: str,
    period: str,
    rating: str,
    standard: AssessmentStandard | None = None,
    notes: str = "",
    today: dt.date | None = None,
    dry_run: bool = False,
) -> Assessment:
    """A holder's assessment for a month or quarter of their holding, naming the standard applied
    (by default the one in force at the period's end for the post's village or township)."""
    require_role(actor, Role.CLERK, Role.REVIEWER)
    require_in_scope(actor, assignment)
    today = today or timezone.localdate()
    if rating not in Rating.values:
        raise ValidationError({"rating": [_("Unknown rating.")]})
    start, end = assessment_period(period_kind, period)
    errors = RuleErrors()
    if start > today:
        errors.add("period", rules.MONTH_IN_FUTURE, _("the period has not begun."))
    if not rules.overlaps((assignment.start_date, assignment.end_date), (start, end)):
        errors.add(
            "period",
            rules.PERIOD_OUTSIDE_ASSIGNMENT,
            _("the holder did not hold the post in %(period)s."),
            {"period": period},
        )
    region_path = Region.cached_path(assignment.region_id)
    if standard is None:
        standard = applicable_standard(region_path=region_path, on=end)
        if standard is None:
            errors.add(
                "standard",
                rules.STANDARD_NOT_APPLICABLE,
                _("no assessment standard of the village or township is in force; record it first."),
            )
    elif not (
        region_path.startswith(Region.cached_path(standard.region_id)) and standard.effective_from <= end
    ):
        errors.add(
            "standard",
            rules.STANDARD_NOT_APPLICABLE,
            _("the standard is not one of the post's village or township in force in the period."),
        )
    errors.raise_if_any()
    assessment = Assessment(
        assignment=assignment,
        region_id=assignment.region_id,
        period_kind=period_kind,
        period=period.strip(),
        period_start=start,
        period_end=end,
        rating=rating,
        standard=standard,
        assessor=actor,
        notes=(notes or "").strip(),
    )
    assessment.validate_row(dry_run=dry_run)
    if dry_run:
        return assessment
    with acting(actor):
        assessment.save()
    return assessment


# -- the monthly subsidy run ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Holding:
    """An assignment as the run reads it: the columns it decides on, not a model instance (a
    province's run reads tens of thousands)."""

    pk: int
    post_id: int
    beneficiary_id: int
    start_date: dt.date
    end_date: dt.date | None
    contract_signed_on: dt.date | None


def _holdings(region_path: str, month: Month) -> list[_Holding]:
    return [
        _Holding(*row)
        for row in Assignment.objects.within(region_path)
        .filter(held_in(month))
        .order_by("id")
        .values_list("pk", "post_id", "beneficiary_id", "start_date", "end_date", "contract_signed_on")
    ]


def _people(ids: Sequence[int]) -> dict[int, Beneficiary]:
    """The holders, with the columns the payment rules read (region, whether still in the
    registry), in one query per chunk of ids."""
    found: dict[int, Beneficiary] = {}
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), CHUNK):
        for person in Beneficiary.objects.filter(pk__in=ordered[start : start + CHUNK]).only(
            "id", "name", "region_id", "active", "deactivated_on"
        ):
            found[person.pk] = person
    return found


def _facts(
    holdings: list[_Holding], posts: Mapping[int, Post], month: Month, region_path: str
) -> list[rules.MonthFacts]:
    """What the run needs for each assignment, in a constant number of queries: the month's
    attendance and unqualified assessments of the region, and the payments already caused."""
    attendance = {
        assignment_id: (required, present, leave)
        for assignment_id, required, present, leave in Attendance.objects.within(region_path)
        .filter(month=str(month))
        .values_list("assignment_id", "days_required", "days_present", "paid_leave_days")
    }
    unqualified = dict(
        Assessment.objects.within(region_path)
        .filter(rating=Rating.UNQUALIFIED, period_start__lte=month.last_day, period_end__gte=month.first_day)
        .values_list("assignment_id", "period")
    )
    paid = paid_months([h.pk for h in holdings], month)
    return [
        rules.MonthFacts(
            start=h.start_date,
            end=h.end_date,
            standard=posts[h.post_id].monthly_standard,
            contract_signed_on=h.contract_signed_on,
            attendance=attendance.get(h.pk),
            unqualified_period=unqualified.get(h.pk),
            paid_by=paid.get(h.pk),
        )
        for h in holdings
    ]


def _skip(holding: _Holding, codes: list[str], message: str, payment: int | None = None) -> dict[str, Any]:
    return {
        "assignment": holding.pk,
        "post": holding.post_id,
        "beneficiary": holding.beneficiary_id,
        "code": codes[0],
        "codes": codes,
        "message": message,
        "payment": payment,
    }


@atomic_service
@atomic_service
def subsidy_run_enqueue(*, actor: Any, region: Region, month: Month | str, dry_run: bool = False) -> Job:
    """The subsidy run as a background job (a province's month, above SUBSIDY_RUN_JOB_THRESHOLD
    holdings): the role, the region and the month are checked now, so a refusal is the request's
    answer and not a failed job; the job runs subsidy_run_create as the requester."""
    require_role(actor, Role.CLERK)
    require_in_scope(actor, region)
    if isinstance(month, str):
        month = Month.parse(month)
    return job_enqueue(
        kind="posts_subsidy_run",
        actor=actor,
        region=region,
        parameters={"region": region.code, "month": str(month), "dry_run": dry_run},
    )


def subsidy_run_create(
    *,
    actor: Any,
    region: Region,
    month: Month | str,
    dry_run: bool = False,
    today: dt.date | None = None,
) -> SubsidyRun:
    """The monthly post subsidy run over a region: one submitted payment to the holder for every
    assignment held that month, of standard × min(1, (present + paid leave) ÷ required) (rules.
    subsidy_amount), for the days of the month the post was held, caused by the assignment. Skipped,
    each with its reason: a month already paid (reported with the existing payment), no signed
    contract, no attendance, an unqualified assessment, nothing worked, or a payment rule's refusal
    (its code). All payments go through the ledger's batch path with every rule, in a constant
    number of queries. Running a month again creates nothing new. `dry_run`: the run is decided and
    returned, nothing is written."""
    require_role(actor, Role.CLERK)
    require_in_scope(actor, region)
    if isinstance(month, str):
        month = Month.parse(month)
    today = today or timezone.localdate()
    if month.first_day > today:
        raise ValidationError(
            {"month": [f"{rules.MONTH_IN_FUTURE}: " + _("%(month)s has not begun.") % {"month": str(month)}]}
        )
    holdings = _holdings(region.path, month)
    posts = {
        post.pk: post
        for post in Post.objects.filter(pk__in={h.post_id for h in holdings}).select_related(
            "program__region"
        )
    }
    plans = [rules.plan_month(month, facts) for facts in _facts(holdings, posts, month, region.path)]
    skipped: list[dict[str, Any]] = []
    payable = [(h, plan) for h, plan in zip(holdings, plans, strict=True) if not plan.code]
    for holding, plan in zip(holdings, plans, strict=True):
        if plan.code:
            skipped.append(_skip(holding, [plan.code], plan.message, plan.payment))
    people = _people([h.beneficiary_id for h, _plan in payable])
    items = [
        PaymentItem(
            program=posts[holding.post_id].program,
            beneficiary=people[holding.beneficiary_id],
            period_start=plan.period_start,
            period_end=plan.period_end,
            # One person-month (the program's unit) paid at the prorated amount: the month counts
            # once against a program's maximum months, whatever part of it was worked.
            quantity=1,
            unit_amount=plan.amount,
            amount=plan.amount,
            reason=_("Post subsidy %(month)s, %(post)s")
            % {"month": str(month), "post": posts[holding.post_id].title},
            cause=Assignment(pk=holding.pk),
        )
        for holding, plan in payable
    ]
    result = payments_create_batch(
        items=items, actor=actor, submit=True, skip_refused=True, today=today, dry_run=dry_run
    )
    for index, error in sorted(result.refused.items()):
        skipped.append(_skip(payable[index][0], result.refusal_codes(index), "; ".join(error.messages)))
    created_for = [h for index, (h, _plan) in enumerate(payable) if index not in result.refused]
    payments = [
        {
            "payment": payment.pk,
            "assignment": holding.pk,
            "beneficiary": holding.beneficiary_id,
            "period_start": payment.period_start.isoformat(),
            "period_end": payment.period_end.isoformat(),
            "amount": str(payment.amount),
        }
        for holding, payment in zip(created_for, result.created, strict=True)
    ]
    skipped.sort(key=lambda row: row["assignment"])
    run = SubsidyRun(
        region=region,
        month=str(month),
        created_by=actor,
        considered=len(holdings),
        paid_count=len(payments),
        skipped_count=len(skipped),
        already_paid_count=sum(1 for row in skipped if row["code"] == rules.ALREADY_PAID),
        total=sum((p.amount for p in result.created), decimal.Decimal("0.00")),
        payments=payments,
        skipped=skipped,
    )
    if dry_run:
        return run
    with acting(actor, action="subsidy_run"):
        run.save()
    return run
