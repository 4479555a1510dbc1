"""Reads over the change log: verification, in constant memory, of the entries, the live rows they
describe and the checkpoint chain that seals the log.

What verify catches, and how:
- an entry altered or forged without the key: its HMAC no longer matches;
- an entry removed from the middle of a record's history: a gap in its versions;
- the newest entries removed, or a write that bypassed the log and bumped `version`: the live row's
  version has no entry;
- a row changed in SQL that left `version` alone: the row's values no longer hash to the row hash
  its last entry recorded;
- a row with no entries at all, or gone without a delete entry (in any scope);
- a record deleted together with all its entries (or any entry removed or altered before a
  checkpoint): the checkpoint chain no longer recomputes to the digests stored, or printed and kept
  outside the database (`checkpoint_changes`).

Everything streams: entries in (model, object, version) order with only the previous one in memory,
live rows joined to their last entry by one query per model, the chain over entry HMACs in id order.
`since` skips re-checking the HMACs of entries an earlier checkpoint already sealed (incremental).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db.models import BigIntegerField, CharField, Exists, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Concat

from tracker.changelog.entries import ChangeAction, ChangeCheckpoint, ChangeEntry
from tracker.changelog.models import TrackedModel
from tracker.changelog.services import entry_signed_values
from tracker.changelog.signing import chain_digest, entry_hmac, row_hash
from tracker.scope import scope_field

CHUNK = 5000


def tracked_models() -> list[type[TrackedModel]]:
    return [m for m in apps.get_models() if issubclass(m, TrackedModel)]


@dataclass
class VerifyReport:
    max_problems: int = 1000
    checked: int = 0
    rows_checked: int = 0
    checkpoints_checked: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    total_problems: int = 0

    def add(self, entry_id: int | None, obj: str, text: str) -> None:
        self.total_problems += 1
        if len(self.problems) < self.max_problems:
            self.problems.append({"entry": entry_id, "object": obj, "problem": text})

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.total_problems == 0,
            "checked": self.checked,
            "rows_checked": self.rows_checked,
            "checkpoints_checked": self.checkpoints_checked,
            "problems": self.problems,
        }


def _entries_in_scope(within_path: str | None) -> Iterator[ChangeEntry]:
    """The entries to check, ordered by (model, object_id, object_version). Within a region: every
    entry of each object that has any entry there (an object that moved keeps its whole history
    together), read model by model as a semi-join through the region index and the
    (model, object_id, object_version) index, so a county's verify never reads the country's log."""
    ordering = ("model", "object_id", "object_version")
    if not within_path:
        yield from ChangeEntry.objects.order_by(*ordering).iterator(chunk_size=CHUNK)
        return
    in_scope = ChangeEntry.objects.filter(region_path__within=within_path)
    labels = sorted(set(in_scope.values_list("model", flat=True).distinct()))
    for label in labels:
        object_ids = in_scope.filter(model=label).values("object_id")
        rows = ChangeEntry.objects.filter(model=label, object_id__in=object_ids).order_by(*ordering)
        yield from rows.iterator(chunk_size=CHUNK)


def _check_entries(report: VerifyReport, within_path: str | None, since: int) -> None:
    """HMAC of each entry (after `since`) and the unbroken 1, 2, 3... of each object's versions."""
    previous: tuple[str, str, int] | None = None
    for entry in _entries_in_scope(within_path):
        report.checked += 1
        obj = f"{entry.model}#{entry.object_id}"
        if entry.id > since and entry.hmac != entry_hmac(entry_signed_values(entry)):
            report.add(entry.id, obj, "entry does not match its HMAC (altered or forged)")
        same = previous is not None and previous[:2] == (entry.model, entry.object_id)
        expected = previous[2] + 1 if same else 1
        if entry.object_version != expected:
            report.add(
                entry.id, obj, f"version {entry.object_version} follows {expected - 1}: entries missing"
            )
        previous = (entry.model, entry.object_id, entry.object_version)


