"""The real-name registry: one record per person (一人一档), their groups and employment status.

Personal data (identity number, phone) is stored encrypted, found through a keyed hash, and shown
only masked; the masked form has its own column so lists and the change log never decrypt.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from beneficiaries.choices import (
    DeactivationReason,
    EmploymentStatus,
    FollowUpService,
    FollowUpStatus,
    Gender,
    HouseholdRelation,
    RegistrationKind,
    StatusSource,
)
from tracker.changelog.models import TrackedModel

# Purposes bound into ciphertexts and keyed hashes (tracker.pii), one per kind of value.
ID_NUMBER_PURPOSE = "id_number"
PHONE_PURPOSE = "phone"


class BeneficiaryGroup(TrackedModel):
    """A category of people policies target (人员类别), e.g. 脱贫人口."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=200)

    region_lookup: ClassVar[str] = ""

    class Meta:
        verbose_name = _("beneficiary group")
        verbose_name_plural = _("beneficiary groups")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name_zh


class Beneficiary(TrackedModel):
    name = models.CharField(pgettext_lazy("person", "name"), max_length=50)
    id_number_encrypted = models.TextField(_("identity number (encrypted)"))
    id_number_hash = models.CharField(_("identity number (keyed hash)"), max_length=64, unique=True)
    id_number_masked = models.CharField(_("identity number"), max_length=18)
    gender = models.CharField(_("gender"), max_length=8, choices=Gender.choices)
    birth_date = models.DateField(_("date of birth"))
    phone_encrypted = models.TextField(_("phone (encrypted)"), blank=True)
    phone_hash = models.CharField(_("phone (keyed hash)"), max_length=64, blank=True, db_index=True)
    phone_masked = models.CharField(_("phone"), max_length=20, blank=True)
    social_security_card = models.CharField(_("social-security card number"), max_length=32, blank=True)
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("household region"), on_delete=models.PROTECT, related_name="+"
    )
    address = models.CharField(_("current address"), max_length=255, blank=True)
    willing_to_work = models.BooleanField(_("willing to work"), default=True)
    notes = models.TextField(_("notes"), blank=True)
    # Current employment status, derived from the latest status change (kept here for filtering).
    status = models.CharField(
        _("employment status"), max_length=32, choices=EmploymentStatus.choices, blank=True
    )
    status_verified_on = models.DateField(_("status verified on"), null=True, blank=True)
    registered_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    active = models.BooleanField(_("active"), default=True)
    deactivated_on = models.DateField(_("deactivated on"), null=True, blank=True)
    deactivation_reason = models.CharField(
        _("deactivation reason"), max_length=16, choices=DeactivationReason.choices, blank=True
    )
    groups = models.ManyToManyField(
        BeneficiaryGroup,
        through="GroupMembership",
        related_name="beneficiaries",
        verbose_name=pgettext_lazy("person", "groups"),
    )

    # The household region's path, kept by every save (tracker.scope): a county's page goes straight
    # to its rows through the (region_path, id) index, however large the rest of the country.
    region_path = models.CharField(_("region path"), max_length=255, editable=False, default="")

    changelog_exclude: ClassVar[frozenset[str]] = frozenset(
        {"id_number_encrypted", "id_number_hash", "phone_encrypted", "phone_hash", "region_path"}
    )
    scope_path_field: ClassVar[str] = "region_path"

    class Meta:
        verbose_name = _("beneficiary")
        verbose_name_plural = _("beneficiaries")
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["region_path", "id"],
                name="beneficiary_scope_idx",
                opclasses=["varchar_pattern_ops", "int8_ops"],
            ),
            models.Index(fields=["name"], name="beneficiary_name_idx"),
            models.Index(fields=["status"], name="beneficiary_status_idx"),
            models.Index(fields=["status_verified_on"], name="beneficiary_verified_idx"),
            models.Index(fields=["registered_at"], name="beneficiary_registered_idx"),
        ]
        constraints = [
            # Deactivated <=> a date and a reason; an active person has neither.
            models.CheckConstraint(
                condition=(
                    models.Q(active=True, deactivated_on__isnull=True, deactivation_reason="")
                    | (
                        models.Q(active=False, deactivated_on__isnull=False)
                        & ~models.Q(deactivation_reason="")
                    )
                ),
                name="beneficiary_deactivation_consistent",
            ),
        ]
        permissions = [
            ("reveal_pii", _("Can reveal full identity numbers and phone numbers")),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.id_number_masked}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.active and (self.deactivated_on or self.deactivation_reason):
            raise ValidationError({"active": [_("An active person has no deactivation date or reason.")]})
        if not self.active and not (self.deactivated_on and self.deactivation_reason):
            raise ValidationError(
                {"deactivated_on": [_("A deactivated person needs a deactivation date and reason.")]}
            )


