from django.db import models
from django.utils.translation import gettext_lazy as _


class Gender(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class EmploymentStatus(models.TextChoices):
    EMPLOYED_LOCAL = "employed_local", _("Employed locally (本地就业)")
    EMPLOYED_OUTSIDE_COUNTY = "employed_outside_county", _("Employed outside the county (县外就业)")
    EMPLOYED_OUTSIDE_PROVINCE = "employed_outside_province", _("Employed in another province (跨省务工)")
    FLEXIBLE = "flexible", _("Flexible employment (灵活就业)")
    SELF_EMPLOYED = "self_employed", _("Self-employed (自主创业)")
    PUBLIC_WELFARE_POST = "public_welfare_post", _("Placed in a public-welfare post (公益性岗位安置)")
    IN_TRAINING = "in_training", _("In training (参加培训)")
    UNEMPLOYED = "unemployed", _("Unemployed (失业)")
    NOT_IN_LABOUR_FORCE = "not_in_labour_force", _("Not in the labour force (非劳动力)")


EMPLOYED_STATUSES = frozenset(
    {
        EmploymentStatus.EMPLOYED_LOCAL,
        EmploymentStatus.EMPLOYED_OUTSIDE_COUNTY,
        EmploymentStatus.EMPLOYED_OUTSIDE_PROVINCE,
        EmploymentStatus.FLEXIBLE,
        EmploymentStatus.SELF_EMPLOYED,
        EmploymentStatus.PUBLIC_WELFARE_POST,
    }
)


class DeactivationReason(models.TextChoices):
    DECEASED = "deceased", _("Deceased")
    MOVED_AWAY = "moved_away", _("Moved away")
    OTHER = "other", _("Other")


class StatusSource(models.TextChoices):
    """How an employment status was learned (动态监测 sources)."""

    VISIT = "visit", _("Home visit (入户走访)")
    PHONE = "phone", _("Phone call (电话核实)")
    DATA_MATCH = "data_match", _("Data match (数据比对)")
    SELF_REPORT = "self_report", _("Self-report (本人申报)")


class FollowUpStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class FollowUpService(models.TextChoices):
    """Services that close a follow-up after a move into unemployment (就业转失业 → 职业指导、职业介绍)."""

    GUIDANCE = "guidance", _("Career guidance (职业指导)")
    JOB_REFERRAL = "job_referral", _("Job referral (职业介绍)")
    TRAINING_REFERRAL = "training_referral", _("Training referral (培训推荐)")
    PLACED = "placed", _("Placed in a job (实现就业)")


class HouseholdRelation(models.TextChoices):
    """A member's relation to the head of the household (与户主关系)."""

    HEAD = "head", _("Head of household (户主)")
    SPOUSE = "spouse", _("Spouse (配偶)")
    CHILD = "child", _("Child (子女)")
    PARENT = "parent", _("Parent (父母)")
    OTHER = "other", _("Other relative (其他)")


class RegistrationKind(models.TextChoices):
    """What an employment registration (就业登记) records."""

    NEW_EMPLOYMENT = "new_employment", _("New employment (新增就业)")
    RE_EMPLOYMENT = "re_employment", _("Re-employment of the unemployed (失业人员再就业)")
    DIFFICULTY_EMPLOYMENT = (
        "difficulty_employment",
        _("Employment of a person in difficulty (就业困难人员就业)"),
    )
