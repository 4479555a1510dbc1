"""This app's sections of the one-person-one-file view (一人一档): the person (masked), their groups,
status history and follow-ups. Registered in BeneficiariesConfig.ready() through the same registry
later apps use (beneficiaries.file_sections). Each provider runs one query, read as values through
its compiled statement (tracker.statements.read_by_id): a file is a handful of small queries, and
building each through the ORM cost more than running it."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from beneficiaries.file_sections import register_file_section
from beneficiaries.models import Beneficiary, FollowUp, GroupMembership, StatusChange
from tracker.api.reads import plan_for
from tracker.statements import read_by_id


def person_section(beneficiary: Beneficiary, user: Any) -> dict[str, Any]:
    """The person as the API's detail shows them (the same serializer, read lean)."""
    from beneficiaries.api.serializers import BeneficiarySerializer

    plan = plan_for(BeneficiarySerializer)
    rows = read_by_id(
        ("file.person", timezone.localdate()),  # the groups held today are in the row's query
        lambda pk: plan.values(Beneficiary.objects.filter(pk=pk)),
        beneficiary.pk,
    )
    return plan.rows(rows)[0]


def groups_section(beneficiary: Beneficiary, user: Any) -> list[dict[str, Any]]:
    today = timezone.localdate()
    rows = read_by_id(
        ("file.groups",),
        lambda pk: (
            GroupMembership.objects.filter(beneficiary_id=pk)
            .order_by("valid_from", "group__code")
            .values("group__code", "group__name_zh", "group__name_en", "valid_from", "valid_to")
        ),
        beneficiary.pk,
    )
    return [
        {
            "group": m["group__code"],
            "name_zh": m["group__name_zh"],
            "name_en": m["group__name_en"],
            "valid_from": m["valid_from"].isoformat(),
            "valid_to": m["valid_to"].isoformat() if m["valid_to"] else None,
            "current": m["valid_from"] <= today and (m["valid_to"] is None or m["valid_to"] >= today),
        }
        for m in rows
    ]


def status_history_section(beneficiary: Beneficiary, user: Any) -> list[dict[str, Any]]:
    rows = read_by_id(
        ("file.status_history",),
        lambda pk: (
            StatusChange.objects.filter(beneficiary_id=pk)
            .order_by("-effective_on", "-id")
            .values(
                "id", "status", "effective_on", "employer_or_place", "source", "note", "recorded_by__username"
            )
        ),
        beneficiary.pk,
    )
    return [
        {
            "id": c["id"],
            "status": c["status"],
            "effective_on": c["effective_on"].isoformat(),
            "employer_or_place": c["employer_or_place"],
            "source": c["source"],
            "note": c["note"],
            "recorded_by": c["recorded_by__username"],
        }
        for c in rows
    ]


def follow_ups_section(beneficiary: Beneficiary, user: Any) -> list[dict[str, Any]]:
    today = timezone.localdate()
    rows = read_by_id(
        ("file.follow_ups",),
        lambda pk: (
            FollowUp.objects.filter(beneficiary_id=pk)
            .order_by("-opened_on", "-id")
            .values("id", "opened_on", "due_on", "status", "service", "service_on")
        ),
        beneficiary.pk,
    )
    return [
        {
            "id": f["id"],
            "opened_on": f["opened_on"].isoformat(),
            "due_on": f["due_on"].isoformat(),
            "status": f["status"],
            "overdue": f["status"] == "open" and f["due_on"] < today,
            "service": f["service"],
            "service_on": f["service_on"].isoformat() if f["service_on"] else None,
        }
        for f in rows
    ]


def register_sections() -> None:
    register_file_section("person", _("Person"), person_section, order=0)
    register_file_section("groups", _("Groups"), groups_section, order=10)
    register_file_section("status_history", _("Employment status history"), status_history_section, order=20)
    register_file_section("follow_ups", _("Follow-ups"), follow_ups_section, order=30)
