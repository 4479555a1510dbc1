"""Admin for programs, fund sources, payees and payments. Payments are created and moved through
their lifecycle only by the services: the add form calls payment_create, the list's actions call
submit / approve / mark paid / reverse, and a payment's fields are read-only once it left draft."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from programs.funding import services
from programs.funding.models import Employer, FundSource, Payment, Program, TrainingInstitution
from programs.funding.rules import money
from tracker.accounts.choices import Role
from tracker.accounts.roles import ROLE_REFUSED
from tracker.admin import RegionSubtreeFilter, ScopedAdmin, strip_rule_code
from tracker.changelog.display import person_name, register_action_labels
from tracker.errors import DomainError
from tracker.periods import Month


@admin.register(FundSource)
class FundSourceAdmin(ScopedAdmin):
    list_display = ["code", "name_zh", "name_en", "part_of"]
    search_fields = ["code", "name_zh", "name_en"]
    readonly_fields = ("version",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def save_via_service(
        self, request: HttpRequest, obj: FundSource, form: Any, change: bool, *, dry_run: bool = False
    ) -> Any:
        if change:
            return services.fund_source_update(
                fund_source=FundSource.objects.get(pk=obj.pk),
                actor=request.user,
                fields={name: form.cleaned_data[name] for name in form.changed_data},
                dry_run=dry_run,
            )
        data = {
            name: form.cleaned_data.get(name) for name in ("code", "name_zh", "name_en", "part_of", "note")
        }
        data["note"] = data["note"] or ""
        return services.fund_source_create(actor=request.user, dry_run=dry_run, **data)


@admin.register(Program)
class ProgramAdmin(ScopedAdmin):
    list_display = [
        "code",
        "name_zh",
        "region",
        "kind",
        "payee_kind",
        "unit",
        "standard_amount",
        "annual_budget",
    ]
    list_filter = ["kind", "payee_kind", "unit", "once_per_person"]
    search_fields = ["code", "name_zh", "name_en", "policy_reference", "region__code", "region__name_zh"]
    autocomplete_fields = ["fund_source", "region"]
    readonly_fields = ("version",)

    def save_via_service(
        self, request: HttpRequest, obj: Program, form: Any, change: bool, *, dry_run: bool = False
    ) -> Any:
        fields = {
            name: form.cleaned_data[name] for name in form.changed_data if name in services.PROGRAM_FIELDS
        }
        if change:
            original = Program.objects.get(pk=obj.pk)
            return services.program_update(
                program=original, actor=request.user, fields=fields, dry_run=dry_run
            )
        all_fields = {
            name: form.cleaned_data[name] for name in form.cleaned_data if name in services.PROGRAM_FIELDS
        }
        return services.program_create(actor=request.user, fields=all_fields, dry_run=dry_run)


class PayeeAdmin(ScopedAdmin):
    search_fields = ["name", "uscc"]
    autocomplete_fields = ["region"]
    readonly_fields = ("version",)


@admin.register(Employer)
class EmployerAdmin(PayeeAdmin):
    list_display = ["name", "uscc", "region", "size", "industry"]
    list_filter = ["size"]

    def save_via_service(
        self, request: HttpRequest, obj: Employer, form: Any, change: bool, *, dry_run: bool = False
    ) -> Any:
        if change:
            return services.employer_update(
                employer=Employer.objects.get(pk=obj.pk),
                actor=request.user,
                fields={name: form.cleaned_data[name] for name in form.changed_data},
                dry_run=dry_run,
            )
        return services.employer_create(
            actor=request.user,
            name=obj.name,
            uscc=obj.uscc,
            region=obj.region,
            size=obj.size,
            industry=obj.industry,
            dry_run=dry_run,
        )


@admin.register(TrainingInstitution)
class TrainingInstitutionAdmin(PayeeAdmin):
    list_display = ["name", "uscc", "region"]

    def save_via_service(
        self,
        request: HttpRequest,
        obj: TrainingInstitution,
        form: Any,
        change: bool,
        *,
        dry_run: bool = False,
    ) -> Any:
        if change:
            return services.training_institution_update(
                institution=TrainingInstitution.objects.get(pk=obj.pk),
                actor=request.user,
                fields={name: form.cleaned_data[name] for name in form.changed_data},
                dry_run=dry_run,
            )
        return services.training_institution_create(
            actor=request.user, name=obj.name, uscc=obj.uscc, region=obj.region, dry_run=dry_run
        )


# Roles as a refusal names them (the choices' labels also say what each role does).
ROLE_NAMES = {
    Role.CLERK: pgettext_lazy("role", "clerk"),
    Role.REVIEWER: pgettext_lazy("role", "reviewer"),
    Role.INSPECTOR: pgettext_lazy("role", "inspector"),
    Role.ANALYST: pgettext_lazy("role", "analyst"),
}


def refusal_text(exc: Exception, *, needs: str) -> str:
    """A refused step as a clerk should read it. The services raise PermissionDenied for two different
    reasons, and the admin says which: the user's role may not take this step at all (it `needs`
    another role), or the four-eyes rule (maker-checker) stops this user on this payment, though a
    colleague may; a rule's CODE prefix is for machines and is not shown."""
    if isinstance(exc, ValidationError):
        return "; ".join(strip_rule_code(m) for m in exc.messages)
    text = str(getattr(exc, "detail", None) or exc)
    if isinstance(exc, PermissionDenied) and text == str(ROLE_REFUSED):
        return str(_("Your role may not do this: it needs the %(role)s role.") % {"role": ROLE_NAMES[needs]})
    if isinstance(exc, PermissionDenied) and text.startswith("MAKER_CHECKER"):
        return str(_("Four-eyes rule (maker-checker): %(rule)s") % {"rule": strip_rule_code(text)})
    return strip_rule_code(text)


