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
