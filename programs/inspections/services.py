"""Services of the inspections app: the only way inspections, findings, complaints and payment
confirmations are written (API, admin, seed and jobs call these).

Rules enforced here and why (codes in rules.py):
- Inspections are started by inspectors (督查组) within their region; starting pre-fills every item
  from the posts data (selectors.prefill_items) with the evidence used. Only the inspection's own
  inspectors answer items; a failed item carries a rectification opinion (整改意见, digest line 115:
  对发现的问题逐一提出整改意见) and opens a finding. An inspection closes only when every item is
  answered.
- Findings move by FINDING_FLOW. The responsible unit's clerks and reviewers start and report the
  rectification; only inspectors verify, waive (with a reason) or reopen; whoever rectified a finding
  cannot verify it. A check run's `no_longer_reproduces` still needs an inspector's verification.
- Complaint personal data is encrypted, hashed and masked (tracker.pii) before it is stored.
- A confirmation sample draws paid payments reproducibly from a stored seed; a person who says they
  received nothing, or less, opens a high-severity finding.
"""

from __future__ import annotations

import datetime as dt
import decimal
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext as _

from programs.funding.models import Payment, Program
from programs.inspections import rules
from programs.inspections.choices import (
    ComplaintStatus,
    Concerns,
    FindingSource,
    FindingStatus,
    InspectionStatus,
    ItemLevel,
    ItemResult,
    Severity,
)
from programs.inspections.models import (
    Complaint,
    Confirmation,
    ConfirmationSample,
    Finding,
    FindingStep,
    Inspection,
    InspectionItem,
)
from programs.inspections.selectors import draw_sample, due_days, prefill_items, sample_population
from tracker.accounts.choices import Role
from tracker.accounts.models import User
from tracker.accounts.roles import require_role
from tracker.changelog.context import acting
from tracker.changelog.services import tracked_bulk_create, tracked_bulk_update
from tracker.errors import Conflict
from tracker.periods import Month
from tracker.pii import encrypt, keyed_hash, mask_name, mask_phone
from tracker.regions.models import Region
from tracker.scope import require_in_scope
from tracker.transactions import atomic_service
from tracker.transitions import StateMachine, Transition

COMPLAINANT_NAME_PURPOSE = "complainant-name"
COMPLAINANT_PHONE_PURPOSE = "complainant-phone"

F = FindingStatus
FINDING_FLOW = StateMachine(
    {
        "start": Transition(
            sources={F.OPEN, F.REOPENED},
            target=F.RECTIFYING,
            actor_field="rectifying_by",
            time_field="rectifying_at",
        ),
        "rectify": Transition(
            sources={F.OPEN, F.RECTIFYING, F.REOPENED},
            target=F.RECTIFIED,
            actor_field="rectified_by",
            time_field="rectified_at",
        ),
        "verify": Transition(
            sources={F.RECTIFIED, F.NO_LONGER_REPRODUCES},
            target=F.VERIFIED,
            actor_field="verified_by",
            time_field="verified_at",
        ),
        "waive": Transition(
            sources={F.OPEN, F.RECTIFYING, F.RECTIFIED, F.REOPENED, F.NO_LONGER_REPRODUCES},
            target=F.WAIVED,
            actor_field="waived_by",
            time_field="waived_at",
        ),
        "reopen": Transition(
            sources={F.RECTIFIED, F.NO_LONGER_REPRODUCES}, target=F.REOPENED, time_field="reopened_at"
        ),
        # Moved by a check run, never by a person.
        "no_longer_reproduces": Transition(
            sources={F.OPEN, F.RECTIFYING, F.REOPENED}, target=F.NO_LONGER_REPRODUCES, time_field="gone_at"
        ),
    }
)
# Who may move a finding by each verb.
VERB_ROLES: dict[str, tuple[str, ...]] = {
    "start": (Role.CLERK, Role.REVIEWER),
    "rectify": (Role.CLERK, Role.REVIEWER),
    "verify": (Role.INSPECTOR,),
    "waive": (Role.INSPECTOR,),
    "reopen": (Role.INSPECTOR,),
}
COMPLAINT_FLOW = StateMachine(
    {
        "investigate": Transition(sources={ComplaintStatus.RECEIVED}, target=ComplaintStatus.INVESTIGATING),
        "resolve": Transition(
            sources={ComplaintStatus.RECEIVED, ComplaintStatus.INVESTIGATING}, target=ComplaintStatus.RESOLVED
        ),
        "unfounded": Transition(
            sources={ComplaintStatus.RECEIVED, ComplaintStatus.INVESTIGATING},
            target=ComplaintStatus.UNFOUNDED,
        ),
    }
)
COMPLAINT_ROLES = (Role.CLERK, Role.REVIEWER, Role.INSPECTOR)


