"""Choices of the inspections app (督查): what an inspection checks, how findings move, complaints and
payment confirmations. Checklist codes are the five of facts.yaml `inspection_checklist` (digest
lines 112-116); village-level items are its follow-up requirements (line 116)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ChecklistItem(models.TextChoices):
    """The five things the Wugongshan inspection checked (重点检查了…), by their facts.yaml codes."""

    POST_SETTING = "post_setting", _("Post setting (公益性岗位设置)")
    LABOR_CONTRACT_SIGNING = "labor_contract_signing", _("Labour contract signing (劳动合同签订)")
    ATTENDANCE_ASSESSMENT = "attendance_assessment", _("Attendance and assessment (考勤考核)")
    SUBSIDY_PAYMENT = "subsidy_payment", _("Subsidy payment (补贴资金发放)")
    PERSONNEL_CHANGES = "personnel_changes", _("Personnel changes (人员变动)")


class VillageItem(models.TextChoices):
    """What each village was asked to have (digest line 116: 健全公益性岗位管理工作机制，细化考核标准)."""

    MANAGEMENT_MECHANISM = "management_mechanism", _("A post-management mechanism exists (健全管理工作机制)")
    ASSESSMENT_STANDARDS = (
        "assessment_standards",
        _("Assessment standards refined and current (细化考核标准)"),
    )


ON_DUTY = "on_duty"


class ItemCode(models.TextChoices):
    """Every item code an inspection holds: the five checklist items, the village-level items and the
    per-holder on-duty check (在岗履职)."""

    POST_SETTING = ChecklistItem.POST_SETTING.value, ChecklistItem.POST_SETTING.label
    LABOR_CONTRACT_SIGNING = (
        ChecklistItem.LABOR_CONTRACT_SIGNING.value,
        ChecklistItem.LABOR_CONTRACT_SIGNING.label,
    )
    ATTENDANCE_ASSESSMENT = (
        ChecklistItem.ATTENDANCE_ASSESSMENT.value,
        ChecklistItem.ATTENDANCE_ASSESSMENT.label,
    )
    SUBSIDY_PAYMENT = ChecklistItem.SUBSIDY_PAYMENT.value, ChecklistItem.SUBSIDY_PAYMENT.label
    PERSONNEL_CHANGES = ChecklistItem.PERSONNEL_CHANGES.value, ChecklistItem.PERSONNEL_CHANGES.label
    MANAGEMENT_MECHANISM = VillageItem.MANAGEMENT_MECHANISM.value, VillageItem.MANAGEMENT_MECHANISM.label
    ASSESSMENT_STANDARDS = VillageItem.ASSESSMENT_STANDARDS.value, VillageItem.ASSESSMENT_STANDARDS.label
    ON_DUTY = ON_DUTY, _("On-duty performance (在岗履职)")


class ItemLevel(models.TextChoices):
    POST = "post", _("Post")
    HOLDER = "holder", _("Holder")
    VILLAGE = "village", _("Village")


class InspectionMethod(models.TextChoices):
    RECORD_REVIEW = "record_review", _("Record review (查阅资料)")
    FACE_TO_FACE = "face_to_face", _("Face to face (面对面交流)")
    PHONE = "phone", _("Phone (电话)")
    DATA_CHECK = "data_check", _("Data check (数据比对)")


class InspectionStatus(models.TextChoices):
    PLANNED = "planned", pgettext_lazy("inspection status", "Planned")
    IN_PROGRESS = "in_progress", pgettext_lazy("inspection status", "In progress")
    CLOSED = "closed", pgettext_lazy("inspection status", "Closed")


class ItemResult(models.TextChoices):
    PENDING = "pending", _("Not answered")
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class FindingSource(models.TextChoices):
    INSPECTION = "inspection", _("Inspection item")
    CHECK = "check", _("Compliance check")
    COMPLAINT = "complaint", _("Complaint")
    CONFIRMATION = "confirmation", _("Payment confirmation")


class FindingStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("finding status", "Open")
    RECTIFYING = "rectifying", _("Being rectified (整改中)")
    RECTIFIED = "rectified", _("Rectified (已整改)")
    VERIFIED = "verified", _("Verified (已核实)")
    WAIVED = "waived", _("Waived")
    REOPENED = "reopened", _("Reopened")
    NO_LONGER_REPRODUCES = "no_longer_reproduces", _("No longer reproduces")


# Not yet resolved: a check run never opens a second finding beside one of these.
UNRESOLVED_STATUSES = (
    FindingStatus.OPEN,
    FindingStatus.RECTIFYING,
    FindingStatus.RECTIFIED,
    FindingStatus.REOPENED,
    FindingStatus.NO_LONGER_REPRODUCES,
)
# Overdue = past due and not rectified.
NOT_RECTIFIED_STATUSES = (FindingStatus.OPEN, FindingStatus.RECTIFYING, FindingStatus.REOPENED)


class Concerns(models.TextChoices):
    """What kind of record a finding or complaint concerns."""

    POST = "post", _("Post")
    ASSIGNMENT = "assignment", _("Post holding")
    PAYMENT = "payment", _("Payment")
    VOUCHER = "voucher", _("Voucher")
    CHECK_IN = "check_in", _("Check-in")
    BENEFICIARY = "beneficiary", _("Person")
    PERSONNEL_CHANGE = "personnel_change", _("Personnel change")
    FOLLOW_UP = "follow_up", _("Follow-up")
    HOUSEHOLD = "household", _("Household")
    INSTITUTION = "institution", _("Training institution")
    VILLAGE = "village", _("Village")
    OTHER = "other", _("Other (free text)")


class ComplaintChannel(models.TextChoices):
    PHONE = "phone", _("Phone line (电话)")
    LETTER = "letter", _("Letter (来信)")
    VISIT = "visit", _("Visit (来访)")
    ONLINE = "online", _("Online form (网上)")


class ComplaintCategory(models.TextChoices):
    NOT_PAID = "not_paid", _("Subsidy not received")
    WRONGLY_PAID = "wrongly_paid", _("Paid to someone not entitled")
    ABSENT_HOLDER = "absent_holder", _("Post holder not at work")
    TRAINING_FRAUD = "training_fraud", _("Training or check-in fraud")
    OTHER = "other", _("Other")


class ComplaintStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    INVESTIGATING = "investigating", _("Investigating")
    RESOLVED = "resolved", _("Resolved")
    UNFOUNDED = "unfounded", _("Unfounded")


class ConfirmationMethod(models.TextChoices):
    PHONE = "phone", _("Phone call")
    VISIT = "visit", _("Home visit")
    SMS = "sms", _("SMS")


class Received(models.TextChoices):
    YES = "yes", _("Received in full")
    PARTLY = "partly", _("Received in part")
    NO = "no", _("Not received")
