"""Admin pages: entrepreneurs (a registry person, or name and identity number kept as the registry
keeps them), their loans with the interest shares by level; writes through the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from programs.entrepreneurship import services
from programs.entrepreneurship.models import Entrepreneur, GuaranteedLoan, InterestSubsidy
from tracker.admin import RegionSubtreeFilter, ScopedAdmin


class EntrepreneurForm(forms.ModelForm):
    id_number = forms.CharField(
        label=_("identity number"),
        max_length=18,
        required=False,
        help_text=_("For a person not in the registry; stored encrypted and shown masked."),
    )

    class Meta:
        model = Entrepreneur
        fields = ["beneficiary", "name", "id_number", "kind", "region", "business", "supported_on", "notes"]


@admin.register(Entrepreneur)
class EntrepreneurAdmin(ScopedAdmin):
    form = EntrepreneurForm
    list_display = ("name", "id_number_masked", "kind", "region", "business", "supported_on")
    list_filter = ("kind", RegionSubtreeFilter)
    search_fields = ("name", "id_number_masked")
    autocomplete_fields = ("beneficiary", "region", "business")
    list_select_related = ("region", "business")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None:
            return ("beneficiary", "name", "id_number_masked", "region", "version")
        return ("version",)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None:
            return (
                "beneficiary",
                "name",
                "id_number_masked",
                "kind",
                "region",
                "business",
                "supported_on",
                "notes",
                "version",
            )
        return ("beneficiary", "name", "id_number", "kind", "region", "business", "supported_on", "notes")

    def save_via_service(
        self, request: HttpRequest, obj: Entrepreneur, form: Any, change: bool, *, dry_run: bool = False
    ) -> Any:
        if change:
            fields = {n: form.cleaned_data[n] for n in form.changed_data if n in services.ENTREPRENEUR_FIELDS}
            return services.entrepreneur_update(
                entrepreneur=Entrepreneur.objects.get(pk=obj.pk),
                actor=request.user,
                fields=fields,
                dry_run=dry_run,
            )
        return services.entrepreneur_create(
            actor=request.user,
            region=obj.region,
            supported_on=obj.supported_on,
            beneficiary=obj.beneficiary,
            name=obj.name,
            id_number=form.cleaned_data.get("id_number") or "",
            kind=obj.kind,
            business=obj.business,
            notes=obj.notes,
            dry_run=dry_run,
        )


class InterestShareInline(admin.TabularInline):
    model = InterestSubsidy
    fields = ("level", "amount", "payment")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(GuaranteedLoan)
class GuaranteedLoanAdmin(ScopedAdmin):
    list_display = ("entrepreneur", "lender", "amount", "term_months", "annual_rate", "issued_on", "region")
    list_filter = ("issued_on", RegionSubtreeFilter)
    search_fields = ("entrepreneur__name", "lender")
    autocomplete_fields = ("entrepreneur", "business")
    list_select_related = ("entrepreneur", "region")
    inlines = (InterestShareInline,)
    exclude = ("region",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None:
            return (
                "entrepreneur",
                "business",
                "lender",
                "amount",
                "term_months",
                "annual_rate",
                "issued_on",
                "version",
            )
        return ("version",)

    def save_via_service(
        self, request: HttpRequest, obj: GuaranteedLoan, form: Any, change: bool, *, dry_run: bool = False
    ) -> Any:
        if change:
            return obj  # a loan's terms are its contract's: recorded once
        return services.loan_create(
            actor=request.user,
            entrepreneur=obj.entrepreneur,
            business=obj.business,
            lender=obj.lender,
            amount=obj.amount,
            term_months=obj.term_months,
            annual_rate=obj.annual_rate,
            issued_on=obj.issued_on,
            dry_run=dry_run,
        )
