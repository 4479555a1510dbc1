"""State machines as data: which verb moves a record from which statuses to which, who did it and when.

A service declares its record's machine once —

    PAYMENT_FLOW = StateMachine({
        "submit": Transition(sources={"draft"}, target="submitted",
                             actor_field="submitted_by", time_field="submitted_at"),
        ...
    })

— and moves a record with `PAYMENT_FLOW.apply(payment, "submit", actor=...)`, which refuses a move
from any other status with a 409 naming the current status (its label, and its code in
`status_now`), stamps the actor and time fields, saves only the fields it changed, and writes the
change entry with the verb as its action. Payments use it now; assignments, vouchers and findings
use it as they arrive.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from tracker.changelog.context import acting
from tracker.errors import Conflict


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str] | set[str]
    target: str
    actor_field: str | None = None
    time_field: str | None = None


@dataclass(frozen=True)
class StateMachine:
    transitions: Mapping[str, Transition]
    status_field: str = "status"

    def __getitem__(self, verb: str) -> Transition:
        return self.transitions[verb]

    def allowed(self, record: models.Model, verb: str) -> bool:
        return getattr(record, self.status_field) in self.transitions[verb].sources

    def expect(self, record: models.Model, verb: str) -> None:
        """Refuse (409) unless the record's status allows `verb`."""
        transition = self.transitions[verb]
        current = getattr(record, self.status_field)
        if current in transition.sources:
            return
        raise Conflict(
            _("STATUS: the %(record)s is %(status)s; %(verb)s needs %(allowed)s.")
            % {
                "record": record._meta.verbose_name,
                "status": _label(record, self.status_field, current),
                "verb": verb,
                "allowed": " / ".join(
                    _label(record, self.status_field, s) for s in sorted(transition.sources)
                ),
            },
            extra={"status_now": current, "verb": verb},
        )

    def apply(
        self,
        record: models.Model,
        verb: str,
        *,
        actor: Any,
        reason: str = "",
        at: dt.datetime | None = None,
        fields: Mapping[str, Any] | None = None,
        check: bool = True,
    ) -> models.Model:
        """Move `record` by `verb`: status, actor and time fields, plus `fields`; one UPDATE of those
        columns and one change entry whose action is the verb."""
        if check:
            self.expect(record, verb)
        transition = self.transitions[verb]
        changed = dict(fields or {})
        changed[self.status_field] = transition.target
        if transition.actor_field:
            changed[transition.actor_field] = actor
        if transition.time_field:
            changed[transition.time_field] = at or timezone.now()
        for name, value in changed.items():
            setattr(record, name, value)
        with acting(actor, action=verb, reason=reason):
            record.save(update_fields=list(changed))
        return record

    def targets(self, verbs: Iterable[str]) -> set[str]:
        return {self.transitions[v].target for v in verbs}


def _label(record: models.Model, field_name: str, value: str) -> str:
    choices = dict(record._meta.get_field(field_name).flatchoices)
    return str(choices.get(value, value))
