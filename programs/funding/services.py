"""Services of the funding app: the only way programs, payees and payments are written.

Payments follow `draft → submitted → approved → paid`, `submitted → rejected`, and a paid payment is
reversed by a linked negative entry (`paid → reversed` plus a `reversal` row), never edited or
deleted. Every rule in rules.py is enforced here for every door; every transition writes its change
entry with its verb. Money rules that span rows are serialised by locking the program row.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from programs.funding import rules
from programs.funding.choices import PayeeKind, PaymentStatus
from programs.funding.models import Employer, FundSource, Payment, Program, TrainingInstitution
from tracker.accounts.choices import Role
from tracker.api.exceptions import Conflict
from tracker.changelog.context import change_context
from tracker.regions.models import Region, designations_for_path

Cause = models.Model | tuple[str, Any] | None

# The fields a program is written with (services, API serializer and admin all use this list).
PROGRAM_FIELDS: tuple[str, ...] = (
    "code",
    "name_zh",
    "name_en",
    "region",
    "kind",
    "payee_kind",
    "fund_source",
    "unit",
    "standard_amount",
    "min_amount",
    "max_amount",
    "max_units",
    "once_per_person",
    "eligible_groups",
    "valid_from",
    "valid_to",
    "application_deadline",
    "payment_deadline",
    "annual_budget",
    "uplifts",
    "mutually_exclusive_with",
    "policy_reference",
    "notes",
    "assumption",
)


# -- who may do what ----------------------------------------------------------------------------------


def _require_role(actor: Any, *roles: str) -> None:
    if actor is None or not actor.is_authenticated or not actor.has_role(*roles):
        raise PermissionDenied(_("Your role does not allow this action."))


def _require_in_scope(actor: Any, path: str) -> None:
    """The actor writes only within their region's subtree (403 otherwise, before any rule runs, so
    refusals never reveal data about people outside the actor's region)."""
    scope = getattr(actor, "scope_path", None)
    if scope is None or not path.startswith(scope):
        raise PermissionDenied(
            _("The record would lie outside your region; you can only write within your region.")
        )


def _maker_checker(payment: Payment, actor: Any) -> None:
    """Four eyes: who created or submitted a payment never approves or rejects it."""
    if actor.pk in {payment.created_by_id, payment.submitted_by_id}:
        raise PermissionDenied(
            _("MAKER_CHECKER: you created or submitted this payment; another reviewer must decide on it.")
        )


def _as(actor: Any, **fields: Any) -> Any:
    """The change context of a service's write: the actor the service was given (which is the
    request's user on the API, and the acting account in seeds and batch runs), plus the verb."""
    return change_context(user=actor, **fields)


def _expect_status(payment: Payment, *allowed: str) -> None:
    if payment.status not in allowed:
        raise Conflict(
            _("STATUS: the payment is %(status)s; this needs %(allowed)s.")
            % {"status": payment.status, "allowed": " or ".join(allowed)},
            extra={"status_now": payment.status},
        )


# -- fund sources, programs, payees ----------------------------------------------------------------------


@transaction.atomic
def fund_source_create(
    *, actor: Any, code: str, name_zh: str, name_en: str, part_of: FundSource | None = None, note: str = ""
) -> FundSource:
    """Fund sources are national reference data: only superusers add them."""
    if not getattr(actor, "is_superuser", False):
        raise PermissionDenied(_("Only administrators add fund sources."))
    source = FundSource(code=code, name_zh=name_zh, name_en=name_en, part_of=part_of, note=note)
    source.full_clean()
    with _as(actor):
        source.save()
    return source


def _check_program_writer(actor: Any, region: Region) -> None:
    """Programs are set up by reviewers (and superusers) of the issuing region or above it."""
    _require_role(actor, Role.REVIEWER)
    _require_in_scope(actor, region.path)


@transaction.atomic
def program_create(*, actor: Any, fields: Mapping[str, Any]) -> Program:
    unknown = set(fields) - set(PROGRAM_FIELDS)
    if unknown:
        raise ValidationError({name: [_("Unknown field.")] for name in sorted(unknown)})
    program = Program(**fields)
    _check_program_writer(actor, program.region)
    program.full_clean()
    with _as(actor):
        program.save()
    return program


@transaction.atomic
def program_update(*, program: Program, actor: Any, fields: Mapping[str, Any]) -> Program:
    """Changes apply to payments created from now on; existing payments keep their amounts."""
    unknown = set(fields) - set(PROGRAM_FIELDS)
    if unknown:
        raise ValidationError({name: [_("Unknown field.")] for name in sorted(unknown)})
    _check_program_writer(actor, program.region)
    if "payee_kind" in fields and fields["payee_kind"] != program.payee_kind and program.payments.exists():
        raise ValidationError({"payee_kind": [_("The program has payments; its payee kind cannot change.")]})
    for name, value in fields.items():
        setattr(program, name, value)
    _check_program_writer(actor, program.region)
    program.full_clean()
    with _as(actor):
        program.save()
    return program


