"""Who is changing what, and why: the context every change entry is stamped with.

The actor is explicit. Every service takes `actor` and writes under `acting(actor, action=..., reason=...)`;
the change log refuses a write that has no actor (see services._stamp), so a service that forgot to
say who acts fails loudly instead of logging "system". Where no person acts — the seed loading
reference data, a migration-like command — `command_context(name)` names the script as the actor.

The HTTP middleware supplies only what the request knows before any view runs: a request id and the
source (`api` or `admin`). A context variable (not a thread local) so it is correct under threads,
async code and background jobs alike.
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
    JOB = "job", _("Background job")


# Sources whose writes may name a script instead of a person as the actor.
SCRIPT_SOURCES = frozenset({Source.SEED, Source.COMMAND, Source.IMPORT})


@dataclass(frozen=True)
class ChangeContext:
    source: str = Source.COMMAND
    request_id: str = ""
    # The user acting (set by services through `acting`), or None with `actor_name` naming a script.
    actor: Any = None
    actor_name: str = ""
    action: str | None = None
    reason: str = ""
    # Set only by record_event for events that change no data (e.g. a probe of another region's
    # person is logged on that person, outside the actor's own region).
    outside_scope_ok: bool = False

    def actor_label(self) -> str:
        if self.actor is not None:
            return self.actor.get_username()
        return self.actor_name


_current: contextvars.ContextVar[ChangeContext] = contextvars.ContextVar(
    "tracker_change_context",
    default=ChangeContext(),  # noqa: B039 (frozen)
)


def current_context() -> ChangeContext:
    return _current.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


@contextmanager
def change_context(**fields: Any) -> Iterator[ChangeContext]:
    """Open a (nested) context; fields not given are inherited from the enclosing one. Services use
    `acting`; this is for the infrastructure (middleware, commands, jobs)."""
    ctx = replace(_current.get(), **fields)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


@contextmanager
def acting(actor: Any, *, action: str | None = None, reason: str = "") -> Iterator[ChangeContext]:
    """The writes inside are made by `actor` (a user), as the domain verb `action` with `reason`.

    `actor=None` is allowed only inside a script's context (`command_context`), whose name then stands
    as the actor; anywhere else the change log refuses the write."""
    fields: dict[str, Any] = {"action": action, "reason": reason}
    if actor is not None:
        if not getattr(actor, "is_authenticated", False):
            raise ValueError("the actor must be a signed-in user")
        fields["actor"] = actor
    with change_context(**fields) as ctx:
        yield ctx


@contextmanager
def command_context(name: str, *, source: str = Source.COMMAND) -> Iterator[ChangeContext]:
    """Context for scripts: a fresh request id per run; the script's name is the actor of writes that
    no user makes (a user passed to a service through `acting` still takes precedence)."""
    with change_context(
        source=source, actor=None, actor_name=name, request_id=new_request_id(), action=None, reason=""
    ) as ctx:
        yield ctx
