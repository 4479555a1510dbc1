"""Admin for training vouchers: types, plans (with what their cap leaves), courses with their sessions
inline, vouchers with their check-ins (accepted and rejected, with reasons) and payments read-only,
training profiles and living-allowance settings. Every write goes through the services.

Two actions are added to the admin pages of lower apps, from here, so their modules stay as they are:
"Issue training vouchers" on the beneficiary list (batch issue to the selected or filtered people,
showing each plan's remaining cap) and suspend / reinstate on the training institutions.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.sites import NotRegistered
from django.contrib.contenttypes.admin import GenericTabularInline
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from beneficiaries.models import Beneficiary
from programs.funding import services as funding
from programs.funding.models import Payment, TrainingInstitution
from programs.vouchers import selectors, services
from programs.vouchers.choices import VoucherStatus
from programs.vouchers.codes import format_code
from programs.vouchers.models import (
    Certificate,
    CheckIn,
    Course,
    CourseSession,
    Evaluation,
    TrainingAllowance,
    Voucher,
    VoucherPlan,
    VoucherType,
    WorkerTrainingProfile,
)
from tracker.admin import ScopedAdmin
from tracker.errors import DomainError


def _text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return str(getattr(exc, "detail", None) or exc)


class ReadOnlyAdmin(ScopedAdmin):
    """Records written only by their services' steps (check-ins, certificates, evaluations)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(VoucherType)
class VoucherTypeAdmin(ScopedAdmin):
    list_display = ["code", "name_zh", "region", "payee", "program", "face_value_rule", "validity_days"]
    list_filter = ["payee", "face_value_rule"]
    search_fields = ["code", "name_zh", "name_en"]
    autocomplete_fields = ["region", "program"]
    readonly_fields = ("version",)

    def save_via_service(
        self, request: HttpRequest, obj: VoucherType, form: Any, change: bool, *, dry_run: bool = False
    ) -> Any:
        if change:
            fields = {n: form.cleaned_data[n] for n in form.changed_data if n in services.VOUCHER_TYPE_FIELDS}
            return services.voucher_type_update(
                voucher_type=VoucherType.objects.get(pk=obj.pk),
                actor=request.user,
                fields=fields,
                dry_run=dry_run,
            )
        fields = {n: form.cleaned_data[n] for n in form.cleaned_data if n in services.VOUCHER_TYPE_FIELDS}
        return services.voucher_type_create(actor=request.user, fields=fields, dry_run=dry_run)


@admin.register(VoucherPlan)
class VoucherPlanAdmin(ScopedAdmin):
    list_display = ["__str__", "region", "year", "type", "planned_count", "cap", "issued", "remaining"]
    list_filter = ["year", "type"]
    search_fields = ["type__code", "type__name_zh", "region__name_zh", "region__code"]
    autocomplete_fields = ["region", "type"]
    readonly_fields = ("version",)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .select_related("region", "type")
            .annotate(issued_count=Count("vouchers", filter=~Q(vouchers__status=VoucherStatus.CANCELLED)))
        )

    @admin.display(description=_("issued"), ordering="issued_count")
    def issued(self, obj: VoucherPlan) -> int:
        return obj.issued_count

    @admin.display(description=_("remaining under the cap"))
    def remaining(self, obj: VoucherPlan) -> Any:
        return "—" if obj.cap is None else max(obj.cap - obj.issued_count, 0)

    def save_via_service(
        self, request: HttpRequest, obj: VoucherPlan, form: Any, change: bool, *, dry_run: bool = False
    ) -> Any:
        if change:
            fields = {n: form.cleaned_data[n] for n in form.changed_data if n in services.VOUCHER_PLAN_FIELDS}
            return services.voucher_plan_update(
                plan=VoucherPlan.objects.get(pk=obj.pk), actor=request.user, fields=fields, dry_run=dry_run
            )
        fields = {n: form.cleaned_data[n] for n in form.cleaned_data if n in services.VOUCHER_PLAN_FIELDS}
        return services.voucher_plan_create(actor=request.user, fields=fields, dry_run=dry_run)


