"""Writing change entries: for single saves and deletes (called by TrackedModel) and, in bulk, for
bulk_create / update / bulk_update, which the tracked queryset refuses to run anywhere else.

Cost per single-object write: one INSERT of the entry. The entry's version comes from the object's
own `version` column (no look-up of the previous entry), and the unique (model, object_id, version)
constraint makes two concurrent writers of one object collide instead of forking its history.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connections, models, router
from django.db.models import F
from django.utils import timezone

from tracker.changelog.context import SCRIPT_SOURCES, ChangeContext, change_context, current_context
from tracker.changelog.entries import ChangeAction, ChangeEntry, UntrackedWriteError, bulk_write_allowed
from tracker.changelog.signing import SIGNED_FIELDS, changes_json, entry_hmac
from tracker.changelog.signing import row_hash as compute_row_hash
from tracker.integrity import as_validation_error
from tracker.scope import OUT_OF_SCOPE, user_scope
from tracker.transactions import join_or_begin

if TYPE_CHECKING:  # models.py imports this module: the base class is named for type hints only
    from tracker.changelog.models import TrackedModel


class MissingActorError(UntrackedWriteError):
    """A tracked write with no actor: the service did not say who acts (tracker.changelog.context)."""


def _stamp(ctx: ChangeContext, at: Any = None) -> dict[str, Any]:
    """The fields every entry written in one context shares (worked out once per bulk write).

    Every write names who made it: a user given to the service (`acting`), or — only in the seed
    and commands — the script's name. Anything else is a programming error and is refused."""
    actor = ctx.actor
    if actor is None and not (ctx.actor_name and ctx.source in SCRIPT_SOURCES):
        raise MissingActorError(
            "tracked write without an actor: wrap the service's writes in "
            "tracker.changelog.context.acting(actor)"
        )
    return {
        "at": at or timezone.now(),
        "actor_id": actor.pk if actor is not None else None,
        "actor_name": ctx.actor_label()[:150],
        "request_id": ctx.request_id,
        "source": ctx.source,
        "reason": ctx.reason,
    }


def _check_scope(ctx: ChangeContext, paths: Iterable[str]) -> None:
    """The last line of the region scope: a user writes only rows whose region lies in their subtree
    (rows without a region are reference data, gated by role in their services)."""
    if ctx.actor is None or ctx.outside_scope_ok:
        return
    scope = user_scope(ctx.actor)
    if scope == "":
        return
    for path in paths:
        if path and (scope is None or not path.startswith(scope)):
            raise PermissionDenied(OUT_OF_SCOPE)


def _entry_values(
    stamp: dict[str, Any],
    *,
    model: type[models.Model],
    object_id: Any,
    version: int,
    action: str,
    changes: dict[str, Any],
    region_path: str,
    label: str,
    row_hash: str = "",
) -> dict[str, Any]:
    """The fields of one change entry, signed. `_changes_json` carries the serialised changes to
    the INSERT, so they are serialised once."""
    values = {
        **stamp,
        "action": action,
        "model": model._meta.label_lower,
        "object_id": str(object_id),
        "object_version": version,
        "region_path": region_path,
        "label": label[:255],
        "changes": changes,
        "row_hash": row_hash,
    }
    serialised = changes_json(changes)
    values["hmac"] = entry_hmac(values, serialised)
    values["_changes_json"] = serialised
    return values


def _new_entry(stamp: dict[str, Any], **fields: Any) -> ChangeEntry:
    values = _entry_values(stamp, **fields)
    del values["_changes_json"]
    return ChangeEntry(**values)


ENTRY_COLUMNS = (*SIGNED_FIELDS, "hmac")


def _insert_entries(rows: list[dict[str, Any]], *, batch_size: int = 5000) -> None:
    """INSERT many entries with executemany: the ORM's bulk_create spends most of its time compiling
    SQL per field and row, which made the log cost more than the records it describes."""
    if not rows:
        return
    connection = connections[router.db_for_write(ChangeEntry)]
    meta = ChangeEntry._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(name).column) for name in ENTRY_COLUMNS)
    placeholders = ", ".join(
        "%s::jsonb" if name == "changes" and connection.vendor == "postgresql" else "%s"
        for name in ENTRY_COLUMNS
    )
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders})"
    at_cache: dict[Any, Any] = {}
    params = []
    for row in rows:
        at = row["at"]
        if at not in at_cache:
            at_cache[at] = connection.ops.adapt_datetimefield_value(at)
        row = {**row, "at": at_cache[at], "changes": row["_changes_json"].decode()}
        params.append(tuple(row[name] for name in ENTRY_COLUMNS))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY is PostgreSQL's bulk path: several times faster than row-by-row INSERTs.
            copy_sql = f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN"
            with cursor.cursor.copy(copy_sql) as copy:
                for row in params:
                    copy.write_row(row)
            return
        for start in range(0, len(params), batch_size):
            cursor.executemany(sql, params[start : start + batch_size])


