"""Users: one home region, one or more roles. The region decides what a user may see."""

from __future__ import annotations

from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from tracker.accounts.choices import Role


class User(AbstractUser):
    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("home region"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        help_text=_("The user sees and changes only records within this region's subtree."),
    )

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @cached_property
    def roles(self) -> frozenset[str]:
        names = set(self.groups.values_list("name", flat=True))
        return frozenset(names & set(Role.values))

    def has_role(self, *roles: str) -> bool:
        return self.is_superuser or bool(self.roles & set(roles))

    @property
    def scope_path(self) -> str | None:
        """Prefix of the region paths this user may see: '' for everything, None for nothing."""
        if not self.is_active:
            return None
        if self.is_superuser:
            return ""
        if self.region_id is None:
            return None
        from tracker.regions.models import Region

        return Region.cached_path(self.region_id) or None
