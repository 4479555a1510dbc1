"""Choices of the public-welfare posts app (公益性岗位): what a post is, how it is held, how attendance
and assessments are recorded, and what a personnel change is."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class PostCategory(models.TextChoices):
    """The kinds of post the source names: Binhu's 保洁、保安、保绿 (digest line 625), the algae-salvage
    team on Lake Tai (line 609); forest rangers and water posts are the usual rural posts (our
    addition)."""

    CLEANING = "cleaning", _("Cleaning (保洁)")
    SECURITY = "security", _("Security (保安)")
    GREENING = "greening", _("Greening (保绿)")
    FOREST_RANGER = "forest_ranger", _("Forest ranger (护林)")
    WATER = "water", _("Water works (水利)")
    ALGAE_SALVAGE = "algae_salvage", _("Lake Tai algae salvage (蓝藻打捞)")
    OTHER_RURAL = "other_rural", _("Other rural post (其他乡村公岗)")
    OTHER = "other", _("Other (其他)")


class UrbanRural(models.TextChoices):
    URBAN = "urban", _("Urban (城镇)")
    RURAL = "rural", _("Rural (乡村)")


class PostStatus(models.TextChoices):
    # Contexts: "Open" and "Closed" of a follow-up read differently in Chinese.
    OPEN = "open", pgettext_lazy("post status", "Open")
    SUSPENDED = "suspended", pgettext_lazy("post status", "Suspended")
    CLOSED = "closed", pgettext_lazy("post status", "Closed")


class EmployingUnit(models.TextChoices):
    """Who employs the holder: a registered employer, or the village (residents') committee of the
    post's village, which has no employer record here."""

    EMPLOYER = "employer", _("Employer (用人单位)")
    VILLAGE_COMMITTEE = "village_committee", _("Village committee (村民委员会或居民委员会)")


class EndReason(models.TextChoices):
    RESIGNED = "resigned", _("Resigned (辞职)")
    DISMISSED = "dismissed", _("Dismissed (辞退)")
    FOUND_OTHER_JOB = "found_other_job", _("Found another job (实现其他就业)")
    TERM_EXPIRED = "term_expired", _("Term expired (期满)")
    DECEASED = "deceased", _("Deceased (死亡)")
    OTHER = "other", _("Other (其他)")


class ContractKind(models.TextChoices):
    LABOUR_CONTRACT = "labour_contract", _("Labour contract (劳动合同)")
    SERVICE_AGREEMENT = "service_agreement", _("Service agreement (劳务协议)")


class PayeeAccountKind(models.TextChoices):
    BANK_CARD = "bank_card", _("Bank card (银行卡)")
    SOCIAL_SECURITY_CARD = "social_security_card", _("Social-security card account (社保卡金融账户)")


class PersonnelChangeKind(models.TextChoices):
    HIRE = "hire", _("Hire (上岗)")
    END = "end", _("End (离岗)")
    REPLACE = "replace", _("Replacement (人员替换)")


class PersonnelChangeStatus(models.TextChoices):
    REPORTED = "reported", pgettext_lazy("personnel change", "Reported")
    APPROVED = "approved", pgettext_lazy("personnel change", "Approved")


class AttendanceSource(models.TextChoices):
    SIGN_IN_SHEET = "sign_in_sheet", _("Sign-in sheet (签到表)")
    CHECK_IN = "check_in", _("Check-in (打卡)")
    IMPORT = "import", _("Import (导入)")


class AssessmentPeriodKind(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")


class Rating(models.TextChoices):
    EXCELLENT = "excellent", _("Excellent (优秀)")
    QUALIFIED = "qualified", _("Qualified (合格)")
    BASICALLY_QUALIFIED = "basically_qualified", _("Basically qualified (基本合格)")
    UNQUALIFIED = "unqualified", _("Unqualified (不合格)")
