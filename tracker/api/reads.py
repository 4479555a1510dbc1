"""The lean read path: lists and details rendered from `.values()` rows, not model instances.

DRF's ModelSerializer costs most of a list page's time: it builds every related model instance a row
touches, walks each field's source through attribute access, and hands the renderer nested ordered
dicts. A page of 500 payments paid for 12 model instances per row. Reads here keep DRF's serializers
as the one source of truth for field names, types and the OpenAPI schema, and compile each read
serializer once into a `ReadPlan`:

- the ORM lookups its fields read (`region.code` -> `region__code`, a nested serializer's fields
  under its relation's prefix), so a page is one `values()` query with exactly the joins it needs;
- per field, a formatter that produces what the DRF field's `to_representation` would (dates and
  times in the configured time zone, decimals as fixed-point strings), so the JSON is byte-identical
  to the serializer's (tests/tracker/test_reads.py holds every list to that);
- for a `SerializerMethodField`, the serializer names its lean twin: `read_<name> = ReadColumn(...)`
  (a value from the row's lookups) or `read_<name> = PageColumn(...)` (one query for the whole page,
  e.g. the groups of the people on it).

A serializer the compiler cannot read raises at start-up (`plan_for`), never a silent slow path.
A list page read through a compiled statement (tracker.statements) is built from the fetched tuples
in one pass (`ReadPlan.fuse`: the ORM's converters, then the formatters, no `values()` dict in
between). Responses are rendered with orjson (`ORJSONRenderer`).
"""

from __future__ import annotations

import datetime as dt
import decimal
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import orjson
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import connections, models
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise
from rest_framework import relations, serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.settings import api_settings

from tracker.statements import Converters, converted

Row = dict[str, Any]


@dataclass(frozen=True)
class ReadColumn:
    """The lean twin of a SerializerMethodField computed from the row: `lookups` it needs, and
    `value(row)` over those lookups. `annotate()`, when given, returns the annotations (by name) that
    some of those lookups are — computed in the page's own query, e.g. a person's current groups as
    one aggregated subquery instead of a second query for the page."""

    lookups: tuple[str, ...]
    value: Callable[[Row], Any]
    annotate: Callable[[], dict[str, Any]] | None = None


class GroupConcat(models.Aggregate):
    """The distinct values of a text column joined with commas: GROUP_CONCAT on SQLite, STRING_AGG on
    PostgreSQL (the order is not defined: sort after splitting)."""

    function = "GROUP_CONCAT"
    template = "%(function)s(%(distinct)s%(expressions)s)"
    allow_distinct = True
    output_field = models.TextField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(
            compiler,
            connection,
            function="STRING_AGG",
            template="%(function)s(%(distinct)s%(expressions)s, ',')",
            **extra,
        )


@dataclass(frozen=True)
class PageColumn:
    """The lean twin of a SerializerMethodField that needs other rows: `load(ids)` answers
    {id: value} for the ids on the page in one query; `default` for ids it does not answer."""

    load: Callable[[list[Any]], dict[Any, Any]]
    default: Callable[[], Any] = list


