"""Role checks for services: who may do what. (Where they may do it is tracker.scope.)"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

ROLE_REFUSED = _("Your role does not allow this action.")


def require_role(actor: Any, *roles: str) -> None:
    """Refuse (403) unless the actor is a signed-in user holding one of the roles (or a superuser)."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.has_role(*roles):
        raise PermissionDenied(ROLE_REFUSED)


def require_superuser(actor: Any, message: Any) -> None:
    if not getattr(actor, "is_superuser", False):
        raise PermissionDenied(message)
