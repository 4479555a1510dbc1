"""Admin for the registry: masked personal data only, region scope (ScopedAdmin), every write through
the services, and an upload page that runs the same import as the API."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

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
from beneficiaries.selectors import memberships_on
from tracker.admin import RegionSubtreeFilter, ScopedAdmin
from tracker.changelog.display import register_action_labels, register_derived_fields
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


class MembershipForm(forms.ModelForm):
    class Meta:
        model = GroupMembership
        fields = ("group", "valid_from", "valid_to")

    def _post_clean(self) -> None:
        # The period's rules are the service's (MembershipFormSet.clean), worded for a clerk; the
        # database's check constraint still backs them, but its own message only names itself.
        self.instance.validate_constraints = _skip_constraints
        try:
            super()._post_clean()
        finally:
            del self.instance.validate_constraints


def _skip_constraints(*args: Any, **kwargs: Any) -> None:
    return None


class MembershipFormSet(BaseInlineFormSet):
    """The person's group memberships (人员类别) with their validity dates. Checked as one edit by
    services.beneficiary_memberships_edit (dry run) when the page is submitted, so a refused period
    shows beside its row; saved by the same service (BeneficiaryAdmin.save_formset)."""

    request: HttpRequest | None = None

    def edits(self) -> tuple[list[services.MembershipEdit], list[Any]]:
        edits, forms_ = [], []
        for form in self.forms:
            instance = form.instance if form.instance.pk is not None else None
            deleting = self.can_delete and self._should_delete_form(form)
            if deleting:
                if instance is not None:
                    edits.append(
                        services.MembershipEdit(
                            group=instance.group,
                            valid_from=instance.valid_from,
                            valid_to=instance.valid_to,
                            membership=instance,
                            delete=True,
                        )
                    )
                    forms_.append(form)
                continue
            if not form.has_changed():
                continue
            data = form.cleaned_data
            edits.append(
                services.MembershipEdit(
                    group=data["group"],
                    valid_from=data["valid_from"],
                    valid_to=data.get("valid_to"),
                    membership=instance,
                )
            )
            forms_.append(form)
        return edits, forms_

    def clean(self) -> None:
        super().clean()
        if any(self.errors) or self.request is None:
            return
        edits, forms_ = self.edits()
        if not edits:
            return
        try:
            services.beneficiary_memberships_edit(
                beneficiary=self.instance, edits=edits, actor=self.request.user, dry_run=True
            )
        except ValidationError as exc:
            for key, messages_ in exc.message_dict.items():
                parts = key.split(".")
                if len(parts) == 3 and parts[0] == "memberships" and parts[1].isdigit():
                    form = forms_[int(parts[1])]
                    form.add_error(parts[2] if parts[2] in form.fields else None, messages_)
                else:
                    raise ValidationError(messages_) from None
        except (PermissionDenied, DomainError) as exc:
            raise ValidationError(str(getattr(exc, "detail", None) or exc)) from None


class MembershipInline(admin.TabularInline):
    model = GroupMembership
    form = MembershipForm
    formset = MembershipFormSet
    fields = ("group", "valid_from", "valid_to")
    extra = 1
    ordering = ("-valid_from", "group__code")
    verbose_name = pgettext_lazy("person", "group")
    verbose_name_plural = _("Groups (人员类别), with the dates each applies")

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        formset.request = request
        formset.form.base_fields["valid_from"].initial = timezone.localdate
        group_field = formset.form.base_fields["group"]
        group_field.label_from_instance = _group_label
        return formset

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("group", "beneficiary")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Removing a membership entered by mistake is an edit of the person's groups; the history
        # keeps it. Ending a membership is done with its end date.
        return self.has_change_permission(request, obj)


def _group_label(group: BeneficiaryGroup) -> str:
    """A group by its name in the page's language."""
    if translation.get_language() and not translation.get_language().startswith("zh"):
        return group.name_en or group.name_zh
    return group.name_zh


