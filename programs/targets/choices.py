from django.db import models
from django.utils.translation import gettext_lazy as _


class Measure(models.TextChoices):
    """What a target counts; each is achieved from records (programs.targets.selectors)."""

    VOUCHERS_ISSUED = "vouchers_issued", _("Training vouchers issued (发放培训券)")
    TRAINING_SUBSIDISED = "training_subsidised", _("Subsidised training, person-times (政府补贴性培训人次)")
    TRAINING_SOCIAL = "training_social", _("Social training, person-times (社会性培训人次)")
    EMPLOYMENT_REGISTRATIONS = "employment_registrations", _("New employment registrations (新增就业登记)")
    REEMPLOYED_UNEMPLOYED = "reemployed_unemployed", _("Unemployed people re-employed (失业人员再就业)")
