"""Duplicate probes: answers about people registered outside the asker's region.

Whether an identity number is registered is personal information about someone the asker may not
see (PIPL art. 28: identity numbers are sensitive). A single registration has to say "already
registered elsewhere" (services.conflict_for_existing), but an import could ask that of 200,000
numbers in one dry run and leave no trace. So an import that meets such a person:
- says no more than a single registration does (services.registered_elsewhere_message);
- writes a `duplicate_probe` change entry on the probed person, with the asker as actor, in a
  transaction of its own that is committed whatever becomes of the import (a rejected file or a dry
  run must not erase the trace); the entry carries the person's region, so that region's auditors see
  who asked about their people;
- counts against a limit per user and rolling hour (settings.DUPLICATE_PROBE_LIMIT): an import that
  would go past it is refused whole with 429 and Retry-After, without any row's answer.

The count is read from the change log itself rather than a table of its own: the log is the record
auditors trust (append-only, signed), so the limit can never disagree with what the log shows, and it
costs one indexed range query on `at` per import that meets an out-of-scope person, not a second
write per probe.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from beneficiaries.models import Beneficiary
from tracker.changelog.context import Source, acting, change_context
from tracker.changelog.models import ChangeEntry
from tracker.changelog.services import record_event
from tracker.errors import TooManyRequests

ACTION = "duplicate_probe"
WINDOW = dt.timedelta(hours=1)


class ProbeLimitExceeded(TooManyRequests):
    """The user has asked about too many people outside their region within the hour (429)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            _(
                "Too many identity numbers registered outside your region were submitted within an hour "
                "(limit %(n)d); nothing was checked or written. Try again later."
            )
            % {"n": probe_limit()},
            retry_after=retry_after,
        )


def probe_limit() -> int:
    return int(getattr(settings, "DUPLICATE_PROBE_LIMIT", 20))


def _recent(actor: Any) -> Any:
    return ChangeEntry.objects.filter(
        action=ACTION, actor_id=actor.pk, at__gte=timezone.now() - WINDOW
    ).order_by("at")


def probes_used(actor: Any) -> int:
    """Probes by this user in the last hour, from the change log."""
    if getattr(actor, "pk", None) is None:
        return 0
    return _recent(actor).count()


def retry_after(actor: Any) -> int:
    """Seconds until the user is back under the limit (the oldest probes that must age out have)."""
    times = list(_recent(actor).values_list("at", flat=True))
    excess = len(times) - probe_limit()
    if excess < 0:
        return 1
    expires = times[excess] + WINDOW
    return max(1, math.ceil((expires - timezone.now()).total_seconds()))


def ensure_under_limit(actor: Any) -> None:
    """Refuse before reading a file when the user is already at the limit: otherwise a refusal that
    came only for files with a hit in them would itself answer the question."""
    if getattr(actor, "pk", None) is not None and probes_used(actor) >= probe_limit():
        raise ProbeLimitExceeded(retry_after(actor))


def record_probes(*, actor: Any, beneficiary_ids: Sequence[int]) -> None:
    """Write a `duplicate_probe` entry on each probed person and refuse (429) when this takes the
    user past the limit. Runs in its own transaction, committed before the import goes on, so the
    entries stay whether the import is then rejected, run dry or written; the user's row is locked
    meanwhile, so two imports of one user are counted one after the other. Past the limit only one
    more entry than the allowance is written: enough to keep the user out for the window, while a
    file of 200,000 such numbers does not turn into 200,000 writes."""
    if not beneficiary_ids:
        return
    reason = _("identity number submitted in an import by someone outside this person's region")
    with transaction.atomic(), change_context(source=Source.IMPORT), acting(actor):
        allowance = len(beneficiary_ids)
        if getattr(actor, "pk", None) is not None:
            get_user_model().objects.select_for_update().filter(pk=actor.pk).first()
            allowance = max(probe_limit() - probes_used(actor), 0)
        wanted = list(dict.fromkeys(beneficiary_ids))[: allowance + 1]
        people = Beneficiary.objects.select_for_update().in_bulk(wanted)
        for pk in wanted:
            if pk in people:
                # Logged on the probed person, where their region's auditors see it.
                record_event(people[pk], action=ACTION, reason=reason, outside_scope_ok=True)
        over = len(wanted) > allowance
    if over:
        raise ProbeLimitExceeded(retry_after(actor))


def check_single_registration(*, actor: Any, id_number: Any) -> None:
    """Before a single registration's own transaction (API create, the admin's add form): when the
    number is already registered outside the caller's region, log the probe on that person, committed
    whatever happens next, and answer as the service would (409, saying only "registered elsewhere";
    429 past the hourly limit). So one-at-a-time creates are counted like the import's rows."""
    from beneficiaries.identity import normalise_id_number
    from beneficiaries.models import ID_NUMBER_PURPOSE
    from beneficiaries.services import conflict_for_existing
    from tracker.pii import keyed_hash

    number = normalise_id_number(str(id_number or ""))
    if len(number) != 18 or getattr(actor, "pk", None) is None:
        return  # malformed: the service's own validation answers
    existing = Beneficiary.objects.filter(
        id_number_hash=keyed_hash(number, purpose=ID_NUMBER_PURPOSE)
    ).first()
    if existing is None or Beneficiary.objects.visible_to(actor).filter(pk=existing.pk).exists():
        return
    ensure_under_limit(actor)
    record_probes(actor=actor, beneficiary_ids=[existing.pk])
    raise conflict_for_existing(existing, actor)
