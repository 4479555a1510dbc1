"""Choices of the training-voucher app: who a voucher type pays, how its face value is set, a
voucher's status, how it was claimed, skill levels and the reasons a check-in is rejected."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class VoucherPayee(models.TextChoices):
    """Who a redeemed voucher pays (the type says it; its program pays that kind of payee)."""

    INSTITUTION = "institution", _("Training institution")
    EMPLOYER = "employer", _("Employer")
    PERSON = "person", _("The worker")
    # 打卡签到专用培训券: attendance only, never redeemed.
    NONE = "none", _("Nobody (check-in only)")


class FaceValueRule(models.TextChoices):
    FIXED = "fixed", _("Fixed amount")
    COURSE_STANDARD = "course_standard", _("The course's subsidy standard, up to the type's cap")
    NONE = "none", _("No face value (check-in only)")


class VoucherStatus(models.TextChoices):
    ISSUED = "issued", _("Issued")
    CLAIMED = "claimed", _("Claimed")
    ENROLLED = "enrolled", _("Enrolled")
    COMPLETED = "completed", _("Completed")
    REDEEMED = "redeemed", _("Redeemed")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")


# A voucher that can still be used for a training: at most one of a type per person.
LIVE_STATUSES = (VoucherStatus.ISSUED, VoucherStatus.CLAIMED, VoucherStatus.ENROLLED)
# Vouchers that count as a subsidised training of their year (3 a year) and against a plan's cap:
# every one but those cancelled (a mistake undone) or expired unused.
COUNTED_STATUSES = (
    VoucherStatus.ISSUED,
    VoucherStatus.CLAIMED,
    VoucherStatus.ENROLLED,
    VoucherStatus.COMPLETED,
    VoucherStatus.REDEEMED,
)


class ClaimChannel(models.TextChoices):
    """How the worker proved who they are when claiming (实名制领取)."""

    E_SSC = "e_ssc", _("Electronic social-security card")
    COUNTER = "counter", _("Service counter (last 6 characters of the identity number)")


class SkillLevel(models.TextChoices):
    """National vocational skill levels (国家职业技能标准: 五级 lowest to 一级 highest), special
    vocational ability (专项职业能力), or a training certificate without a level."""

    LEVEL_5 = "level_5", _("Level 5 / junior worker (五级/初级工)")
    LEVEL_4 = "level_4", _("Level 4 / intermediate worker (四级/中级工)")
    LEVEL_3 = "level_3", _("Level 3 / senior worker (三级/高级工)")
    LEVEL_2 = "level_2", _("Level 2 / technician (二级/技师)")
    LEVEL_1 = "level_1", _("Level 1 / senior technician (一级/高级技师)")
    SPECIAL = "special", _("Special vocational ability (专项职业能力)")
    NONE = "none", _("No level (training certificate)")


class Datum(models.TextChoices):
    """The datum a position is reported in (tracker.geo): GPS gives WGS-84, Chinese map apps GCJ-02."""

    WGS84 = "wgs84", _("WGS-84 (GPS)")
    GCJ02 = "gcj02", _("GCJ-02 (Chinese map apps)")


class CheckInRejection(models.TextChoices):
    """Why a check-in was not accepted (every attempt is kept, for inspectors)."""

    EXPIRED = "expired", _("The voucher has expired")
    NOT_ENROLLED = "not_enrolled", _("The voucher is not enrolled in the session's course")
    OUTSIDE_WINDOW = "outside_window", _("Outside the session's time window")
    DUPLICATE = "duplicate", _("Already checked in to this session")
    OUTSIDE_GEOFENCE = "outside_geofence", _("Too far from the training site")
