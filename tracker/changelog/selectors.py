"""Reads over the change log: verification of the HMACs and of each object's unbroken history."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models import Exists, OuterRef

from tracker.changelog.models import ChangeAction, ChangeEntry, TrackedModel
from tracker.changelog.services import entry_signed_values
from tracker.changelog.signing import entry_hmac
from tracker.scope import scope_field


def tracked_models() -> list[type[TrackedModel]]:
    return [m for m in apps.get_models() if issubclass(m, TrackedModel)]


def changes_verify(*, within_path: str | None = None, max_problems: int = 1000) -> dict[str, Any]:
    """Re-check every entry (optionally of objects that have entries within a region subtree).

    Detects: an entry whose fields no longer match its HMAC (altered or forged without the key); a
    gap in an object's versions (an entry removed); an object whose version is ahead of its last
    entry (its newest entries removed, or a write that bypassed the log); an object gone with no
    delete entry, or present after one.
    """
    entries = ChangeEntry.objects.all()
    if within_path:
        in_scope = ChangeEntry.objects.filter(
            region_path__startswith=within_path,
            model=OuterRef("model"),
            object_id=OuterRef("object_id"),
        )
        entries = entries.filter(Exists(in_scope))
    problems: list[dict[str, Any]] = []
    checked = 0

    def problem(entry_id: int | None, obj: str, text: str) -> None:
        if len(problems) < max_problems:
            problems.append({"entry": entry_id, "object": obj, "problem": text})

    last: dict[tuple[str, str], tuple[int, str, int]] = {}  # (model, id) -> (version, action, entry id)
    for entry in entries.order_by("model", "object_id", "object_version").iterator(chunk_size=5000):
        checked += 1
        key = (entry.model, entry.object_id)
        obj = f"{entry.model}#{entry.object_id}"
        if entry.hmac != entry_hmac(entry_signed_values(entry)):
            problem(entry.id, obj, "entry does not match its HMAC (altered or forged)")
        expected = last[key][0] + 1 if key in last else 1
        if entry.object_version != expected:
            problem(entry.id, obj, f"version {entry.object_version} follows {expected - 1}: entries missing")
        last[key] = (entry.object_version, entry.action, entry.id)

    by_model: dict[str, dict[str, tuple[int, str, int]]] = {}
    for (label, object_id), info in last.items():
        by_model.setdefault(label, {})[object_id] = info
    for model in tracked_models():
        label = model._meta.label_lower
        seen = by_model.get(label, {})
        if within_path and scope_field(model) is None:
            continue  # reference data has no region: only a whole-log verify checks it
        rows = model._base_manager.within(within_path) if within_path else model._base_manager.all()
        live: set[str] = set()
        for pk, version in rows.values_list("pk", "version").iterator(chunk_size=5000):
            object_id = str(pk)
            live.add(object_id)
            info = seen.get(object_id)
            if info is None:
                problem(None, f"{label}#{object_id}", "record has no change entries")
            elif info[1] == ChangeAction.DELETE:
                problem(info[2], f"{label}#{object_id}", "record exists after its delete entry")
            elif info[0] != version:
                problem(
                    info[2],
                    f"{label}#{object_id}",
                    f"record is at version {version} but its last entry is version {info[0]}",
                )
        if not within_path:
            for object_id, info in seen.items():
                if object_id not in live and info[1] != ChangeAction.DELETE:
                    problem(info[2], f"{label}#{object_id}", "record is gone without a delete entry")
    return {"ok": not problems, "checked": checked, "problems": problems}