def entry_signed_values(entry: ChangeEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in SIGNED_FIELDS}


def _diff(old: dict[str, Any] | None, new: dict[str, Any], only: Iterable[str] | None = None) -> dict:
    names = set(only) if only is not None else None
    if old is None:
        return {k: [None, v] for k, v in new.items() if v is not None and (names is None or k in names)}
    return {k: [old.get(k), v] for k, v in new.items() if old.get(k) != v and (names is None or k in names)}


def record_save(instance: TrackedModel, save: Callable[..., None], *args: Any, **kwargs: Any) -> None:
    """Save `instance` and write its change entry in the same transaction. If either fails, the
    transaction rolls back and the instance keeps the version it had, so a retry stays in sequence."""
    version_before = instance.version
    try:
        _record_save(instance, save, *args, **kwargs)
    except BaseException:
        instance.version = version_before
        raise


def _old_region_path(instance: TrackedModel, old_state: dict[str, Any]) -> str:
    """The region path of the row as it was loaded (before this write changed it in memory): the
    same as now unless its region reference changed; then one query resolves the old reference."""
    lookup = instance.region_lookup
    if not lookup:
        return ""
    if lookup == "self":
        return old_state.get("path") or ""
    parts = lookup.split("__")
    first = instance._meta.get_field(parts[0])
    old_id = old_state.get(first.attname)
    if old_id == getattr(instance, first.attname):
        return instance.get_region_path()
    if old_id is None:
        return ""
    if len(parts) == 1:
        return first.related_model.cached_path(old_id)
    rest = "__".join(parts[1:])
    path = first.related_model._base_manager.filter(pk=old_id).values_list(f"{rest}__path", flat=True).first()
    return path or ""


def _record_save(instance: TrackedModel, save: Callable[..., None], *args: Any, **kwargs: Any) -> None:
    ctx = current_context()
    stamp = _stamp(ctx)  # refuses a write without an actor before anything is written
    # No savepoint: the row and its entry join the caller's transaction (or open one of their own);
    # a save costs two statements, not four.
    with join_or_begin():
        creating = instance._state.adding
        old_state = None if creating else getattr(instance, "_loaded_state", None)
        if not creating and old_state is None:
            # Built by hand with a primary key rather than loaded: read what is there now.
            fresh = type(instance)._base_manager.filter(pk=instance.pk).first()
            old_state = fresh.current_state() if fresh is not None else None
            if fresh is not None:
                instance.version = fresh.version
        region_path = instance.get_region_path()
        paths = [region_path]
        if old_state is not None:
            paths.append(_old_region_path(instance, old_state))
        _check_scope(ctx, paths)
        instance.version = (instance.version or 0) + 1
        update_fields = kwargs.get("update_fields")
        extra_fields = {"version"}
        if instance.stores_region_path() and instance.region_path != region_path:
            instance.region_path = region_path
            extra_fields.add("region_path")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, *extra_fields}
        try:
            save(*args, **kwargs)
        except IntegrityError as exc:
            error = as_validation_error(instance, exc)
            if error is None:
                raise
            raise error from exc
        new_state = instance.current_state()
        changed_names = None
        if update_fields is not None:
            changed_names = {instance._meta.get_field(n).name for n in update_fields}
        new_values = instance.changelog_values(new_state)
        changes = _diff(
            None if old_state is None else instance.changelog_values(old_state),
            new_values,
            changed_names,
        )
        action = ctx.action or (ChangeAction.CREATE if creating else ChangeAction.UPDATE)
        _new_entry(
            stamp,
            model=type(instance),
            object_id=instance.pk,
            version=instance.version,
            action=action,
            changes=changes,
            region_path=region_path,
            label=instance.change_label(),
            row_hash=compute_row_hash(instance.row_values(new_state)),
        ).save()
        instance._loaded_state = new_state


def record_event(
    instance: TrackedModel, *, action: str, reason: str = "", outside_scope_ok: bool = False
) -> None:
    """Log a domain verb that changes no field (e.g. `pii_reveal`): the object's version advances.
    `outside_scope_ok` lets an event be recorded on a row outside the actor's region (a probe of
    another region's person is logged where that region's auditors see it)."""
    with change_context(
        action=action, reason=reason or current_context().reason, outside_scope_ok=outside_scope_ok
    ):
        instance.save(update_fields=["version"])


