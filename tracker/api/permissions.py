"""Who may call what. Reading needs any role; writing needs one of the view's `write_roles`, or for a
custom action the roles in `action_roles[action]`. What a user may *see* is the region scope, applied
to querysets (see TrackedQuerySet.visible_to), not here."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

from tracker.accounts.choices import Role


class RolePermission(BasePermission):
    message = _("Your role does not allow this action.")

    def has_permission(self, request: Any, view: Any) -> bool:
        if not handles_method(view, request.method):
            # Let the view answer 405 (with Allow) to everyone alike, rather than a 403 to roles
            # that could not write anyway and a 405 to those that could.
            return True
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if user.is_superuser:
            return True
        action = getattr(view, "action", None)
        action_roles = getattr(view, "action_roles", {}) or {}
        if action in action_roles:
            return user.has_role(*action_roles[action])
        if request.method in SAFE_METHODS:
            return bool(user.roles)
        return user.has_role(*getattr(view, "write_roles", {Role.CLERK}))


def handles_method(view: Any, method: str) -> bool:
    """Whether the view has a handler for `method` (DRF's dispatch answers 405 otherwise)."""
    name = method.lower()
    return name in view.http_method_names and hasattr(view, name)
