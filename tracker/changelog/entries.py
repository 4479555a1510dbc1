"""The change entry: one append-only, tamper-evident record of one change to one tracked row.

Entries are never updated or deleted: the ORM refuses it here and database triggers (migration 0002)
refuse it below the ORM. TrackedModel (models.py) writes them through services.py.
"""

from __future__ import annotations

import contextvars
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tracker.changelog.context import Source
from tracker.scope import ScopedQuerySet

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


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise UntrackedWriteError("the change log is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise UntrackedWriteError("the change log is append-only")


class ChangeEntryQuerySet(ScopedQuerySet, AppendOnlyQuerySet):
    pass


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
    # Keyed hash of the row's values after this write ('' for a delete): verify compares it with the
    # live row, so a change made in SQL behind the log's back is seen.
    row_hash = models.CharField(_("row hash"), max_length=64, blank=True)
    hmac = models.CharField(_("HMAC"), max_length=64)

    objects = ChangeEntryQuerySet.as_manager()

    # Entries carry their record's region path themselves (tracker.scope).
    scope_path_field: ClassVar[str] = "region_path"

    class Meta:
        base_manager_name = "objects"
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


class ChangeCheckpoint(models.Model):
    """A link of the chain that seals the whole log up to an entry: `digest` is a keyed hash of the
    previous checkpoint's digest and the HMAC of every entry since (signing.chain_digest). The
    `checkpoint_changes` command writes one and prints it to be kept outside the database; verify
    recomputes the chain, so deleting a record together with all its entries is caught too.
    Append-only like the entries (the same triggers refuse UPDATE and DELETE)."""

    at = models.DateTimeField(_("when"), default=timezone.now)
    last_entry_id = models.BigIntegerField(_("last entry"), unique=True)
    entry_count = models.BigIntegerField(_("entries"))
    previous_digest = models.CharField(_("previous digest"), max_length=64, blank=True)
    digest = models.CharField(_("digest"), max_length=64)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        base_manager_name = "objects"
        verbose_name = _("change-log checkpoint")
        verbose_name_plural = _("change-log checkpoints")
        ordering = ["last_entry_id"]

    def __str__(self) -> str:
        return f"{self.last_entry_id} {self.digest}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise UntrackedWriteError("checkpoints are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise UntrackedWriteError("checkpoints are append-only")
