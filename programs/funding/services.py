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
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models
from django.utils import timezone
from django.utils.translation import gettext as _

from programs.funding import rules
from programs.funding.choices import InstitutionStatus, PaymentStatus, ProgramKind
from programs.funding.models import Employer, FundSource, Payment, Program, TrainingInstitution
from programs.funding.selectors import payment_facts
from tracker.accounts.choices import Role
from tracker.accounts.roles import require_role, require_superuser
from tracker.changelog.context import acting
from tracker.changelog.services import tracked_bulk_create, tracked_bulk_update
from tracker.regions.models import Region
from tracker.scope import require_in_scope
from tracker.transactions import atomic_service
from tracker.transitions import StateMachine, Transition

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
    "employer_sizes",
    "employer_industries",
    "required_employment_statuses",
    "excludes_prior_work_for_training",
    "min_contract_months",
    "rural_posts_exclude_urban_insured",
    "policy_reference",
    "notes",
    "assumption",
)


# -- who may do what ----------------------------------------------------------------------------------


def _maker_checker(payment: Payment, actor: Any) -> None:
    """Four eyes: who created or submitted a payment never approves or rejects it."""
    if actor.pk in {payment.created_by_id, payment.submitted_by_id}:
        raise PermissionDenied(
            _("MAKER_CHECKER: you created or submitted this payment; another reviewer must decide on it.")
        )


# The payment lifecycle as data (tracker.transitions): verb -> from, to, who and when.
PAYMENT_FLOW = StateMachine(
    {
        "submit": Transition(
            sources={PaymentStatus.DRAFT},
            target=PaymentStatus.SUBMITTED,
            actor_field="submitted_by",
            time_field="submitted_at",
        ),
        "approve": Transition(
            sources={PaymentStatus.SUBMITTED},
            target=PaymentStatus.APPROVED,
            actor_field="approved_by",
            time_field="approved_at",
        ),
        "reject": Transition(
            sources={PaymentStatus.SUBMITTED},
            target=PaymentStatus.REJECTED,
            actor_field="approved_by",
            time_field="approved_at",
        ),
        "mark_paid": Transition(
            sources={PaymentStatus.APPROVED},
            target=PaymentStatus.PAID,
            actor_field="paid_by",
            time_field="paid_at",
        ),
        "reverse": Transition(sources={PaymentStatus.PAID}, target=PaymentStatus.REVERSED),
    }
)


# -- fund sources, programs, payees ----------------------------------------------------------------------


@atomic_service
def fund_source_create(
    *,
    actor: Any,
    code: str,
    name_zh: str,
    name_en: str,
    part_of: FundSource | None = None,
    note: str = "",
    dry_run: bool = False,
) -> FundSource:
    """Fund sources are national reference data: only superusers add them."""
    require_superuser(actor, _("Only administrators add fund sources."))
    source = FundSource(code=code, name_zh=name_zh, name_en=name_en, part_of=part_of, note=note)
    source.validate_row(dry_run=dry_run)
    if dry_run:
        return source
    with acting(actor):
        source.save()
    return source


@atomic_service
def fund_source_update(
    *, fund_source: FundSource, actor: Any, fields: Mapping[str, Any], dry_run: bool = False
) -> FundSource:
    require_superuser(actor, _("Only administrators change fund sources."))
    _set_fields(fund_source, fields, {"code", "name_zh", "name_en", "part_of", "note"})
    fund_source.validate_row(dry_run=dry_run)
    if dry_run:
        return fund_source
    with acting(actor):
        fund_source.save()
    return fund_source