def record_delete(instance: TrackedModel) -> None:
    """Called from the post_delete signal, so cascades and QuerySet.delete() are logged too."""
    ctx = current_context()
    stamp = _stamp(ctx)
    state = getattr(instance, "_loaded_state", None) or instance.current_state()
    old = instance.changelog_values(state)
    region_path = _old_region_path(instance, state)
    _check_scope(ctx, [region_path])
    _new_entry(
        stamp,
        model=type(instance),
        object_id=instance.pk,
        version=(instance.version or 0) + 1,
        action=ctx.action or ChangeAction.DELETE,
        changes={k: [v, None] for k, v in old.items() if v is not None},
        region_path=region_path,
        label=instance.change_label(),
    ).save()


# -- bulk ----------------------------------------------------------------------------------------


class _BulkAllowed:
    def __enter__(self) -> None:
        self._token = bulk_write_allowed.set(True)

    def __exit__(self, *exc: Any) -> None:
        bulk_write_allowed.reset(self._token)


def _cached_region_path(obj: TrackedModel) -> str | None:
    """The object's region path from relations already in memory (and the region path cache), or
    None when a hop would need a query."""
    current: Any = obj
    parts = obj.region_lookup.split("__")
    for part in parts[:-1]:
        field = current._meta.get_field(part)
        if not field.is_cached(current):
            return None
        current = getattr(current, part)
        if current is None:
            return ""
    field = current._meta.get_field(parts[-1])
    region_id = getattr(current, field.attname)
    if region_id is None:
        return ""
    return field.related_model.cached_path(region_id)  # one query per distinct region, then cached


def _region_paths(model: type[TrackedModel], objs: Sequence[TrackedModel]) -> dict[Any, str]:
    """Region path of each object: from relations already in memory where possible, else in one
    query per 2,000 rows (never one per row)."""
    if model.region_lookup in ("", "self"):
        # Reference data without a region, or the region tree itself (a region's path is its own).
        return {obj.pk: obj.get_region_path() for obj in objs}
    paths: dict[Any, str] = {}
    missing = []
    for obj in objs:
        path = _cached_region_path(obj)
        if path is None:
            missing.append(obj.pk)
        else:
            paths[obj.pk] = path
    lookup = f"{model.region_lookup}__path"
    for start in range(0, len(missing), 2000):
        chunk = missing[start : start + 2000]
        for pk, path in model._base_manager.filter(pk__in=chunk).values_list("pk", lookup):
            paths[pk] = path or ""
    return paths


def _paths_before_insert(model: type[TrackedModel], objs: Sequence[TrackedModel]) -> list[str]:
    """Each object's region path from its region reference, before it is written (a query per
    distinct first-hop record kind, never per row)."""
    lookup = model.region_lookup
    parts = lookup.split("__")
    first = model._meta.get_field(parts[0])
    if len(parts) == 1:
        first.related_model.cache_paths(getattr(obj, first.attname) for obj in objs)
        return [first.related_model.cached_path(getattr(obj, first.attname)) for obj in objs]
    paths = [_cached_region_path(obj) for obj in objs]
    missing = {getattr(obj, first.attname) for obj, path in zip(objs, paths, strict=True) if path is None}
    found: dict[Any, str] = {}
    rest = "__".join(parts[1:])
    for start in range(0, len(missing), 2000):
        chunk = list(missing)[start : start + 2000]
        found.update(
            first.related_model._base_manager.filter(pk__in=chunk).values_list("pk", f"{rest}__path")
        )
    return [
        path if path is not None else found.get(getattr(obj, first.attname)) or ""
        for obj, path in zip(objs, paths, strict=True)
    ]


