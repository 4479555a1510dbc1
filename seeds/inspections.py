"""Seed step: the Wugongshan inspection of August 2021 (seeds/data/inspections.yaml) with its villages,
items and rectification opinions, a few complaints, one payment-confirmation sample with a
discrepancy, and a compliance check run whose findings are the gaps the posts seed planted.

Everything goes through the services with the demo inspector, clerk and reviewer of the region
(the administrator where there are none). Idempotent: skipped when the inspection exists.
Deterministic: the sample's seed is fixed, answers follow the pre-fill.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from django.db import transaction

from beneficiaries.models import FollowUp
from beneficiaries.services import follow_up_record_service
from programs.funding.models import Payment
from programs.inspections import services
from programs.inspections.checks import check_run_create
from programs.inspections.choices import ItemCode, ItemResult
from programs.inspections.models import Finding, Inspection
from programs.posts.models import Post
from seeds.data_files import load
from tracker.accounts.models import User
from tracker.regions.models import Region


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _user_for(path: str, role: str, admin: User) -> User:
    for user in User.objects.filter(is_active=True, is_superuser=False).order_by("username"):
        scope = user.scope_path
        if scope and path.startswith(scope) and user.has_role(role):
            return user
    return admin


def _answers(inspection: Inspection, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Confirm every pre-filled item; on-duty checks present and interviewed; the mechanism item
    noted with the requirement the source states; a failed item with its rectification opinion."""
    answers = []
    for item in inspection.items.order_by("id"):
        answer: dict[str, Any] = {"id": item.pk}
        if item.code == ItemCode.ON_DUTY:
            answer.update(
                result=ItemResult.PASSED, present=True, interviewed=True, note="在岗，面对面交流（种子数据）"
            )
        elif item.code == ItemCode.MANAGEMENT_MECHANISM:
            answer.update(result=ItemResult.PASSED, note=data["management_mechanism_note"])
        elif item.prefilled == ItemResult.FAILED:
            answer.update(
                result=ItemResult.FAILED,
                note="查阅资料发现（种子数据，见证据）",
                rectification_opinion=data["opinions"][item.code],
                due_on=_date(data["due_on"]),
            )
        else:
            answer.update(result=ItemResult.PASSED, note="查阅资料，符合要求")
        answers.append(answer)
    return answers


def seed_inspection(data: dict[str, Any], inspector: User, clerk: User) -> Inspection:
    region = Region.objects.get(code=data["region"])
    inspection = services.inspection_create(
        actor=inspector,
        region=region,
        title=data["title"],
        starts_on=_date(data["starts_on"]),
        first_month=data["first_month"],
        last_month=data["last_month"],
        methods=data["methods"],
        inspectors=[inspector.username],
    )
    services.inspection_items_answer(
        inspection=inspection, answers=_answers(inspection, data), actor=inspector
    )
    services.inspection_close(
        inspection=inspection,
        actor=inspector,
        summary=data["summary"].strip(),
        ends_on=_date(data["ends_on"]),
    )
    done = data["rectified"]
    finding = Finding.objects.filter(inspection=inspection, rule=done["rule"]).order_by("id").first()
    if finding is not None and clerk != inspector:
        services.finding_move(finding=finding, verb="rectify", actor=clerk, note=done["note"])
        services.finding_move(finding=finding, verb="verify", actor=inspector, note=done["verify_note"])
    return inspection