@transaction.atomic
def employer_create(
    *, actor: Any, name: str, uscc: str, region: Region, size: str, industry: str = ""
) -> Employer:
    _require_role(actor, Role.CLERK, Role.REVIEWER)
    _require_in_scope(actor, region.path)
    employer = Employer(name=name, uscc=uscc, region=region, size=size, industry=industry)
    employer.full_clean()
    with _as(actor):
        employer.save()
    return employer


@transaction.atomic
def training_institution_create(*, actor: Any, name: str, uscc: str, region: Region) -> TrainingInstitution:
    _require_role(actor, Role.CLERK, Role.REVIEWER)
    _require_in_scope(actor, region.path)
    institution = TrainingInstitution(name=name, uscc=uscc, region=region)
    institution.full_clean()
    with _as(actor):
        institution.save()
    return institution


# -- payments --------------------------------------------------------------------------------------------


def _lock_program(program_id: int) -> Program:
    """Lock the program row: every rule that sums a program's payments (budget, maximum units,
    overlapping periods) runs under this lock, so concurrent writers queue instead of both passing."""
    return Program.objects.select_for_update().select_related("region").get(pk=program_id)


def _payee_region(payment: Payment) -> Region:
    payee = payment.payee
    return Region.objects.get(pk=payee.region_id)


def _set_cause(payment: Payment, cause: Cause) -> None:
    if cause is None:
        return
    if isinstance(cause, models.Model):
        if cause.pk is None:
            raise ValidationError({"cause": [_("The cause must be saved first.")]})
        payment.cause_content_type = ContentType.objects.get_for_model(cause)
        payment.cause_object_id = str(cause.pk)
        payment.cause_label = cause._meta.label_lower
        return
    label, object_id = cause
    if not label or object_id in (None, ""):
        raise ValidationError({"cause": [_("A cause is a (label, id) pair.")]})
    payment.cause_label = str(label)[:100]
    payment.cause_object_id = str(object_id)[:64]


def validate_payment(
    payment: Payment, program: Program, *, today: dt.date | None = None, budget: bool = False
) -> None:
    """Run every payment rule on `payment` (saved or not) and raise all refusals together.

    Later apps may call this for a dry run. The program must be locked by the caller when the result
    decides a write (see _lock_program)."""
    errors = rules.RuleErrors()
    if not rules.check_payee_kind(payment, program, errors):
        errors.raise_if_any()
    region = _payee_region(payment)
    rules.check_payee_region(payment, program, region.path, errors)
    rules.check_validity(payment, program, errors)
    rules.check_payment_deadline(program, today or timezone.localdate(), errors)
    rules.check_person_active(payment, errors)
    rules.check_eligibility(payment, program, errors)
    rules.check_amounts(payment, program, designations_for_path(region.path), errors)
    if errors:
        errors.raise_if_any()
    rules.check_entitlement(payment, program, errors)
    if budget:
        rules.check_budget(payment, program, errors)
    errors.raise_if_any()


def _save_payment(payment: Payment) -> None:
    """Save, turning the once-per-person index's refusal (a concurrent twin) into the rule's 400."""
    try:
        with transaction.atomic():
            payment.save()
    except IntegrityError as exc:
        if "once_per" in str(exc) or "UNIQUE" in str(exc).upper():
            raise ValidationError(
                {
                    "beneficiary": [
                        ValidationError(
                            f"{rules.ONCE_PER_PERSON}: "
                            + _("the program pays once per person and a payment already exists."),
                            code=rules.ONCE_PER_PERSON,
                        )
                    ]
                }
            ) from exc
        raise


