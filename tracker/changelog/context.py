"""Who is changing what, and why: the context every change entry is stamped with.

The HTTP middleware opens one context per request; management commands, the seed and imports open
their own. Services narrow it for a domain verb (`approve`, `redeem`, `pii_reveal`) and a reason.
A context variable (not a thread local) so it is correct under threads and async alike.
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class Source(models.TextChoices):
    API = "api", _("API")
    ADMIN = "admin", _("Admin")
    IMPORT = "import", _("Import")
    SEED = "seed", _("Seed")
    COMMAND = "command", _("Management command")


@dataclass(frozen=True)
class ChangeContext:
    source: str = Source.COMMAND
    request_id: str = ""
    # A Django HttpRequest whose `.user` is read when an entry is written: DRF authenticates tokens
    # inside the view, after the middleware has run, and sets the user on the underlying request.
    request: Any = None
    user: Any = None
    actor_name: str = ""
    action: str | None = None
    reason: str = ""

    def actor(self) -> Any:
        user = self.user
        if user is None and self.request is not None:
            user = getattr(self.request, "user", None)
        if user is not None and getattr(user, "is_authenticated", False):
            return user
        return None

    def actor_label(self) -> str:
        user = self.actor()
        if user is not None:
            return user.get_username()
        return self.actor_name or "system"


_current: contextvars.ContextVar[ChangeContext] = contextvars.ContextVar(
    "tracker_change_context",
    default=ChangeContext(actor_name="system"),  # noqa: B039 (frozen)
)


def current_context() -> ChangeContext:
    return _current.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


@contextmanager
def change_context(**fields: Any) -> Iterator[ChangeContext]:
    """Open a (nested) context; fields not given are inherited from the enclosing one."""
    ctx = replace(_current.get(), **fields)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


@contextmanager
def command_context(name: str, *, source: str = Source.COMMAND) -> Iterator[ChangeContext]:
    """Context for scripts: the actor is the command's name, with a fresh request id per run."""
    with change_context(
        source=source, actor_name=name, request=None, user=None, request_id=new_request_id()
    ) as ctx:
        yield ctx
