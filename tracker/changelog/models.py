"""The change log's tracked base model: every domain record is versioned (its ETag), region-scoped
(tracker.scope) and change-logged.

Saving or deleting a TrackedModel writes its change entry (entries.py) in the same transaction, through
services.py; the bulk paths of its queryset refuse to run outside the bulk helpers there, which log in
bulk.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from tracker.changelog.entries import (
    ChangeAction,
    ChangeCheckpoint,
    ChangeEntry,
    ChangeEntryQuerySet,
    UntrackedWriteError,
    bulk_write_allowed,
)
from tracker.changelog.services import record_save
from tracker.scope import ScopedQuerySet

__all__ = [
    "ChangeAction",
    "ChangeCheckpoint",
    "ChangeEntry",
    "ChangeEntryQuerySet",
    "TrackedModel",
    "TrackedQuerySet",
    "UntrackedWriteError",
]


class TrackedQuerySet(ScopedQuerySet):
    """Queryset of a tracked model: region-scoped (tracker.scope), and its bulk writes must go through
    the helpers in services.py. It is also the model's base manager, so `_base_manager.update()` is
    guarded too (Django's plain base manager would skip the log)."""

    def _guard(self, what: str) -> None:
        if not bulk_write_allowed.get():
            raise UntrackedWriteError(
                f"{self.model._meta.label}.{what}() skips the change log; "
                "use tracker.changelog.services.tracked_bulk_create / tracked_update / tracked_bulk_update"
            )

    def update(self, **kwargs: Any) -> int:
        self._guard("update")
        return super().update(**kwargs)

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> Any:
        self._guard("bulk_create")
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs: Any, fields: Any, *args: Any, **kwargs: Any) -> Any:
        self._guard("bulk_update")
        return super().bulk_update(objs, fields, *args, **kwargs)

    def update_or_create(self, *args: Any, **kwargs: Any) -> Any:
        # Goes through save(), which logs; allowed.
        return super().update_or_create(*args, **kwargs)


class TrackedModel(models.Model):
    """Base of every domain record: versioned (the ETag), region-scoped and change-logged."""

    version = models.PositiveIntegerField(_("version"), default=0, editable=False)

    # Lookup from this model to its Region, for scoping and for stamping change entries (see
    # tracker.scope): "region", "beneficiary__region", "self" for the region tree, "" for reference
    # data without a region.
    region_lookup: ClassVar[str] = "region"
    # Fields never copied into a change entry (ciphertexts, keyed hashes); add masked stand-ins by
    # overriding `changelog_values`.
    changelog_exclude: ClassVar[frozenset[str]] = frozenset()

    objects = TrackedQuerySet.as_manager()

    class Meta:
        abstract = True
        base_manager_name = "objects"

    # -- snapshots of what was loaded, so an update can log old -> new without another query ------
    @classmethod
    def from_db(cls, db: str, field_names: Any, values: Any) -> TrackedModel:
        instance = super().from_db(db, field_names, values)
        instance._loaded_state = dict(zip(field_names, values, strict=True))
        return instance

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        super().refresh_from_db(*args, **kwargs)
        # What was just read is the new "old" state for the next save's diff.
        fields = kwargs.get("fields")
        state = getattr(self, "_loaded_state", None)
        if fields is None or state is None:
            self._loaded_state = self.current_state()
        else:
            for name in fields:
                attname = self._meta.get_field(name).attname
                state[attname] = getattr(self, attname)

    def current_state(self) -> dict[str, Any]:
        return {field.attname: getattr(self, field.attname, None) for field in self._meta.concrete_fields}

    @classmethod
    def _log_fields(cls) -> list[tuple[str, str, Any]]:
        """(name, attname, converter) of the fields a change entry shows, worked out once per model."""
        cached = cls.__dict__.get("_log_fields_cache")
        if cached is None:
            from tracker.changelog.values import log_converter

            cached = [
                (field.name, field.attname, log_converter(field))
                for field in cls._meta.concrete_fields
                if not (field.name in cls.changelog_exclude or field.primary_key or field.name == "version")
            ]
            cls._log_fields_cache = cached
        return cached

    @classmethod
    def _row_fields(cls) -> list[tuple[str, str, Any]]:
        """(name, attname, converter) of every stored value the row hash covers: all columns but the
        primary key and the version (verify checks the version on its own)."""
        cached = cls.__dict__.get("_row_fields_cache")
        if cached is None:
            from tracker.changelog.values import log_converter

            cached = [
                (field.name, field.attname, log_converter(field))
                for field in cls._meta.concrete_fields
                if not (field.primary_key or field.name == "version")
            ]
            cls._row_fields_cache = cached
        return cached

    def row_values(self, state: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, attname, convert in self._row_fields():
            value = state.get(attname)
            values[name] = None if value is None else convert(value)
        return values

    def changelog_values(self, state: dict[str, Any]) -> dict[str, Any]:
        """The record's state as written to the change log: JSON-safe, and without the excluded
        fields (store personal data masked in its own column so the log shows only that)."""
        values: dict[str, Any] = {}
        for name, attname, convert in self._log_fields():
            if attname in state:
                value = state[attname]
                values[name] = None if value is None else convert(value)
        return values

    @classmethod
    def stores_region_path(cls) -> bool:
        """Whether the model keeps its region's path in its own `region_path` column (its scope
        column, tracker.scope), which saves and bulk writes keep in step with its region."""
        return getattr(cls, "scope_path_field", None) == "region_path"

    def get_region_path(self) -> str:
        """Materialised path of the record's region ('' when it has none), from its region
        reference (never from the stored copy, which this keeps in step)."""
        if not self.region_lookup:
            return ""
        if self.region_lookup == "self":
            return self.path  # type: ignore[attr-defined]
        parts = self.region_lookup.split("__")
        obj: Any = self
        for part in parts[:-1]:
            obj = getattr(obj, part, None)
            if obj is None:
                return ""
        field = obj._meta.get_field(parts[-1])
        if field.is_cached(obj):
            region = getattr(obj, parts[-1])
            return region.path if region is not None else ""
        region_id = getattr(obj, field.attname)
        return field.related_model.cached_path(region_id) if region_id is not None else ""

    def validate_row(self, exclude: Any = (), *, dry_run: bool = False) -> None:
        """`full_clean` without the checks the database makes on the write anyway: unique fields and
        constraints, check constraints (tracker.integrity turns their refusals into the same field
        errors), and the existence of referenced records (one query each otherwise: references
        reach services as records the door already looked up in the caller's scope, and the
        database's foreign keys refuse the rest). A dry run (the admin checking a form before saving
        it) writes nothing, so it asks the database's questions itself."""
        skip = set(exclude)
        if not dry_run:
            skip.update(field.name for field in self._meta.concrete_fields if field.many_to_one)
        self.full_clean(exclude=skip, validate_unique=dry_run, validate_constraints=dry_run)

    def change_label(self) -> str:
        return str(self)[:255]

    def save(self, *args: Any, **kwargs: Any) -> None:
        record_save(self, super().save, *args, **kwargs)
