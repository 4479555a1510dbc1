"""Admin pages of the audit records: scoped lists and read-only detail pages (the work itself —
answering items, moving findings, recording confirmations — goes through the API's services).
Complaints show the complainant only masked; ciphertexts and hashes are never on a page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from programs.inspections.checks import check_rule
from programs.inspections.choices import ItemCode
from programs.inspections.models import (
    CheckRun,
    Complaint,
    Confirmation,
    ConfirmationSample,
    Finding,
    FindingStep,
    Inspection,
    InspectionItem,
)
from tracker.admin import RegionSubtreeFilter, ScopedAdmin


class ReadOnlyScopedAdmin(ScopedAdmin):
    """Scoped, read-only: every field shown, none edited here."""

    hidden: tuple[str, ...] = ()

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [f.name for f in self.model._meta.concrete_fields if f.name not in {"id", *self.hidden}]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.get_fields(request, obj)


@admin.register(Inspection)
class InspectionAdmin(ReadOnlyScopedAdmin):
    list_display = ("id", "title", "region", "starts_on", "status")
    list_filter = ("status", RegionSubtreeFilter)
    search_fields = ("title",)
    list_select_related = ("region",)
    hidden = ("region_path",)


@admin.register(InspectionItem)
class InspectionItemAdmin(ReadOnlyScopedAdmin):
    list_display = ("id", "inspection", "region", "code", "level", "prefilled", "result")
    list_filter = ("code", "result")
    list_select_related = ("inspection", "region")
    hidden = ("region_path",)


@admin.register(Finding)
class FindingAdmin(ReadOnlyScopedAdmin):
    list_display = ("id", "rule_title", "severity", "concerns", "concerns_id", "region", "status", "due_on")
    list_filter = ("status", "severity", "source", RegionSubtreeFilter)
    search_fields = ("rule", "description")
    list_select_related = ("region",)
    hidden = ("region_path",)

    @admin.display(description=_("rule"), ordering="rule")
    def rule_title(self, finding: Finding) -> str:
        """The rule as a clerk reads it, never its code: a compliance rule's description in the page's
        language, an inspection item's checklist label, or else the finding's own text."""
        try:
            return check_rule(finding.rule).description()
        except KeyError:
            labels = dict(ItemCode.choices)
            return str(labels[finding.rule]) if finding.rule in labels else finding.description[:80]


@admin.register(FindingStep)
class FindingStepAdmin(ReadOnlyScopedAdmin):
    list_display = ("id", "finding", "verb", "actor", "at", "attachment_name")
    list_select_related = ("finding", "actor")
    # The file is served by the API's scoped attachment view, never by a media URL.
    hidden = ("region_path", "attachment")


@admin.register(Complaint)
class ComplaintAdmin(ReadOnlyScopedAdmin):
    list_display = (
        "id",
        "received_on",
        "channel",
        "category",
        "complainant_name_masked",
        "complainant_phone_masked",
        "status",
    )
    list_filter = ("status", "channel", "category", RegionSubtreeFilter)
    list_select_related = ("region",)
    hidden = (
        "region_path",
        "complainant_name_encrypted",
        "complainant_phone_encrypted",
        "complainant_phone_hash",
    )


@admin.register(ConfirmationSample)
class ConfirmationSampleAdmin(ReadOnlyScopedAdmin):
    list_display = ("id", "region", "period_start", "period_end", "size", "confirmed", "discrepancies")
    list_select_related = ("region",)
    hidden = ("region_path",)


@admin.register(Confirmation)
class ConfirmationAdmin(ReadOnlyScopedAdmin):
    list_display = ("id", "sample", "payment", "reached", "received", "amount_stated")
    list_select_related = ("sample", "payment")
    hidden = ("region_path",)


@admin.register(CheckRun)
class CheckRunAdmin(ReadOnlyScopedAdmin):
    list_display = ("id", "region", "period_start", "period_end", "violations", "opened", "resolved")
    list_select_related = ("region",)
    hidden = ("region_path",)