def _set_fields(record: models.Model, fields: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({name: [_("Unknown field.")] for name in sorted(unknown)})
    for name, value in fields.items():
        setattr(record, name, value)


def _check_program_writer(actor: Any, region: Region) -> None:
    """Programs are set up by reviewers (and superusers) of the issuing region or above it."""
    require_role(actor, Role.REVIEWER)
    require_in_scope(actor, region)


@atomic_service
def program_create(*, actor: Any, fields: Mapping[str, Any], dry_run: bool = False) -> Program:
    unknown = set(fields) - set(PROGRAM_FIELDS)
    if unknown:
        raise ValidationError({name: [_("Unknown field.")] for name in sorted(unknown)})
    program = Program(**fields)
    _check_program_writer(actor, program.region)
    program.validate_row(dry_run=dry_run)
    if dry_run:
        return program
    with acting(actor):
        program.save()
    return program


@atomic_service
def program_update(
    *, program: Program, actor: Any, fields: Mapping[str, Any], dry_run: bool = False
) -> Program:
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
    program.validate_row(dry_run=dry_run)
    if dry_run:
        return program
    with acting(actor):
        program.save()
    return program


@atomic_service
def employer_create(
    *,
    actor: Any,
    name: str,
    uscc: str,
    region: Region,
    size: str,
    industry: str = "",
    dry_run: bool = False,
) -> Employer:
    require_role(actor, Role.CLERK, Role.REVIEWER)
    require_in_scope(actor, region)
    employer = Employer(name=name, uscc=uscc, region=region, size=size, industry=industry)
    employer.validate_row(dry_run=dry_run)
    if dry_run:
        return employer
    with acting(actor):
        employer.save()
    return employer


@atomic_service
def training_institution_create(
    *, actor: Any, name: str, uscc: str, region: Region, licence: str = "", dry_run: bool = False
) -> TrainingInstitution:
    require_role(actor, Role.CLERK, Role.REVIEWER)
    require_in_scope(actor, region)
    institution = TrainingInstitution(name=name, uscc=uscc, region=region, licence=(licence or "").strip())
    institution.validate_row(dry_run=dry_run)
    if dry_run:
        return institution
    with acting(actor):
        institution.save()
    return institution


@atomic_service
def employer_update(
    *, employer: Employer, actor: Any, fields: Mapping[str, Any], dry_run: bool = False
) -> Employer:
    """Correct an employer's name, region, size or industry (its USCC identifies it and stays)."""
    require_role(actor, Role.CLERK, Role.REVIEWER)
    require_in_scope(actor, employer)
    _set_fields(employer, fields, {"name", "region", "size", "industry"})
    require_in_scope(actor, employer.region)
    employer.validate_row(dry_run=dry_run)
    if dry_run:
        return employer
    with acting(actor):
        employer.save()
    return employer


@atomic_service
def training_institution_update(
    *, institution: TrainingInstitution, actor: Any, fields: Mapping[str, Any], dry_run: bool = False
) -> TrainingInstitution:
    require_role(actor, Role.CLERK, Role.REVIEWER)
    require_in_scope(actor, institution)
    _set_fields(institution, fields, {"name", "region", "licence"})
    require_in_scope(actor, institution.region)
    institution.validate_row(dry_run=dry_run)
    if dry_run:
        return institution
    with acting(actor):
        institution.save()
    return institution


INSTITUTION_FLOW = StateMachine(
    {
        "suspend": Transition(sources={InstitutionStatus.ACTIVE}, target=InstitutionStatus.SUSPENDED),
        "reinstate": Transition(sources={InstitutionStatus.SUSPENDED}, target=InstitutionStatus.ACTIVE),
    }
)


@atomic_service
def training_institution_suspend(
    *, institution: TrainingInstitution, actor: Any, reason: str
) -> TrainingInstitution:
    """active → suspended, by a reviewer, with the reason (logged with the `suspend` entry). A
    suspended institution takes no new voucher enrolments and no redemptions (programs/vouchers
    checks its status); nothing it holds is voided: the vouchers enrolled there stay enrolled until
    a clerk moves or cancels each one."""
    require_role(actor, Role.REVIEWER)
    institution = TrainingInstitution.objects.select_for_update().get(pk=institution.pk)
    require_in_scope(actor, institution)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("REASON_REQUIRED: say why the institution is suspended.")]})
    return INSTITUTION_FLOW.apply(institution, "suspend", actor=actor, reason=reason)


@atomic_service
def training_institution_reinstate(
    *, institution: TrainingInstitution, actor: Any, reason: str = ""
) -> TrainingInstitution:
    """suspended → active, by a reviewer."""
    require_role(actor, Role.REVIEWER)
    institution = TrainingInstitution.objects.select_for_update().get(pk=institution.pk)
    require_in_scope(actor, institution)
    return INSTITUTION_FLOW.apply(institution, "reinstate", actor=actor, reason=(reason or "").strip())


# -- payments --------------------------------------------------------------------------------------------


