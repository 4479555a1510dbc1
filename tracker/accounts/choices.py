from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """What a user may do. Roles are Django groups of these names, so the admin's permissions follow."""

    CLERK = "clerk", _("Clerk (data entry)")
    REVIEWER = "reviewer", _("Reviewer (approves what clerks submit)")
    INSPECTOR = "inspector", _("Inspector (督查)")
    ANALYST = "analyst", _("Analyst (read-only, reports)")
