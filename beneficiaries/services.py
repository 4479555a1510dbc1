"""Writes to the registry. Every door (API, admin, import, seed, commands) calls these functions, so a
rule cannot be bypassed by entering data through another door.

Rules enforced here and why:
- One person, one record (一人一档, 实名制): the identity number is unique across the whole system,
  not per region, because programs pay people and a person registered twice could be paid twice.
- PIPL (个人信息保护法, art. 28 and 51): identity number and phone are sensitive personal information;
  they are stored encrypted (tracker.pii), looked up through a keyed hash, shown masked, and revealed
  only to holders of `beneficiaries.reveal_pii`, each reveal logged with its reason.
- Records people depend on are never hard-deleted once anything refers to them; a person leaves the
  registry by deactivation (deceased, moved away) with a date and reason.
- Employment status is a dated history (防返贫动态监测); a move from employment into unemployment
  (就业转失业) opens a follow-up for the person's region, closed when a service is recorded.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import router
from django.db.models import ProtectedError, RestrictedError
from django.db.models.deletion import Collector
from django.utils import timezone
from django.utils.translation import gettext as _

from beneficiaries.choices import (
    EMPLOYED_STATUSES,
    DeactivationReason,
    EmploymentStatus,
    FollowUpService,
    FollowUpStatus,
)
from beneficiaries.identity import parse_id_number
from beneficiaries.models import (
    ID_NUMBER_PURPOSE,
    PHONE_PURPOSE,
    Beneficiary,
    BeneficiaryGroup,
    FollowUp,
    GroupMembership,
    StatusChange,
)
from beneficiaries.names import clean_name
from beneficiaries.selectors import memberships_on, status_change_on
from tracker.accounts.choices import Role
from tracker.accounts.roles import require_role
from tracker.changelog.context import acting
from tracker.changelog.services import record_event
from tracker.errors import Conflict
from tracker.pii import decrypt, encrypt, keyed_hash, mask_id_number, mask_phone
from tracker.scope import require_in_scope
from tracker.transactions import atomic_service

REVEAL_PERMISSION = "beneficiaries.reveal_pii"

_PHONE = re.compile(r"1[3-9][0-9]{9}|0[0-9]{9,11}")
_SOCIAL_SECURITY_CARD = re.compile(r"[0-9A-Z]{6,32}")
ADDRESS_MAX = 255
NOTES_MAX = 2000

PERSON_FIELDS = (
    "name",
    "id_number",
    "gender",
    "birth_date",
    "phone",
    "social_security_card",
    "region",
    "address",
    "willing_to_work",
    "notes",
)


# -- validation shared by the API, the admin and the import -----------------------------------------


def normalise_phone(raw: object) -> str:
    phone = re.sub(r"[\s\-()]", "", str(raw or ""))
    if phone.startswith("+86"):
        phone = phone[3:]
    return phone


@dataclass
class CleanPerson:
    """Normalised person fields, or the errors found (field -> messages)."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: Any) -> None:
        self.errors.setdefault(name, []).append(str(message))