def _lock_programs(program_ids: Sequence[int]) -> dict[int, Program]:
    """Lock the program rows (in id order, so batches cannot deadlock each other): every rule that
    sums a program's payments (budget, maximum units, overlapping periods) runs under this lock, so
    concurrent writers queue instead of both passing."""
    return {
        p.pk: p
        for p in Program.objects.select_for_update()
        .select_related("region")
        .filter(pk__in=sorted(set(program_ids)))
        .order_by("pk")
    }


def _cause_fields(cause: Cause, content_types: dict[type, ContentType]) -> dict[str, Any]:
    if cause is None:
        return {}
    if isinstance(cause, models.Model):
        if cause.pk is None:
            raise ValidationError({"cause": [_("The cause must be saved first.")]})
        model = type(cause)
        if model not in content_types:
            content_types[model] = ContentType.objects.get_for_model(cause)
        return {
            "cause_content_type": content_types[model],
            "cause_object_id": str(cause.pk),
            "cause_label": cause._meta.label_lower,
        }
    label, object_id = cause
    if not label or object_id in (None, ""):
        raise ValidationError({"cause": [_("A cause is a (label, id) pair.")]})
    return {"cause_label": str(label)[:100], "cause_object_id": str(object_id)[:64]}


@dataclass
class PaymentItem:
    """One payment to create: the program, the payee (and the person it is for), the period and,
    optionally, the amounts (unit amount defaults to the program's standard, amount to unit ×
    quantity) and the record that caused it."""

    program: Program
    period_start: dt.date
    period_end: dt.date
    payee_kind: str | None = None
    beneficiary: Any = None
    employer: Employer | None = None
    institution: TrainingInstitution | None = None
    quantity: decimal.Decimal | int = 1
    unit_amount: decimal.Decimal | None = None
    amount: decimal.Decimal | None = None
    reason: str = ""
    cause: Cause = None
    # The day the application was received (default: the day of entry), and for programs that
    # need one, the labour contract's start and the day up to which it has been performed.
    application_date: dt.date | None = None
    contract_start: dt.date | None = None
    contract_performed_to: dt.date | None = None


@dataclass
class BatchResult:
    """What a batch created, and for each refused item (by its index) the rule refusals."""

    created: list[Payment] = field(default_factory=list)
    # index -> a ValidationError by field, each message starting with (and coded by) its rule code
    refused: dict[int, ValidationError] = field(default_factory=dict)

    def refusal_codes(self, index: int) -> list[str]:
        error = self.refused[index]
        return sorted({e.code or "INVALID" for errors in error.error_dict.values() for e in errors})


def _build(item: PaymentItem, program: Program, actor: Any, today: dt.date) -> Payment:
    # Without a unit amount the program's standard for the payee's region applies; it depends on the
    # region's designations, so it is filled in once the facts are loaded (rules.standard_unit_amount).
    return Payment(
        program=program,
        payee_kind=item.payee_kind or program.payee_kind,
        beneficiary=item.beneficiary,
        employer=item.employer,
        institution=item.institution,
        period_start=item.period_start,
        period_end=item.period_end,
        application_date=item.application_date or today,
        contract_start=item.contract_start,
        contract_performed_to=item.contract_performed_to,
        quantity=decimal.Decimal(item.quantity),
        unit_amount=item.unit_amount,
        amount=item.amount,
        fund_source_id=program.fund_source_id,
        once_per_person=program.once_per_person,
        status=PaymentStatus.DRAFT,
        created_by=actor,
        reason=item.reason,
    )


def _accepted_as_facts(payment: Payment, facts: rules.PaymentFacts, program: Program) -> None:
    """Let an accepted payment count for the payments after it in the same batch."""
    other = rules.OtherPayment(0, program.code, payment.quantity, payment.period_start, payment.period_end)
    facts.others.append(other)


def _item_scope(actor: Any, payment: Payment) -> None:
    """The actor writes only for payees and people in their region: an organisation payment naming a
    person outside it would otherwise let the rules reveal that person's groups and payments. Checked
    before any rule runs, so a refusal reveals nothing."""
    for party in (payment.payee, payment.beneficiary):
        if party is not None:
            require_in_scope(actor, Region.cached_path(party.region_id))


