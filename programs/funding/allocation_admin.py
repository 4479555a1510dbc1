"""Admin page of allocations (资金拨付): recorded through allocation_create, which keeps the program's
budget equal to what was allocated."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from programs.funding.allocations import allocation_create
from programs.funding.models import Allocation
from tracker.admin import RegionSubtreeFilter, ScopedAdmin


@admin.register(Allocation)
class AllocationAdmin(ScopedAdmin):
    list_display = ("allocated_on", "program", "fund_source", "region", "amount")
    list_filter = ("allocated_on", RegionSubtreeFilter)
    search_fields = ("program__code", "program__name_zh", "reference")
    autocomplete_fields = ("program", "fund_source", "region")
    list_select_related = ("program", "fund_source", "region")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None:
            return (
                "program",
                "fund_source",
                "region",
                "amount",
                "allocated_on",
                "reference",
                "notes",
                "version",
            )
        return ("version",)

    def save_via_service(
        self, request: HttpRequest, obj: Allocation, form: Any, change: bool, *, dry_run: bool = False
    ) -> Any:
        if change:
            return obj  # an allocation is a transfer that happened: corrected by another allocation
        return allocation_create(
            actor=request.user,
            fund_source=obj.fund_source,
            program=obj.program,
            amount=obj.amount,
            allocated_on=obj.allocated_on,
            region=obj.region,
            reference=obj.reference,
            notes=obj.notes,
            dry_run=dry_run,
        )