def tracked_bulk_create(
    model: type[TrackedModel], objs: Sequence[TrackedModel], *, batch_size: int = 2000
) -> list[TrackedModel]:
    """bulk_create plus one change entry per row, written in bulk in the same transaction."""
    ctx = current_context()
    stamp = _stamp(ctx)
    action = ctx.action or ChangeAction.CREATE
    with join_or_begin():
        for obj in objs:
            obj.version = 1
        if model.stores_region_path():
            for obj, path in zip(objs, _paths_before_insert(model, objs), strict=True):
                obj.region_path = path
        with _BulkAllowed():
            created = model.objects.bulk_create(objs, batch_size=batch_size)
        paths = _region_paths(model, created)
        _check_scope(ctx, paths.values())
        attnames = [field.attname for field in model._meta.concrete_fields]
        log_fields = model._log_fields()
        entries = []
        # One pass per row (this loop is the import's hot path): snapshot, creation diff, entry.
        for obj in created:
            state = {attname: getattr(obj, attname) for attname in attnames}
            obj._loaded_state = state
            obj._state.adding = False
            changes = {}
            for name, attname, convert in log_fields:
                value = state[attname]
                if value is not None:
                    changes[name] = [None, convert(value)]
            entries.append(
                _entry_values(
                    stamp,
                    model=model,
                    object_id=obj.pk,
                    version=1,
                    action=action,
                    changes=changes,
                    region_path=paths.get(obj.pk, ""),
                    label=obj.change_label(),
                    row_hash=compute_row_hash(obj.row_values(state)),
                )
            )
        _insert_entries(entries)
    return created


def tracked_bulk_update(
    model: type[TrackedModel], objs: Sequence[TrackedModel], fields: Sequence[str], *, batch_size: int = 1000
) -> int:
    """bulk_update of loaded objects plus their change entries. Objects must have been read inside
    the same transaction with select_for_update() so their versions are current."""
    ctx = current_context()
    stamp = _stamp(ctx)
    action = ctx.action or ChangeAction.UPDATE
    names = {model._meta.get_field(f).name for f in fields}
    first_hop = model.region_lookup.split("__")[0] if model.region_lookup not in ("", "self") else None
    if model.stores_region_path() and first_hop in {model._meta.get_field(f).name for f in fields}:
        for obj, path in zip(objs, _paths_before_insert(model, objs), strict=True):
            obj.region_path = path
        fields = [*fields, "region_path"]
    with join_or_begin():
        olds = []
        for obj in objs:
            olds.append(obj.changelog_values(getattr(obj, "_loaded_state", {}) or {}))
            obj.version = (obj.version or 0) + 1
        with _BulkAllowed():
            count = model.objects.bulk_update(objs, [*fields, "version"], batch_size=batch_size)
        paths = _region_paths(model, objs)
        _check_scope(ctx, paths.values())
        entries = []
        for obj, old in zip(objs, olds, strict=True):
            state = obj.current_state()
            obj._loaded_state = state
            entries.append(
                _entry_values(
                    stamp,
                    model=model,
                    object_id=obj.pk,
                    version=obj.version,
                    action=action,
                    changes=_diff(old or None, obj.changelog_values(state), names),
                    region_path=paths.get(obj.pk, ""),
                    label=obj.change_label(),
                    row_hash=compute_row_hash(obj.row_values(state)),
                )
            )
        _insert_entries(entries)
    return count


def tracked_update(queryset: models.QuerySet, **values: Any) -> int:
    """QuerySet.update() plus one change entry per affected row (old and new values), in bulk."""
    model = queryset.model
    ctx = current_context()
    stamp = _stamp(ctx)
    with join_or_begin():
        objs = list(queryset.select_for_update())
        if not objs:
            return 0
        old_paths = _region_paths(model, objs)
        first_hop = model.region_lookup.split("__")[0] if model.region_lookup not in ("", "self") else None
        if model.stores_region_path() and first_hop in values:
            if "__" in model.region_lookup:
                raise NotImplementedError("move the records one by one: their region is a relation away")
            target = values[first_hop]
            region_id = getattr(target, "pk", target)
            values = {
                **values,
                "region_path": model._meta.get_field(first_hop).related_model.cached_path(region_id),
            }
        with _BulkAllowed():
            model._base_manager.filter(pk__in=[o.pk for o in objs]).update(**values, version=F("version") + 1)
        fresh = {o.pk: o for o in model._base_manager.filter(pk__in=[o.pk for o in objs])}
        action = ctx.action or ChangeAction.UPDATE
        names = {model._meta.get_field(f).name for f in values}
        paths = _region_paths(model, list(fresh.values()))
        _check_scope(ctx, [*paths.values(), *old_paths.values()])
        entries = []
        for obj in objs:
            new = fresh[obj.pk]
            entries.append(
                _entry_values(
                    stamp,
                    model=model,
                    object_id=obj.pk,
                    version=new.version,
                    action=action,
                    changes=_diff(
                        obj.changelog_values(obj._loaded_state),
                        new.changelog_values(new._loaded_state),
                        names,
                    ),
                    region_path=paths.get(obj.pk, ""),
                    label=new.change_label(),
                    row_hash=compute_row_hash(new.row_values(new._loaded_state)),
                )
            )
        _insert_entries(entries)
        return len(objs)
