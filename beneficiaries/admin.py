"""Admin for the registry: masked personal data only, region scope (ScopedAdmin), every write through
the services, and an upload page that runs the same import as the API."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from beneficiaries import probes, services
from beneficiaries.identity import normalise_id_number
from beneficiaries.imports import ImportRejected, ProbeLimitExceeded, beneficiaries_import
from beneficiaries.models import (
    ID_NUMBER_PURPOSE,
    Beneficiary,
    BeneficiaryGroup,
    FollowUp,
    GroupMembership,
    StatusChange,
)
from beneficiaries.names import normalise_name
from tracker.admin import ScopedAdmin
from tracker.errors import DomainError
from tracker.pii import keyed_hash


def _as_validation_error(exc: DomainError) -> ValidationError:
    """Service conflicts (409) shown as a message on the form, like any refused rule."""
    return ValidationError(str(exc.detail))


class BeneficiaryForm(forms.ModelForm):
    """Identity number and phone are entered in the clear and never shown back: the stored columns
    are ciphertext, keyed hash and mask. On change, leave them empty to keep what is stored."""

    id_number = forms.CharField(label=_("identity number"), max_length=32, required=False)
    phone = forms.CharField(label=_("phone"), max_length=32, required=False)

    class Meta:
        model = Beneficiary
        fields = ["name", "region", "social_security_card", "address", "willing_to_work", "notes"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.instance.pk is None and not data.get("id_number"):
            self.add_error("id_number", _("The identity number is required."))
        return data


class MembershipInline(admin.TabularInline):
    model = GroupMembership
    fields = ("group", "valid_from", "valid_to")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("group memberships (change them through the API or the groups field)")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class StatusChangeInline(admin.TabularInline):
    model = StatusChange
    fields = ("effective_on", "status", "employer_or_place", "source", "note", "recorded_by")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-effective_on", "-id")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ImportForm(forms.Form):
    file = forms.FileField(label=_("file (CSV UTF-8/GB18030 or XLSX)"))
    dry_run = forms.BooleanField(label=_("validate only (dry run)"), required=False, initial=True)
    upsert = forms.BooleanField(label=_("update people already registered (upsert)"), required=False)


@admin.register(Beneficiary)
class BeneficiaryAdmin(ScopedAdmin):
    form = BeneficiaryForm
    list_display = (
        "name",
        "id_number_masked",
        "phone_masked",
        "gender",
        "birth_date",
        "region",
        "status",
        "status_verified_on",
        "active",
    )
    list_filter = ("status", "active", "willing_to_work", ("region", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("region",)
    search_fields = ("name",)
    search_help_text = _("Name prefix, or an exact 18-character identity number.")
    readonly_fields = (
        "id_number_masked",
        "phone_masked",
        "gender",
        "birth_date",
        "status",
        "status_verified_on",
        "active",
        "deactivated_on",
        "deactivation_reason",
        "registered_at",
        "version",
    )
    autocomplete_fields = ("region",)
    inlines = (MembershipInline, StatusChangeInline)
    change_list_template = "admin/beneficiaries/beneficiary/change_list.html"

    def get_search_results(self, request: HttpRequest, queryset: Any, search_term: str) -> tuple[Any, bool]:
        term = normalise_id_number(search_term)
        if len(term) == 18:
            return queryset.filter(id_number_hash=keyed_hash(term, purpose=ID_NUMBER_PURPOSE)), False
        if term:
            return queryset.filter(name__startswith=normalise_name(search_term)), False
        return queryset, False

    def save_via_service(
        self, request: HttpRequest, obj: Any, form: Any, change: bool, *, dry_run: bool = False
    ) -> Any:
        data = {name: form.cleaned_data[name] for name in BeneficiaryForm.Meta.fields}
        try:
            if not change:
                if dry_run:  # the form's check runs outside a transaction: a probe stays logged
                    probes.check_single_registration(
                        actor=request.user, id_number=form.cleaned_data["id_number"]
                    )
                return services.beneficiary_create(
                    actor=request.user,
                    id_number=form.cleaned_data["id_number"],
                    phone=form.cleaned_data["phone"],
                    dry_run=dry_run,
                    **data,
                )
            people = Beneficiary.objects if dry_run else Beneficiary.objects.select_for_update()
            fresh = people.get(pk=obj.pk)
            changed = {name: value for name, value in data.items() if name in form.changed_data}
            for name in ("id_number", "phone"):
                if form.cleaned_data.get(name):
                    changed[name] = form.cleaned_data[name]
            return services.beneficiary_update(
                beneficiary=fresh, actor=request.user, dry_run=dry_run, **changed
            )
        except DomainError as exc:
            raise _as_validation_error(exc) from None

    # -- upload page -----------------------------------------------------------------------------------------
    def get_urls(self) -> list[Any]:
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="beneficiaries_beneficiary_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Runs beneficiaries.imports.beneficiaries_import (the API's import) for the signed-in user,
        in their scope; django-import-export's own pipeline would bypass the service."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        errors: list[dict[str, Any]] = []
        status, retry_after = 200, None
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = beneficiaries_import(
                    file=upload,
                    filename=upload.name,
                    actor=request.user,
                    dry_run=form.cleaned_data["dry_run"],
                    upsert=form.cleaned_data["upsert"],
                )
            except ImportRejected as exc:
                errors = exc.row_errors
                self.message_user(request, exc.detail, messages.ERROR)
            except ProbeLimitExceeded as exc:
                self.message_user(request, exc.detail, messages.ERROR)
                status, retry_after = 429, exc.retry_after
            else:
                text = (
                    _("Dry run: %(c)d to create, %(u)d to update.")
                    if result.dry_run
                    else _("Imported: %(c)d created, %(u)d updated.")
                )
                self.message_user(
                    request, text % {"c": result.created, "u": result.updated}, messages.SUCCESS
                )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import beneficiaries"),
            "opts": self.model._meta,
            "form": form,
            "errors": errors[:1000],
            "error_count": len(errors),
            "template_csv": reverse("beneficiary-import-template") + "?format=csv",
            "template_xlsx": reverse("beneficiary-import-template") + "?format=xlsx",
        }
        response = TemplateResponse(
            request, "admin/beneficiaries/beneficiary/import.html", context, status=status
        )
        if retry_after is not None:
            response["Retry-After"] = str(retry_after)
        return response


@admin.register(BeneficiaryGroup)
class BeneficiaryGroupAdmin(ScopedAdmin):
    list_display = ("code", "name_zh", "name_en")
    search_fields = ("code", "name_zh", "name_en")

    def get_queryset(self, request: HttpRequest) -> Any:
        return BeneficiaryGroup.objects.all()  # reference data, the same everywhere

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def save_via_service(
        self, request: HttpRequest, obj: Any, form: Any, change: bool, *, dry_run: bool = False
    ) -> Any:
        return services.beneficiary_group_upsert(
            code=obj.code, name_zh=obj.name_zh, name_en=obj.name_en, actor=request.user, dry_run=dry_run
        )


@admin.register(FollowUp)
class FollowUpAdmin(ScopedAdmin):
    """Follow-ups are opened by status changes and closed by recording a service (API); read-only."""

    list_display = ("beneficiary", "opened_on", "due_on", "status", "service", "service_on")
    list_filter = ("status", "service")
    list_select_related = ("beneficiary",)
    date_hierarchy = "due_on"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
