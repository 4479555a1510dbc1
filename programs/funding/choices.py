"""Choices of the funding app: what programs pay for, to whom, per what, and a payment's status."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ProgramKind(models.TextChoices):
    PUBLIC_WELFARE_POST = "public_welfare_post", _("Public-welfare post subsidy")
    WORK_FOR_TRAINING = "work_for_training", _("Work-for-training subsidy (以工代训)")
    TRAINING = "training", _("Training subsidy")
    TRAINING_LIVING_ALLOWANCE = "training_living_allowance", _("Training living allowance")
    TRANSPORT = "transport", _("Transport subsidy")
    ENTREPRENEURSHIP = "entrepreneurship", _("Entrepreneurship subsidy")
    LABOUR_TRANSFER_REWARD = "labour_transfer_reward", _("Labour-transfer reward")
    SOCIAL_INSURANCE = "social_insurance", _("Social-insurance subsidy")
    INTERNSHIP = "internship", _("Internship subsidy")
    EMPLOYMENT_DRIVING = "employment_driving", _("Employment-driving subsidy")
    OTHER = "other", _("Other")


class PayeeKind(models.TextChoices):
    PERSON = "person", pgettext_lazy("payee kind", "Person")
    EMPLOYER = "employer", _("Employer")
    INSTITUTION = "institution", _("Training institution")


class Unit(models.TextChoices):
    ONE_OFF = "one_off", _("One-off")
    PERSON_MONTH = "person_month", _("Per person-month")
    PERSON_DAY = "person_day", _("Per person-day")
    PER_TRAINING = "per_training", _("Per training")


class EmployerSize(models.TextChoices):
    MICRO = "micro", _("Micro")
    SMALL = "small", _("Small")
    MEDIUM = "medium", _("Medium")
    LARGE = "large", _("Large")


# Small and medium-sized enterprises (中小微企业): what a program "for SMEs" accepts.
SME_SIZES = (EmployerSize.MICRO, EmployerSize.SMALL, EmployerSize.MEDIUM)


class Industry(models.TextChoices):
    """An employer's industry, in the words programs use to name the industries they pay. The first
    four are the industries Guangzhou's 以工代训 names for large enterprises (digest line 639,
    facts.yaml F095: 住宿餐饮、文化旅游、交通运输、批发零售); the others are broad groups for the
    rest."""

    ACCOMMODATION_CATERING = "accommodation_catering", _("Accommodation and catering (住宿餐饮)")
    CULTURE_TOURISM = "culture_tourism", _("Culture and tourism (文化旅游)")
    TRANSPORT = "transport", _("Transport (交通运输)")
    WHOLESALE_RETAIL = "wholesale_retail", _("Wholesale and retail (批发零售)")
    AGRICULTURE = "agriculture", _("Agriculture, forestry and fishing (农林牧渔业)")
    MANUFACTURING = "manufacturing", _("Manufacturing (制造业)")
    CONSTRUCTION = "construction", _("Construction (建筑业)")
    HR_SERVICES = "hr_services", _("Human-resources services (人力资源服务业)")
    OTHER_SERVICES = "other_services", _("Other services (其他服务业)")
    OTHER = "other", _("Other (其他)")


class PaymentStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    PAID = "paid", _("Paid")
    REVERSED = "reversed", _("Reversed")
    # The negative entry that reverses a paid payment (its own row, linked by `reverses`).
    REVERSAL = "reversal", _("Reversing entry")


# Payments that occupy the payee's entitlement (once-per-person, maximum units, periods): everything
# except rejected ones, reversed ones and the reversing entries themselves.
LIVE_STATUSES = (
    PaymentStatus.DRAFT,
    PaymentStatus.SUBMITTED,
    PaymentStatus.APPROVED,
    PaymentStatus.PAID,
)
# Payments that count against the program's annual budget.
COMMITTED_STATUSES = (PaymentStatus.SUBMITTED, PaymentStatus.APPROVED)
BUDGET_STATUSES = (PaymentStatus.SUBMITTED, PaymentStatus.APPROVED, PaymentStatus.PAID)


class InstitutionStatus(models.TextChoices):
    """Whether a training institution may take new trainees and be paid (vouchers, programs/vouchers):
    a suspended one keeps its records but takes no new enrolments or voucher redemptions."""

    ACTIVE = "active", pgettext_lazy("institution status", "Active")
    SUSPENDED = "suspended", pgettext_lazy("institution status", "Suspended")