class GroupMembership(TrackedModel):
    """Membership of a group over a period; `valid_to` empty means still a member."""

    beneficiary = models.ForeignKey(
        Beneficiary, verbose_name=_("beneficiary"), on_delete=models.CASCADE, related_name="memberships"
    )
    group = models.ForeignKey(
        BeneficiaryGroup,
        verbose_name=pgettext_lazy("person", "group"),
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    region_lookup: ClassVar[str] = "beneficiary__region"

    class Meta:
        verbose_name = _("group membership")
        verbose_name_plural = _("group memberships")
        ordering = ["beneficiary_id", "group_id", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=models.F("valid_from")),
                name="membership_valid_range",
            ),
        ]
        indexes = [models.Index(fields=["group", "valid_from"], name="membership_group_idx")]

    def __str__(self) -> str:
        # Names for people (the admin, the change log); the change entry's label keeps ids, which
        # cost no query when thousands are written at once.
        return f"{self.beneficiary.name} · {self.group} · {self.valid_from}–{self.valid_to or ''}"

    def change_label(self) -> str:
        return f"{self.beneficiary_id} ∈ {self.group_id} {self.valid_from}–{self.valid_to or ''}"


class StatusChange(TrackedModel):
    """One observation of a person's employment status, effective from a date. History is kept
    forever: the current status (denormalised on Beneficiary) is the latest by (effective_on, id),
    and "the status as of date D" is the latest change effective on or before D."""

    beneficiary = models.ForeignKey(
        Beneficiary, verbose_name=_("beneficiary"), on_delete=models.PROTECT, related_name="status_changes"
    )
    effective_on = models.DateField(_("effective on"))
    status = models.CharField(_("employment status"), max_length=32, choices=EmploymentStatus.choices)
    employer_or_place = models.CharField(_("employer or place"), max_length=200, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=StatusSource.choices)
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    region_lookup: ClassVar[str] = "beneficiary__region"

    class Meta:
        verbose_name = _("employment status change")
        verbose_name_plural = _("employment status changes")
        ordering = ["beneficiary_id", "effective_on", "id"]
        indexes = [
            models.Index(fields=["beneficiary", "effective_on"], name="statuschange_person_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.beneficiary.name} · {self.get_status_display()} · {self.effective_on}"

    def change_label(self) -> str:
        return f"{self.beneficiary_id} {self.status} {self.effective_on}"


class FollowUp(TrackedModel):
    """A follow-up task opened when someone moves from employment into unemployment (就业转失业),
    due within settings.FOLLOW_UP_DUE_DAYS; closed when a service is recorded."""

    beneficiary = models.ForeignKey(
        Beneficiary, verbose_name=_("beneficiary"), on_delete=models.PROTECT, related_name="follow_ups"
    )
    status_change = models.OneToOneField(
        StatusChange,
        verbose_name=_("triggering status change"),
        on_delete=models.PROTECT,
        related_name="follow_up",
    )
    opened_on = models.DateField(_("opened on"))
    due_on = models.DateField(_("due on"))
    status = models.CharField(
        _("status"), max_length=8, choices=FollowUpStatus.choices, default=FollowUpStatus.OPEN
    )
    service = models.CharField(_("service"), max_length=32, choices=FollowUpService.choices, blank=True)
    service_on = models.DateField(_("service recorded on"), null=True, blank=True)
    service_note = models.TextField(_("service note"), blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    region_lookup: ClassVar[str] = "beneficiary__region"

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["status", "due_on"], name="followup_status_due_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(due_on__gte=models.F("opened_on")), name="followup_due_after_open"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(status="open", service="", service_on__isnull=True)
                    | (models.Q(status="closed", service_on__isnull=False) & ~models.Q(service=""))
                ),
                name="followup_closed_has_service",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.beneficiary.name} · {self.get_status_display()} · {self.due_on}"

    def change_label(self) -> str:
        return f"{self.beneficiary_id} {self.status} {self.due_on}"


class Household(TrackedModel):
    """A household (户): its region, its members (people of the registry, through HouseholdMember) and
    the flags poverty-relief work follows: relocated for poverty relief (易地扶贫搬迁) and identified as a
    zero-employment household (零就业家庭). Whether a household has someone in work is never stored: it
    is derived from its members' current statuses (beneficiaries.households)."""

    number = models.CharField(
        _("household number"),
        max_length=32,
        unique=True,
        help_text=_("The bureau's household number (户编号)."),
    )
    head_name = models.CharField(_("head of household"), max_length=50, blank=True)
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    address = models.CharField(_("address"), max_length=255, blank=True)
    relocated = models.BooleanField(_("relocated for poverty relief (易地扶贫搬迁)"), default=False)
    relocated_on = models.DateField(_("relocated on"), null=True, blank=True)
    zero_employment = models.BooleanField(
        _("identified as a zero-employment household (零就业家庭)"), default=False
    )
    zero_employment_identified_on = models.DateField(
        _("identified as zero-employment on"), null=True, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)
    region_path = models.CharField(_("region path"), max_length=255, editable=False, default="")

    changelog_exclude: ClassVar[frozenset[str]] = frozenset({"region_path"})
    scope_path_field: ClassVar[str] = "region_path"

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["region_path", "id"],
                name="household_scope_idx",
                opclasses=["varchar_pattern_ops", "int8_ops"],
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(relocated=True) | models.Q(relocated_on__isnull=True),
                name="household_relocated_date_only_if_relocated",
            ),
            models.CheckConstraint(
                condition=models.Q(zero_employment=True)
                | models.Q(zero_employment_identified_on__isnull=True),
                name="household_zero_employment_date_only_if_flagged",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.head_name}".strip()


