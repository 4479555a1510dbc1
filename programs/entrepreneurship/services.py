"""Writes: entrepreneurs, guaranteed loans with their interest shares, and the district's interest
subsidy paid through the payments ledger (programs.funding.services.payments_create_batch, with the
loan as the payment's cause)."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from beneficiaries.identity import parse_id_number
from beneficiaries.models import Beneficiary
from beneficiaries.names import clean_name
from programs.entrepreneurship import rules
from programs.entrepreneurship.choices import EntrepreneurKind, GovernmentLevel
from programs.entrepreneurship.models import ID_NUMBER_PURPOSE, Entrepreneur, GuaranteedLoan, InterestSubsidy
from programs.funding.models import Employer, Program
from programs.funding.services import PaymentItem, payments_create_batch
from tracker.accounts.choices import Role
from tracker.accounts.roles import require_role
from tracker.changelog.context import acting
from tracker.changelog.services import tracked_bulk_create, tracked_bulk_update
from tracker.errors import Conflict
from tracker.pii import encrypt, keyed_hash, mask_id_number
from tracker.regions.models import Region
from tracker.scope import require_in_scope
from tracker.transactions import atomic_service

ENTREPRENEUR_FIELDS = frozenset({"kind", "business", "supported_on", "notes"})


def build_entrepreneur(
    *,
    region: Region,
    supported_on: dt.date,
    beneficiary: Beneficiary | None = None,
    name: str = "",
    id_number: str = "",
    kind: str = EntrepreneurKind.OTHER,
    business: Employer | None = None,
    notes: str = "",
) -> Entrepreneur:
    """An unsaved entrepreneur: a registry person's identity is copied (already protected), another
    person's number is checked, encrypted, hashed and masked as the registry does."""
    if beneficiary is not None:
        return Entrepreneur(
            beneficiary=beneficiary,
            name=beneficiary.name,
            id_number_encrypted=beneficiary.id_number_encrypted,
            id_number_hash=beneficiary.id_number_hash,
            id_number_masked=beneficiary.id_number_masked,
            kind=kind,
            region=region,
            business=business,
            supported_on=supported_on,
            notes=notes or "",
        )
    errors: dict[str, list[str]] = {}
    try:
        name = clean_name(name)
    except ValidationError as exc:
        errors["name"] = exc.messages
    number = ""
    try:
        number = parse_id_number(id_number, registered_on=supported_on).number
    except ValidationError as exc:
        errors["id_number"] = exc.messages
    if errors:
        raise ValidationError(errors)
    return Entrepreneur(
        name=name,
        id_number_encrypted=encrypt(number, purpose=ID_NUMBER_PURPOSE),
        id_number_hash=keyed_hash(number, purpose=ID_NUMBER_PURPOSE),
        id_number_masked=mask_id_number(number),
        kind=kind,
        region=region,
        business=business,
        supported_on=supported_on,
        notes=notes or "",
    )


@atomic_service
def entrepreneur_create(*, actor: Any, dry_run: bool = False, **fields: Any) -> Entrepreneur:
    """Record a supported entrepreneur (clerks of the region). A person is supported once: the keyed
    hash of the identity number is unique (409)."""
    require_role(actor, Role.CLERK)
    require_in_scope(actor, fields["region"])
    if fields.get("beneficiary") is not None:
        require_in_scope(actor, fields["beneficiary"])
    if fields.get("business") is not None:
        require_in_scope(actor, fields["business"])
    entrepreneur = build_entrepreneur(**fields)
    if Entrepreneur.objects.filter(id_number_hash=entrepreneur.id_number_hash).exists():
        raise Conflict(_("This person is already recorded as a supported entrepreneur."))
    entrepreneur.validate_row(dry_run=dry_run)
    if dry_run:
        return entrepreneur
    with acting(actor):
        entrepreneur.save()
    return entrepreneur


@atomic_service
def entrepreneur_update(
    *, entrepreneur: Entrepreneur, actor: Any, fields: dict[str, Any], dry_run: bool = False
) -> Entrepreneur:
    require_role(actor, Role.CLERK)
    unknown = set(fields) - ENTREPRENEUR_FIELDS
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed.")] for name in sorted(unknown)})
    entrepreneur = Entrepreneur.objects.select_for_update().get(pk=entrepreneur.pk)
    require_in_scope(actor, entrepreneur)
    if fields.get("business") is not None:
        require_in_scope(actor, fields["business"])
    for name, value in fields.items():
        setattr(entrepreneur, name, "" if value is None and name == "notes" else value)
    entrepreneur.validate_row(dry_run=dry_run)
    if dry_run:
        return entrepreneur
    with acting(actor):
        entrepreneur.save()
    return entrepreneur