def seed_complaints(data: dict[str, Any], inspector: User, clerk: User) -> int:
    for item in data["items"]:
        fields = {
            "region": Region.objects.get(code=item["region"]),
            "channel": item["channel"],
            "received_on": _date(item["received_on"]),
            "anonymous": bool(item.get("anonymous")),
            "complainant_name": item.get("complainant_name", ""),
            "complainant_phone": item.get("complainant_phone", ""),
            "concerns": item["concerns"],
            "subject": item["subject"],
            "category": item["category"],
            "assigned_unit": item.get("assigned_unit", ""),
        }
        if item.get("post_title"):
            fields["concerns_id"] = str(Post.objects.get(title=item["post_title"]).pk)
        complaint = services.complaint_create(actor=clerk, fields=fields)
        services.complaint_move(complaint=complaint, verb="investigate", actor=clerk)
        if item["verb"] == "unfounded":
            services.complaint_move(
                complaint=complaint, verb="unfounded", actor=clerk, outcome=item["outcome"]
            )
        elif item["verb"] == "resolve":
            finding = item.get("finding") or {}
            services.complaint_move(
                complaint=complaint,
                verb="resolve",
                actor=inspector,
                outcome=item["outcome"],
                open_finding=bool(finding),
                rule=finding.get("rule", "COMPLAINT"),
                severity=finding.get("severity", "medium"),
                rectification_required=finding.get("rectification_required", ""),
            )
    return len(data["items"])


def seed_confirmation(data: dict[str, Any], inspector: User, clerk: User) -> None:
    sample = services.confirmation_sample_draw(
        actor=inspector,
        region=Region.objects.get(code=data["region"]),
        period_start=_date(data["period_start"]),
        period_end=_date(data["period_end"]),
        size=data["size"],
        seed=data["seed"],
    )
    confirmations = list(sample.confirmations.order_by("payment_id"))
    for index, confirmation in enumerate(confirmations):
        if index == len(confirmations) - 1:
            amount = Payment.objects.get(pk=confirmation.payment_id).amount
            fields = {
                "method": "visit",
                "reached": True,
                "received": "partly",
                "amount_stated": amount - decimal.Decimal(data["short_by"]),
                "note": "入户核实：本人称到账金额少于发放金额（种子数据）",
            }
        else:
            fields = {
                "method": "phone",
                "reached": True,
                "received": "yes",
                "note": "电话回访，本人确认足额到账（种子数据）",
            }
        services.confirmation_record(confirmation=confirmation, actor=clerk, fields=fields)


def seed_follow_ups(data: dict[str, Any], clerk: User, until: dt.date) -> int:
    """The region's follow-ups opened by the posts seed's ends, served a few days after opening."""
    path = Region.objects.get(code=data["region"]).path
    served = 0
    for follow_up in FollowUp.objects.filter(
        beneficiary__region_path__startswith=path, status="open", opened_on__lte=until
    ).order_by("id"):
        follow_up_record_service(
            follow_up=follow_up,
            actor=clerk,
            service=data["service"],
            service_on=follow_up.opened_on + dt.timedelta(days=data["after_days"]),
            note=data["note"],
        )
        served += 1
    return served


def seed_inspections(stdout: Any) -> None:
    admin = User.objects.filter(is_superuser=True, is_active=True).order_by("id").first()
    if admin is None:
        stdout.write("inspections: no administrator account; skipped\n")
        return
    data = load("inspections.yaml")
    block = data["wugongshan"]
    if Inspection.objects.filter(title=block["title"]).exists():
        stdout.write("inspections: already seeded\n")
        return
    path = Region.objects.get(code=block["region"]).path
    inspector = _user_for(path, "inspector", admin)
    clerk = _user_for(path, "clerk", admin)
    with transaction.atomic():
        inspection = seed_inspection(block, inspector, clerk)
        complaints = seed_complaints(data["complaints"], inspector, clerk)
        seed_confirmation(data["confirmation"], inspector, clerk)
        checks = data["check_run"]
        seed_follow_ups(data["follow_ups"], clerk, _date(checks["period_end"]))
        run = check_run_create(
            actor=inspector,
            region=Region.objects.get(code=checks["region"]),
            period_start=_date(checks["period_start"]),
            period_end=_date(checks["period_end"]),
            today=_date(checks["today"]),
        )
    stdout.write(
        f"inspections: 1 inspection ({inspection.items.count()} items, "
        f"{inspection.findings.count()} findings), {complaints} complaints, 1 confirmation sample, "
        f"a check run with {run.violations} violations\n"
    )