@atomic_service
def payments_create_batch(
    *,
    items: Sequence[PaymentItem],
    actor: Any,
    submit: bool = False,
    today: dt.date | None = None,
    skip_refused: bool = False,
    dry_run: bool = False,
) -> BatchResult:
    """Create many payments (drafts, or submitted with `submit=True`) with every rule of rules.py, in a
    constant number of queries per batch: the programs are locked once, the facts the rules need are
    loaded set-based (selectors.payment_facts), the payments and their change entries are written
    with bulk inserts. Items of one batch count against each other (two months for one person in
    one program are checked for overlap and maximum units, and the budget covers them all).

    All or nothing by default: any refusal raises a ValidationError keyed `items.<index>.<field>`.
    With `skip_refused=True` (the post subsidy run) the refused items are reported in the result
    and the others are written. `dry_run` checks everything and writes nothing (`created` then holds
    the unsaved payments)."""
    require_role(actor, Role.CLERK)
    if not items:
        return BatchResult()
    today = today or timezone.localdate()
    programs = _lock_programs([item.program.pk for item in items])
    result = BatchResult()
    payments: list[Payment] = []
    for index, item in enumerate(items):
        payment = _build(item, programs[item.program.pk], actor, today)
        if payment.period_start > payment.period_end:
            result.refused[index] = ValidationError({"period_end": [_("The period ends before it starts.")]})
        payments.append(payment)
    # Payee regions in one query, then the scope of every item before any rule looks at data.
    Region.cache_paths(
        party.region_id for p in payments for party in (p.payee, p.beneficiary) if party is not None
    )
    for index, payment in enumerate(payments):
        _item_scope(actor, payment)
        if payment.payee is None:
            # No payee named: the payee-kind rule says which one is missing.
            errors = rules.RuleErrors()
            rules.check_payee_kind(payment, programs[payment.program_id], errors)
            result.refused.setdefault(index, ValidationError(errors.errors))
    candidates = [(i, p) for i, p in enumerate(payments) if i not in result.refused]
    facts = payment_facts([p for _, p in candidates], programs, budget=submit)
    # Per (program, subject): the facts object the next payment of that pair sees, so accepted
    # items count for the ones after them. Per person: the accepted items of every program, which
    # the mutual-exclusion and prior work-for-training rules of later items compare with.
    shared: dict[tuple[int, str, int], rules.PaymentFacts] = {}
    by_person: dict[int, list[tuple[Program, rules.OtherPayment]]] = {}
    budget_added: dict[tuple[int, int], decimal.Decimal] = {}
    content_types: dict[type, ContentType] = {}
    accepted: list[Payment] = []
    for (index, payment), fact in zip(candidates, facts, strict=True):
        program = programs[payment.program_id]
        key = (program.pk, *_subject_key(payment))
        if key in shared:
            fact.others = shared[key].others
        else:
            shared[key] = fact
        for other_program, other in by_person.get(payment.beneficiary_id, ()):
            if other_program.code in (program.mutually_exclusive_with or ()):
                fact.exclusive.append(other)
            if (
                program.excludes_prior_work_for_training
                and other_program.kind == ProgramKind.WORK_FOR_TRAINING
                and other_program.pk != program.pk
            ):
                fact.prior_work_for_training.append(other)
        if fact.budget_used is not None:
            fact.budget_used += budget_added.get((program.pk, payment.period_start.year), decimal.Decimal(0))
        if payment.unit_amount is None:
            payment.unit_amount = rules.standard_unit_amount(program, fact.designations)
        if payment.amount is None and payment.unit_amount is not None:
            payment.amount = rules.money(payment.unit_amount * payment.quantity)
        errors = rules.check_all(payment, program, fact, today=today, budget=submit)
        if errors:
            result.refused[index] = ValidationError(errors.errors)
            continue
        try:
            for name, value in _cause_fields(items[index].cause, content_types).items():
                setattr(payment, name, value)
        except ValidationError as exc:
            result.refused[index] = exc
            continue
        payment.region_id = payment.payee.region_id
        if submit:
            payment.status = PaymentStatus.SUBMITTED
            payment.submitted_by = actor
            payment.submitted_at = timezone.now()
        try:
            # Field and model rules only: unique and check constraints, and the existence of the
            # related rows, are the database's to enforce.
            payment.validate_row(exclude=["created_by"])
        except ValidationError as exc:
            result.refused[index] = exc
            continue
        accepted.append(payment)
        _accepted_as_facts(payment, shared[key], program)
        if payment.beneficiary_id is not None:
            by_person.setdefault(payment.beneficiary_id, []).append(
                (
                    program,
                    rules.OtherPayment(
                        0, program.code, payment.quantity, payment.period_start, payment.period_end
                    ),
                )
            )
        year_key = (program.pk, payment.period_start.year)
        budget_added[year_key] = budget_added.get(year_key, decimal.Decimal(0)) + payment.amount
    if result.refused and not skip_refused:
        raise ValidationError(
            {
                f"items.{index}.{name}": errors
                for index, error in sorted(result.refused.items())
                for name, errors in error.error_dict.items()
            }
        )
    if dry_run:
        result.created = accepted
        return result
    with acting(actor):
        result.created = _insert_payments(accepted)
    return result