def _run(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    verb: str,
    call: Any,
    *,
    needs: str,
) -> None:
    done = 0
    for payment in queryset.select_related("program", "beneficiary", "employer", "institution").order_by(
        "pk"
    ):
        try:
            call(payment)
            done += 1
        except (ValidationError, PermissionDenied, DomainError) as exc:
            modeladmin.message_user(
                request,
                _("%(payment)s: not done. %(why)s")
                % {"payment": payment, "why": refusal_text(exc, needs=needs)},
                messages.ERROR,
            )
    if done:
        modeladmin.message_user(
            request, _("%(verb)s: %(n)d payment(s).") % {"verb": verb, "n": done}, messages.SUCCESS
        )


PAYMENT_INPUT_FIELDS = (
    "program",
    "payee_kind",
    "beneficiary",
    "employer",
    "institution",
    "period_start",
    "period_end",
    "application_date",
    "contract_start",
    "contract_performed_to",
    "quantity",
    "unit_amount",
    "amount",
    "reason",
)


class PaymentAddForm(forms.ModelForm):
    """The add form: unit amount defaults to the program's standard for the payee's region (left to
    the service, which knows the region's designations), amount to unit × quantity, and the
    application date to today; the service checks every rule when the form is saved."""

    class Meta:
        model = Payment
        fields = list(PAYMENT_INPUT_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("unit_amount", "amount", "payee_kind"):
            if name in self.fields:
                self.fields[name].required = False

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        program = data.get("program")
        if program is not None:
            data["payee_kind"] = data.get("payee_kind") or program.payee_kind
        if data.get("amount") is None and data.get("unit_amount") is not None and data.get("quantity"):
            data["amount"] = money(data["unit_amount"] * data["quantity"])
        for name in ("payee_kind", "unit_amount", "amount"):
            setattr(self.instance, name, data.get(name))
        return data


ACTION_ROLES = {
    "submit_selected": Role.CLERK,
    "approve_selected": Role.REVIEWER,
    "mark_paid_selected": Role.REVIEWER,
    "reverse_selected": Role.REVIEWER,
}


class PeriodFilter(admin.SimpleListFilter):
    """Payments whose period overlaps a month; the months offered are those payments start in."""

    title = _("period")
    parameter_name = "month"

    most_months_offered = 36

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        months = model_admin.get_queryset(request).dates("period_start", "month", order="DESC")
        return [(f"{m:%Y-%m}", f"{m:%Y-%m}") for m in months[: self.most_months_offered]]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if not self.value():
            return queryset
        try:
            month = Month.parse(self.value())
        except (ValueError, ValidationError):
            return queryset.none()
        return queryset.filter(period_start__lte=month.last_day, period_end__gte=month.first_day)


@admin.register(Payment)
class PaymentAdmin(ScopedAdmin):
    add_form = PaymentAddForm
    # The title names program, payee, period and status (Payment.__str__); beside it what a reviewer
    # adds up and where the payee lives.
    list_display = ["__str__", "amount", "region_name"]
    list_filter = [
        "status",
        ("program", admin.RelatedOnlyFieldListFilter),
        PeriodFilter,
        RegionSubtreeFilter,
        ("fund_source", admin.RelatedOnlyFieldListFilter),
        "payee_kind",
    ]
    search_fields = [
        "program__name_zh",
        "program__code",
        "beneficiary__name",
        "employer__name",
        "external_reference",
    ]
    search_help_text = _("Program name or code, payee name, or the payment reference.")
    list_select_related = ["program", "beneficiary", "employer", "institution", "region"]
    autocomplete_fields = ["program", "beneficiary", "employer", "institution"]
    fields = [
        "program",
        "payee_kind",
        "beneficiary",
        "employer",
        "institution",
        "period_start",
        "period_end",
        "application_date",
        "contract_start",
        "contract_performed_to",
        "quantity",
        "unit_amount",
        "amount",
        "reason",
    ]
    actions = ["submit_selected", "approve_selected", "mark_paid_selected", "reverse_selected"]

    def refusal_message(self, exc: Exception) -> str:
        return refusal_text(exc, needs=Role.CLERK)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # The title of a payment names its program and payee (Payment.__str__).
        return (
            super().get_queryset(request).select_related("program", "beneficiary", "employer", "institution")
        )

    @admin.display(description=pgettext_lazy("list column", "region"), ordering="region__path")
    def region_name(self, payment: Payment) -> str:
        return payment.region.name_zh

    def get_actions(self, request: HttpRequest) -> Any:
        """Only the steps the user's role may take (a clerk submits, a reviewer decides and pays)."""
        actions = super().get_actions(request)
        user = request.user
        for name, role in ACTION_ROLES.items():
            if name in actions and not (user.is_superuser or user.has_role(role)):
                del actions[name]
        return actions

    def get_form(
        self, request: HttpRequest, obj: Payment | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Payment | None = None) -> list[str]:
        if obj is None:
            return list(self.fields)
        return [
            *self.fields,
            "region",
            "fund_source",
            "status",
            "created_by_name",
            "submitted_by_name",
            "approved_by_name",
            "paid_by_name",
            "paid_at",
            "external_reference",
            "rejection_reason",
            "cause_label",
            "cause_object_id",
            "reverses",
            "version",
        ]

    # Who took each step, by name (the change log keeps their usernames).
    @admin.display(description=_("created by"))
    def created_by_name(self, payment: Payment) -> str:
        return person_name(payment.created_by) or "—"

    @admin.display(description=_("submitted by"))
    def submitted_by_name(self, payment: Payment) -> str:
        return person_name(payment.submitted_by) or "—"

    @admin.display(description=_("approved or rejected by"))
    def approved_by_name(self, payment: Payment) -> str:
        return person_name(payment.approved_by) or "—"

    @admin.display(description=_("marked paid by"))
    def paid_by_name(self, payment: Payment) -> str:
        return person_name(payment.paid_by) or "—"

    def get_readonly_fields(self, request: HttpRequest, obj: Payment | None = None) -> Any:
        if obj is None:
            return ("version",)
        # Fields never change after creation: corrections are reversals, status moves by actions.
        return self.get_fields(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_via_service(
        self, request: HttpRequest, obj: Payment, form: Any, change: bool, *, dry_run: bool = False
    ) -> Any:
        if change:
            raise PermissionDenied(
                _("Payments change only through their actions (submit, approve, mark paid, reverse).")
            )
        return services.payment_create(
            actor=request.user,
            program=obj.program,
            payee_kind=obj.payee_kind or None,
            beneficiary=obj.beneficiary,
            employer=obj.employer,
            institution=obj.institution,
            period_start=obj.period_start,
            period_end=obj.period_end,
            quantity=obj.quantity or 1,
            unit_amount=obj.unit_amount,
            amount=obj.amount,
            reason=obj.reason,
            application_date=obj.application_date,
            contract_start=obj.contract_start,
            contract_performed_to=obj.contract_performed_to,
            dry_run=dry_run,
        )

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {
            "quantity": 1,
            "application_date": timezone.localdate(),
            **super().get_changeform_initial_data(request),
        }

    @admin.action(description=_("Submit selected drafts"))
    def submit_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        _run(
            self,
            request,
            queryset,
            _("Submitted"),
            lambda p: services.payment_submit(payment=p, actor=request.user),
            needs=Role.CLERK,
        )

    @admin.action(description=_("Approve selected payments"))
    def approve_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        _run(
            self,
            request,
            queryset,
            _("Approved"),
            lambda p: services.payment_approve(payment=p, actor=request.user),
            needs=Role.REVIEWER,
        )

    @admin.action(description=_("Mark selected payments paid"))
    def mark_paid_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        _run(
            self,
            request,
            queryset,
            _("Marked paid"),
            lambda p: services.payment_mark_paid(payment=p, actor=request.user),
            needs=Role.REVIEWER,
        )

    @admin.action(description=_("Reverse selected paid payments"))
    def reverse_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        reason = str(_("Reversed in the admin by %(user)s") % {"user": request.user.get_username()})
        _run(
            self,
            request,
            queryset,
            _("Reversed"),
            lambda p: services.payment_reverse(payment=p, actor=request.user, reason=reason),
            needs=Role.REVIEWER,
        )


register_action_labels(
    {
        "submit": _("Submit"),
        "approve": _("Approve"),
        "reject": _("Reject"),
        "mark_paid": _("Mark paid"),
        "reverse": _("Reverse"),
    }
)

# Allocations (their own module, registered on import).
from programs.funding import allocation_admin  # noqa: E402, F401