@dataclass
class ReadPlan:
    lookups: list[str]
    columns: list[tuple[str, Callable[[Row], Any]]]
    page_columns: list[tuple[str, PageColumn]] = field(default_factory=list)
    annotations: list[Callable[[], dict[str, Any]]] = field(default_factory=list)
    # Slugs of foreign keys: (alias, relation, slug field, the sub-select by primary key).
    slugs: list[tuple[str, str, str, QuerySet]] = field(default_factory=list)
    # The page's dicts built by one generated function (_row_builder), made on first use.
    build: Callable[[Sequence[Row]], list[Row]] | None = None

    def rows(self, values: Sequence[Row]) -> list[Row]:
        """The output rows of `values()` dicts, page columns filled."""
        return self.fill(self.from_values(values), [row["id"] for row in values])

    def from_values(self, values: Sequence[Row]) -> list[Row]:
        """The output rows of `values()` dicts, page columns left to `fill`."""
        if self.build is None:
            self.build = _row_builder(self.columns)
        with _one_page():
            return self.build(values)

    def fuse(
        self, names: Sequence[str], converters: Converters
    ) -> Callable[[list[tuple[Any, ...]], Any], list[Row]] | None:
        """The output rows straight from a compiled statement's fetched tuples (RowShape): each value
        converted and formatted in one pass, without the `values()` dict in between. None where the
        rows cannot carry their id (the paginator and the page columns read it)."""
        built = _fused_builder(self.columns, names, converters) if self.reads_id() else None
        if built is None:
            return None

        def build(rows: list[tuple[Any, ...]], connection: Any) -> list[Row]:
            with _one_page():
                return built(rows, connection)

        return build

    def reads_id(self) -> bool:
        """Whether the output rows carry the record's own id as `id` (as the `values()` dicts do)."""
        get = dict(self.columns).get("id")
        return getattr(get, "lookup", None) == "id" and getattr(get, "fmt", None) in (int, _identity)

    def fill(self, out: list[Row], ids: Sequence[Any] | None = None) -> list[Row]:
        """The page columns of output rows (one query each for the page), by the rows' ids."""
        for name, page in self.page_columns:
            found = page.load(list(ids if ids is not None else (row["id"] for row in out))) if out else {}
            for row in out:
                row[name] = found[row["id"]] if row["id"] in found else page.default()
        return out

    def values(self, queryset: QuerySet, extra: Sequence[str] = ()) -> QuerySet:
        """The queryset as the dict rows this plan reads (joins decided by the lookups alone)."""
        lookups = [*self.lookups, *(name for name in extra if name not in self.lookups)]
        queryset = queryset.select_related(None).prefetch_related(None)
        for annotate in self.annotations:
            queryset = queryset.annotate(**annotate())
        if self.slugs:
            subqueries = connections[queryset.db].vendor == "postgresql"
            for alias, source, slug, related in self.slugs:
                joined = any(lookup.startswith(f"{source}__") for lookup in self.lookups)
                value = Subquery(related) if subqueries and not joined else F(f"{source}__{slug}")
                queryset = queryset.annotate(**{alias: value})
        return queryset.values(*lookups)


# The current time zone, resolved once per page by ReadPlan.rows (a look-up per value cost a
# good share of a 500-row page).
_page = threading.local()


@contextmanager
def _one_page() -> Iterator[None]:
    _page.tz = timezone.get_current_timezone()  # once per page, not once per value
    try:
        yield
    finally:
        _page.tz = _page.today = None


def page_today() -> dt.date:
    """Today in the current time zone, for a ReadColumn's value: looked up once per page while a
    page is built (timezone.localdate() per row cost more than the rest of the row)."""
    today = getattr(_page, "today", None)
    if today is None:
        today = timezone.localdate()
        if getattr(_page, "tz", None) is not None:
            _page.today = today
    return today


def _datetime(value: dt.datetime) -> str:
    if value.utcoffset() is not None:
        value = value.astimezone(getattr(_page, "tz", None) or timezone.get_current_timezone())
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


@cache
def _sqlite_datetime_converter() -> Any:
    from django.db.backends.sqlite3.operations import DatabaseOperations  # not at import: a cycle

    return DatabaseOperations.convert_datetimefield_value