def clean_person(data: dict[str, Any], *, registered_on: dt.date, partial: bool = False) -> CleanPerson:
    """Check the single-person rules on already-typed values (dates as dates, region as a Region):
    the name (beneficiaries.names), identity number (each failed check named), gender and birth date
    against it, phone, card number, lengths. Collects every error rather than stopping at the first, so an import lists them all."""
    out = CleanPerson()
    if "name" in data or not partial:
        try:
            out.values["name"] = clean_name(data.get("name"))
        except ValidationError as exc:
            out.add("name", exc.messages[0])
            out.values["name"] = ""
    identity = None
    if "id_number" in data or not partial:
        try:
            identity = parse_id_number(data.get("id_number"), registered_on=registered_on)
        except ValidationError as exc:
            out.add("id_number", exc.messages[0])
        else:
            out.values["id_number"] = identity.number
            out.values["id_number_hash"] = keyed_hash(identity.number, purpose=ID_NUMBER_PURPOSE)
            out.values["id_number_masked"] = mask_id_number(identity.number)
            out.values["gender"] = identity.gender
            out.values["birth_date"] = identity.birth_date
    if identity is not None:
        given_gender = data.get("gender")
        if given_gender not in (None, "") and given_gender != identity.gender:
            out.add("gender", _("The gender does not match the identity number (its 17th digit)."))
        given_birth = data.get("birth_date")
        if given_birth not in (None, "") and given_birth != identity.birth_date:
            out.add("birth_date", _("The date of birth does not match the identity number (digits 7 to 14)."))
    elif partial and ("gender" in data or "birth_date" in data) and "id_number" not in data:
        # Gender and birth date follow from the identity number; they change only with it.
        for name in ("gender", "birth_date"):
            if name in data:
                out.values[f"_check_{name}"] = data[name]
    if "phone" in data or not partial:
        phone = normalise_phone(data.get("phone"))
        if phone and not _PHONE.fullmatch(phone):
            out.add("phone", _("Phone check failed: 11-digit mobile number or a landline with area code."))
        out.values["phone"] = phone
    if "social_security_card" in data or not partial:
        card = str(data.get("social_security_card") or "").strip().upper()
        if card and not _SOCIAL_SECURITY_CARD.fullmatch(card):
            out.add(
                "social_security_card", _("The social-security card number has 6 to 32 letters or digits.")
            )
        elif card and identity is not None and card == identity.number:
            out.add(
                "social_security_card",
                _("Enter the card number, not the identity number (it would be shown unmasked)."),
            )
        out.values["social_security_card"] = card
    if "region" in data or not partial:
        if data.get("region") is None:
            out.add("region", _("The household region is required."))
        out.values["region"] = data.get("region")
    for name, limit in (("address", ADDRESS_MAX), ("notes", NOTES_MAX)):
        if name in data or not partial:
            text = str(data.get(name) or "").strip()
            if len(text) > limit:
                out.add(name, _("At most %(n)d characters.") % {"n": limit})
            out.values[name] = text
    if "willing_to_work" in data or not partial:
        value = data.get("willing_to_work", True)
        out.values["willing_to_work"] = True if value is None else bool(value)
    return out


def apply_person_values(beneficiary: Beneficiary, values: dict[str, Any]) -> None:
    """Copy cleaned values onto the model: personal data encrypted, hashed and masked."""
    for name, value in values.items():
        if name.startswith("_check_"):
            continue
        if name == "id_number":
            beneficiary.id_number_encrypted = encrypt(value, purpose=ID_NUMBER_PURPOSE)
        elif name == "phone":
            beneficiary.phone_encrypted = encrypt(value, purpose=PHONE_PURPOSE)
            beneficiary.phone_hash = keyed_hash(value, purpose=PHONE_PURPOSE)
            beneficiary.phone_masked = mask_phone(value)
        else:
            setattr(beneficiary, name, value)


def registered_elsewhere_message() -> str:
    """All that any door says about a person registered outside the caller's region: that the number
    is taken, never where or by whom (the import reports exactly this text too)."""
    return _("This person is already registered elsewhere.")


def conflict_for_existing(existing: Beneficiary, actor: Any) -> Conflict:
    """409 for a second registration: point at the record when the caller may see it, else say
    only that the person is registered elsewhere (existence outside one's region stays private)."""
    if actor is not None and Beneficiary.objects.visible_to(actor).filter(pk=existing.pk).exists():
        return Conflict(
            _("This identity number is already registered (beneficiary %(id)s).") % {"id": existing.pk},
            extra={"existing_id": existing.pk},
        )
    return Conflict(registered_elsewhere_message())


def _ensure_unique(id_number_hash: str, actor: Any, *, exclude_pk: int | None = None) -> None:
    existing = Beneficiary.objects.filter(id_number_hash=id_number_hash).exclude(pk=exclude_pk).first()
    if existing is not None:
        raise conflict_for_existing(existing, actor)


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


