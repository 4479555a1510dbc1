"""Admin for data entry by town and village clerks: posts with their holders in a table (hire, end,
contract), a month's attendance for a whole roster on one page, county standards, assessment
standards and assessments, and read-only lists of personnel changes (with approval) and subsidy runs.

Every write goes through programs.posts.services; forms check with the services' dry runs first, so
a refused rule shows beside the field or the row it concerns and nothing is saved. People are
picked by name or identity number (autocomplete, scoped), never by a numeric id."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from beneficiaries.choices import EmploymentStatus
from programs.posts import services
from programs.posts.models import (
    Assessment,
    AssessmentStandard,
    Assignment,
    Attendance,
    PersonnelChange,
    Post,
    PostStandard,
    SubsidyRun,
)
from programs.posts.rules import working_days
from programs.posts.selectors import held_in, with_filled
from tracker.admin import ScopedAdmin, add_service_errors, scoped_choices
from tracker.errors import DomainError
from tracker.periods import Month

# Fields of a holding a clerk enters in the post's holder table (besides who and from when).
CONTRACT_FIELDS = ("contract_kind", "contract_number", "contract_signed_on", "contract_from", "contract_to")


def _refusal(exc: Exception) -> str:
    return str(getattr(exc, "detail", None) or exc)


# -- county standards --------------------------------------------------------------------------------


@admin.register(PostStandard)
class PostStandardAdmin(ScopedAdmin):
    list_display = ("region", "year", "urban_standard", "rural_cap")
    list_filter = ("year",)
    search_fields = ("region__name_zh", "region__code")
    autocomplete_fields = ("region",)
    list_select_related = ("region",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("region", "year", "version") if obj is not None else ("version",)

    def save_via_service(
        self, request: HttpRequest, obj: PostStandard, form: Any, change: bool, *, dry_run: bool = False
    ) -> Any:
        if change:
            fields = {
                name: form.cleaned_data[name]
                for name in form.changed_data
                if name in services.STANDARD_FIELDS
            }
            return services.post_standard_update(
                standard=PostStandard.objects.get(pk=obj.pk),
                actor=request.user,
                fields=fields,
                dry_run=dry_run,
            )
        return services.post_standard_create(
            actor=request.user,
            region=obj.region,
            year=obj.year,
            urban_standard=obj.urban_standard,
            rural_cap=obj.rural_cap,
            policy_reference=obj.policy_reference,
            notes=obj.notes,
            dry_run=dry_run,
        )


# -- posts and their holders -----------------------------------------------------------------------


class AssignmentInlineFormSet(BaseInlineFormSet):
    """The holder table of a post. Each row is checked by its service as a dry run when the table is
    cleaned (a new row: the hire; an existing row: its end and its contract), with the ends of the
    same save counted first, so a refusal shows on its row and nothing is saved."""

    request: HttpRequest

    def clean(self) -> None:
        super().clean()
        if any(form.errors for form in self.forms):
            return
        actor = self.request.user
        ending: dict[int, dt.date] = {}
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or form.instance.pk is None or not form.has_changed():
                continue
            original = Assignment.objects.select_related("post__program", "beneficiary").get(
                pk=form.instance.pk
            )
            try:
                if data.get("end_date") and original.end_date is None:
                    services.assignment_end(
                        assignment=original,
                        actor=actor,
                        end_date=data["end_date"],
                        end_reason=data.get("end_reason") or "",
                        status=data.get("end_status") or EmploymentStatus.UNEMPLOYED,
                        dry_run=True,
                    )
                    ending[original.pk] = data["end_date"]
                fields = _holding_changes(form)
                if fields:
                    services.assignment_update(
                        assignment=copy.copy(original), actor=actor, fields=fields, dry_run=True
                    )
            except ValidationError as exc:
                add_service_errors(form, exc)
            except (PermissionDenied, DomainError) as exc:
                form.add_error(None, _refusal(exc))
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or form.instance.pk is not None or not form.has_changed() or data.get("DELETE"):
                continue
            try:
                services.assignment_hire(
                    actor=actor,
                    post=self.instance,
                    beneficiary=data.get("beneficiary"),
                    start_date=data.get("start_date"),
                    dry_run=True,
                    ending=ending,
                    **_holding_values(form),
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            except (PermissionDenied, DomainError) as exc:
                form.add_error(None, _refusal(exc))


class AssignmentInlineForm(forms.ModelForm):
    """A holder's row: who and from when (fixed once saved), the contract, the payee account (typed in
    the clear, never shown back) and, to end the holding, its last day, the reason and the status
    the person moves to."""

    payee_account = forms.CharField(
        label=_("payee account number"),
        max_length=40,
        required=False,
        help_text=_("Typed in the clear, stored encrypted; leave empty to keep the stored one."),
    )
    end_status = forms.ChoiceField(
        label=_("status after leaving"),
        choices=EmploymentStatus.choices,
        initial=EmploymentStatus.UNEMPLOYED,
        required=False,
    )

    class Meta:
        model = Assignment
        fields = (
            "beneficiary",
            "start_date",
            *CONTRACT_FIELDS,
            "urban_employee_insured",
            "payee_account_kind",
            "end_date",
            "end_reason",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            for name in ("beneficiary", "start_date"):
                self.fields[name].disabled = True
            if self.instance.end_date is not None:
                for name in ("end_date", "end_reason", "end_status"):
                    self.fields[name].disabled = True

    def _post_clean(self) -> None:
        # The model's own rules run in the services (dry run in the formset's clean, then the save):
        # the instance is not validated here, where the post and the region are not yet set.
        pass


def _holding_values(form: forms.ModelForm) -> dict[str, Any]:
    data = form.cleaned_data
    values = {name: data.get(name) for name in CONTRACT_FIELDS}
    values["contract_kind"] = values["contract_kind"] or ""
    values["contract_number"] = values["contract_number"] or ""
    values["urban_employee_insured"] = bool(data.get("urban_employee_insured"))
    values["payee_account_kind"] = data.get("payee_account_kind") or ""
    values["payee_account"] = data.get("payee_account") or ""
    return values


def _holding_changes(form: forms.ModelForm) -> dict[str, Any]:
    """The contract, insurance and account fields changed on an existing row."""
    values = _holding_values(form)
    changed = {name: values[name] for name in form.changed_data if name in services.ASSIGNMENT_FIELDS}
    if "payee_account" in changed and not changed["payee_account"]:
        del changed["payee_account"]  # empty: keep the stored number
    return changed


class AssignmentInline(admin.TabularInline):
    model = Assignment
    form = AssignmentInlineForm
    formset = AssignmentInlineFormSet
    fk_name = "post"
    extra = 1
    can_delete = False
    autocomplete_fields = ("beneficiary",)
    readonly_fields = ("payee_account_masked",)
    fields = (
        "beneficiary",
        "start_date",
        *CONTRACT_FIELDS,
        "urban_employee_insured",
        "payee_account_kind",
        "payee_account",
        "payee_account_masked",
        "end_date",
        "end_reason",
        "end_status",
    )
    verbose_name = _("holder")
    verbose_name_plural = _("holders (hire in the empty row; end by giving the last day)")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .visible_to(request.user)
            .select_related("beneficiary")
            .order_by("-end_date", "start_date", "id")
        )

    def get_max_num(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> int | None:
        # One new holder per save: each hire is checked against the positions left.
        return (obj.assignments.count() if obj is not None else 0) + 1

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and hasattr(field, "queryset"):
            field.queryset = scoped_choices(field.queryset, request)
        return field

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        return type(formset.__name__, (formset,), {"request": request})

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is not None and obj.status == "open" and super().has_add_permission(request, obj)


@admin.register(Post)
class PostAdmin(ScopedAdmin):
    list_display = (
        "title",
        "region",
        "category",
        "urban_rural",
        "headcount",
        "filled_today",
        "monthly_standard",
        "program",
        "status",
    )
    list_filter = ("status", "category", "urban_rural")
    list_select_related = ("region", "program")
    search_fields = ("title", "region__name_zh", "region__code")
    autocomplete_fields = ("region", "employer", "program")
    fields = (
        "region",
        "employing_unit",
        "employer",
        "category",
        "urban_rural",
        "title",
        "duties",
        "headcount",
        "monthly_standard",
        "program",
        "opened_on",
        "justification",
        "status",
        "closed_on",
        "attendance_pages",
        "version",
    )
    inlines = (AssignmentInline,)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("status", "closed_on", "attendance_pages", "version")

    def get_inline_instances(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        # Holders are hired into a saved post (the hire is checked against it).
        return super().get_inline_instances(request, obj) if obj is not None else []

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # Positions held today, counted in the list's own query (a correlated count).
        return with_filled(super().get_queryset(request))

    @admin.display(description=_("held today"))
    def filled_today(self, obj: Post) -> int:
        return getattr(obj, "filled", 0)

    @admin.display(description=_("attendance"))
    def attendance_pages(self, obj: Post) -> str:
        if obj.pk is None:
            return "—"
        this = Month.of(timezone.localdate())
        last = Month.of(this.first_day - dt.timedelta(days=1))
        url = reverse("admin:posts_post_attendance", args=[obj.pk])
        return format_html(
            '<a href="{}?month={}">{}</a> · <a href="{}?month={}">{}</a>',
            url,
            last,
            _("Enter attendance for %(month)s") % {"month": last},
            url,
            this,
            _("Enter attendance for %(month)s") % {"month": this},
        )

    def save_via_service(
        self, request: HttpRequest, obj: Post, form: Any, change: bool, *, dry_run: bool = False
    ) -> Any:
        if change:
            fields = {
                name: form.cleaned_data[name] for name in form.changed_data if name in services.POST_FIELDS
            }
            if not fields:
                return obj
            return services.post_update(
                post=Post.objects.get(pk=obj.pk), actor=request.user, fields=fields, dry_run=dry_run
            )
        fields = {name: form.cleaned_data.get(name) for name in services.POST_FIELDS}
        fields["duties"] = fields["duties"] or ""
        return services.post_create(actor=request.user, fields=fields, dry_run=dry_run)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """The holder table through the services, in order: ends, then contract corrections, then the
        new hire (already checked together in the formset's clean)."""
        if formset.model is not Assignment:
            return super().save_formset(request, form, formset, change)
        actor = request.user
        post = form.instance
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        existing = [f for f in formset.forms if f.instance.pk is not None and f.has_changed()]
        new = [f for f in formset.forms if f.instance.pk is None and f.has_changed() and f.cleaned_data]
        with transaction.atomic():
            for row in existing:
                data = row.cleaned_data
                original = Assignment.objects.get(pk=row.instance.pk)
                if data.get("end_date") and original.end_date is None:
                    original = services.assignment_end(
                        assignment=original,
                        actor=actor,
                        end_date=data["end_date"],
                        end_reason=data.get("end_reason") or "",
                        status=data.get("end_status") or EmploymentStatus.UNEMPLOYED,
                    )
                fields = _holding_changes(row)
                if fields:
                    original = services.assignment_update(
                        assignment=Assignment.objects.get(pk=original.pk), actor=actor, fields=fields
                    )
                formset.changed_objects.append((original, row.changed_data))
            for row in new:
                data = row.cleaned_data
                hired = services.assignment_hire(
                    actor=actor,
                    post=post,
                    beneficiary=data["beneficiary"],
                    start_date=data["start_date"],
                    **_holding_values(row),
                )
                formset.new_objects.append(hired)
        return None

    # -- a month's attendance for the whole roster -----------------------------------------------
    def get_urls(self) -> list[Any]:
        return [
            path(
                "<path:object_id>/attendance/",
                self.admin_site.admin_view(self.attendance_view),
                name="posts_post_attendance",
            ),
            *super().get_urls(),
        ]

    def attendance_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """One page per post and month: a row per holder of that month, pre-filled with the days
        required (the month's recorded figure, else its weekdays); saved through the bulk service,
        all or nothing, each refusal shown on its row."""
        post = self.get_object(request, object_id)
        if post is None:
            return self._get_obj_does_not_exist_redirect(request, self.model._meta, object_id)
        if not self.has_change_permission(request, post):
            raise PermissionDenied
        try:
            month = Month.parse(request.GET.get("month") or "")
        except ValidationError:
            month = Month.of(Month.of(timezone.localdate()).first_day - dt.timedelta(days=1))
        holders = list(
            Assignment.objects.visible_to(request.user)
            .filter(held_in(month), post=post)
            .select_related("beneficiary")
            .order_by("start_date", "id")
        )
        recorded = {
            a.assignment_id: a for a in Attendance.objects.filter(assignment__in=holders, month=str(month))
        }
        prefill = working_days(month)
        initial = [
            {
                "assignment": h.pk,
                "days_required": recorded[h.pk].days_required if h.pk in recorded else prefill,
                "days_present": recorded[h.pk].days_present if h.pk in recorded else None,
                "paid_leave_days": recorded[h.pk].paid_leave_days if h.pk in recorded else 0,
            }
            for h in holders
        ]
        formset_class = forms.formset_factory(AttendanceRowForm, extra=0)
        if request.method == "POST":
            formset = formset_class(request.POST, initial=initial, prefix="rows")
            if formset.total_form_count() != len(holders):
                self.message_user(
                    request,
                    _("The post's holders changed meanwhile; enter the month again."),
                    messages.WARNING,
                )
                return HttpResponseRedirect(f"{request.path}?month={month}")
            if formset.is_valid() and self._save_attendance(request, formset, holders, month):
                self.message_user(
                    request,
                    _("Attendance for %(month)s saved for %(n)d holders.")
                    % {"month": month, "n": len(holders)},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(f"{request.path}?month={month}")
        else:
            formset = formset_class(initial=initial, prefix="rows")
        rows = [
            {"holder": h, "form": f, "covered": month.overlap_days(h.start_date, h.end_date)}
            for h, f in zip(holders, formset.forms, strict=True)
        ]
        previous = Month.of(month.first_day - dt.timedelta(days=1))
        following = Month.of(month.last_day + dt.timedelta(days=1))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Attendance of %(post)s for %(month)s") % {"post": post.title, "month": month},
            "opts": self.model._meta,
            "original": post,
            "post": post,
            "month": month,
            "previous": previous,
            "following": following if following.first_day <= timezone.localdate() else None,
            "formset": formset,
            "rows": rows,
            "prefill": prefill,
        }
        return TemplateResponse(request, "admin/posts/post/attendance.html", context)

    def _save_attendance(
        self, request: HttpRequest, formset: Any, holders: list[Assignment], month: Month
    ) -> bool:
        """Write every row through the bulk service, or none: on a refusal, each message goes to the
        row (and field) it names and False is returned."""
        by_id = {h.pk: h for h in holders}
        rows = []
        for form in formset.forms:
            data = form.cleaned_data
            holder = by_id.get(data["assignment"])
            if holder is None:
                form.add_error(None, _("This holder did not hold the post in the month; reload the page."))
                return False
            rows.append(
                services.AttendanceRow(
                    holder, data["days_required"], data["days_present"], data.get("paid_leave_days") or 0
                )
            )
        try:
            services.attendance_bulk_upsert(actor=request.user, month=month, rows=rows)
        except ValidationError as exc:
            for key, messages_ in exc.message_dict.items():
                _prefix, index, name = [*key.split(".", 2), "", ""][:3]
                if index.isdigit():
                    form = formset.forms[int(index)]
                    form.add_error(name if name in form.fields else None, messages_)
                else:
                    self.message_user(request, "; ".join(messages_), messages.ERROR)
            return False
        except (PermissionDenied, DomainError) as exc:
            self.message_user(request, _refusal(exc), messages.ERROR)
            return False
        return True


class AttendanceRowForm(forms.Form):
    assignment = forms.IntegerField(widget=forms.HiddenInput)
    days_required = forms.IntegerField(label=_("days required"), min_value=0, max_value=31)
    days_present = forms.IntegerField(label=_("days present"), min_value=0, max_value=31)
    paid_leave_days = forms.IntegerField(label=_("paid leave days"), min_value=0, max_value=31, initial=0)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("days_required", "days_present", "paid_leave_days"):
            self.fields[name].widget.attrs.update({"size": 3, "style": "width: 4em"})


# -- read-mostly lists ---------------------------------------------------------------------------------


@admin.register(Assignment)
class AssignmentAdmin(ScopedAdmin):
    """Every holding, with filters; holdings are written on their post's page (or by the API)."""

    list_display = ("beneficiary", "post", "region", "start_date", "end_date", "contract_signed_on")
    list_filter = ("end_reason", "contract_kind")
    list_select_related = ("beneficiary", "post", "region")
    search_fields = ("beneficiary__name", "post__title")
    date_hierarchy = "start_date"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [
            f.name
            for f in self.model._meta.fields
            if f.name not in ("payee_account_encrypted", "payee_account_hash")
        ]

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("payee_account_encrypted", "payee_account_hash", "region_path")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PersonnelChange)
class PersonnelChangeAdmin(ScopedAdmin):
    """人员变动, as an inspector reads them; reviewers approve with the list's action."""

    list_display = (
        "post",
        "kind",
        "assignment",
        "effective_on",
        "reported_on",
        "late",
        "status",
        "approved_by",
    )
    list_filter = ("kind", "late", "status")
    list_select_related = ("post", "assignment__beneficiary", "assignment__post", "approved_by")
    search_fields = ("post__title", "assignment__beneficiary__name")
    date_hierarchy = "effective_on"
    actions = ("approve_selected",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields if f.name != "region_path"]

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("region_path",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Approve selected changes"))
    def approve_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        done = 0
        for change in queryset.order_by("pk"):
            try:
                services.personnel_change_approve(change=change, actor=request.user)
                done += 1
            except (ValidationError, PermissionDenied, DomainError) as exc:
                self.message_user(request, f"{change}: {_refusal(exc)}", messages.ERROR)
        if done:
            self.message_user(request, _("Approved: %(n)d change(s).") % {"n": done}, messages.SUCCESS)


@admin.register(Attendance)
class AttendanceAdmin(ScopedAdmin):
    """Attendance is entered a month and a roster at a time on the post's page; listed here."""

    list_display = (
        "assignment",
        "month",
        "days_required",
        "days_present",
        "paid_leave_days",
        "source",
        "recorded_by",
    )
    list_filter = ("month", "source")
    list_select_related = ("assignment__beneficiary", "assignment__post", "recorded_by")
    search_fields = ("assignment__beneficiary__name", "assignment__post__title")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields if f.name != "region_path"]

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("region_path",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AssessmentStandard)
class AssessmentStandardAdmin(ScopedAdmin):
    list_display = ("title", "region", "effective_from")
    list_select_related = ("region",)
    search_fields = ("title", "region__name_zh")
    autocomplete_fields = ("region",)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def save_via_service(
        self, request: HttpRequest, obj: AssessmentStandard, form: Any, change: bool, *, dry_run: bool = False
    ) -> Any:
        if change:
            raise PermissionDenied(_("A standard in force is kept as it was; record a new one."))
        return services.assessment_standard_create(
            actor=request.user,
            region=obj.region,
            effective_from=obj.effective_from,
            title=obj.title,
            text=obj.text,
            dry_run=dry_run,
        )