def _subject_key(payment: Payment) -> tuple[str, int]:
    if payment.beneficiary_id is not None:
        return ("person", payment.beneficiary_id)
    if payment.employer_id is not None:
        return ("employer", payment.employer_id)
    return ("institution", payment.institution_id)


def _insert_payments(payments: list[Payment]) -> list[Payment]:
    """Bulk insert with change entries; the once-per-person index's refusal (a concurrent twin that
    slipped past the rules) becomes the rule's 400."""
    if not payments:
        return []
    try:
        # No savepoint: the refusal below ends the caller's transaction anyway.
        return tracked_bulk_create(Payment, payments)
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
    application_date: dt.date | None = None,
    contract_start: dt.date | None = None,
    contract_performed_to: dt.date | None = None,
    submit: bool = False,
    today: dt.date | None = None,
    dry_run: bool = False,
) -> Payment:
    """Create one payment (a draft, or submitted at once with `submit=True`, which also checks the
    budget) after every rule in rules.py: the batch path with one item, so one payment and a subsidy
    run obey the same code. Errors name the fields (no `items.0.` prefix). One change entry.
    `application_date` defaults to the day of entry (`today`)."""
    item = PaymentItem(
        program=program,
        period_start=period_start,
        period_end=period_end,
        payee_kind=payee_kind,
        beneficiary=beneficiary,
        employer=employer,
        institution=institution,
        quantity=quantity,
        unit_amount=unit_amount,
        amount=amount,
        reason=reason,
        cause=cause,
        application_date=application_date,
        contract_start=contract_start,
        contract_performed_to=contract_performed_to,
    )
    result = payments_create_batch(
        items=[item], actor=actor, submit=submit, today=today, skip_refused=True, dry_run=dry_run
    )
    if result.refused:
        raise result.refused[0]
    return result.created[0]


def _lock_payment(payment: Payment) -> Payment:
    return (
        Payment.objects.select_for_update(of=("self",))
        .select_related("program", "beneficiary", "employer")
        .get(pk=payment.pk)
    )


@atomic_service
def payment_submit(*, payment: Payment, actor: Any, today: dt.date | None = None) -> Payment:
    """draft → submitted. Every rule runs again (the person's groups or the program may have changed
    since the draft), and now the budget: submitted + approved + paid stay within it."""
    require_role(actor, Role.CLERK)
    # Lock order everywhere: the payment row, then the program row.
    payment = _lock_payment(payment)
    program = _lock_programs([payment.program_id])[payment.program_id]
    require_in_scope(actor, payment)
    PAYMENT_FLOW.expect(payment, "submit")
    facts = payment_facts([payment], {program.pk: program}, budget=True)[0]
    rules.check_all(payment, program, facts, today=today or timezone.localdate(), budget=True).raise_if_any()
    return PAYMENT_FLOW.apply(payment, "submit", actor=actor, check=False)


@atomic_service
def payment_approve(*, payment: Payment, actor: Any) -> Payment:
    """submitted → approved, by a reviewer who neither created nor submitted it (maker-checker)."""
    require_role(actor, Role.REVIEWER)
    payment = _lock_payment(payment)
    require_in_scope(actor, payment)
    _maker_checker(payment, actor)
    return PAYMENT_FLOW.apply(payment, "approve", actor=actor)