# -- the person --------------------------------------------------------------------------------------


@atomic_service
def beneficiary_create(
    *, actor: Any, groups: Iterable[str] | None = None, dry_run: bool = False, **data: Any
) -> Beneficiary:
    """Register a person. The identity number is validated (each check named), unique across the
    system (409), and stored encrypted; gender and birth date are derived from it and, when given,
    must agree. `groups` are group codes, members from today."""
    unknown = set(data) - set(PERSON_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    require_role(actor, Role.CLERK)
    today = timezone.localdate()
    cleaned = clean_person(data, registered_on=today)
    _raise(cleaned.errors)
    require_in_scope(actor, cleaned.values["region"])
    _ensure_unique(cleaned.values["id_number_hash"], actor)
    beneficiary = Beneficiary()
    apply_person_values(beneficiary, cleaned.values)
    beneficiary.validate_row()
    if groups:
        groups_by_code(groups)
    if dry_run:
        return beneficiary
    with acting(actor):
        beneficiary.save()
    if groups:
        beneficiary_set_groups(beneficiary=beneficiary, group_codes=groups, actor=actor, on=today)
    return beneficiary


@atomic_service
def beneficiary_update(
    *,
    beneficiary: Beneficiary,
    actor: Any,
    groups: Iterable[str] | None = None,
    dry_run: bool = False,
    **data: Any,
) -> Beneficiary:
    """Change a person's fields (partial). A new identity number is checked like a new registration,
    against the registration date; gender and date of birth stay those the identity number carries.
    `groups`, when given, becomes the set of groups from today."""
    unknown = set(data) - set(PERSON_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    require_role(actor, Role.CLERK)
    require_in_scope(actor, beneficiary)
    registered_on = (
        timezone.localtime(beneficiary.registered_at).date()
        if beneficiary.registered_at
        else timezone.localdate()
    )
    cleaned = clean_person(data, registered_on=registered_on, partial=True)
    for name in ("gender", "birth_date"):
        given = cleaned.values.pop(f"_check_{name}", None)
        if given not in (None, "") and given != getattr(beneficiary, name):
            cleaned.add(
                name,
                _("%(field)s follows from the identity number and cannot differ from it.")
                % {"field": Beneficiary._meta.get_field(name).verbose_name},
            )
    card = cleaned.values.get("social_security_card")
    if (
        card
        and "id_number" not in cleaned.values
        and (keyed_hash(card, purpose=ID_NUMBER_PURPOSE) == beneficiary.id_number_hash)
    ):
        # The same rule as at registration, when only the card changes: the card column is shown
        # in the clear, so the identity number must not be copied into it.
        cleaned.add(
            "social_security_card",
            _("Enter the card number, not the identity number (it would be shown unmasked)."),
        )
    _raise(cleaned.errors)
    if "id_number_hash" in cleaned.values and cleaned.values["id_number_hash"] == beneficiary.id_number_hash:
        # Same number: keep the ciphertext (a new nonce would log a change that is not one).
        for name in ("id_number", "id_number_hash", "id_number_masked"):
            cleaned.values.pop(name)
    elif "id_number_hash" in cleaned.values:
        _ensure_unique(cleaned.values["id_number_hash"], actor, exclude_pk=beneficiary.pk)
    if (
        "phone" in cleaned.values
        and keyed_hash(cleaned.values["phone"], purpose=PHONE_PURPOSE) == beneficiary.phone_hash
    ):
        cleaned.values.pop("phone")
    if cleaned.values.get("region") is not None:
        require_in_scope(actor, cleaned.values["region"])
    apply_person_values(beneficiary, cleaned.values)
    beneficiary.validate_row()
    if groups is not None:
        groups_by_code(groups)
    if dry_run:
        return beneficiary
    with acting(actor):
        beneficiary.save()
    if groups is not None:
        beneficiary_set_groups(beneficiary=beneficiary, group_codes=groups, actor=actor)
    return beneficiary


@atomic_service
def beneficiary_deactivate(
    *, beneficiary: Beneficiary, actor: Any, on: dt.date, reason: str, note: str = ""
) -> Beneficiary:
    """A person leaves the registry (deceased, moved away) without losing their file: deactivation
    keeps every record that refers to them. The date may not be in the future."""
    require_role(actor, Role.CLERK)
    require_in_scope(actor, beneficiary)
    if not beneficiary.active:
        raise Conflict(_("This person is already deactivated."))
    errors: dict[str, list[str]] = {}
    if reason not in DeactivationReason.values:
        errors["reason"] = [_("Unknown deactivation reason.")]
    if on > timezone.localdate():
        errors["deactivated_on"] = [_("The deactivation date cannot be in the future.")]
    elif on < beneficiary.birth_date:
        errors["deactivated_on"] = [_("The deactivation date cannot be before the date of birth.")]
    _raise(errors)
    beneficiary.active = False
    beneficiary.deactivated_on = on
    beneficiary.deactivation_reason = reason
    beneficiary.validate_row()
    with acting(actor, action="deactivate", reason=note or str(DeactivationReason(reason).label)):
        beneficiary.save()
    return beneficiary


def beneficiary_references(beneficiary: Beneficiary) -> list[str]:
    """What refers to this person, found generically (Django's deletion collector), so records added
    by later apps count without this app knowing them: protected references, and anything a delete
    would cascade to (memberships included)."""
    collector = Collector(using=router.db_for_write(Beneficiary), origin=beneficiary)
    try:
        collector.collect([beneficiary])
    except ProtectedError as exc:
        return sorted({str(obj._meta.verbose_name_plural) for obj in exc.protected_objects})
    except RestrictedError as exc:
        return sorted({str(obj._meta.verbose_name_plural) for obj in exc.restricted_objects})
    names = {
        str(model._meta.verbose_name_plural)
        for model, objs in collector.data.items()
        if model is not Beneficiary and objs
    }
    for queryset in collector.fast_deletes:
        if queryset.model is not Beneficiary and queryset.exists():
            names.add(str(queryset.model._meta.verbose_name_plural))
    return sorted(names)


@atomic_service
def beneficiary_delete(*, beneficiary: Beneficiary, actor: Any) -> None:
    """Only a record nothing refers to (e.g. entered by mistake) may be deleted; otherwise 409 and
    the person is to be deactivated instead."""
    require_role(actor, Role.CLERK)
    require_in_scope(actor, beneficiary)
    references = beneficiary_references(beneficiary)
    if references:
        raise Conflict(
            _("This person is referred to by other records (%(what)s); deactivate instead of deleting.")
            % {"what": ", ".join(references)},
            extra={"referenced_by": references},
        )
    with acting(actor):
        beneficiary.delete()


@atomic_service
def beneficiary_reveal_pii(*, beneficiary: Beneficiary, actor: Any, reason: str) -> dict[str, str]:
    """The full identity number and phone, for holders of `beneficiaries.reveal_pii` only (granted to
    named users by a superuser; no role carries it). Each reveal is logged (`pii_reveal`) with its
    reason, in the same transaction, before anything is returned."""
    if actor is None or not actor.has_perm(REVEAL_PERMISSION):
        raise PermissionDenied(_("You do not hold the permission to reveal personal data."))
    require_in_scope(actor, beneficiary)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("A reason is required to reveal personal data.")]})
    with acting(actor):
        record_event(beneficiary, action="pii_reveal", reason=reason)
    return {
        "id_number": decrypt(beneficiary.id_number_encrypted, purpose=ID_NUMBER_PURPOSE),
        "phone": decrypt(beneficiary.phone_encrypted, purpose=PHONE_PURPOSE),
    }