def _check_rows(report: VerifyReport, model: type[TrackedModel], within_path: str | None) -> None:
    """Each live row against the entry of its current version: present, not a delete, and recording
    the row's values (one streaming query per model)."""
    label = model._meta.label_lower
    rows = model._base_manager.all()
    if within_path:
        if scope_field(model) is None:
            return  # reference data has no region: a whole-log verify checks it
        rows = rows.within(within_path)
    attnames = [field.attname for field in model._meta.concrete_fields]
    # The entry of each row's current version, through the (model, object_id, object_version) unique
    # index, as one text value "id|action|row_hash" (one correlated look-up per row; the rows keep
    # the ORM's conversions, which the row hash needs).
    entry = (
        ChangeEntry.objects.filter(
            model=label,
            object_id=Cast(OuterRef("pk"), output_field=CharField()),
            object_version=OuterRef("version"),
        )
        .annotate(
            info=Concat(Cast("id", output_field=CharField()), Value("|"), "action", Value("|"), "row_hash")
        )
        .values("info")[:1]
    )
    annotated = rows.annotate(entry_info=Subquery(entry, output_field=CharField()))
    instance = model()
    for values in annotated.values_list(*attnames, "entry_info").iterator(chunk_size=CHUNK):
        report.rows_checked += 1
        state = dict(zip(attnames, values[: len(attnames)], strict=True))
        info = values[-1]
        entry_id, action, recorded = (None, "", "") if info is None else info.split("|")
        entry_id = int(entry_id) if entry_id else None
        pk = state[model._meta.pk.attname]
        obj = f"{label}#{pk}"
        if entry_id is None:
            report.add(
                None,
                obj,
                f"record is at version {state['version']} but no entry records that version "
                "(entries removed, or a write bypassed the log)",
            )
        elif action == ChangeAction.DELETE:
            report.add(entry_id, obj, "record exists after its delete entry")
        elif recorded and recorded != row_hash(instance.row_values(state)):
            report.add(
                entry_id, obj, "record's values differ from those its last entry recorded (changed in SQL)"
            )


def _check_gone(report: VerifyReport, model: type[TrackedModel], within_path: str | None) -> None:
    """Objects whose last entry is not a delete but whose row is gone."""
    label = model._meta.label_lower
    newer = ChangeEntry.objects.filter(
        model=label, object_id=OuterRef("object_id"), object_version__gt=OuterRef("object_version")
    )
    live = model._base_manager.filter(pk=Cast(OuterRef("object_id"), output_field=BigIntegerField()))
    last_entries = ChangeEntry.objects.filter(model=label).exclude(action=ChangeAction.DELETE)
    if within_path:
        last_entries = last_entries.filter(region_path__within=within_path)
    gone = last_entries.filter(~Exists(newer), ~Exists(live)).values_list("id", "object_id")
    for entry_id, object_id in gone.iterator(chunk_size=CHUNK):
        report.add(entry_id, f"{label}#{object_id}", "record is gone without a delete entry")


def _hmacs(after: int, upto: int) -> Iterator[str]:
    rows = (
        ChangeEntry.objects.filter(id__gt=after, id__lte=upto).order_by("id").values_list("hmac", flat=True)
    )
    return rows.iterator(chunk_size=CHUNK)


def _check_chain(report: VerifyReport, external: list[tuple[int, str]] | None) -> None:
    expected = {c.last_entry_id: c.digest for c in ChangeCheckpoint.objects.all()}
    for last_id, digest in external or []:
        if expected.get(last_id, digest) != digest:
            report.add(
                None, f"checkpoint@{last_id}", "the database's checkpoint differs from the copy kept outside"
            )
        expected.setdefault(last_id, digest)
    previous = ""
    last = 0
    for last_id in sorted(expected):
        previous = chain_digest(previous, _hmacs(last, last_id))
        report.checkpoints_checked += 1
        if previous != expected[last_id]:
            report.add(
                None,
                f"checkpoint@{last_id}",
                "the log up to this checkpoint no longer recomputes to its digest (entries removed or altered)",
            )
            previous = expected[last_id]  # carry on from the sealed value to localise later breaks
        last = last_id


def changes_verify(
    *,
    within_path: str | None = None,
    since_checkpoint: bool = False,
    external_checkpoints: list[tuple[int, str]] | None = None,
    max_problems: int = 1000,
) -> dict[str, Any]:
    """Verify the log (optionally only what lies within a region subtree). `since_checkpoint` skips
    the HMACs of entries sealed by the last checkpoint; `external_checkpoints` are (last entry id,
    digest) pairs kept outside the database, checked against the chain."""
    report = VerifyReport(max_problems=max_problems)
    since = 0
    if since_checkpoint:
        latest = ChangeCheckpoint.objects.order_by("-last_entry_id").first()
        since = latest.last_entry_id if latest else 0
    _check_entries(report, within_path, since)
    for model in tracked_models():
        _check_rows(report, model, within_path)
        _check_gone(report, model, within_path)
    if not within_path:
        _check_chain(report, external_checkpoints)
    return report.as_dict()


def checkpoint_create() -> ChangeCheckpoint | None:
    """Seal the log up to its newest entry: the next link of the chain (None when nothing is new)."""
    previous = ChangeCheckpoint.objects.order_by("-last_entry_id").first()
    last_id = ChangeEntry.objects.order_by("-id").values_list("id", flat=True).first()
    start = previous.last_entry_id if previous else 0
    if last_id is None or last_id <= start:
        return None
    digest = chain_digest(previous.digest if previous else "", _hmacs(start, last_id))
    count = ChangeEntry.objects.filter(id__lte=last_id).count()
    checkpoint = ChangeCheckpoint(
        last_entry_id=last_id,
        entry_count=count,
        previous_digest=previous.digest if previous else "",
        digest=digest,
    )
    checkpoint.save()
    return checkpoint


__all__ = ["changes_verify", "checkpoint_create", "tracked_models"]