class HouseholdMember(TrackedModel):
    """A person's membership of a household: one household per person."""

    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="members"
    )
    beneficiary = models.OneToOneField(
        Beneficiary,
        verbose_name=_("beneficiary"),
        on_delete=models.PROTECT,
        related_name="household_membership",
    )
    relation = models.CharField(
        _("relation to the head"),
        max_length=16,
        choices=HouseholdRelation.choices,
        default=HouseholdRelation.OTHER,
    )

    region_lookup: ClassVar[str] = "household__region"

    class Meta:
        verbose_name = _("household member")
        verbose_name_plural = _("household members")
        ordering = ["household_id", "id"]

    def __str__(self) -> str:
        return f"{self.household.number} · {self.beneficiary.name}"

    def change_label(self) -> str:
        return f"{self.beneficiary_id} ∈ {self.household_id}"


class EmploymentRegistration(TrackedModel):
    """An employment registration (就业登记): an event on a person, dated, in the region that
    registered it. New registrations per region and period are counted from these rows."""

    beneficiary = models.ForeignKey(
        Beneficiary,
        verbose_name=_("beneficiary"),
        on_delete=models.PROTECT,
        related_name="employment_registrations",
    )
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("registered in"), on_delete=models.PROTECT, related_name="+"
    )
    registered_on = models.DateField(_("registered on"))
    kind = models.CharField(
        _("kind"), max_length=24, choices=RegistrationKind.choices, default=RegistrationKind.NEW_EMPLOYMENT
    )
    employer_name = models.CharField(_("employer or place"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True)
    region_path = models.CharField(_("region path"), max_length=255, editable=False, default="")

    changelog_exclude: ClassVar[frozenset[str]] = frozenset({"region_path"})
    scope_path_field: ClassVar[str] = "region_path"

    class Meta:
        verbose_name = _("employment registration")
        verbose_name_plural = _("employment registrations")
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["region_path", "id"],
                name="registration_scope_idx",
                opclasses=["varchar_pattern_ops", "int8_ops"],
            ),
            models.Index(fields=["registered_on"], name="registration_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.beneficiary.name} · {self.get_kind_display()} · {self.registered_on}"

    def change_label(self) -> str:
        return f"{self.beneficiary_id} {self.kind} {self.registered_on}"