# -- groups -------------------------------------------------------------------------------------------


@atomic_service
def beneficiary_group_upsert(
    *, code: str, name_zh: str, name_en: str, actor: Any = None, dry_run: bool = False
) -> BeneficiaryGroup:
    """Reference data (seeds/data/beneficiary_groups.yaml): create or bring up to date; a no-op
    when nothing changed, so seeding twice writes nothing. Administrators (or the seed script, with
    no actor) only."""
    if actor is not None and not actor.is_superuser:
        raise PermissionDenied(_("Only administrators change reference data."))
    group = BeneficiaryGroup.objects.filter(code=code).first() or BeneficiaryGroup(code=code)
    if group.pk and (group.name_zh, group.name_en) == (name_zh, name_en):
        return group
    group.name_zh, group.name_en = name_zh, name_en
    group.validate_row(dry_run=dry_run)
    if dry_run:
        return group
    with acting(actor):
        group.save()
    return group


def groups_by_code(codes: Iterable[str]) -> dict[str, BeneficiaryGroup]:
    """Groups for codes (one query); unknown codes raise a `groups` field error naming them."""
    wanted = {str(c).strip() for c in codes if str(c).strip()}
    found = {g.code: g for g in BeneficiaryGroup.objects.filter(code__in=wanted)}
    missing = sorted(wanted - set(found))
    if missing:
        raise ValidationError(
            {"groups": [_("Unknown group codes: %(codes)s") % {"codes": ", ".join(missing)}]}
        )
    return found


