"""Entrepreneurs supported, their businesses' guaranteed loans (创业担保贷款) and the interest each
level of government subsidises (贴息).

An entrepreneur is a person of the registry (`beneficiary`) or another person, whose identity number
is then protected as the registry's are (tracker.pii: encrypted, keyed hash, masked copy). The
business is a funding Employer (name, USCC, region). A loan's interest owed is split by
rules.interest_shares into the shares of upper-level finance, the district and the borrower; a share a
government pays is an InterestSubsidy, settled by a payment of the ledger (programs.funding.services).
"""

from __future__ import annotations

import decimal
from typing import ClassVar

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from programs.entrepreneurship.choices import EntrepreneurKind, GovernmentLevel
from tracker.changelog.models import TrackedModel

MONEY = {"max_digits": 14, "decimal_places": 2}
ID_NUMBER_PURPOSE = "id_number"  # the registry's purpose: one number, one keyed hash across apps


class Entrepreneur(TrackedModel):
    beneficiary = models.OneToOneField(
        "beneficiaries.Beneficiary",
        verbose_name=_("beneficiary"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entrepreneur",
        help_text=_("The person in the registry, when they are in it."),
    )
    name = models.CharField(pgettext_lazy("person", "name"), max_length=50)
    id_number_encrypted = models.TextField(_("identity number (encrypted)"))
    id_number_hash = models.CharField(_("identity number (keyed hash)"), max_length=64, unique=True)
    id_number_masked = models.CharField(_("identity number"), max_length=18)
    kind = models.CharField(
        _("kind"), max_length=24, choices=EntrepreneurKind.choices, default=EntrepreneurKind.OTHER
    )
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    business = models.ForeignKey(
        "funding.Employer",
        verbose_name=_("business"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entrepreneurs",
    )
    supported_on = models.DateField(_("supported from"))
    notes = models.TextField(_("notes"), blank=True)
    region_path = models.CharField(_("region path"), max_length=255, editable=False, default="")

    changelog_exclude: ClassVar[frozenset[str]] = frozenset(
        {"id_number_encrypted", "id_number_hash", "region_path"}
    )
    scope_path_field: ClassVar[str] = "region_path"

    class Meta:
        verbose_name = _("entrepreneur")
        verbose_name_plural = _("entrepreneurs")
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["region_path", "id"],
                name="entrepreneur_scope_idx",
                opclasses=["varchar_pattern_ops", "int8_ops"],
            ),
            models.Index(fields=["supported_on"], name="entrepreneur_supported_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.id_number_masked}"

    def change_label(self) -> str:
        return f"{self.id_number_masked}"


class GuaranteedLoan(TrackedModel):
    """A guaranteed business loan (创业担保贷款): lender, amount, term, annual rate, issued on."""

    entrepreneur = models.ForeignKey(
        Entrepreneur, verbose_name=_("entrepreneur"), on_delete=models.PROTECT, related_name="loans"
    )
    business = models.ForeignKey(
        "funding.Employer",
        verbose_name=_("business"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="guaranteed_loans",
    )
    lender = models.CharField(_("lender"), max_length=200)
    amount = models.DecimalField(
        _("amount"), **MONEY, validators=[MinValueValidator(decimal.Decimal("0.01"))]
    )
    term_months = models.PositiveSmallIntegerField(
        _("term (months)"), validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    annual_rate = models.DecimalField(
        _("annual interest rate"),
        max_digits=6,
        decimal_places=4,
        validators=[MinValueValidator(decimal.Decimal("0")), MaxValueValidator(decimal.Decimal("0.2"))],
        help_text=_("As a fraction: 0.0385 is 3.85%."),
    )
    issued_on = models.DateField(_("issued on"))
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    region_path = models.CharField(_("region path"), max_length=255, editable=False, default="")

    changelog_exclude: ClassVar[frozenset[str]] = frozenset({"region_path"})
    scope_path_field: ClassVar[str] = "region_path"

    class Meta:
        verbose_name = _("guaranteed loan")
        verbose_name_plural = _("guaranteed loans")
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["region_path", "id"],
                name="loan_scope_idx",
                opclasses=["varchar_pattern_ops", "int8_ops"],
            ),
            models.Index(fields=["issued_on"], name="loan_issued_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="loan_amount_positive"),
            models.CheckConstraint(
                condition=Q(annual_rate__gte=0) & Q(annual_rate__lte=decimal.Decimal("0.2")),
                name="loan_rate_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lender} {self.amount} {self.issued_on}"

    def change_label(self) -> str:
        return f"{self.entrepreneur_id} {self.amount} {self.issued_on}"


class InterestSubsidy(TrackedModel):
    """The share of a loan's interest one level bears (rules.interest_shares); a government's share
    is paid through the ledger (`payment`) where the policy pays it to the borrower."""

    loan = models.ForeignKey(
        GuaranteedLoan, verbose_name=_("loan"), on_delete=models.PROTECT, related_name="interest_shares"
    )
    level = models.CharField(_("borne by"), max_length=16, choices=GovernmentLevel.choices)
    amount = models.DecimalField(
        _("amount owed"), **MONEY, validators=[MinValueValidator(decimal.Decimal("0"))]
    )
    payment = models.OneToOneField(
        "funding.Payment",
        verbose_name=_("payment"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="interest_subsidy",
    )
    region_path = models.CharField(_("region path"), max_length=255, editable=False, default="")

    region_lookup: ClassVar[str] = "loan__region"
    changelog_exclude: ClassVar[frozenset[str]] = frozenset({"region_path"})
    scope_path_field: ClassVar[str] = "region_path"

    class Meta:
        verbose_name = _("interest share")
        verbose_name_plural = _("interest shares")
        ordering = ["loan_id", "level"]
        constraints = [
            models.UniqueConstraint(fields=["loan", "level"], name="interest_share_one_per_level"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="interest_share_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.loan_id} {self.get_level_display()} {self.amount}"

    def change_label(self) -> str:
        return f"{self.loan_id} {self.level} {self.amount}"