@admin.register(Assessment)
class AssessmentAdmin(ScopedAdmin):
    list_display = ("assignment", "period", "rating", "standard", "assessor")
    list_filter = ("rating", "period_kind")
    list_select_related = ("assignment__beneficiary", "assignment__post", "standard", "assessor")
    search_fields = ("assignment__beneficiary__name", "assignment__post__title")
    autocomplete_fields = ("assignment", "standard")
    fields = ("assignment", "period_kind", "period", "rating", "standard", "notes")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if "standard" in form.base_fields:
            form.base_fields["standard"].required = False
        return form

    def save_via_service(
        self, request: HttpRequest, obj: Assessment, form: Any, change: bool, *, dry_run: bool = False
    ) -> Any:
        if change:
            raise PermissionDenied(_("An assessment is kept as it was given."))
        return services.assessment_create(
            actor=request.user,
            assignment=form.cleaned_data["assignment"],
            period_kind=form.cleaned_data["period_kind"],
            period=form.cleaned_data["period"],
            rating=form.cleaned_data["rating"],
            standard=form.cleaned_data.get("standard"),
            notes=form.cleaned_data.get("notes") or "",
            dry_run=dry_run,
        )


@admin.register(SubsidyRun)
class SubsidyRunAdmin(ScopedAdmin):
    """Subsidy runs are made through the API (`POST /api/v1/posts/subsidy-runs/`); listed here."""

    list_display = ("region", "month", "created_by", "created_at", "paid_count", "skipped_count", "total")
    list_filter = ("month",)
    list_select_related = ("region", "created_by")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