class StatusChangeInline(admin.TabularInline):
    model = StatusChange
    fields = ("effective_on", "status", "employer_or_place", "source", "note", "recorded_by")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-effective_on", "-id")

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("beneficiary", "recorded_by")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ImportForm(forms.Form):
    file = forms.FileField(label=_("file (CSV UTF-8/GB18030 or XLSX)"))
    dry_run = forms.BooleanField(label=_("validate only (dry run)"), required=False, initial=True)
    upsert = forms.BooleanField(label=_("update people already registered (upsert)"), required=False)


class GroupFilter(admin.SimpleListFilter):
    """People who belong to a group (人员类别) today."""

    title = pgettext_lazy("person", "group")
    parameter_name = "group"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(g.code, _group_label(g)) for g in BeneficiaryGroup.objects.order_by("code")]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if not self.value():
            return queryset
        members = GroupMembership.objects.filter(
            memberships_on(timezone.localdate()), group__code=self.value()
        ).values("beneficiary_id")
        return queryset.filter(pk__in=members)


@admin.register(Beneficiary)
class BeneficiaryAdmin(ScopedAdmin):
    form = BeneficiaryForm
    # The columns a clerk works from, sized to fit a 1366-pixel screen with the filters beside them
    # (base_site.html keeps names and numbers on one line).
    list_display = (
        "name",
        "id_number_masked",
        "region_name",
        "groups_today",
        "status",
        "status_verified_on",
    )
    list_filter = (GroupFilter, RegionSubtreeFilter, "status", "active", "willing_to_work")
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

    def get_queryset(self, request: HttpRequest) -> Any:
        queryset = super().get_queryset(request)
        match = getattr(request, "resolver_match", None)
        if match is not None and match.url_name == "beneficiaries_beneficiary_changelist":
            # Today's groups of the page's people in one query.
            queryset = queryset.prefetch_related(
                Prefetch(
                    "memberships",
                    queryset=GroupMembership.objects.filter(memberships_on(timezone.localdate()))
                    .select_related("group")
                    .order_by("group__code"),
                    to_attr="memberships_today",
                )
            )
        return queryset

    @admin.display(description=pgettext_lazy("list column", "region"), ordering="region__path")
    def region_name(self, obj: Beneficiary) -> str:
        return obj.region.name_zh

    @admin.display(description=pgettext_lazy("person", "groups"))
    def groups_today(self, obj: Beneficiary) -> str:
        memberships = getattr(obj, "memberships_today", None)
        if memberships is None:
            memberships = obj.memberships.filter(memberships_on(timezone.localdate())).select_related("group")
        if not memberships:
            return "—"
        # One group never breaks across lines; the list breaks between groups.
        return format_html_join(
            "、", '<span class="nowrap">{}</span>', ((_group_label(m.group),) for m in memberships)
        )

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        obj = super().save_form(request, form, change)
        preview = getattr(form, "service_preview", None)
        if not change and preview is not None:
            # The inline memberships are checked against the date of birth the identity number gives.
            obj.birth_date, obj.gender = preview.birth_date, preview.gender
        return obj

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if not isinstance(formset, MembershipFormSet):
            super().save_formset(request, form, formset, change)
            return
        edits, _forms = formset.edits()
        if edits:
            person = Beneficiary.objects.get(pk=form.instance.pk)
            services.beneficiary_memberships_edit(beneficiary=person, edits=edits, actor=request.user)
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

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


register_action_labels(
    {
        "deactivate": _("Deactivate"),
        "close": _("Close"),
        "pii_reveal": _("Reveal personal data"),
        "duplicate_probe": _("Registration attempt from another region"),
    }
)
# A person's current employment status only mirrors their latest status change, whose own entry
# records the fact: updating the mirror is bookkeeping.
register_derived_fields(Beneficiary, ["status", "status_verified_on"])

# Households and employment registrations (their own module, registered on import).
from beneficiaries import household_admin  # noqa: E402, F401