def _require_inspector(actor: Any) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.has_role(Role.INSPECTOR):
        raise PermissionDenied(f"{rules.NOT_AN_INSPECTOR}: " + _("only inspectors may do this."))


def _unknown(fields: Mapping[str, Any], allowed: Sequence[str]) -> None:
    extra = set(fields) - set(allowed)
    if extra:
        raise ValidationError({name: [_("Unknown field.")] for name in sorted(extra)})


# -- inspections ------------------------------------------------------------------------------------


@atomic_service
def inspection_create(
    *,
    actor: Any,
    region: Region,
    title: str,
    starts_on: dt.date,
    first_month: str,
    last_month: str,
    methods: Sequence[str],
    inspectors: Sequence[str] = (),
    ends_on: dt.date | None = None,
    villages: Sequence[str] = (),
    posts: Sequence[int] = (),
    summary: str = "",
    start: bool = True,
) -> Inspection:
    """Plan an inspection of the region's posts (by default also start it: pre-fill every item)."""
    _require_inspector(actor)
    require_in_scope(actor, region)
    errors: dict[str, list[Any]] = {}
    try:
        first, last = Month.parse(first_month), Month.parse(last_month)
        if (last.year, last.month) < (first.year, first.month):
            errors["last_month"] = [_("The last month is before the first.")]
    except ValidationError:
        errors["first_month"] = [_("A month is written YYYY-MM.")]
    names = list(dict.fromkeys([*inspectors] or [actor.username]))
    team = {u.username: u for u in User.objects.filter(username__in=names, is_active=True)}
    for name in names:
        user = team.get(name)
        if user is None or not user.has_role(Role.INSPECTOR):
            errors.setdefault("inspectors", []).append(_("%(name)s is not an inspector.") % {"name": name})
        elif user.scope_path is None or not region.path.startswith(user.scope_path):
            errors.setdefault("inspectors", []).append(
                _("%(name)s may not inspect this region.") % {"name": name}
            )
    if villages:
        known = set(
            Region.objects.filter(code__in=list(villages), path__startswith=region.path).values_list(
                "code", flat=True
            )
        )
        missing = sorted(set(villages) - known)
        if missing:
            errors["villages"] = [_("Not in the region: %(codes)s.") % {"codes": ", ".join(missing)}]
    if errors:
        raise ValidationError(errors)
    inspection = Inspection(
        region=region,
        title=title,
        starts_on=starts_on,
        ends_on=ends_on,
        first_month=first_month,
        last_month=last_month,
        inspectors=names,
        methods=list(dict.fromkeys(methods)),
        villages=list(villages),
        posts=list(posts),
        summary=summary,
        created_by=actor,
    )
    inspection.validate_row()
    with acting(actor, action="create"):
        inspection.save()
    if start:
        inspection_start(inspection=inspection, actor=actor)
    return inspection


