"""Read replicas: reports and exports may read from a replica; everything else reads the primary.

With `DATABASE_REPLICA_URL` set, settings add a `replica` database alias and name it in
`READ_REPLICA_DATABASE`. Reads go there only where code opts in with `read_from_replica()` (a context
manager and a decorator): exports now, reports as they arrive. The opt-in is explicit because a
replica runs behind the primary (asynchronous streaming replication: usually milliseconds, seconds
under load): a clerk who saves a record and reads it back at once must see the save, and a report or
export is a snapshot for which a second of lag does not matter.

Always the primary, whatever the block says:
- every write (`db_for_write`), including saving an instance that was read from the replica;
- every read while the primary connection is inside a transaction (`in_atomic_block`): a read in a
  write transaction decides what the transaction writes (`select_for_update`, rule checks), so it must
  see the transaction's own rows and the latest committed ones;
- everything when no replica is configured (the embedded `make run`, most installations).

A queryset is routed when it runs, not when it is built; `pin_to_routed_database(queryset)` fixes the
alias inside the block for a queryset that runs after it (a streamed export response is consumed
after the view has returned).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet

Q = TypeVar("Q", bound=QuerySet)

_replica_reads: contextvars.ContextVar[bool] = contextvars.ContextVar("tracker_replica_reads", default=False)


def replica_alias() -> str | None:
    """The alias reads may go to in `read_from_replica()`, or None when there is no replica."""
    alias = getattr(settings, "READ_REPLICA_DATABASE", None)
    return alias if alias and alias in connections.settings else None


@contextmanager
def read_from_replica() -> Iterator[None]:
    """`with read_from_replica(): ...` or `@read_from_replica()`: reads in the block may go to the
    replica (see the module docstring for when they still go to the primary). A context manager made
    by `contextmanager` is also a decorator, a fresh one per call, so nested and concurrent uses are
    independent."""
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


def reads_go_to_replica() -> str | None:
    """The replica's alias when a read made here and now would go to it, else None."""
    if not _replica_reads.get():
        return None
    alias = replica_alias()
    if alias is None or connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return None
    return alias


def pin_to_routed_database(queryset: Q) -> Q:
    """The queryset bound to the database the router chooses now (inside or outside a
    `read_from_replica()` block), for a queryset that will run after the block has ended."""
    return queryset.using(queryset.db)


class PrimaryReplicaRouter:
    """Django's database router for the primary (`default`) and the optional replica."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        return reads_go_to_replica()

    def db_for_write(self, model: type[Model], **hints: Any) -> str | None:
        instance = hints.get("instance")
        replica = getattr(settings, "READ_REPLICA_DATABASE", None)
        if instance is not None and replica and instance._state.db == replica:
            # Django would write an instance back where it was read from: never to the replica.
            return DEFAULT_DB_ALIAS
        return None

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        # The replica holds the primary's rows: a record read from one may point at one from the other.
        replica = getattr(settings, "READ_REPLICA_DATABASE", None)
        if replica and {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, replica}:
            return True
        return None

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: Any
    ) -> bool | None:
        # The replica receives the schema through replication; `migrate` targets the primary. (The
        # test suite migrates its replica test database like any other.)
        return None