class SessionFormSet(forms.BaseInlineFormSet):
    """Each session within its course's dates, checked on the form (the service checks it again)."""

    def clean(self) -> None:
        super().clean()
        course = self.instance
        for form in self.forms:
            if not form.has_changed() or form.errors or not course.starts_on or not course.ends_on:
                continue
            session = form.instance
            session.course = course
            if session.starts_at and session.ends_at:
                try:
                    session.clean()
                    services.check_session_within_course(session)
                except ValidationError as exc:
                    form.add_error(None, exc.messages)


class CourseSessionInline(admin.TabularInline):
    model = CourseSession
    formset = SessionFormSet
    fields = ("title", "starts_at", "ends_at")
    extra = 1
    can_delete = False
    ordering = ("starts_at",)


@admin.register(Course)
class CourseAdmin(ScopedAdmin):
    list_display = [
        "title",
        "institution",
        "occupation_name",
        "level",
        "starts_on",
        "ends_on",
        "fee",
        "subsidy_standard",
    ]
    list_filter = ["level", ("institution", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["institution"]
    search_fields = ["title", "occupation_name", "occupation_code", "institution__name"]
    autocomplete_fields = ["institution"]
    readonly_fields = ("version",)
    inlines = (CourseSessionInline,)

    def save_via_service(
        self, request: HttpRequest, obj: Course, form: Any, change: bool, *, dry_run: bool = False
    ) -> Any:
        if change:
            fields = {n: form.cleaned_data[n] for n in form.changed_data if n in services.COURSE_FIELDS}
            return services.course_update(
                course=Course.objects.get(pk=obj.pk), actor=request.user, fields=fields, dry_run=dry_run
            )
        fields = {n: form.cleaned_data[n] for n in form.cleaned_data if n in services.COURSE_FIELDS}
        return services.course_create(actor=request.user, fields=fields, dry_run=dry_run)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """Sessions through their services (each checked within the course's dates)."""
        course = form.instance
        # What the admin's change message reads (formset.save() would set these).
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for session_form in formset.forms:
            if not session_form.has_changed():
                continue
            data = {n: session_form.cleaned_data.get(n) for n in ("title", "starts_at", "ends_at")}
            data["title"] = data["title"] or ""
            session = session_form.instance
            if session.pk:
                saved = services.course_session_update(
                    session=CourseSession.objects.get(pk=session.pk), actor=request.user, fields=data
                )
                formset.changed_objects.append((saved, session_form.changed_data))
            else:
                saved = services.course_session_create(actor=request.user, fields={**data, "course": course})
                formset.new_objects.append(saved)


class CheckInInline(admin.TabularInline):
    model = CheckIn
    fields = ("at", "session", "accepted", "rejection", "distance_m", "accuracy_m", "datum", "device_id")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-at",)
    verbose_name_plural = _("check-ins (accepted and rejected)")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class VoucherPaymentInline(GenericTabularInline):
    """The payments the voucher caused (redemption, living allowances, reversals), read-only."""

    model = Payment
    ct_field = "cause_content_type"
    ct_fk_field = "cause_object_id"
    fields = ("program", "payee_kind", "amount", "status", "period_start", "period_end", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("payments")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class VoucherIssueForm(forms.ModelForm):
    class Meta:
        model = Voucher
        fields = ["plan", "holder", "employer"]


@admin.register(Voucher)
class VoucherAdmin(ScopedAdmin):
    add_form = VoucherIssueForm
    list_display = ["display_code", "type", "holder", "status", "course", "issued_at", "expires_on"]
    list_filter = ["status", "type"]
    list_select_related = ["type", "holder", "course"]
    search_fields = ["code", "holder__name"]
    search_help_text = _("Voucher code, or the holder's name.")
    autocomplete_fields = ["plan", "holder", "employer"]
    inlines = (CheckInInline, VoucherPaymentInline)
    readonly_fields = (
        "display_code",
        "type",
        "plan",
        "holder",
        "employer",
        "status",
        "issued_at",
        "issued_by",
        "expires_on",
        "claimed_at",
        "claim_channel",
        "claim_locked_until",
        "course",
        "enrolled_at",
        "completed_at",
        "redeemed_at",
        "cancelled_at",
        "cancel_reason",
        "expired_at",
        "version",
    )

    @admin.display(description=_("code"), ordering="code")
    def display_code(self, obj: Voucher) -> str:
        return format_code(obj.code) if obj.code else ""

    def get_search_results(self, request: HttpRequest, queryset: Any, search_term: str) -> tuple[Any, bool]:
        from programs.vouchers.codes import normalise_code

        code = normalise_code(search_term)
        if len(code) == 12:
            return queryset.filter(code=code), False
        return super().get_search_results(request, queryset, search_term)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["plan", "holder", "employer"]
        return list(self.readonly_fields)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else self.readonly_fields

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.inlines if obj is not None else ()

    def save_via_service(
        self, request: HttpRequest, obj: Voucher, form: Any, change: bool, *, dry_run: bool = False
    ) -> Any:
        if change:
            raise PermissionDenied(
                _("A voucher changes only through its steps (claim, enrol, check in, ...).")
            )
        return services.voucher_issue(
            plan=form.cleaned_data["plan"],
            holder=form.cleaned_data["holder"],
            employer=form.cleaned_data.get("employer"),
            actor=request.user,
            dry_run=dry_run,
        )


@admin.register(CheckIn)
class CheckInAdmin(ReadOnlyAdmin):
    list_display = ["at", "voucher", "session", "accepted", "rejection", "distance_m", "accuracy_m", "datum"]
    list_filter = ["accepted", "rejection", "datum"]
    list_select_related = ["voucher", "session"]
    search_fields = ["voucher__code"]


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdmin):
    list_display = ["number", "voucher", "level", "issued_on"]
    list_filter = ["level"]
    search_fields = ["number", "voucher__code"]


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnlyAdmin):
    list_display = ["voucher", "course_rating", "institution_rating", "evaluated_at"]
    list_filter = ["course_rating", "institution_rating"]


@admin.register(WorkerTrainingProfile)
class WorkerTrainingProfileAdmin(ScopedAdmin):
    list_display = ["beneficiary", "ui_contribution_months", "ui_months_as_of"]
    autocomplete_fields = ["beneficiary"]
    search_fields = ["beneficiary__name"]
    readonly_fields = ("version",)

    def save_via_service(
        self,
        request: HttpRequest,
        obj: WorkerTrainingProfile,
        form: Any,
        change: bool,
        *,
        dry_run: bool = False,
    ) -> Any:
        return services.worker_training_profile_set(
            beneficiary=form.cleaned_data.get("beneficiary") or obj.beneficiary,
            actor=request.user,
            ui_contribution_months=form.cleaned_data["ui_contribution_months"],
            ui_months_as_of=form.cleaned_data.get("ui_months_as_of"),
            notes=form.cleaned_data.get("notes") or "",
            dry_run=dry_run,
        )


@admin.register(TrainingAllowance)
class TrainingAllowanceAdmin(ScopedAdmin):
    list_display = ["program", "pays_in_advance"]
    autocomplete_fields = ["program"]
    readonly_fields = ("version",)

    def save_via_service(
        self, request: HttpRequest, obj: TrainingAllowance, form: Any, change: bool, *, dry_run: bool = False
    ) -> Any:
        return services.training_allowance_set(
            program=form.cleaned_data.get("program") or obj.program,
            actor=request.user,
            pays_in_advance=form.cleaned_data["pays_in_advance"],
            notes=form.cleaned_data.get("notes") or "",
            dry_run=dry_run,
        )


# -- actions on the lower apps' lists --------------------------------------------------------------------


class BatchIssueForm(forms.Form):
    plan = forms.ModelChoiceField(queryset=VoucherPlan.objects.none(), label=_("voucher plan"))
    skip_refused = forms.BooleanField(
        required=False,
        label=_("issue to the others when some people are refused"),
        help_text=_("Otherwise nothing is issued when anyone is refused."),
    )


@admin.action(description=_("Issue training vouchers to the selected people"))
def issue_training_vouchers(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> Any:
    """Batch issue from the (filtered) beneficiary list: a page to choose the plan, showing what each
    plan's cap leaves, then vouchers_issue_batch for the selected people."""
    plans = list(
        VoucherPlan.objects.visible_to(request.user)
        .select_related("region", "type")
        .order_by("-year", "type__code")
    )
    progress = selectors.plan_progress([p.pk for p in plans])
    form = BatchIssueForm(request.POST if "apply" in request.POST else None)
    form.fields["plan"].queryset = VoucherPlan.objects.filter(pk__in=[p.pk for p in plans])
    count = queryset.count()
    if count > services.MAX_BATCH:
        modeladmin.message_user(
            request,
            _("At most %(max)s people per batch; narrow the selection.") % {"max": services.MAX_BATCH},
            messages.ERROR,
        )
        return None
    if "apply" in request.POST and form.is_valid():
        plan = form.cleaned_data["plan"]
        try:
            result = services.vouchers_issue_batch(
                plan=plan,
                holders=list(queryset.order_by("pk")),
                actor=request.user,
                skip_refused=form.cleaned_data["skip_refused"],
            )
        except (ValidationError, PermissionDenied, DomainError) as exc:
            modeladmin.message_user(request, _text(exc), messages.ERROR)
            return None
        modeladmin.message_user(
            request,
            _("Issued %(n)d voucher(s) of %(plan)s; %(refused)d person(s) refused.")
            % {"n": len(result.issued), "plan": plan, "refused": len(result.refused)},
            messages.SUCCESS if result.issued else messages.WARNING,
        )
        return None
    rows = [
        {
            "plan": plan,
            **selectors.with_remaining(progress[plan.pk], plan.cap),
        }
        for plan in plans
    ]
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": _("Issue training vouchers"),
        "opts": modeladmin.model._meta,
        "form": form,
        "plans": rows,
        "count": count,
        "queryset": queryset,
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "select_across": request.POST.get("select_across", "0"),
    }
    return TemplateResponse(request, "admin/vouchers/issue_batch.html", context)


@admin.action(description=_("Suspend the selected institutions"), permissions=["change"])
def suspend_institutions(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    reason = str(_("Suspended in the admin by %(user)s") % {"user": request.user.get_username()})
    for institution in queryset.order_by("pk"):
        try:
            enrolled = services.institution_suspend(
                institution=institution, actor=request.user, reason=reason
            )
        except (ValidationError, PermissionDenied, DomainError) as exc:
            modeladmin.message_user(request, f"{institution}: {_text(exc)}", messages.ERROR)
            continue
        modeladmin.message_user(
            request,
            _("%(institution)s suspended; %(n)d voucher(s) enrolled there to move or cancel: %(codes)s")
            % {
                "institution": institution,
                "n": len(enrolled),
                "codes": ", ".join(format_code(v.code) for v in enrolled) or "—",
            },
            messages.WARNING if enrolled else messages.SUCCESS,
        )


@admin.action(description=_("Reinstate the selected institutions"), permissions=["change"])
def reinstate_institutions(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    for institution in queryset.order_by("pk"):
        try:
            funding.training_institution_reinstate(institution=institution, actor=request.user)
        except (ValidationError, PermissionDenied, DomainError) as exc:
            modeladmin.message_user(request, f"{institution}: {_text(exc)}", messages.ERROR)


def _add_actions(model: type, *actions: Any) -> None:
    """Add actions to a lower app's registered admin (its module stays untouched)."""
    import beneficiaries.admin  # noqa: F401  (registers the registry's admin first)
    import programs.funding.admin  # noqa: F401

    try:
        model_admin = admin.site.get_model_admin(model)
    except NotRegistered:
        return
    current = list(model_admin.actions or [])
    model_admin.actions = [*current, *(a for a in actions if a not in current)]


_add_actions(Beneficiary, issue_training_vouchers)
_add_actions(TrainingInstitution, suspend_institutions, reinstate_institutions)
