"""Compiled read statements: a list page's or a detail's SQL built by the ORM once per shape, then run
as a prepared string with only its variable value substituted.

Building a read through the ORM (scope filter, `values()` with the plan's lookups and annotations,
ordering, the cursor's position, the slice) and compiling it cost more than running it: on a short
page that was half of the request (issue 8's profile: `set_values`, `add_annotation`, `as_sql`). A
read of the same shape (the same view, serializer, caller's scope, language, day and page shape)
compiles to the same SQL with the same parameters, except one: the detail's key or the cursor's
position. So the first read of a shape builds its queryset as before, compiles it with a sentinel
in that place and keeps (SQL, parameters, where the sentinel sits, the columns' names and the ORM's
converters); every later read of the shape substitutes its value and runs the string.

What may make a shape's SQL differ is in its key (`ScopedViewSetMixin.shape_key` in
tracker.api.viewsets): anything else a queryset depends on would be served stale. With `READ_STATEMENTS_CHECK` on (the test
settings), every reuse also builds the ORM's queryset and fails loudly if its SQL or parameters
differ, so the whole test suite holds the cache to the ORM.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections, models, router
from django.db.models.fields.json import KeyTransform
from django.utils.asyncio import async_unsafe

Row = dict[str, Any]
Fetched = list[tuple[Any, ...]]
Converters = tuple[tuple[int, tuple[Callable[..., Any], ...], Any], ...]


class RowShape(Protocol):
    """What a read's rows become (tracker.api.reads.ReadPlan: the API's output rows). `from_values`
    shapes `values()` dicts; `fuse` answers one function shaping a statement's fetched tuples
    straight away (each value converted and formatted in one pass, no dict in between), or None."""

    def from_values(self, values: list[Row]) -> list[Row]: ...

    def fuse(
        self, names: Sequence[str], converters: Converters
    ) -> Callable[[Fetched, Any], list[Row]] | None: ...


# Stand-ins compiled in the variable's place, found again among the compiled parameters. An
# integer within every integer column's range (the ORM refuses to compile one that overflows).
INT_SENTINEL = -2_000_000_017
TEXT_SENTINEL = "\x1fstatement-sentinel\x1f"
MAX_SHAPES = 2048


@dataclass(frozen=True)
class Statement:
    """One compiled read: `run(value)` answers the rows as `values()` would (names, converters)."""

    model: type[models.Model]
    sql: str | None  # None: the ORM found the result empty without a query (e.g. no scope)
    params: tuple[Any, ...]
    slots: tuple[int, ...]
    names: tuple[str, ...]
    converters: Converters
    # Sent before the SQL: a comment naming the shape, so each shape is its own prepared statement
    # on PostgreSQL (see `read`).
    tag: str = ""
    # The rows' dicts built by one generated function (_dict_builder), made with the statement.
    build: Callable[[Fetched, Any], list[Row]] = field(init=False, repr=False, compare=False)
    # The shape this statement's rows are read into and its fused builder (`shaper`): one shape per
    # statement, since the statement's key names the serializer.
    _fused: list[Any] = field(init=False, repr=False, compare=False, default_factory=list)

    def __post_init__(self) -> None:
        object.__setattr__(self, "build", _dict_builder(self.names, self.converters))

    def shaper(self, shape: RowShape) -> Callable[[Fetched, Any], list[Row]]:
        fused = self._fused
        if not fused or fused[0] is not shape:
            builder = shape.fuse(self.names, self.converters)
            if builder is None:  # this shape reads the values' dicts

                def builder(rows: Fetched, connection: Any) -> list[Row]:
                    return shape.from_values(self.build(rows, connection))

            fused[:] = [shape, builder]
        return fused[1]

    def bound(self, value: Any) -> list[Any]:
        params = list(self.params)
        for slot in self.slots:
            params[slot] = value
        return params

    def run(self, value: Any = None, shape: RowShape | None = None) -> list[Row]:
        """The rows as `values()` dicts, or shaped by `shape`."""
        if self.sql is None:
            return [] if shape is None else shape.from_values([])
        connection = connections[router.db_for_read(self.model)]
        with _cursor(connection) as cursor:
            cursor.execute(self.tag + self.sql, self.bound(value))
            rows = cursor.fetchall()
        return (self.build if shape is None else self.shaper(shape))(rows, connection)


@functools.cache
def _prepared_cursor_class() -> type:
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparedCursor(ServerBindingCursor):
        """psycopg's server-side binding cursor, every statement prepared (PREPARE once per
        connection, EXECUTE after)."""

        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            return super().execute(query, params, prepare=True, **kwargs)

    return PreparedCursor


@async_unsafe
def _cursor(connection: Any) -> Any:
    """A cursor for a compiled statement. On PostgreSQL, where the connection allows it (the setting
    READ_STATEMENTS_PREPARED), the statement is sent with its parameters apart and prepared, so the
    server plans it once per connection rather than on every read: a read's SQL is the same string
    every time, and planning a page's joins cost more than running them. Django's own cursors bind
    on the client (psycopg's ClientCursor), which cannot prepare. The cursor is wrapped as Django
    wraps its own (errors, execute wrappers, the query log)."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    if connection.connection.prepare_threshold is None:  # READ_STATEMENTS_PREPARED off
        return connection.cursor()
    with connection.wrap_database_errors:
        return connection._prepare_cursor(_prepared_cursor_class()(connection.connection))


def converted(
    position: int, chain: Sequence[Callable[..., Any]], expression: Any, namespace: dict[str, Any]
) -> str:
    """The source of one fetched column's value through its converters, in the ORM's order
    (`c1_0(c1_1(row[1], e1, connection), ...)`), the converters put in `namespace`; for a
    generated builder over a statement's rows (`row`, `connection`)."""
    value = f"row[{position}]"
    if chain:
        namespace[f"e{position}"] = expression
    for step, converter in enumerate(chain):
        namespace[f"c{position}_{step}"] = converter
        value = f"c{position}_{step}({value}, e{position}, connection)"
    return value


def _dict_builder(names: Sequence[str], converters: Converters) -> Callable[[Fetched, Any], list[Row]]:
    """One generated function turning fetched rows into `values()` dicts: each column's converters
    called in the ORM's order, inlined (`c1_0(c1_1(row[1], e1, connection), ...)`), one dict
    comprehension for the page; the same values as converting row by row in a loop, without a list,
    a loop and a zip per row (on a 500-row page the loop cost more than the query)."""
    namespace: dict[str, Any] = {}
    chains = {position: (chain, expression) for position, chain, expression in converters}
    parts = []
    for position, name in enumerate(names):
        chain, expression = chains.get(position, ((), None))
        parts.append(f"{name!r}: {converted(position, chain, expression, namespace)}")
    source = "def build(rows, connection):\n    return [{" + ", ".join(parts) + "} for row in rows]\n"
    exec(compile(source, "<read statement>", "exec"), namespace)
    return namespace["build"]


def compile_statement(queryset: models.QuerySet, sentinel: Any = None) -> Statement | None:
    """The statement of a `values()` queryset; None when its variable (the sentinel) does not sit in
    exactly one parameter, or the queryset is not a plain values query (then it is not reused)."""
    query = queryset.query
    if query.selected:  # as ValuesIterable names the columns
        names = tuple(query.selected)
    else:
        names = (*query.extra_select, *query.values_select, *query.annotation_select)
    if not names or query.combinator or queryset._iterable_class is not models.query.ValuesIterable:
        return None
    compiler = query.get_compiler(using=queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return Statement(queryset.model, None, (), (), names, ())
    params = tuple(params)
    slots = tuple(
        i
        for i, param in enumerate(params)
        if sentinel is not None and type(param) is type(sentinel) and param == sentinel
    )
    if (sentinel is None) != (not slots) or len(slots) > 1:
        return None
    # Columns the ORM adds for itself (e.g. DISTINCT ordered by a column not selected) and drops
    # from each row: not a plain read of `names`.
    if compiler.has_extra_select or len(compiler.select) != len(names):
        return None
    converters = tuple(
        (position, tuple(_faster(converter) for converter in found), expression)
        for position, (found, expression) in compiler.get_converters(
            [column for column, _, _ in compiler.select]
        ).items()
    )
    return Statement(queryset.model, sql, params, slots, names, converters)


# Each byte of a text as "0" (an ASCII digit) or " " (anything else): a run of nineteen digits is then
# a plain substring search, several times faster than a regular expression over a long text.
_DIGIT_MASK = bytes(48 if 48 <= byte <= 57 else 32 for byte in range(256))
_NINETEEN_DIGITS = b"0" * 19


def _has_long_number(text: str) -> bool:
    """Whether the text holds a run of nineteen digits (an integer orjson would read as a float)."""
    return _NINETEEN_DIGITS in text.encode("utf-8", "surrogatepass").translate(_DIGIT_MASK)


def _json_from_db(value: Any, expression: Any, connection: Any) -> Any:
    """JSONField.from_db_value decoding with orjson (the standard library's decoder cost a good
    share of a page with JSON columns). What orjson reads differently is decoded as before: a text
    with a run of nineteen digits (orjson reads an integer beyond 64 bits as a float) and what it
    refuses (NaN)."""
    if value is None:
        return value
    if isinstance(expression, KeyTransform) and not isinstance(value, str):
        return value
    try:
        if len(value) >= 19 and _has_long_number(value):
            return json.loads(value)
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value


def _faster(converter: Callable[..., Any]) -> Callable[..., Any]:
    """An equivalent of an ORM converter that costs less per value, where one is known."""
    owner = getattr(converter, "__self__", None)
    function = getattr(converter, "__func__", None)
    if (
        isinstance(owner, models.JSONField)
        and owner.decoder is None
        and function is models.JSONField.from_db_value
    ):
        return _json_from_db
    return converter


class StatementCache:
    """Statements by shape, least recently used dropped first; thread-safe."""

    def __init__(self, size: int = MAX_SHAPES) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Statement | None] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> tuple[bool, Statement | None]:
        with self._lock:
            if key not in self._items:
                return False, None
            self._items.move_to_end(key)
            return True, self._items[key]

    def put(self, key: Hashable, statement: Statement | None) -> None:
        with self._lock:
            self._items[key] = statement
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


statements = StatementCache()


def _check(statement: Statement, queryset: models.QuerySet, value: Any) -> None:
    """READ_STATEMENTS_CHECK: the reused statement must be what the ORM compiles now."""
    try:
        sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    except EmptyResultSet:
        sql, params = None, ()
    if statement.sql is None:
        expected: tuple[Any, list[Any]] = (None, [])
    else:
        expected = (statement.sql, statement.bound(value))
    if (sql, list(params)) != expected:
        raise AssertionError(
            f"a reused read statement differs from the ORM's: {expected!r} != {(sql, list(params))!r}"
            " (a queryset depends on something its shape key does not hold)"
        )


def _tag(key: Hashable) -> str:
    """A comment naming the shape. Two shapes may compile to the same SQL with other parameters (two
    callers' scopes: a county's path and the country's); PostgreSQL keeps one plan per prepared
    statement and, after a few reads, may settle on a generic plan made without the parameters'
    values. Each shape's own text keeps a county's plan and the country's apart."""
    return f"/* read {hashlib.blake2b(repr(key).encode(), digest_size=8).hexdigest()} */ "


def read(
    key: Hashable,
    build: Callable[[Any], models.QuerySet],
    value: Any = None,
    sentinel: Any = None,
    shape: RowShape | None = None,
) -> list[Row]:
    """The rows of `build(value)` (a values queryset), through the statement of its shape `key`;
    shaped by `shape` when given. `build(sentinel)` is compiled on the shape's first read; a shape
    whose statement cannot be reused runs through the ORM every time."""
    found, statement = statements.get(key)
    if not found:
        statement = compile_statement(build(sentinel), sentinel)
        if statement is not None:
            statement = dataclasses.replace(statement, tag=_tag(key))
        statements.put(key, statement)
    if statement is None:
        values = list(build(value))
        return values if shape is None else shape.from_values(values)
    if getattr(settings, "READ_STATEMENTS_CHECK", False):
        _check(statement, build(value), value)
    return statement.run(value, shape)


def read_by_id(key: Hashable, build: Callable[[Any], models.QuerySet], pk: int) -> list[Row]:
    """`read()` whose one variable is a record's id, e.g. a section of a person's file:
    `read_by_id(("file.groups",), lambda pk: Membership.objects.filter(person_id=pk).values(...), pk)`.
    The key must hold whatever else `build` depends on (the caller's scope, the day)."""
    return read(key, build, int(pk), INT_SENTINEL)


class PageQuery:
    """What DRF's cursor paginator does to a list's queryset (order by, filter by the position,
    slice, iterate), recorded as the page's shape and answered through `read()` (with `key` None,
    built through the ORM every time, e.g. a filtered list). With a `shape`, the page's rows are
    shaped by it (the API's output rows, which must hold the ordering's column for the paginator).

    A page whose columns join other rows is read ids first: `base` (the scoped, filtered records)
    ordered, positioned and sliced as the page's ids alone, then `values(base)` (the plan's columns
    and joins) for those ids only. Joining a page's related rows after its ids are chosen keeps a
    small region's page as fast with a million rows elsewhere as with none: PostgreSQL, finding the
    region's rows by its index, had joined every one of them before sorting and keeping fifty. A
    page of the records' own columns (the change log) is read in one plain query."""

    def __init__(
        self,
        key: Hashable | None,
        base: Callable[[], models.QuerySet],
        values: Callable[[models.QuerySet], models.QuerySet],
        ops: tuple[Any, ...] = (),
        position: Any = None,
        shape: RowShape | None = None,
    ) -> None:
        self.key, self.base, self.values, self.ops, self.position = key, base, values, ops, position
        self.shape = shape

    def _with(self, op: tuple[Any, ...], position: Any = None) -> PageQuery:
        position = self.position if position is None else position
        return PageQuery(self.key, self.base, self.values, (*self.ops, op), position, self.shape)

    def order_by(self, *fields: str) -> PageQuery:
        return self._with(("order_by", fields))

    def filter(self, **kwargs: Any) -> PageQuery:
        ((lookup, value),) = kwargs.items()
        if self.position is not None or not lookup.endswith(("__lt", "__gt")):
            raise TypeError(f"PageQuery.filter: one cursor position only, not {lookup}")
        # The page's position: an id (IdCursorPagination) is substituted into the statement; any
        # other ordering's position is kept as given (and its page is not reused).
        numeric = lookup.split("__")[0] in ("id", "pk")
        return self._with(("filter", lookup), int(value) if numeric else value)

    def __getitem__(self, item: slice) -> PageQuery:
        if not isinstance(item, slice) or item.step is not None:
            raise TypeError("PageQuery: a page is a slice")
        return self._with(("slice", item.start, item.stop))

    def _queryset(self, position: Any) -> models.QuerySet:
        base = self.base()
        values = self.values(base)
        # Not paged (every row, as ordered), or a page that joins nothing the scope and filters do
        # not (then choosing the ids first spares no work and costs a subquery): the ops as given.
        if not any(op[0] == "slice" for op in self.ops) or _adds_nothing(base, values):
            for op in self.ops:
                if op[0] == "order_by":
                    values = values.order_by(*op[1])
                elif op[0] == "filter":
                    values = values.filter(**{op[1]: position})
                else:
                    values = values[op[1] : op[2]]
            return values
        ids, ordering = base.values("pk"), ()
        for op in self.ops:
            if op[0] == "order_by":
                ids, ordering = ids.order_by(*op[1]), op[1]
            elif op[0] == "filter":
                ids = ids.filter(**{op[1]: position})
            else:
                ids = ids[op[1] : op[2]]
        return self.values(base.filter(pk__in=ids)).order_by(*ordering)

    def rows(self) -> list[Row]:
        if self.key is None or not (self.position is None or isinstance(self.position, int)):
            values = list(self._queryset(self.position))
            return values if self.shape is None else self.shape.from_values(values)
        sentinel = INT_SENTINEL if self.position is not None else None
        return read((self.key, self.ops), self._queryset, self.position, sentinel, self.shape)

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows())


