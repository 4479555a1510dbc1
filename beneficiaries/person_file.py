"""This app's sections of the one-person-one-file view (一人一档): the person (masked), their groups,
status history and follow-ups. Registered in BeneficiariesConfig.ready() through the same registry
later apps use (beneficiaries.file_sections). Each provider runs a constant number of queries."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from beneficiaries.file_sections import register_file_section
from beneficiaries.models import Beneficiary, FollowUp, GroupMembership, StatusChange


def person_section(beneficiary: Beneficiary, user: Any) -> dict[str, Any]:
    from beneficiaries.api.serializers import BeneficiarySerializer

    return dict(BeneficiarySerializer(beneficiary).data)


def groups_section(beneficiary: Beneficiary, user: Any) -> list[dict[str, Any]]:
    today = timezone.localdate()
    memberships = GroupMembership.objects.filter(beneficiary=beneficiary).select_related("group")
    return [
        {
            "group": m.group.code,
            "name_zh": m.group.name_zh,
            "name_en": m.group.name_en,
            "valid_from": m.valid_from.isoformat(),
            "valid_to": m.valid_to.isoformat() if m.valid_to else None,
            "current": m.valid_from <= today and (m.valid_to is None or m.valid_to >= today),
        }
        for m in memberships.order_by("valid_from", "group__code")
    ]


def status_history_section(beneficiary: Beneficiary, user: Any) -> list[dict[str, Any]]:
    changes = StatusChange.objects.filter(beneficiary=beneficiary).select_related("recorded_by")
    return [
        {
            "id": c.id,
            "status": c.status,
            "effective_on": c.effective_on.isoformat(),
            "employer_or_place": c.employer_or_place,
            "source": c.source,
            "note": c.note,
            "recorded_by": c.recorded_by.username if c.recorded_by else None,
        }
        for c in changes.order_by("-effective_on", "-id")
    ]


def follow_ups_section(beneficiary: Beneficiary, user: Any) -> list[dict[str, Any]]:
    today = timezone.localdate()
    return [
        {
            "id": f.id,
            "opened_on": f.opened_on.isoformat(),
            "due_on": f.due_on.isoformat(),
            "status": f.status,
            "overdue": f.status == "open" and f.due_on < today,
            "service": f.service,
            "service_on": f.service_on.isoformat() if f.service_on else None,
        }
        for f in FollowUp.objects.filter(beneficiary=beneficiary).order_by("-opened_on", "-id")
    ]


def register_sections() -> None:
    register_file_section("person", _("Person"), person_section, order=0)
    register_file_section("groups", _("Groups"), groups_section, order=10)
    register_file_section("status_history", _("Employment status history"), status_history_section, order=20)
    register_file_section("follow_ups", _("Follow-ups"), follow_ups_section, order=30)