def build_loan(entrepreneur: Entrepreneur, **fields: Any) -> tuple[GuaranteedLoan, list[InterestSubsidy]]:
    """An unsaved loan in the entrepreneur's region and its three interest shares (rules)."""
    loan = GuaranteedLoan(entrepreneur=entrepreneur, region_id=entrepreneur.region_id, **fields)
    if loan.issued_on and loan.issued_on > timezone.localdate():
        raise ValidationError({"issued_on": [_("The issue date cannot be in the future.")]})
    path = entrepreneur.region_path or Region.cached_path(entrepreneur.region_id)
    shares = rules.interest_shares(
        amount=decimal.Decimal(loan.amount),
        annual_rate=decimal.Decimal(loan.annual_rate),
        term_months=loan.term_months,
        region_path=path,
        year=loan.issued_on.year,
    )
    return loan, [InterestSubsidy(loan=loan, level=level, amount=amount) for level, amount in shares.items()]


@atomic_service
def loan_create(
    *, actor: Any, entrepreneur: Entrepreneur, dry_run: bool = False, **fields: Any
) -> GuaranteedLoan:
    """A guaranteed loan with its interest shares by level (upper-level finance, district, borrower)."""
    require_role(actor, Role.CLERK)
    require_in_scope(actor, entrepreneur)
    if fields.get("business") is not None:
        require_in_scope(actor, fields["business"])
    loan, shares = build_loan(entrepreneur, **fields)
    loan.validate_row(dry_run=dry_run)
    if dry_run:
        return loan
    with acting(actor):
        loan.save()
        for share in shares:
            share.loan = loan
        tracked_bulk_create(InterestSubsidy, shares)
    return loan


@atomic_service
def loans_create_batch(
    *, actor: Any, loans: Sequence[tuple[Entrepreneur, dict[str, Any]]]
) -> list[GuaranteedLoan]:
    """Many loans at once (bulk insert, bulk change entries), all or nothing."""
    require_role(actor, Role.CLERK)
    built: list[tuple[GuaranteedLoan, list[InterestSubsidy]]] = []
    checked: set[int] = set()
    for entrepreneur, fields in loans:
        if entrepreneur.region_id not in checked:
            require_in_scope(actor, entrepreneur)
            checked.add(entrepreneur.region_id)
        built.append(build_loan(entrepreneur, **fields))
    with acting(actor):
        created = tracked_bulk_create(GuaranteedLoan, [loan for loan, _shares in built])
        shares = []
        for loan, loan_shares in built:
            for share in loan_shares:
                share.loan = loan
                shares.append(share)
        tracked_bulk_create(InterestSubsidy, shares)
    return created


@atomic_service
def interest_subsidies_pay(
    *,
    actor: Any,
    program: Program,
    shares: Sequence[InterestSubsidy],
    submit: bool = True,
    today: dt.date | None = None,
) -> list[Any]:
    """Pay the district's shares to the borrowers through the ledger (one payment per loan, the loan
    as its cause), all or nothing. Refusals: NO_REGISTRY_PERSON (the ledger pays people of the
    registry), ALREADY_PAID, NOT_A_DISTRICT_SHARE, and every payment rule of programs.funding."""
    require_role(actor, Role.CLERK)
    ids = [s.pk for s in shares]
    locked = list(
        InterestSubsidy.objects.select_for_update(of=("self",))
        .filter(pk__in=ids)
        .select_related("loan__entrepreneur__beneficiary")
        .order_by("pk")
    )
    errors: dict[str, list[str]] = {}
    items: list[PaymentItem] = []
    for index, share in enumerate(locked):
        require_in_scope(actor, share)
        person = share.loan.entrepreneur.beneficiary
        if share.level != GovernmentLevel.DISTRICT:
            errors[f"items.{index}"] = [
                f"{rules.NOT_A_DISTRICT_SHARE}: " + _("Only the district's share is paid to the borrower.")
            ]
        elif share.payment_id is not None:
            errors[f"items.{index}"] = [f"{rules.ALREADY_PAID}: " + _("This interest share is already paid.")]
        elif person is None:
            errors[f"items.{index}"] = [
                f"{rules.NO_REGISTRY_PERSON}: "
                + _("The borrower is not in the registry; the ledger pays registry people only.")
            ]
        else:
            loan = share.loan
            items.append(
                PaymentItem(
                    program=program,
                    period_start=loan.issued_on,
                    period_end=loan.issued_on,
                    beneficiary=person,
                    amount=share.amount,
                    unit_amount=share.amount,
                    reason=_("Interest subsidy of a guaranteed loan (区级财政全额贴息)"),
                    cause=loan,
                    application_date=loan.issued_on,
                )
            )
    if errors:
        raise ValidationError(errors)
    payable = [s for s in locked]
    result = payments_create_batch(items=items, actor=actor, submit=submit, today=today)
    for share, payment in zip(payable, result.created, strict=True):
        share.payment = payment
    with acting(actor, action="pay_interest_subsidy"):
        tracked_bulk_update(InterestSubsidy, payable, ["payment"])
    return result.created