@atomic_service
def beneficiary_set_groups(
    *, beneficiary: Beneficiary, group_codes: Iterable[str], actor: Any, on: dt.date | None = None
) -> None:
    """Make the person's groups on `on` (today) exactly these: memberships of other groups end the
    day before (one started that same day was a mistake and is removed), missing ones start `on`.
    Past memberships are history and stay."""
    require_role(actor, Role.CLERK)
    require_in_scope(actor, beneficiary)
    on = on or timezone.localdate()
    wanted = groups_by_code(group_codes)
    current = list(
        GroupMembership.objects.select_for_update()
        .filter(memberships_on(on), beneficiary=beneficiary)
        .select_related("group")
    )
    held = {m.group.code for m in current}
    for membership in current:
        if membership.group.code in wanted:
            continue
        with acting(actor):
            if membership.valid_from >= on:
                membership.delete()
            else:
                membership.valid_to = on - dt.timedelta(days=1)
                membership.validate_row()
                membership.save()
    for code, group in sorted(wanted.items()):
        if code not in held:
            membership_add(beneficiary=beneficiary, group=group, valid_from=on, valid_to=None, actor=actor)


@atomic_service
def membership_add(
    *,
    beneficiary: Beneficiary,
    group: BeneficiaryGroup,
    valid_from: dt.date,
    valid_to: dt.date | None,
    actor: Any,
) -> GroupMembership:
    """Record membership of a group over a period. Periods of the same group may not overlap, so
    "member of G on D" has one answer; a period starts no earlier than the person's birth."""
    require_role(actor, Role.CLERK)
    require_in_scope(actor, beneficiary)
    if valid_to is not None and valid_to < valid_from:
        raise ValidationError({"valid_to": [_("The end of a membership cannot be before its start.")]})
    if valid_from < beneficiary.birth_date:
        raise ValidationError(
            {"valid_from": [_("A membership cannot start before the person's date of birth.")]}
        )
    overlapping = GroupMembership.objects.filter(beneficiary=beneficiary, group=group)
    overlapping = overlapping.filter(valid_to__isnull=True) | overlapping.filter(valid_to__gte=valid_from)
    if valid_to is not None:
        overlapping = overlapping.filter(valid_from__lte=valid_to)
    if overlapping.exists():
        raise ValidationError(
            {
                "group": [
                    _("The person is already a member of %(group)s in that period.") % {"group": group.code}
                ]
            }
        )
    membership = GroupMembership(
        beneficiary=beneficiary, group=group, valid_from=valid_from, valid_to=valid_to
    )
    membership.validate_row()
    with acting(actor):
        membership.save()
    return membership