@atomic_service
def inspection_start(*, inspection: Inspection, actor: Any) -> Inspection:
    """planned → in progress: every item pre-filled from the data, with its evidence."""
    _require_inspector(actor)
    inspection = Inspection.objects.select_for_update().get(pk=inspection.pk)
    require_in_scope(actor, inspection)
    if inspection.status != InspectionStatus.PLANNED:
        raise Conflict(
            _("STATUS: the inspection has already started."), extra={"status_now": inspection.status}
        )
    items = [
        InspectionItem(
            inspection=inspection,
            region=spec["region"],
            code=spec["code"],
            level=spec["level"],
            post_id=spec.get("post_id"),
            assignment_id=spec.get("assignment_id"),
            prefilled=spec["prefilled"],
            evidence=spec["evidence"],
        )
        for spec in prefill_items(inspection)
    ]
    with acting(actor, action="prefill"):
        tracked_bulk_create(InspectionItem, items)
    inspection.status = InspectionStatus.IN_PROGRESS
    inspection.started_at = timezone.now()
    with acting(actor, action="start"):
        inspection.save(update_fields=["status", "started_at"])
    return inspection


ANSWER_FIELDS = (
    "result",
    "note",
    "present",
    "interviewed",
    "rectification_opinion",
    "due_on",
    "responsible_unit",
    "severity",
)


def _on_team(actor: Any, inspection: Inspection) -> None:
    if actor.is_superuser or actor.username in inspection.inspectors:
        return
    raise PermissionDenied(
        f"{rules.NOT_ON_TEAM}: " + _("only the inspection's own inspectors answer its items.")
    )


@atomic_service
def inspection_items_answer(
    *, inspection: Inspection, answers: Sequence[Mapping[str, Any]], actor: Any
) -> list[InspectionItem]:
    """The inspector confirms or overrides items (`answers`: {id, result, note, present, interviewed,
    rectification_opinion, due_on, responsible_unit, severity}). A failed item needs a
    rectification opinion and opens a finding (once: re-answering a failed item updates the note)."""
    _require_inspector(actor)
    inspection = Inspection.objects.select_for_update().get(pk=inspection.pk)
    require_in_scope(actor, inspection)
    _on_team(actor, inspection)
    if inspection.status != InspectionStatus.IN_PROGRESS:
        raise Conflict(
            _("STATUS: items are answered while the inspection is in progress."),
            extra={"status_now": inspection.status},
        )
    ids = [int(a["id"]) for a in answers]
    items = {
        i.pk: i
        for i in InspectionItem.objects.select_for_update()
        .filter(inspection=inspection, pk__in=ids)
        .select_related("region")
    }
    with_finding = set(Finding.objects.filter(item_id__in=ids).values_list("item_id", flat=True))
    errors: dict[str, Any] = {}
    now = timezone.now()
    today = timezone.localdate()
    findings: list[Finding] = []
    changed_fields: set[str] = {"answered_by", "answered_at"}
    for index, answer in enumerate(answers):
        _unknown({k: v for k, v in answer.items() if k != "id"}, ANSWER_FIELDS)
        item = items.get(int(answer["id"]))
        if item is None:
            errors[f"items.{index}.id"] = [_("No such item in this inspection.")]
            continue
        for name in ("result", "note", "present", "interviewed", "rectification_opinion"):
            if name in answer:
                setattr(item, name, answer[name])
                changed_fields.add(name)
        if item.result == ItemResult.PENDING:
            errors[f"items.{index}.result"] = [_("Answer passed, failed or not applicable.")]
            continue
        if item.level != ItemLevel.HOLDER or item.code != "on_duty":
            if item.present is not None or item.interviewed is not None:
                errors[f"items.{index}.present"] = [_("Only on-duty checks record presence.")]
        if item.result == ItemResult.FAILED:
            if not (item.rectification_opinion or "").strip():
                errors[f"items.{index}.rectification_opinion"] = [
                    f"{rules.OPINION_REQUIRED}: "
                    + _("give the rectification opinion (整改意见) for a failed item.")
                ]
                continue
            if item.pk not in with_finding:
                concerns, concerns_id = (
                    (Concerns.ASSIGNMENT, item.assignment_id)
                    if item.assignment_id
                    else (Concerns.POST, item.post_id)
                    if item.post_id
                    else (Concerns.VILLAGE, item.region_id)
                )
                findings.append(
                    Finding(
                        source=FindingSource.INSPECTION,
                        rule=item.code,
                        severity=answer.get("severity") or Severity.MEDIUM,
                        concerns=concerns,
                        concerns_id=str(concerns_id),
                        region=item.region,
                        description=(item.note or item.get_code_display())[:4000],
                        evidence={"item": item.pk, "prefilled": item.prefilled, "evidence": item.evidence},
                        rectification_required=item.rectification_opinion,
                        responsible_unit=answer.get("responsible_unit") or item.region.name_zh,
                        due_on=answer.get("due_on") or today + dt.timedelta(days=due_days()),
                        inspection=inspection,
                        item=item,
                        opened_by=actor,
                    )
                )
        elif item.pk in with_finding:
            errors[f"items.{index}.result"] = [
                _("This item opened a finding; waive the finding rather than change the answer.")
            ]
        item.answered_by = actor
        item.answered_at = now
    if errors:
        raise ValidationError(errors)
    with acting(actor, action="answer"):
        tracked_bulk_update(InspectionItem, list(items.values()), sorted(changed_fields))
    if findings:
        for finding in findings:
            finding.validate_row()
        with acting(actor, action="open"):
            tracked_bulk_create(Finding, findings)
    return list(items.values())


