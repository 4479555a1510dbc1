"""Region scope: the one place that decides what a user may see and where they may write.

A user's scope is the materialised path of their home region (`000000/360000/360300/`): they see and
change records whose region lies in that subtree. Superusers and national users have the empty path
(everything); a user without a region or inactive has None (nothing).

- `ScopedQuerySet.visible_to(user)`: what a user may read. The API's base viewset, the admin (lists,
  forms, widgets, autocomplete) and selectors apply it.
- `require_in_scope(user, target)`: where a user may write. Services call it before they work, and the
  change log calls it again for every tracked row it records (tracker.changelog.services), so no
  door — API, admin, import, seed, command, background job — writes outside the actor's region.

A model says how to reach its region with `region_lookup` ("region", "beneficiary__region", "self"
for the region tree itself, "" for reference data that has no region and is visible to every user
with a scope) or, for rows that store the path itself, `scope_path_field`. Records that apply to a
whole subtree (a province's programs) set `scope_includes_ancestors`, so users below see them too.

This module imports no app: it sits below everything that uses it.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext_lazy as _

PATH_SEPARATOR = "/"
OUT_OF_SCOPE = _("The record would lie outside your region; you can only write within your region.")


def user_scope(user: Any) -> str | None:
    """The path prefix a user may see: '' for everything, None for nothing."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "scope_path", None)


def ancestor_paths(path: str) -> list[str]:
    """'000000/360000/360300/' -> ['000000/', '000000/360000/'] (the strict ancestors)."""
    codes = [code for code in path.split(PATH_SEPARATOR) if code]
    return [PATH_SEPARATOR.join(codes[:n]) + PATH_SEPARATOR for n in range(1, len(codes))]


def scope_field(model: type[models.Model]) -> str | None:
    """The lookup of the model's region path, or None for reference data without a region. A model
    that stores its region's path (`scope_path_field`, e.g. "region_path", kept by the change log's
    save) is scoped by that column and its (region_path, id) index, without a join."""
    explicit = getattr(model, "scope_path_field", None)
    if explicit:
        return explicit
    lookup = getattr(model, "region_lookup", "")
    if not lookup:
        return None
    return "path" if lookup == "self" else f"{lookup}__path"


def path_within(path: str, scope: str | None) -> bool:
    return scope is not None and path.startswith(scope)


@models.CharField.register_lookup
class Within(models.Lookup):
    """`region_path__within=path`: the path lies in that subtree (starts with it).

    One lookup that an index serves on both engines: on PostgreSQL `LIKE 'path%'` (a
    varchar_pattern_ops index serves it whatever the collation); on SQLite, whose LIKE ignores case and
    skips indexes, the equivalent byte range `>= path AND < path with its final "/" raised to "0"`
    (paths are digits, capitals and "/", and "0" sorts right after "/")."""

    lookup_name = "within"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        value = str(self.rhs)
        escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return f"{lhs} LIKE %s", [*lhs_params, escaped + "%"]

    def as_sqlite(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        value = str(self.rhs)
        upper = value[:-1] + chr(ord(value[-1]) + 1) if value else "\U0010ffff"
        return f"({lhs} >= %s AND {lhs} < %s)", [*lhs_params, value, *lhs_params, upper]


class ScopedQuerySet(models.QuerySet):
    """A queryset that knows its model's region: `within(path)` and `visible_to(user)`."""

    def within(self, path: str) -> ScopedQuerySet:
        field = scope_field(self.model)
        if field is None:
            return self
        return self.filter(**{f"{field}__within": path})

    def visible_to(self, user: Any) -> ScopedQuerySet:
        scope = user_scope(user)
        if scope is None:
            return self.none()
        field = scope_field(self.model)
        if field is None or scope == "":
            return self
        condition = models.Q(**{f"{field}__within": scope})
        if getattr(self.model, "scope_includes_ancestors", False):
            condition |= models.Q(**{f"{field}__in": ancestor_paths(scope)})
        return self.filter(condition)

    def writable_by(self, user: Any) -> ScopedQuerySet:
        """Where the user may write: their subtree only (never the ancestors they may read)."""
        scope = user_scope(user)
        if scope is None:
            return self.none()
        return self.within(scope) if scope else self


def region_path_of(target: Any) -> str | None:
    """The region path a write would land in: a path string, a Region (its own path), or a record
    (its region's path; None for reference data without a region)."""
    if target is None:
        return None
    if isinstance(target, str):
        return target
    getter = getattr(target, "get_region_path", None)
    if getter is not None:
        if scope_field(type(target)) is None:
            return None
        return getter()
    path = getattr(target, "path", None)
    if isinstance(path, str):
        return path
    raise TypeError(f"cannot tell the region of {target!r}")


def require_in_scope(user: Any, target: Any) -> None:
    """Refuse (403) a write by `user` into `target`'s region unless it lies within the user's scope.
    Reference data (no region) passes here: who may write it is a role rule of its service."""
    scope = user_scope(user)
    if scope is None:
        raise PermissionDenied(OUT_OF_SCOPE)
    path = region_path_of(target)
    if path is None or scope == "":
        return
    if not path.startswith(scope):
        raise PermissionDenied(OUT_OF_SCOPE)