def _joins(queryset: models.QuerySet) -> int:
    """The joins the query's SQL uses (one the ORM set up and no longer refers to is not one)."""
    query = queryset.query
    return sum(
        1
        for alias, join in query.alias_map.items()
        if join.join_type is not None and query.alias_refcount[alias]
    )


def _adds_nothing(base: models.QuerySet, values: models.QuerySet) -> bool:
    """Whether the page's columns are the scoped records' own: no join, annotation or subquery
    beyond what the scope and filters put in the query already."""
    return _joins(values) == _joins(base) and values.query.annotations.keys() == base.query.annotations.keys()


def sentinel_for(field: models.Field) -> Any:
    return INT_SENTINEL if isinstance(field, models.IntegerField) else TEXT_SENTINEL


def prepared_key(field: models.Field, raw: Any, alias: str) -> Any:
    """A detail's URL value as the ORM would pass it to the database for `field = raw`; raises
    ValueError (or TypeError, ValidationError) where the ORM would, and LookupError where the ORM
    would find nothing without asking (an integer beyond the column's range)."""
    connection = connections[alias]
    value = field.get_prep_value(raw)
    if isinstance(field, models.IntegerField):
        low, high = connection.ops.integer_field_range(field.get_internal_type())
        if (low is not None and value < low) or (high is not None and value > high):
            raise LookupError(raw)
    elif not isinstance(field, (models.CharField, models.TextField)):
        raise TypeError(f"no compiled detail read by a {type(field).__name__}")
    return field.get_db_prep_value(value, connection, prepared=True)


__all__: Sequence[str] = [
    "PageQuery",
    "RowShape",
    "Statement",
    "StatementCache",
    "compile_statement",
    "converted",
    "prepared_key",
    "read",
    "read_by_id",
    "sentinel_for",
    "statements",
]