@atomic_service
def inspection_close(
    *, inspection: Inspection, actor: Any, summary: str = "", ends_on: dt.date | None = None
) -> Inspection:
    """in progress → closed, only when every item is answered."""
    _require_inspector(actor)
    inspection = Inspection.objects.select_for_update().get(pk=inspection.pk)
    require_in_scope(actor, inspection)
    _on_team(actor, inspection)
    if inspection.status != InspectionStatus.IN_PROGRESS:
        raise Conflict(
            _("STATUS: only an inspection in progress closes."), extra={"status_now": inspection.status}
        )
    pending = inspection.items.filter(result=ItemResult.PENDING).count()
    if pending:
        raise Conflict(
            f"{rules.ITEMS_UNANSWERED}: " + _("%(count)d items are not answered yet.") % {"count": pending},
            extra={"unanswered": pending},
        )
    inspection.status = InspectionStatus.CLOSED
    inspection.closed_by = actor
    inspection.closed_at = timezone.now()
    inspection.ends_on = ends_on or inspection.ends_on or timezone.localdate()
    fields = ["status", "closed_by", "closed_at", "ends_on"]
    if summary:
        inspection.summary = summary
        fields.append("summary")
    inspection.validate_row()
    with acting(actor, action="close"):
        inspection.save(update_fields=fields)
    return inspection


# -- findings ---------------------------------------------------------------------------------------

FINDING_FIELDS = (
    "source",
    "rule",
    "severity",
    "concerns",
    "concerns_id",
    "region",
    "description",
    "rectification_required",
    "responsible_unit",
    "due_on",
    "inspection",
    "evidence",
)


@atomic_service
def finding_create(*, actor: Any, fields: Mapping[str, Any]) -> Finding:
    """An inspector records a finding by hand (from a visit, a document, a complaint)."""
    _require_inspector(actor)
    _unknown(fields, FINDING_FIELDS)
    values = dict(fields)
    values.setdefault("source", FindingSource.INSPECTION)
    if values["source"] == FindingSource.CHECK:
        raise ValidationError({"source": [_("Compliance-check findings are opened by check runs.")]})
    values.setdefault("due_on", timezone.localdate() + dt.timedelta(days=due_days()))
    finding = Finding(opened_by=actor, **values)
    require_in_scope(actor, finding.region)
    finding.validate_row()
    with acting(actor, action="open"):
        finding.save()
    return finding


def _step(finding: Finding, verb: str, actor: Any, note: str = "") -> FindingStep:
    step = FindingStep(finding=finding, region_id=finding.region_id, verb=verb, note=note, actor=actor)
    with acting(actor, action=verb):
        step.save()
    return step


