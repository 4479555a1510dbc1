"""Employment registrations (就业登记): events on people, per region and date. One at a time
(`registration_create`) or a batch at once (`registrations_create_batch`: one scope check per person
set, bulk insert with bulk change entries), both refusing a date in the future or before the person
was born, and a region outside the caller's scope."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from beneficiaries.choices import RegistrationKind
from beneficiaries.models import Beneficiary, EmploymentRegistration
from tracker.accounts.choices import Role
from tracker.accounts.roles import require_role
from tracker.changelog.context import acting
from tracker.changelog.services import tracked_bulk_create
from tracker.errors import Conflict
from tracker.regions.models import Region
from tracker.scope import require_in_scope
from tracker.transactions import atomic_service


def _build(person: Beneficiary, item: Mapping[str, Any], today: dt.date) -> EmploymentRegistration:
    registered_on = item["registered_on"]
    errors: dict[str, list[str]] = {}
    if registered_on > today:
        errors["registered_on"] = [_("The registration date cannot be in the future.")]
    elif registered_on < person.birth_date:
        errors["registered_on"] = [_("The registration date cannot be before the date of birth.")]
    if errors:
        raise ValidationError(errors)
    return EmploymentRegistration(
        beneficiary=person,
        region=item.get("region") or person.region,
        registered_on=registered_on,
        kind=item.get("kind") or RegistrationKind.NEW_EMPLOYMENT,
        employer_name=(item.get("employer_name") or "").strip(),
        note=(item.get("note") or "").strip(),
    )


@atomic_service
def registration_create(
    *,
    actor: Any,
    beneficiary: Beneficiary,
    registered_on: dt.date,
    region: Region | None = None,
    kind: str = RegistrationKind.NEW_EMPLOYMENT,
    employer_name: str = "",
    note: str = "",
    dry_run: bool = False,
) -> EmploymentRegistration:
    """Record one registration, in the person's region unless another is given (clerks)."""
    require_role(actor, Role.CLERK)
    require_in_scope(actor, beneficiary)
    if region is not None:
        require_in_scope(actor, region)
    if not beneficiary.active:
        raise Conflict(_("This person is deactivated; no registration can be recorded."))
    row = _build(
        beneficiary,
        {
            "registered_on": registered_on,
            "region": region,
            "kind": kind,
            "employer_name": employer_name,
            "note": note,
        },
        timezone.localdate(),
    )
    row.validate_row(dry_run=dry_run)
    if dry_run:
        return row
    with acting(actor):
        row.save()
    return row


@atomic_service
def registrations_create_batch(
    *, actor: Any, items: Sequence[Mapping[str, Any]], batch_size: int = 5000
) -> list[EmploymentRegistration]:
    """Record many registrations at once, all or nothing: each item is {beneficiary, registered_on,
    region?, kind?, employer_name?, note?}. The people and regions are checked against the caller's
    scope set-based (distinct paths), then written with tracked_bulk_create."""
    require_role(actor, Role.CLERK)
    today = timezone.localdate()
    rows: list[EmploymentRegistration] = []
    errors: dict[str, list[str]] = {}
    seen_paths: set[str] = set()
    for index, item in enumerate(items):
        person = item["beneficiary"]
        for target in (person, item.get("region")):
            if target is None:
                continue
            path = getattr(target, "region_path", None) or getattr(target, "path", "")
            if path not in seen_paths:
                require_in_scope(actor, target)
                seen_paths.add(path)
        try:
            rows.append(_build(person, item, today))
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors[f"items.{index}.{field}"] = messages
    if errors:
        raise ValidationError(errors)
    with acting(actor, action="register"):
        tracked_bulk_create(EmploymentRegistration, rows, batch_size=batch_size)
    return rows
