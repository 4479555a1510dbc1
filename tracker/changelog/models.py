"""The change log: one append-only, tamper-evident entry per change to any tracked record.

`TrackedModel` is the base of every domain model. Saving or deleting one writes its entry in the same
transaction (see services.py); the bulk paths of its queryset refuse to run outside the bulk helpers,
which log in bulk. Entries are never updated or deleted: database triggers (migration 0002) refuse it.
"""

from __future__ import annotations

import contextvars
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tracker.changelog.context import Source

# Set by the bulk helpers in services.py while they run; the tracked queryset's bulk methods refuse
# to run without it, so no bulk write can skip the log.
bulk_write_allowed: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "tracker_bulk_write_allowed", default=False
)


class UntrackedWriteError(RuntimeError):
    """A tracked model was written in bulk without going through the change-log helpers."""


class ChangeAction(models.TextChoices):
    CREATE = "create", _("Create")
    UPDATE = "update", _("Update")
    DELETE = "delete", _("Delete")


class ChangeEntryQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise UntrackedWriteError("change entries are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise UntrackedWriteError("change entries are append-only")

    def within(self, path: str) -> ChangeEntryQuerySet:
        return self.filter(region_path__startswith=path)

    def visible_to(self, user: Any) -> ChangeEntryQuerySet:
        path = getattr(user, "scope_path", None)
        if path is None:
            return self.none()
        return self.within(path) if path else self


class ChangeEntry(models.Model):
    """One change to one record. `object_version` numbers an object's entries 1, 2, 3... with no gap;
    the HMAC covers every field, so an entry altered, forged, removed or re-ordered is detected."""

    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_name = models.CharField(_("actor name"), max_length=150)
    request_id = models.CharField(_("request id"), max_length=64, blank=True, db_index=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    action = models.CharField(_("action"), max_length=32)
    model = models.CharField(_("object type"), max_length=100)
    object_id = models.CharField(_("object id"), max_length=64)
    object_version = models.PositiveIntegerField(_("object version"))
    region_path = models.CharField(_("region path"), max_length=255, blank=True)
    label = models.CharField(_("label"), max_length=255, blank=True)
    changes = models.JSONField(_("changed fields"), default=dict, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    hmac = models.CharField(_("HMAC"), max_length=64)

    objects = ChangeEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("change entry")
        verbose_name_plural = _("change log")
        ordering = ["-id"]
        constraints = [
            # Two writers can never both record version N of one object: the second fails and its
            # transaction (and so its change) rolls back. Its index also serves look-ups by object.
            models.UniqueConstraint(
                fields=["model", "object_id", "object_version"], name="changeentry_object_version_uniq"
            ),
        ]
        indexes = [
            # `within` is a prefix match; on PostgreSQL only a pattern-ops index serves LIKE 'x%'.
            models.Index(
                fields=["region_path"], name="changeentry_region_like_idx", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.model}#{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise UntrackedWriteError("change entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise UntrackedWriteError("change entries are append-only")


class TrackedQuerySet(models.QuerySet):
    """Queryset of a tracked model. Bulk writes must go through the helpers in services.py."""

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

    # -- region scope ----------------------------------------------------------------------------
    def within(self, path: str) -> TrackedQuerySet:
        """Everything whose region lies in the subtree with this materialised path. Reference data
        without a region (region_lookup = "") is visible to everyone."""
        if not self.model.region_lookup:
            return self
        return self.filter(**{f"{self.model.region_lookup}__path__startswith": path})

    def visible_to(self, user: Any) -> TrackedQuerySet:
        """What this user may see: their region's subtree (everything for the country or a superuser)."""
        path = getattr(user, "scope_path", None)
        if path is None:
            return self.none()
        return self.within(path) if path else self


class TrackedModel(models.Model):
    """Base of every domain record: versioned (the ETag), region-scoped and change-logged."""

    version = models.PositiveIntegerField(_("version"), default=0, editable=False)

    # Lookup from this model to its Region, for scoping and for stamping change entries.
    region_lookup: ClassVar[str] = "region"
    # Fields never copied into a change entry (ciphertexts, keyed hashes); add masked stand-ins by
    # overriding `changelog_values`.
    changelog_exclude: ClassVar[frozenset[str]] = frozenset()

    objects = TrackedQuerySet.as_manager()

    class Meta:
        abstract = True

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

    def changelog_values(self, state: dict[str, Any]) -> dict[str, Any]:
        """The record's state as written to the change log: JSON-safe, and without the excluded
        fields (store personal data masked in its own column so the log shows only that)."""
        values: dict[str, Any] = {}
        for name, attname, convert in self._log_fields():
            if attname in state:
                value = state[attname]
                values[name] = None if value is None else convert(value)
        return values

    def get_region_path(self) -> str:
        """Materialised path of the record's region ('' when it has none)."""
        if not self.region_lookup:
            return ""
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

    @classmethod
    def rows_within(cls, path: str) -> models.QuerySet | None:
        """Rows whose region lies within the path; None for reference data that has no region."""
        if not cls.region_lookup:
            return None
        return cls._base_manager.filter(**{f"{cls.region_lookup}__path__startswith": path})

    def change_label(self) -> str:
        return str(self)[:255]

    def save(self, *args: Any, **kwargs: Any) -> None:
        from tracker.changelog.services import record_save

        record_save(self, super().save, *args, **kwargs)