@atomic_service
def finding_move(*, finding: Finding, verb: str, actor: Any, note: str = "") -> Finding:
    """Move a finding by `verb` (start, rectify, verify, waive, reopen), with a note kept as a step."""
    if verb not in VERB_ROLES:
        raise ValidationError({"verb": [_("Unknown step.")]})
    if Role.INSPECTOR in VERB_ROLES[verb]:
        _require_inspector(actor)
    else:
        require_role(actor, *VERB_ROLES[verb])
    finding = Finding.objects.select_for_update().get(pk=finding.pk)
    require_in_scope(actor, finding)
    FINDING_FLOW.expect(finding, verb)
    fields: dict[str, Any] = {}
    if verb == "verify" and finding.rectified_by_id == actor.pk:
        raise PermissionDenied(
            f"{rules.OWN_RECTIFICATION}: " + _("you rectified this finding; another inspector verifies it.")
        )
    if verb in ("waive", "reopen") and not note.strip():
        raise ValidationError({"note": [f"{rules.REASON_REQUIRED}: " + _("give the reason.")]})
    if verb == "rectify" and not note.strip():
        raise ValidationError({"note": [_("Say what was done to rectify it.")]})
    if verb == "waive":
        fields["waive_reason"] = note
    FINDING_FLOW.apply(finding, verb, actor=actor, reason=note, fields=fields)
    _step(finding, verb, actor, note)
    return finding


@atomic_service
def finding_step_add(
    *, finding: Finding, actor: Any, note: str = "", attachment: UploadedFile | None = None
) -> FindingStep:
    """Evidence for a finding: a note and an optional attachment (PDF, JPEG or PNG, at most
    FINDING_ATTACHMENT_MAX_BYTES), added by whoever works on it in scope."""
    require_role(actor, Role.CLERK, Role.REVIEWER, Role.INSPECTOR)
    finding = Finding.objects.get(pk=finding.pk)
    require_in_scope(actor, finding)
    if not note.strip() and attachment is None:
        raise ValidationError({"note": [_("Give a note or an attachment.")]})
    step = FindingStep(finding=finding, region_id=finding.region_id, verb="evidence", note=note, actor=actor)
    if attachment is not None:
        limit = rules.attachment_max_bytes()
        if attachment.size > limit:
            raise ValidationError(
                {
                    "attachment": [
                        f"{rules.ATTACHMENT_TOO_LARGE}: "
                        + _("the file is larger than %(limit)d bytes.") % {"limit": limit}
                    ]
                }
            )
        attachment.seek(0)
        head = attachment.read(16)
        attachment.seek(0)
        media_type = rules.attachment_type(attachment.name or "", head)
        if media_type is None:
            raise ValidationError(
                {"attachment": [f"{rules.ATTACHMENT_TYPE}: " + _("attach a PDF, JPEG or PNG file.")]}
            )
        step.attachment_name = (attachment.name or "")[-200:]
        step.attachment_type = media_type
        step.attachment_size = attachment.size
        suffix = next(e for e in rules.SIGNATURES[media_type][1] if step.attachment_name.lower().endswith(e))
        # A name of our own (the uploaded one is kept only as text): no path from the client.
        step.attachment = default_storage.save(
            f"findings/{finding.pk}/{secrets.token_hex(12)}{suffix}", attachment
        )
    with acting(actor, action="evidence"):
        step.save()
    return step


# -- complaints -------------------------------------------------------------------------------------

COMPLAINT_FIELDS = (
    "region",
    "channel",
    "received_on",
    "anonymous",
    "complainant_name",
    "complainant_phone",
    "concerns",
    "concerns_id",
    "subject",
    "category",
    "assigned_unit",
    "due_on",
)