@dataclass(frozen=True)
class MembershipEdit:
    """One row of a person's group memberships as a form edits it: `membership` is None for a new
    one; `delete` removes one entered by mistake (one that ended gets an end date instead, so the
    history stays)."""

    group: BeneficiaryGroup
    valid_from: dt.date
    valid_to: dt.date | None = None
    membership: GroupMembership | None = None
    delete: bool = False


@atomic_service
def beneficiary_memberships_edit(
    *, beneficiary: Beneficiary, edits: Sequence[MembershipEdit], actor: Any, dry_run: bool = False
) -> list[GroupMembership]:
    """Add, change and remove a person's group memberships (人员类别) in one step, as the admin's
    inline form edits them. Every period obeys membership_add's rules — the end not before the start,
    the start not before the person's birth, and periods of one group never overlapping — checked on
    the result of all the edits together, so ending one period and starting the next in one save is
    accepted. Errors name the edited row (`memberships.<index>.<field>`).

    A dry run checks everything and writes nothing; it also accepts a person not yet registered
    (the admin's add page), whose date of birth the identity number gave (None: not known yet)."""
    require_role(actor, Role.CLERK)
    if beneficiary.region_id is not None or not dry_run:
        require_in_scope(actor, beneficiary)
    existing: dict[int, GroupMembership] = {}
    if beneficiary.pk is not None:
        rows = GroupMembership.objects.filter(beneficiary_id=beneficiary.pk).select_related("group")
        existing = {m.pk: m for m in (rows if dry_run else rows.select_for_update(of=("self",)))}
    errors: dict[str, list[str]] = {}
    # The memberships after the edits: pk (or a new row's index as a string) -> (group, from, to, edit index).
    result: dict[Any, tuple[int, dt.date, dt.date | None, int | None]] = {
        pk: (m.group_id, m.valid_from, m.valid_to, None) for pk, m in existing.items()
    }
    for index, edit in enumerate(edits):
        key = f"memberships.{index}"
        if edit.membership is not None and edit.membership.pk not in existing:
            raise PermissionDenied(_("This membership belongs to another person."))
        if edit.delete:
            result.pop(edit.membership.pk if edit.membership is not None else None, None)
            continue
        if edit.valid_to is not None and edit.valid_to < edit.valid_from:
            errors.setdefault(f"{key}.valid_to", []).append(
                _("The end of a membership cannot be before its start.")
            )
        birth = beneficiary.birth_date
        if birth is not None and edit.valid_from < birth:
            errors.setdefault(f"{key}.valid_from", []).append(
                _("A membership cannot start before the person's date of birth.")
            )
        row_key = edit.membership.pk if edit.membership is not None else f"new{index}"
        result[row_key] = (edit.group.pk, edit.valid_from, edit.valid_to, index)
    far = dt.date.max
    rows = sorted(result.values(), key=lambda r: (r[0], r[1]))
    for before, after in itertools.pairwise(rows):
        if before[0] == after[0] and (before[2] or far) >= after[1]:
            index = after[3] if after[3] is not None else before[3]
            if index is None:
                continue  # stored overlaps this save did not touch are not this clerk's to answer for
            group = BeneficiaryGroup.objects.filter(pk=after[0]).first()
            errors.setdefault(f"memberships.{index}.group", []).append(
                _("The person is already a member of %(group)s in that period.") % {"group": group}
            )
    _raise(errors)
    if dry_run:
        return []
    written: list[GroupMembership] = []
    with acting(actor):
        for edit in edits:
            if edit.delete and edit.membership is not None:
                existing[edit.membership.pk].delete()
        for edit in edits:
            if edit.delete:
                continue
            if edit.membership is None:
                membership = GroupMembership(beneficiary=beneficiary)
            else:
                membership = existing[edit.membership.pk]
                if (membership.group_id, membership.valid_from, membership.valid_to) == (
                    edit.group.pk,
                    edit.valid_from,
                    edit.valid_to,
                ):
                    continue
            membership.group = edit.group
            membership.valid_from = edit.valid_from
            membership.valid_to = edit.valid_to
            membership.validate_row()
            membership.save()
            written.append(membership)
    return written


