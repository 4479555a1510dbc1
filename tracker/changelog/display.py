"""Change entries as a person reads them: each field by its verbose name in the page's language,
related records by their names (萍乡市, not `3`), choice labels (女, 已批准), people by their names,
times in the configured time zone (settings.TIME_ZONE), and domain verbs by their labels.

Entries store raw values (ids, codes, UTC ISO times), which is what the API answers and what the HMAC
covers; this module only renders them, for the admin's history pages and change-log list. It resolves
the related records of a whole page of entries with one query per related model.

"Bookkeeping" entries record no fact of their own and are hidden from the change-log list by default
(they stay in every record's history and in verification):
- a plain save that changed nothing (action create/update with no changed field: e.g. a form saved
  without edits); domain events that change no field (`pii_reveal`, `duplicate_probe`) are facts and
  are never hidden;
- an update of fields an app declares derived (`register_derived_fields`): e.g. a person's current
  employment status, copied from the status change whose own entry records the fact.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tracker.changelog.context import Source
from tracker.changelog.entries import ChangeAction, ChangeEntry

EMPTY = "—"

_ACTION_LABELS: dict[str, Any] = {choice.value: choice.label for choice in ChangeAction}
_DERIVED_FIELDS: dict[str, frozenset[str]] = {}


def register_action_labels(labels: Mapping[str, Any]) -> None:
    """Apps name their domain verbs (`approve`, `pii_reveal`...) for people; called at import time
    of each app's admin module. An unregistered verb shows as it is stored."""
    _ACTION_LABELS.update(labels)


def action_label(action: str) -> str:
    return str(_ACTION_LABELS.get(action, action))


def register_derived_fields(model: type[models.Model], names: Iterable[str]) -> None:
    """Fields of `model` that only mirror facts logged by another record's entry; an update that
    changes nothing else is bookkeeping."""
    _DERIVED_FIELDS[model._meta.label_lower] = frozenset(names)


def bookkeeping_q() -> Q:
    """Entries that record no fact of their own (see the module docstring)."""
    plain = [ChangeAction.CREATE, ChangeAction.UPDATE]
    q = Q(action__in=plain, changes={})
    for label, derived in _DERIVED_FIELDS.items():
        model = apps.get_model(label)
        others = [f.name for f in model._meta.concrete_fields if f.name not in derived]
        q |= Q(model=label, action=ChangeAction.UPDATE) & ~Q(changes__has_any_keys=others)
    return q


def person_name(user: Any) -> str:
    """A user as people call them: the real name (family name first, as Chinese names are written),
    else the username."""
    if user is None:
        return ""
    full = f"{user.last_name or ''}{user.first_name or ''}".strip()
    return full or user.get_username()


@dataclass
class FieldChange:
    label: str
    old: str
    new: str


@dataclass
class EntryView:
    """One change entry, rendered."""

    entry: ChangeEntry
    when: dt.datetime
    actor: str
    actor_username: str
    source: str
    action: str
    model: str
    changes: list[FieldChange] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return "; ".join(f"{c.label}: {c.old} → {c.new}" for c in self.changes)


def model_for(label: str) -> type[models.Model] | None:
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _field(model: type[models.Model] | None, name: str) -> models.Field | None:
    if model is None:
        return None
    try:
        found = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return found if isinstance(found, models.Field) else None


def _order(model: type[models.Model] | None, name: str) -> tuple[int, str]:
    """Fields in the order the model declares them (the form's order), unknown ones last."""
    if model is None:
        return (0, name)
    order = model.__dict__.get("_display_order")
    if order is None:
        order = {f.name: i for i, f in enumerate(model._meta.concrete_fields)}
        model._display_order = order
    return (order.get(name, len(order)), name)


def object_names(entries: Iterable[ChangeEntry]) -> dict[tuple[str, str], str]:
    """(model label, object id) -> the record's name today, for the entries whose record still
    exists (a deleted one keeps the label its entry stored): one query per model, with the record's
    own references joined so its name costs no further query."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        wanted[entry.model].add(entry.object_id)
    names: dict[tuple[str, str], str] = {}
    for label, ids in wanted.items():
        model = model_for(label)
        if model is None:
            continue
        related = [
            f.name for f in model._meta.concrete_fields if f.many_to_one and not f.name.startswith("cause")
        ]
        pk_field = model._meta.pk
        try:
            keys = [pk_field.to_python(i) for i in ids]
        except Exception:
            continue
        for obj in model._base_manager.filter(pk__in=keys).select_related(*related):
            names[(label, str(obj.pk))] = str(obj)
    return names


def _local_time(value: str) -> str:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, dt.UTC)
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


def _render(value: Any, fld: models.Field | None, names: dict[tuple[type, str], str]) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY
    if fld is None:
        return str(value)
    if fld.is_relation and fld.many_to_one:
        return names.get((fld.related_model, str(value)), f"#{value}")
    if fld.choices:
        return str(dict(fld.flatchoices).get(value, value))
    if isinstance(fld, models.BooleanField):
        return str(_("Yes") if value else _("No"))
    if isinstance(fld, models.DateTimeField):
        return _local_time(str(value))
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


def _related_names(entries: list[ChangeEntry]) -> dict[tuple[type, str], str]:
    """(related model, id) -> name, for every foreign key value and actor on the page: one query per
    related model."""
    wanted: dict[type, set[str]] = defaultdict(set)
    user_model = apps.get_model("accounts", "User") if apps.is_installed("tracker.accounts") else None
    for entry in entries:
        if entry.actor_id is not None and user_model is not None:
            wanted[user_model].add(str(entry.actor_id))
        model = model_for(entry.model)
        for name, pair in (entry.changes or {}).items():
            fld = _field(model, name)
            if fld is None or not (fld.is_relation and fld.many_to_one):
                continue
            for value in pair or ():
                if value is not None:
                    wanted[fld.related_model].add(str(value))
    names: dict[tuple[type, str], str] = {}
    for related, ids in wanted.items():
        # Unscoped on purpose: the entries were already scoped, and a name is what the entry
        # referred to when it was written (a record since moved elsewhere is still named).
        for obj in related._base_manager.filter(pk__in=ids):
            label = person_name(obj) if related is user_model else str(obj)
            names[(related, str(obj.pk))] = label
    return names


def describe_entries(entries: Iterable[ChangeEntry]) -> list[EntryView]:
    entries = list(entries)
    names = _related_names(entries)
    user_model = apps.get_model("accounts", "User") if apps.is_installed("tracker.accounts") else None
    sources = dict(Source.choices)
    views = []
    for entry in entries:
        model = model_for(entry.model)
        changes = []
        for name, pair in sorted((entry.changes or {}).items(), key=lambda item: _order(model, item[0])):
            fld = _field(model, name)
            old, new = [*pair, None, None][:2] if isinstance(pair, list) else (None, pair)
            shown_old, shown_new = _render(old, fld, names), _render(new, fld, names)
            if shown_old == shown_new:
                continue  # e.g. an empty field of a new record: nothing a reader needs
            label = str(fld.verbose_name) if fld is not None else name
            changes.append(FieldChange(label=label, old=shown_old, new=shown_new))
        actor = entry.actor_name
        if entry.actor_id is not None and user_model is not None:
            actor = names.get((user_model, str(entry.actor_id)), actor)
        views.append(
            EntryView(
                entry=entry,
                when=timezone.localtime(entry.at),
                actor=actor,
                actor_username=entry.actor_name,
                source=str(sources.get(entry.source, entry.source)),
                action=action_label(entry.action),
                model=str(model._meta.verbose_name) if model is not None else entry.model,
                changes=changes,
            )
        )
    return views