@atomic_service
def complaint_create(*, actor: Any, fields: Mapping[str, Any]) -> Complaint:
    """Record a complaint or tip-off; the complainant's name and phone are encrypted, hashed and
    masked before anything is stored; an anonymous complaint has no complainant."""
    require_role(actor, *COMPLAINT_ROLES)
    _unknown(fields, COMPLAINT_FIELDS)
    values = dict(fields)
    name = (values.pop("complainant_name", "") or "").strip()
    phone = (values.pop("complainant_phone", "") or "").strip()
    if values.get("anonymous") and (name or phone):
        raise ValidationError(
            {
                "anonymous": [
                    f"{rules.ANONYMOUS_WITH_COMPLAINANT}: " + _("an anonymous complaint names no one.")
                ]
            }
        )
    values.setdefault("due_on", values["received_on"] + dt.timedelta(days=due_days()))
    complaint = Complaint(created_by=actor, **values)
    complaint.complainant_name_encrypted = encrypt(name, purpose=COMPLAINANT_NAME_PURPOSE)
    complaint.complainant_name_masked = mask_name(name)
    complaint.complainant_phone_encrypted = encrypt(phone, purpose=COMPLAINANT_PHONE_PURPOSE)
    complaint.complainant_phone_hash = keyed_hash(phone, purpose=COMPLAINANT_PHONE_PURPOSE)
    complaint.complainant_phone_masked = mask_phone(phone)
    require_in_scope(actor, complaint.region)
    complaint.validate_row()
    with acting(actor, action="create"):
        complaint.save()
    return complaint


@atomic_service
def complaint_move(
    *,
    complaint: Complaint,
    verb: str,
    actor: Any,
    outcome: str = "",
    open_finding: bool = False,
    severity: str = Severity.MEDIUM,
    rectification_required: str = "",
    rule: str = "COMPLAINT",
) -> Complaint:
    """investigate, resolve (optionally opening the finding it led to) or find unfounded."""
    require_role(actor, *COMPLAINT_ROLES)
    complaint = Complaint.objects.select_for_update().select_related("region").get(pk=complaint.pk)
    require_in_scope(actor, complaint)
    COMPLAINT_FLOW.expect(complaint, verb)
    fields: dict[str, Any] = {}
    if verb in ("resolve", "unfounded"):
        if not outcome.strip():
            raise ValidationError({"outcome": [_("Say what the investigation found.")]})
        fields["outcome"] = outcome
    if open_finding:
        if verb != "resolve":
            raise ValidationError({"open_finding": [_("Only a resolved complaint opens a finding.")]})
        _require_inspector(actor)
        finding = Finding(
            source=FindingSource.COMPLAINT,
            rule=rule,
            severity=severity,
            concerns=complaint.concerns,
            concerns_id=complaint.concerns_id,
            region=complaint.region,
            description=f"{complaint.subject}\n{outcome}"[:4000],
            evidence={"complaint": complaint.pk},
            rectification_required=rectification_required,
            responsible_unit=complaint.assigned_unit,
            due_on=timezone.localdate() + dt.timedelta(days=due_days()),
            opened_by=actor,
        )
        finding.validate_row()
        with acting(actor, action="open"):
            finding.save()
        fields["finding"] = finding
    COMPLAINT_FLOW.apply(complaint, verb, actor=actor, reason=outcome, fields=fields)
    return complaint


# -- sampled payment confirmation -------------------------------------------------------------------


@atomic_service
def confirmation_sample_draw(
    *,
    actor: Any,
    region: Region,
    period_start: dt.date,
    period_end: dt.date,
    program: Program | None = None,
    size: int | None = None,
    rate: decimal.Decimal | None = None,
    seed: str = "",
) -> ConfirmationSample:
    """Draw a reproducible random sample of the payments to people paid for the period in the region
    (of one program, optionally): `size` payments, or `rate` of them rounded up; the seed is stored
    (a random one when none is given) with the moment that fixes the population."""
    _require_inspector(actor)
    require_in_scope(actor, region)
    if (size is None) == (rate is None):
        raise ValidationError({"size": [_("Give a sample size or a rate, not both.")]})
    if period_end < period_start:
        raise ValidationError({"period_end": [_("The period ends before it starts.")]})
    seed = seed or secrets.token_hex(8)
    paid_by = timezone.now()
    population = sample_population(
        region_path=region.path,
        period_start=period_start,
        period_end=period_end,
        program_id=program.pk if program else None,
        paid_by=paid_by,
    )
    if size is None:
        size = int(
            (decimal.Decimal(len(population)) * rate).to_integral_value(rounding=decimal.ROUND_CEILING)
        )
    chosen = draw_sample(population, size, seed)
    sample = ConfirmationSample(
        region=region,
        period_start=period_start,
        period_end=period_end,
        program=program,
        seed=seed,
        paid_by=paid_by,
        population=len(population),
        size=len(chosen),
        created_by=actor,
    )
    sample.validate_row()
    with acting(actor, action="draw"):
        sample.save()
        regions = dict(Payment.objects.filter(pk__in=chosen).values_list("pk", "region_id"))
        tracked_bulk_create(
            Confirmation,
            [Confirmation(sample=sample, payment_id=pk, region_id=regions[pk]) for pk in chosen],
        )
    return sample