@transaction.atomic
def payment_create(
    *,
    program: Program,
    period_start: dt.date,
    period_end: dt.date,
    actor: Any,
    payee_kind: str | None = None,
    beneficiary: Any = None,
    employer: Employer | None = None,
    institution: TrainingInstitution | None = None,
    quantity: decimal.Decimal | int = 1,
    unit_amount: decimal.Decimal | None = None,
    amount: decimal.Decimal | None = None,
    reason: str = "",
    cause: Cause = None,
    submit: bool = False,
    today: dt.date | None = None,
) -> Payment:
    """Create a payment (a draft, or submitted at once with `submit=True`) after every rule in
    rules.py. The unit amount defaults to the program's standard amount and the amount to unit ×
    quantity; the fund source is the program's. `cause` links the record that caused the payment
    (a model instance, or a (label, id) pair). Clerks create payments, within their region."""
    _require_role(actor, Role.CLERK)
    program = _lock_program(program.pk)
    quantity = decimal.Decimal(quantity)
    if unit_amount is None and program.standard_amount is not None:
        unit_amount = program.standard_amount
    payment = Payment(
        program=program,
        payee_kind=payee_kind or program.payee_kind,
        beneficiary=beneficiary,
        employer=employer,
        institution=institution,
        period_start=period_start,
        period_end=period_end,
        quantity=quantity,
        unit_amount=unit_amount,
        amount=amount,
        fund_source_id=program.fund_source_id,
        once_per_person=program.once_per_person,
        status=PaymentStatus.DRAFT,
        created_by=actor,
        reason=reason,
    )
    if period_start > period_end:
        raise ValidationError({"period_end": [_("The period ends before it starts.")]})
    # The actor writes only for payees and people in their region: an organisation payment that
    # names a person outside it would otherwise let the rules below reveal that person's groups and
    # payments.
    for party in {payment.payee, payment.beneficiary} - {None}:
        _require_in_scope(actor, Region.cached_path(party.region_id))
    validate_payment(payment, program, today=today)
    if payment.amount is None:
        payment.amount = rules.money(payment.unit_amount * payment.quantity)
    payment.region_id = payment.payee.region_id
    _set_cause(payment, cause)
    payment.full_clean(exclude=["created_by"])
    with _as(actor):
        _save_payment(payment)
    if submit:
        _submit(payment, program, actor, today=today)
    return payment


def _lock_payment(payment: Payment) -> Payment:
    return (
        Payment.objects.select_for_update(of=("self",))
        .select_related("program", "beneficiary")
        .get(pk=payment.pk)
    )


def _submit(payment: Payment, program: Program, actor: Any, *, today: dt.date | None) -> None:
    validate_payment(payment, program, today=today, budget=True)
    payment.status = PaymentStatus.SUBMITTED
    payment.submitted_by = actor
    payment.submitted_at = timezone.now()
    with _as(actor, action="submit"):
        payment.save(update_fields=["status", "submitted_by", "submitted_at"])


@transaction.atomic
def payment_submit(*, payment: Payment, actor: Any, today: dt.date | None = None) -> Payment:
    """draft → submitted. Every rule runs again (the person's groups or the program may have changed
    since the draft), and now the budget: submitted + approved + paid stay within it."""
    _require_role(actor, Role.CLERK)
    # Lock order everywhere: the payment row, then the program row (the API's transition view has
    # already locked the payment when it calls this); the opposite order here deadlocked against it.
    payment = _lock_payment(payment)
    program = _lock_program(payment.program_id)
    _require_in_scope(actor, Region.cached_path(payment.region_id))
    _expect_status(payment, PaymentStatus.DRAFT)
    _submit(payment, program, actor, today=today)
    return payment


@transaction.atomic
def payment_approve(*, payment: Payment, actor: Any) -> Payment:
    """submitted → approved, by a reviewer who neither created nor submitted it (maker-checker)."""
    _require_role(actor, Role.REVIEWER)
    payment = _lock_payment(payment)
    _require_in_scope(actor, Region.cached_path(payment.region_id))
    _maker_checker(payment, actor)
    _expect_status(payment, PaymentStatus.SUBMITTED)
    payment.status = PaymentStatus.APPROVED
    payment.approved_by = actor
    payment.approved_at = timezone.now()
    with _as(actor, action="approve"):
        payment.save(update_fields=["status", "approved_by", "approved_at"])
    return payment


@transaction.atomic
def payment_reject(*, payment: Payment, actor: Any, reason: str) -> Payment:
    """submitted → rejected with a reason, by a reviewer who neither created nor submitted it. A
    rejected payment frees its budget and the person's entitlement."""
    _require_role(actor, Role.REVIEWER)
    payment = _lock_payment(payment)
    _require_in_scope(actor, Region.cached_path(payment.region_id))
    _maker_checker(payment, actor)
    _expect_status(payment, PaymentStatus.SUBMITTED)
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("REASON_REQUIRED: say why the payment is rejected.")]})
    payment.status = PaymentStatus.REJECTED
    payment.approved_by = actor
    payment.approved_at = timezone.now()
    payment.rejection_reason = reason.strip()
    with _as(actor, action="reject", reason=reason.strip()):
        payment.save(update_fields=["status", "approved_by", "approved_at", "rejection_reason"])
    return payment


