"""The real-name registry: one record per person (一人一档), their groups and employment status.

Personal data (identity number, phone) is stored encrypted, found through a keyed hash, and shown
only masked; the masked form has its own column so lists and the change log never decrypt.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from beneficiaries.choices import DeactivationReason, EmploymentStatus, Gender
from tracker.changelog.models import TrackedModel


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
    name = models.CharField(_("name"), max_length=50)
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
        BeneficiaryGroup, through="GroupMembership", related_name="beneficiaries", verbose_name=_("groups")
    )

    changelog_exclude: ClassVar[frozenset[str]] = frozenset(
        {"id_number_encrypted", "id_number_hash", "phone_encrypted", "phone_hash"}
    )

    class Meta:
        verbose_name = _("beneficiary")
        verbose_name_plural = _("beneficiaries")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["name"], name="beneficiary_name_idx"),
            models.Index(fields=["status"], name="beneficiary_status_idx"),
            models.Index(fields=["status_verified_on"], name="beneficiary_verified_idx"),
            models.Index(fields=["registered_at"], name="beneficiary_registered_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.id_number_masked}"


class GroupMembership(TrackedModel):
    """Membership of a group over a period; `valid_to` empty means still a member."""

    beneficiary = models.ForeignKey(
        Beneficiary, verbose_name=_("beneficiary"), on_delete=models.CASCADE, related_name="memberships"
    )
    group = models.ForeignKey(
        BeneficiaryGroup, verbose_name=_("group"), on_delete=models.PROTECT, related_name="memberships"
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
        return f"{self.beneficiary_id} ∈ {self.group_id} {self.valid_from}–{self.valid_to or ''}"