def _stored_datetime(value: Any, connection: Any) -> str | None:
    """SQLite's convert_datetimefield_value (with USE_TZ) and then `_datetime`, in one call: the
    same text, for a fraction of the calls (a timestamp per row cost more than the rest of a
    change-log row)."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        value = parse_datetime(value)
    if value.utcoffset() is None:
        value = value.replace(tzinfo=connection.timezone)
    text = value.astimezone(getattr(_page, "tz", None) or timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _decimal(serializer_field: serializers.DecimalField) -> Callable[[Any], Any]:
    """DRF's DecimalField.to_representation with its quantum and context made once, not per value
    (the plain case: a fixed-point string; anything else is DRF's own)."""
    places, digits = serializer_field.decimal_places, serializer_field.max_digits
    coerce = getattr(serializer_field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
    if places is None or not coerce or serializer_field.localize or serializer_field.normalize_output:
        return serializer_field.to_representation
    quantum = decimal.Decimal(".1") ** places
    rounding = serializer_field.rounding

    context = decimal.Context(prec=digits) if digits is not None else decimal.Context()

    def fmt(value: Any) -> str:
        if not isinstance(value, decimal.Decimal):
            value = decimal.Decimal(str(value).strip())
        return f"{value.quantize(quantum, rounding=rounding, context=context):f}"

    return fmt


def _formatter(serializer_field: serializers.Field) -> Callable[[Any], Any]:
    """What the DRF field's to_representation does for a non-null value, without the instance."""
    if isinstance(serializer_field, serializers.DateTimeField):
        return _datetime
    if isinstance(serializer_field, serializers.DateField):
        return _isoformat
    if isinstance(serializer_field, serializers.DecimalField):
        return _decimal(serializer_field)
    if isinstance(serializer_field, serializers.BooleanField):
        return bool
    if isinstance(serializer_field, serializers.IntegerField):
        return int
    if isinstance(serializer_field, serializers.ChoiceField):
        return _choice(serializer_field.choice_strings_to_values)
    if isinstance(serializer_field, (serializers.CharField, serializers.SlugField, serializers.EmailField)):
        return str
    if isinstance(serializer_field, serializers.ListField):
        return _list(_formatter(serializer_field.child))
    if isinstance(serializer_field, serializers.DictField):
        return serializer_field.to_representation
    if isinstance(serializer_field, (serializers.JSONField, serializers.ReadOnlyField)):
        return _identity
    # A project field of its own (a value's form, e.g. a checked code): its own representation of the
    # stored value, which is what DRF would call too (tests/tracker/test_reads.py holds them equal).
    return serializer_field.to_representation


def _choice(mapping: dict[str, Any]) -> Callable[[Any], Any]:
    """DRF's ChoiceField.to_representation. Where every choice's value is its own text (text
    choices), a text is answered as it is, whether a choice or not: `_passes_text`."""

    def fmt(value: Any) -> Any:
        return mapping.get(str(value), value)

    fmt.passes_text = all(type(value) is str and key == value for key, value in mapping.items())  # type: ignore[attr-defined]
    return fmt


def _passes_text(fmt: Callable[[Any], Any]) -> bool:
    """Whether the formatter answers any text unchanged (so a page need not call it for one)."""
    return fmt is str or getattr(fmt, "passes_text", False)


def _list(item: Callable[[Any], Any]) -> Callable[[Any], list[Any]]:
    """DRF's ListField.to_representation with its child's formatter, not its child field's method
    per item (a page of programs spent a fifth of its time there)."""
    if _passes_text(item):
        return lambda data: [value if type(value) is str or value is None else item(value) for value in data]
    return lambda data: [None if value is None else item(value) for value in data]


def _identity(value: Any) -> Any:
    return value


def _page_placeholder(row: Row) -> None:
    return None


_page_placeholder.page = True  # type: ignore[attr-defined]


def _isoformat(value: dt.date) -> str:
    return value.isoformat()


def _getter(lookup: str, fmt: Callable[[Any], Any]) -> Callable[[Row], Any]:
    def get(row: Row) -> Any:
        value = row[lookup]
        return None if value is None else fmt(value)

    get.lookup, get.fmt = lookup, fmt  # type: ignore[attr-defined]  # read by _row_builder
    return get


def _column_parts(
    columns: Sequence[tuple[str, Callable[[Row], Any]]],
    value_of: Callable[[str], str],
    namespace: dict[str, Any],
    formatted_of: Callable[[str, Callable[[Any], Any]], str | None] = lambda lookup, fmt: None,
) -> list[str]:
    """The source of an output row's members, for a generated page builder: each plain column
    inlined as its value (`value_of(lookup)`), formatted when not null (not called for a text its
    formatter answers unchanged); a nested record inlined the same way under its key's test; a
    ReadColumn called with a dict of its own lookups; a page column's place held by None; any other
    getter called with the row's `values()` dict (`vals`)."""

    def bind(prefix: str, value: Any) -> str:
        name = f"{prefix}{len(namespace)}"
        namespace[name] = value
        return name

    parts = []
    for name, get in columns:
        lookup, fmt = getattr(get, "lookup", None), getattr(get, "fmt", None)
        if getattr(get, "page", False):
            value = "None"
        elif hasattr(get, "nested"):
            inner = ", ".join(_column_parts(get.nested, value_of, namespace, formatted_of))
            value = f"(None if {value_of(get.key)} is None else {{{inner}}})"
        elif hasattr(get, "row_lookups"):
            row = ", ".join(f"{each!r}: {value_of(each)}" for each in get.row_lookups)
            value = f"{bind('g', get.value)}({{{row}}})"
        elif lookup is None:
            value = f"{bind('g', get)}(vals)"
        elif fmt is _identity:
            value = value_of(lookup)
        elif (combined := formatted_of(lookup, fmt)) is not None:
            value = combined
        elif _passes_text(fmt):
            value = f"(v if (v := {value_of(lookup)}) is None or type(v) is str else {bind('f', fmt)}(v))"
        else:
            value = f"(None if (v := {value_of(lookup)}) is None else {bind('f', fmt)}(v))"
        parts.append(f"{name!r}: {value}")
    return parts


def _lookups(columns: Sequence[tuple[str, Callable[[Row], Any]]]) -> Iterator[str]:
    """The `values()` names the columns read (a nested record's key and fields, a ReadColumn's)."""
    for _, get in columns:
        if hasattr(get, "nested"):
            yield get.key  # type: ignore[attr-defined]
            yield from _lookups(get.nested)  # type: ignore[attr-defined]
        elif hasattr(get, "row_lookups"):
            yield from get.row_lookups  # type: ignore[attr-defined]
        elif getattr(get, "lookup", None) is not None:
            yield get.lookup  # type: ignore[attr-defined]


def _needs_values(columns: Sequence[tuple[str, Callable[[Row], Any]]]) -> bool:
    """Whether a column's getter reads the whole `values()` dict (none of the kinds inlined)."""
    return any(
        _needs_values(get.nested)  # type: ignore[attr-defined]
        if hasattr(get, "nested")
        else getattr(get, "lookup", None) is None
        and not getattr(get, "page", False)
        and not hasattr(get, "row_lookups")
        for _, get in columns
    )


def _read_column(twin: ReadColumn) -> Callable[[Row], Any]:
    def get(row: Row) -> Any:
        return twin.value(row)

    get.row_lookups, get.value = twin.lookups, twin.value  # type: ignore[attr-defined]  # read by _column_parts
    return get


def _row_builder(columns: Sequence[tuple[str, Callable[[Row], Any]]]) -> Callable[[Sequence[Row]], list[Row]]:
    """One generated function building a page's dicts from `values()` dicts: each plain column
    inlined as `vals[lookup]` (formatted when not null), the others called; the same values as
    calling each column's getter, without a call and a comprehension per value (most of a 500-row
    page)."""
    namespace: dict[str, Any] = {}
    parts = _column_parts(columns, lambda lookup: f"vals[{lookup!r}]", namespace)
    source = "def build(values):\n    return [{" + ", ".join(parts) + "} for vals in values]\n"
    exec(compile(source, "<read plan>", "exec"), namespace)
    return namespace["build"]


def _fused_builder(
    columns: Sequence[tuple[str, Callable[[Row], Any]]], names: Sequence[str], converters: Converters
) -> Callable[[list[tuple[Any, ...]], Any], list[Row]] | None:
    """One generated function building a page's output dicts from a statement's fetched tuples:
    a plain column's value is its fetched column through the ORM's converters, then its formatter
    (`f3(c5_0(row[5], e5, connection))`); the same values as `_row_builder` over the statement's
    `values()` dicts, one dict per row fewer (nested records and ReadColumns inlined too). Where a
    getter of another kind needs the row's whole `values()` dict, that dict is built first and
    every column read from it. None where a column's lookup is not fetched."""
    position = {name: index for index, name in enumerate(names)}
    if not set(_lookups(columns)) <= set(position):
        return None
    namespace: dict[str, Any] = {}
    chains = {index: (chain, expression) for index, chain, expression in converters}

    def fetched(lookup: str) -> str:
        chain, expression = chains.get(position[lookup], ((), None))
        return converted(position[lookup], chain, expression, namespace)

    def formatted(lookup: str, fmt: Callable[[Any], Any]) -> str | None:
        """A stored SQLite timestamp converted and formatted in one call."""
        chain, _ = chains.get(position[lookup], ((), None))
        if fmt is not _datetime or len(chain) != 1 or not settings.USE_TZ:
            return None
        if getattr(chain[0], "__func__", None) is not _sqlite_datetime_converter():
            return None
        namespace["stored_datetime"] = _stored_datetime
        return f"stored_datetime(row[{position[lookup]}], connection)"

    loop = "for row in rows"
    value_of: Callable[[str], str] = fetched
    formatted_of: Callable[[str, Callable[[Any], Any]], str | None] = formatted
    if _needs_values(columns):
        loop += " for vals in ({" + ", ".join(f"{name!r}: {fetched(name)}" for name in names) + "},)"
        value_of = lambda lookup: f"vals[{lookup!r}]"  # noqa: E731
        formatted_of = lambda lookup, fmt: None  # noqa: E731
    parts = _column_parts(columns, value_of, namespace, formatted_of)
    source = "def build(rows, connection):\n    return [{" + ", ".join(parts) + "} " + loop + "]\n"
    exec(compile(source, "<fused read>", "exec"), namespace)
    return namespace["build"]


def _source_path(prefix: str, source: str) -> str:
    path = source.replace(".", "__")
    return f"{prefix}{path}"


def _slug_subquery(owner: type, prefix: str, source: str, slug: str, plan: ReadPlan) -> str | None:
    """A top-level slug of a foreign key (a user's username, a code) read on PostgreSQL as a scalar
    subquery by primary key rather than a join: the same index look-up per row when it runs, but
    PostgreSQL's planning time grows steeply with the number of joins (a payments page with twelve
    relations spent ~100 ms planning and under 1 ms running). SQLite plans in no time and runs a
    correlated subquery slower than a join, so there it is a join; so is it where the page joins the
    relation anyway (another of its fields is read). `ReadPlan.values` decides. None where the
    page's own join is kept."""
    model = getattr(getattr(owner, "Meta", None), "model", None)
    if prefix or "." in source or model is None:
        return None
    try:
        relation = model._meta.get_field(source)
    except FieldDoesNotExist:
        return None
    if not (relation.many_to_one or relation.one_to_one) or not relation.concrete:
        return None
    alias = f"read_{source}_{slug}"
    related = relation.related_model._base_manager.filter(pk=OuterRef(relation.attname)).order_by()
    plan.slugs.append((alias, source, slug, related.values(slug)[:1]))
    return alias


def _compile(serializer: serializers.Serializer, prefix: str, plan: ReadPlan, owner: type) -> list:
    columns: list[tuple[str, Callable[[Row], Any]]] = []
    for name, serializer_field in serializer.fields.items():
        if getattr(serializer_field, "write_only", False):
            continue
        if isinstance(serializer_field, serializers.SerializerMethodField):
            twin = getattr(owner, f"read_{name}", None)
            if isinstance(twin, ReadColumn) and not prefix:
                plan.lookups.extend(twin.lookups)
                if twin.annotate is not None:
                    plan.annotations.append(twin.annotate)
                columns.append((name, _read_column(twin)))
                continue
            if isinstance(twin, PageColumn) and not prefix:
                columns.append((name, _page_placeholder))  # keeps the key's place; filled per page
                plan.page_columns.append((name, twin))
                continue
            raise TypeError(
                f"{owner.__name__}.{name}: declare read_{name} = ReadColumn(...) or PageColumn(...)"
            )
        source = serializer_field.source
        if isinstance(serializer_field, serializers.BaseSerializer) and not getattr(
            serializer_field, "many", False
        ):
            # A nested record (a foreign key): its fields under the relation's prefix; null when the
            # relation is empty.
            relation = _source_path(prefix, source)
            nested = _compile(serializer_field, f"{relation}__", plan, type(serializer_field))
            key = f"{relation}__id"
            if key not in plan.lookups:
                plan.lookups.append(key)

            def get_nested(row: Row, nested: list = nested, key: str = key) -> Any:
                if row[key] is None:
                    return None
                return {n: g(row) for n, g in nested}

            get_nested.nested, get_nested.key = nested, key  # type: ignore[attr-defined]  # read by _column_parts
            columns.append((name, get_nested))
            continue
        if isinstance(serializer_field, relations.SlugRelatedField):
            fmt: Callable[[Any], Any] = _identity
            lookup = _slug_subquery(owner, prefix, source, serializer_field.slug_field, plan)
            if lookup is None:
                lookup = f"{_source_path(prefix, source)}__{serializer_field.slug_field}"
        elif isinstance(serializer_field, relations.PrimaryKeyRelatedField):
            lookup = _source_path(prefix, source)
            fmt = _identity
        elif isinstance(serializer_field, relations.RelatedField):
            raise TypeError(f"{owner.__name__}.{name}: no lean reader for {type(serializer_field).__name__}")
        else:
            lookup = _source_path(prefix, source)
            fmt = _formatter(serializer_field)
        if lookup not in plan.lookups:
            plan.lookups.append(lookup)
        columns.append((name, _getter(lookup, fmt)))
    return columns


@cache
def plan_for(serializer_class: type[serializers.Serializer]) -> ReadPlan:
    """The compiled read of a serializer class (once per process). Raises TypeError for a field it
    cannot read lean, so a missing twin fails at start-up, not as a slow page."""
    plan = ReadPlan(lookups=[], columns=[])
    plan.columns = _compile(serializer_class(), "", plan, serializer_class)
    if "id" not in plan.lookups:
        plan.lookups.append("id")
    return plan


def read_rows(serializer_class: type[serializers.Serializer], queryset: QuerySet) -> list[Row]:
    plan = plan_for(serializer_class)
    return plan.rows(list(plan.values(queryset)))


def _default(value: Any) -> Any:
    """Values orjson does not render itself, rendered as DRF's encoder would — except Decimal, which
    stays a string (money is never a float)."""
    if isinstance(value, dt.datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return list(value)
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
        return list(value)
    raise TypeError(f"cannot render {type(value).__name__} as JSON")


class ORJSONRenderer(JSONRenderer):
    """DRF's JSON renderer on orjson: compact UTF-8, the same bytes DRF's compact output gives for the
    strings, numbers and lists the serializers produce, several times faster."""

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        if data is None:
            return b""
        return orjson.dumps(
            data, default=_default, option=orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS
        )


__all__ = [
    "GroupConcat",
    "ORJSONRenderer",
    "PageColumn",
    "ReadColumn",
    "ReadPlan",
    "page_today",
    "plan_for",
    "read_rows",
]
