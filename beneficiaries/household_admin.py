"""Admin pages of households (members shown, in-work count derived) and employment registrations;
both write through their services (dry run when the form is cleaned)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from beneficiaries import households, registrations
from beneficiaries.models import EmploymentRegistration, Household, HouseholdMember
from tracker.admin import RegionSubtreeFilter, ScopedAdmin


class HouseholdMemberInline(admin.TabularInline):
    model = HouseholdMember
    fields = ("beneficiary", "relation")
    readonly_fields = ("beneficiary", "relation")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Household)
class HouseholdAdmin(ScopedAdmin):
    list_display = ("number", "head_name", "region", "relocated", "zero_employment", "members_in_work")
    list_filter = ("relocated", "zero_employment", RegionSubtreeFilter)
    search_fields = ("number", "head_name")
    autocomplete_fields = ("region",)
    list_select_related = ("region",)
    inlines = (HouseholdMemberInline,)

    def get_queryset(self, request: HttpRequest) -> Any:
        return households.with_employment(super().get_queryset(request))

    @admin.display(description=_("Members in work"), ordering="members_employed")
    def members_in_work(self, obj: Household) -> str:
        return f"{obj.members_employed} / {obj.members_total}"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("number", "region", "version") if obj is not None else ("version",)

    def save_via_service(
        self, request: HttpRequest, obj: Household, form: Any, change: bool, *, dry_run: bool = False
    ) -> Any:
        if change:
            fields = {n: form.cleaned_data[n] for n in form.changed_data if n in households.HOUSEHOLD_FIELDS}
            return households.household_update(
                household=Household.objects.get(pk=obj.pk), actor=request.user, fields=fields, dry_run=dry_run
            )
        return households.household_create(
            actor=request.user,
            number=obj.number,
            region=obj.region,
            head_name=obj.head_name,
            address=obj.address,
            relocated=obj.relocated,
            relocated_on=obj.relocated_on,
            zero_employment=obj.zero_employment,
            zero_employment_identified_on=obj.zero_employment_identified_on,
            notes=obj.notes,
            dry_run=dry_run,
        )


@admin.register(EmploymentRegistration)
class EmploymentRegistrationAdmin(ScopedAdmin):
    list_display = ("registered_on", "beneficiary", "kind", "region")
    list_filter = ("kind", "registered_on", RegionSubtreeFilter)
    autocomplete_fields = ("beneficiary", "region")
    list_select_related = ("beneficiary", "region")
    date_hierarchy = "registered_on"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None:
            return ("beneficiary", "region", "registered_on", "kind", "employer_name", "note", "version")
        return ("version",)

    def save_via_service(
        self,
        request: HttpRequest,
        obj: EmploymentRegistration,
        form: Any,
        change: bool,
        *,
        dry_run: bool = False,
    ) -> Any:
        if change:
            return obj  # a registration is an event: recorded once, never edited
        return registrations.registration_create(
            actor=request.user,
            beneficiary=obj.beneficiary,
            registered_on=obj.registered_on,
            region=obj.region,
            kind=obj.kind,
            employer_name=obj.employer_name,
            note=obj.note,
            dry_run=dry_run,
        )