@atomic_service
def payment_reject(*, payment: Payment, actor: Any, reason: str) -> Payment:
    """submitted → rejected with a reason, by a reviewer who neither created nor submitted it. A
    rejected payment frees its budget and the person's entitlement."""
    require_role(actor, Role.REVIEWER)
    payment = _lock_payment(payment)
    require_in_scope(actor, payment)
    _maker_checker(payment, actor)
    PAYMENT_FLOW.expect(payment, "reject")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("REASON_REQUIRED: say why the payment is rejected.")]})
    return PAYMENT_FLOW.apply(
        payment, "reject", actor=actor, reason=reason, fields={"rejection_reason": reason}, check=False
    )


@atomic_service
def payment_mark_paid(
    *, payment: Payment, actor: Any, external_reference: str = "", paid_at: dt.datetime | None = None
) -> Payment:
    """approved → paid, by a reviewer, with the bank or treasury reference of the transfer."""
    require_role(actor, Role.REVIEWER)
    payment = _lock_payment(payment)
    require_in_scope(actor, payment)
    PAYMENT_FLOW.expect(payment, "mark_paid")
    now = timezone.now()
    if paid_at is not None and paid_at > now:
        raise ValidationError({"paid_at": [_("The payment date cannot be in the future.")]})
    if paid_at is not None and payment.approved_at is not None and paid_at < payment.approved_at:
        # Money leaves only after the second person approved it (maker-checker); a transfer dated
        # earlier would be a payment made without approval.
        raise ValidationError({"paid_at": [_("The payment date cannot be before the approval.")]})
    return PAYMENT_FLOW.apply(
        payment,
        "mark_paid",
        actor=actor,
        at=paid_at or now,
        fields={"external_reference": (external_reference or "")[:64]},
        check=False,
    )


@atomic_service
def payment_reverse(*, payment: Payment, actor: Any, reason: str) -> Payment:
    """paid → reversed: a paid payment is never edited or deleted. A reviewer records a linked
    negative entry (status `reversal`) with the reason, and the original is marked reversed, which
    frees the budget and the person's entitlement. Returns the reversing entry."""
    require_role(actor, Role.REVIEWER)
    payment = _lock_payment(payment)
    require_in_scope(actor, payment)
    PAYMENT_FLOW.expect(payment, "reverse")
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
        application_date=payment.application_date,
        contract_start=payment.contract_start,
        contract_performed_to=payment.contract_performed_to,
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
    PAYMENT_FLOW.apply(payment, "reverse", actor=actor, reason=reason, check=False)
    with acting(actor, action="reverse", reason=reason):
        entry.save()
    return entry


@atomic_service
def payments_approve_batch(*, payments: Sequence[Payment], actor: Any) -> list[Payment]:
    """Approve many payments, all or nothing: each passes the same checks as payment_approve, and
    if any fails nothing is approved. Refusals name the item (`ids.<index>`). Set-based: one locking
    read, one bulk update and one bulk insert of change entries, whatever the number."""
    require_role(actor, Role.REVIEWER)
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
    Region.cache_paths(p.region_id for p in locked.values())
    for index, pk in enumerate(ids):
        payment = locked[pk]
        require_in_scope(actor, payment)
        _maker_checker(payment, actor)
        if not PAYMENT_FLOW.allowed(payment, "approve"):
            errors[f"ids.{index}"] = [
                _("STATUS: payment #%(id)s is %(status)s; only submitted payments are approved.")
                % {"id": pk, "status": payment.status}
            ]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    approved = [locked[pk] for pk in ids]
    transition = PAYMENT_FLOW["approve"]
    for payment in approved:
        payment.status = transition.target
        payment.approved_by = actor
        payment.approved_at = now
    with acting(actor, action="approve"):
        tracked_bulk_update(Payment, approved, ["status", "approved_by", "approved_at"])
    return approved


__all__ = [
    "INSTITUTION_FLOW",
    "PAYMENT_FLOW",
    "BatchResult",
    "PaymentItem",
    "employer_create",
    "employer_update",
    "fund_source_create",
    "fund_source_update",
    "payment_approve",
    "payment_create",
    "payment_mark_paid",
    "payment_reject",
    "payment_reverse",
    "payment_submit",
    "payments_approve_batch",
    "payments_create_batch",
    "program_create",
    "program_update",
    "training_institution_create",
    "training_institution_reinstate",
    "training_institution_suspend",
    "training_institution_update",
]
