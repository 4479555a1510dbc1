"""Transactions: one per request or command, savepoints only where someone catches.

A savepoint costs two round trips (SAVEPOINT, RELEASE) and is only useful to a caller that catches an
error and carries on in the same transaction. An API request never does: any error rolls the whole
request back. So:

- `door_transaction()`: the transaction of such a door (the API's write paths). Services inside it
  join it without savepoints.
- `@atomic_service`: every service. Outside a transaction it opens one; inside a door it joins; inside
  any other transaction (a seed step, a test, an admin dry run, a service that catches another's
  refusal) it takes a savepoint, so a refusal the caller catches leaves nothing half-written.
- `join_or_begin()`: for the change log's write helpers, which never catch: they join whatever
  transaction there is, or open one.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any, TypeVar

from django.db import connection, transaction

F = TypeVar("F", bound=Callable[..., Any])

_in_door: contextvars.ContextVar[bool] = contextvars.ContextVar("tracker_door_transaction", default=False)


@contextmanager
def door_transaction() -> Iterator[None]:
    if _in_door.get() and connection.in_atomic_block:
        yield  # already inside the door's transaction (e.g. Idempotency-Key opened it)
        return
    with transaction.atomic():
        token = _in_door.set(True)
        try:
            yield
        finally:
            _in_door.reset(token)


@contextmanager
def savepoint_for_catching() -> Iterator[None]:
    """A block whose errors the caller catches: a real savepoint, even inside a door, so the
    services inside roll back to it."""
    token = _in_door.set(False)
    try:
        with transaction.atomic():
            yield
    finally:
        _in_door.reset(token)


def atomic_service(func: F) -> F:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if _in_door.get() and connection.in_atomic_block:
            return func(*args, **kwargs)
        with transaction.atomic():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def join_or_begin() -> Any:
    return nullcontext() if connection.in_atomic_block else transaction.atomic()
