from django.db import models
from django.utils.translation import gettext_lazy as _


class GovernmentLevel(models.TextChoices):
    """Who bears a share of a guaranteed loan's interest (创业担保贷款贴息)."""

    UPPER = "upper", _("Upper-level finance (上级财政贴息)")
    DISTRICT = "district", _("District finance (区级财政贴息)")
    BORROWER = "borrower", _("Borrower (借款人自付)")


class EntrepreneurKind(models.TextChoices):
    """The groups creating a business that the guaranteed-loan policy names (各类创业人员)."""

    COLLEGE_GRADUATE = "college_graduate", _("College graduate (高校毕业生)")
    RETURNEE = "returnee", _("Returning migrant worker (返乡创业人员)")
    UNEMPLOYED = "unemployed", _("Registered unemployed (登记失业人员)")
    VETERAN = "veteran", _("Veteran (退役军人)")
    OTHER = "other", _("Other (其他)")
