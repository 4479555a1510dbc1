"""Users: one home region, one or more roles. The region decides what a user may see."""

from __future__ import annotations

from functools import cached_property
from typing import Any

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

    def save(self, *args: Any, **kwargs: Any) -> None:
        # `_password` holds the raw password from set_password() until the save (Django clears it
        # itself when only re-hashing on login), so it means "the password was changed". Every door
        # (admin forms, changepassword, set_password + save) passes here.
        from tracker.accounts.tokens import tokens_revoke

        password_changed = not self._state.adding and self._password is not None
        super().save(*args, **kwargs)
        if password_changed:
            tokens_revoke(user=self, reason="password changed")
        elif not self.is_active and not self._state.adding:
            tokens_revoke(user=self, reason="deactivated")
        elif not self.has_usable_password():
            tokens_revoke(user=self, reason="password disabled")

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

        path = Region.cached_path(self.region_id) or None
        if path is not None and path.count("/") == 1:
            # The root's subtree is the whole country: no filter at all. A range over every row
            # made SQLite's planner sort the whole table instead of walking the primary key.
            return ""
        return path


class TokenActivity(models.Model):
    """When an API token was last used, so an idle token expires (TOKEN_IDLE_SECONDS). Kept beside
    DRF's token table rather than in it; without a row the token's creation time counts as its last use.
    Written at most once a minute per token, not on every request."""

    token = models.OneToOneField(
        "authtoken.Token", primary_key=True, on_delete=models.CASCADE, related_name="activity"
    )
    last_used_at = models.DateTimeField(_("last used"))

    class Meta:
        verbose_name = _("token activity")
        verbose_name_plural = _("token activity")

    def __str__(self) -> str:
        return f"{self.token_id[:6]}… {self.last_used_at:%Y-%m-%d %H:%M}"


class LoginLockout(models.Model):
    """A run of failed log-ins for one username, and the lock it led to. Kept for any username tried,
    whether or not an account has it, so a lock answers the same for both. In the database so every
    worker process sees it."""

    username = models.CharField(_("username"), max_length=150, unique=True)
    failures = models.PositiveIntegerField(_("failures"), default=0)
    first_failure_at = models.DateTimeField(_("first failure"), null=True, blank=True)
    last_failure_at = models.DateTimeField(_("last failure"), null=True, blank=True, db_index=True)
    last_ip = models.GenericIPAddressField(_("last client address"), null=True, blank=True)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)

    class Meta:
        verbose_name = _("log-in lock-out")
        verbose_name_plural = _("log-in lock-outs")

    def __str__(self) -> str:
        return self.username