# -- employment status and follow-ups ---------------------------------------------------------------


def follow_up_due_days() -> int:
    return int(getattr(settings, "FOLLOW_UP_DUE_DAYS", 15))


@atomic_service
def status_change_record(
    *,
    beneficiary: Beneficiary,
    actor: Any,
    status: str,
    effective_on: dt.date,
    source: str,
    employer_or_place: str = "",
    note: str = "",
) -> StatusChange:
    """Add one dated status observation (history is never rewritten) and re-derive the current status
    and the verification date from the latest change. A move from any employed status into
    unemployment (就业转失业) opens a follow-up due settings.FOLLOW_UP_DUE_DAYS days later, unless
    one is already open for the person."""
    require_role(actor, Role.CLERK)
    person = Beneficiary.objects.select_for_update().get(pk=beneficiary.pk)
    require_in_scope(actor, person)
    errors: dict[str, list[str]] = {}
    if not person.active:
        raise Conflict(_("This person is deactivated; no status can be recorded."))
    if effective_on > timezone.localdate():
        errors["effective_on"] = [_("The effective date cannot be in the future.")]
    elif effective_on < person.birth_date:
        errors["effective_on"] = [_("The effective date cannot be before the date of birth.")]
    _raise(errors)
    previous = status_change_on(beneficiary=person, on=effective_on)
    change = StatusChange(
        beneficiary=person,
        effective_on=effective_on,
        status=status,
        source=source,
        employer_or_place=(employer_or_place or "").strip(),
        note=(note or "").strip(),
        recorded_by=actor if getattr(actor, "pk", None) else None,
    )
    change.validate_row()
    with acting(actor):
        change.save()
    latest = StatusChange.objects.filter(beneficiary=person).order_by("-effective_on", "-id").first()
    if (person.status, person.status_verified_on) != (latest.status, latest.effective_on):
        person.status = latest.status
        person.status_verified_on = latest.effective_on
        with acting(actor):
            person.save(update_fields=["status", "status_verified_on"])
    beneficiary.status, beneficiary.status_verified_on, beneficiary.version = (
        person.status,
        person.status_verified_on,
        person.version,
    )
    moved_out_of_work = (
        previous is not None
        and previous.status in EMPLOYED_STATUSES
        and status == EmploymentStatus.UNEMPLOYED
    )
    if (
        moved_out_of_work
        and not FollowUp.objects.filter(beneficiary=person, status=FollowUpStatus.OPEN).exists()
    ):
        follow_up = FollowUp(
            beneficiary=person,
            status_change=change,
            opened_on=effective_on,
            due_on=effective_on + dt.timedelta(days=follow_up_due_days()),
        )
        follow_up.validate_row()
        with acting(actor):
            follow_up.save()
    return change


@atomic_service
def follow_up_record_service(
    *, follow_up: FollowUp, actor: Any, service: str, service_on: dt.date, note: str = ""
) -> FollowUp:
    """Record the service given (career guidance, job or training referral, placement); it closes the
    follow-up. A closed follow-up is not reopened (409)."""
    require_role(actor, Role.CLERK)
    follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    require_in_scope(actor, follow_up)
    if follow_up.status != FollowUpStatus.OPEN:
        raise Conflict(_("This follow-up is already closed."))
    errors: dict[str, list[str]] = {}
    if service not in FollowUpService.values:
        errors["service"] = [_("Unknown service.")]
    if service_on > timezone.localdate():
        errors["service_on"] = [_("The service date cannot be in the future.")]
    elif service_on < follow_up.opened_on:
        errors["service_on"] = [_("The service date cannot be before the follow-up was opened.")]
    _raise(errors)
    follow_up.service = service
    follow_up.service_on = service_on
    follow_up.service_note = (note or "").strip()
    follow_up.status = FollowUpStatus.CLOSED
    follow_up.closed_by = actor if getattr(actor, "pk", None) else None
    follow_up.validate_row()
    with acting(actor, action="close"):
        follow_up.save()
    return follow_up