CONFIRMATION_FIELDS = ("method", "reached", "received", "amount_stated", "note")


@atomic_service
def confirmation_record(*, confirmation: Confirmation, actor: Any, fields: Mapping[str, Any]) -> Confirmation:
    """What the person said (method, reached, received yes/no/partly, amount stated, note). A
    discrepancy opens a high-severity finding on the payment."""
    require_role(actor, Role.CLERK, Role.REVIEWER, Role.INSPECTOR)
    _unknown(fields, CONFIRMATION_FIELDS)
    confirmation = (
        Confirmation.objects.select_for_update().select_related("payment", "region").get(pk=confirmation.pk)
    )
    require_in_scope(actor, confirmation)
    if confirmation.confirmed_at is not None:
        raise Conflict(f"{rules.ALREADY_CONFIRMED}: " + _("this payment's confirmation is already recorded."))
    for name, value in fields.items():
        setattr(confirmation, name, value)
    errors: dict[str, list[Any]] = {}
    if not confirmation.method:
        errors["method"] = [_("Say how the person was contacted.")]
    if confirmation.reached is None:
        errors["reached"] = [_("Say whether the person was reached.")]
    elif confirmation.reached and not confirmation.received:
        errors["received"] = [_("Say whether the person received the payment.")]
    elif not confirmation.reached and (confirmation.received or confirmation.amount_stated is not None):
        errors["received"] = [_("A person not reached said nothing.")]
    if errors:
        raise ValidationError(errors)
    confirmation.confirmed_by = actor
    confirmation.confirmed_at = timezone.now()
    payment = confirmation.payment
    discrepancy = rules.is_discrepancy(
        reached=confirmation.reached,
        received=confirmation.received,
        amount_stated=confirmation.amount_stated,
        amount=payment.amount,
    )
    if discrepancy:
        finding = Finding(
            source=FindingSource.CONFIRMATION,
            rule=rules.PAYMENT_NOT_RECEIVED,
            severity=Severity.HIGH,
            concerns=Concerns.PAYMENT,
            concerns_id=str(payment.pk),
            region=confirmation.region,
            description=_("The person says they received %(received)s of payment #%(id)d (%(amount)s).")
            % {"received": confirmation.get_received_display(), "id": payment.pk, "amount": payment.amount},
            evidence={
                "confirmation": confirmation.pk,
                "sample": confirmation.sample_id,
                "amount": str(payment.amount),
                "amount_stated": None
                if confirmation.amount_stated is None
                else str(confirmation.amount_stated),
                "note": confirmation.note,
            },
            rectification_required=_("Find where the money went and pay the person what is owed."),
            due_on=timezone.localdate() + dt.timedelta(days=due_days()),
            opened_by=actor,
        )
        finding.validate_row()
        with acting(actor, action="open"):
            finding.save()
        confirmation.finding = finding
    confirmation.validate_row()
    with acting(actor, action="confirm"):
        confirmation.save()
        sample = ConfirmationSample.objects.select_for_update().get(pk=confirmation.sample_id)
        sample.confirmed += 1
        sample.reached += 1 if confirmation.reached else 0
        sample.received_in_full += (
            1 if confirmation.reached and not discrepancy and confirmation.received == "yes" else 0
        )
        sample.discrepancies += 1 if discrepancy else 0
        sample.save(update_fields=["confirmed", "reached", "received_in_full", "discrepancies"])
    return confirmation