@transaction.atomic
def payment_mark_paid(
    *, payment: Payment, actor: Any, external_reference: str = "", paid_at: dt.datetime | None = None
) -> Payment:
    """approved → paid, by a reviewer, with the bank or treasury reference of the transfer."""
    _require_role(actor, Role.REVIEWER)
    payment = _lock_payment(payment)
    _require_in_scope(actor, Region.cached_path(payment.region_id))
    _expect_status(payment, PaymentStatus.APPROVED)
    now = timezone.now()
    if paid_at is not None and paid_at > now:
        raise ValidationError({"paid_at": [_("The payment date cannot be in the future.")]})
    if paid_at is not None and payment.approved_at is not None and paid_at < payment.approved_at:
        # Money leaves only after the second person approved it (maker-checker); a transfer dated
        # earlier would be a payment made without approval.
        raise ValidationError({"paid_at": [_("The payment date cannot be before the approval.")]})
    payment.status = PaymentStatus.PAID
    payment.paid_by = actor
    payment.paid_at = paid_at or now
    payment.external_reference = (external_reference or "")[:64]
    with _as(actor, action="mark_paid"):
        payment.save(update_fields=["status", "paid_by", "paid_at", "external_reference"])
    return payment


@transaction.atomic
def payment_reverse(*, payment: Payment, actor: Any, reason: str) -> Payment:
    """paid → reversed: a paid payment is never edited or deleted. A reviewer records a linked
    negative entry (status `reversal`) with the reason, and the original is marked reversed, which
    frees the budget and the person's entitlement. Returns the reversing entry."""
    _require_role(actor, Role.REVIEWER)
    payment = _lock_payment(payment)
    _require_in_scope(actor, Region.cached_path(payment.region_id))
    _expect_status(payment, PaymentStatus.PAID)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("REASON_REQUIRED: say why the payment is reversed.")]})
    now = timezone.now()
    entry = Payment(
        program_id=payment.program_id,
        payee_kind=payment.payee_kind,
        beneficiary_id=payment.beneficiary_id,
        employer_id=payment.employer_id,
        institution_id=payment.institution_id,
        region_id=payment.region_id,
        period_start=payment.period_start,
        period_end=payment.period_end,
        quantity=-payment.quantity,
        unit_amount=payment.unit_amount,
        amount=-payment.amount,
        fund_source_id=payment.fund_source_id,
        status=PaymentStatus.REVERSAL,
        once_per_person=False,
        created_by=actor,
        submitted_by=actor,
        approved_by=actor,
        submitted_at=now,
        approved_at=now,
        reason=reason,
        cause_content_type_id=payment.cause_content_type_id,
        cause_object_id=payment.cause_object_id,
        cause_label=payment.cause_label,
        reverses=payment,
    )
    payment.status = PaymentStatus.REVERSED
    with _as(actor, action="reverse", reason=reason):
        payment.save(update_fields=["status"])
        entry.save()
    return entry


@transaction.atomic
def payments_approve_batch(*, payments: Sequence[Payment], actor: Any) -> list[Payment]:
    """Approve many payments, all or nothing: each passes the same checks as payment_approve, and
    if any fails nothing is approved. Refusals name the item (`ids.<index>`)."""
    _require_role(actor, Role.REVIEWER)
    if not payments:
        raise ValidationError({"ids": [_("Give at least one payment.")]})
    ids = [p.pk for p in payments]
    if len(set(ids)) != len(ids):
        raise ValidationError({"ids": [_("Each payment may appear once.")]})
    # Lock in id order, so two batches over overlapping payments cannot deadlock.
    locked = {
        p.pk: p for p in Payment.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk")
    }
    errors: dict[str, list[str]] = {
        f"ids.{index}": [_("Not found.")] for index, pk in enumerate(ids) if pk not in locked
    }
    if errors:
        raise ValidationError(errors)
    for index, pk in enumerate(ids):
        payment = locked[pk]
        _require_in_scope(actor, Region.cached_path(payment.region_id))
        _maker_checker(payment, actor)
        if payment.status != PaymentStatus.SUBMITTED:
            errors[f"ids.{index}"] = [
                _("STATUS: payment #%(id)s is %(status)s; only submitted payments are approved.")
                % {"id": pk, "status": payment.status}
            ]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    approved = []
    with _as(actor, action="approve"):
        for pk in ids:
            payment = locked[pk]
            payment.status = PaymentStatus.APPROVED
            payment.approved_by = actor
            payment.approved_at = now
            payment.save(update_fields=["status", "approved_by", "approved_at"])
            approved.append(payment)
    return approved


__all__ = [
    "PayeeKind",
    "employer_create",
    "fund_source_create",
    "payment_approve",
    "payment_create",
    "payment_mark_paid",
    "payment_reject",
    "payment_reverse",
    "payment_submit",
    "payments_approve_batch",
    "program_create",
    "program_update",
    "training_institution_create",
    "validate_payment",
]
