"""Filtering shared by every list: the `within` filter (a region code: its whole subtree), record-id
and whole-number filters, and the two filter backends that hold every list's filters and ordering to
the rule of tracker.api.query: a declared query parameter the server cannot use (empty, blanks
around it, given twice, an unknown ordering) is a 400 naming it, never silently ignored."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import utils as filter_utils
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter

from tracker.api.query import value_problem

MAX_ID = 2**63 - 1  # the largest primary key (bigint); anything larger would overflow the database


class WithinFilter(django_filters.CharFilter):
    """?within=360300 keeps records whose region lies in that region's subtree. An unknown code
    matches nothing (a 200 with an empty page), like any filter value that matches no record."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label", gettext_lazy("Within region (code)"))
        kwargs.setdefault("max_length", 12)
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet, value: str) -> QuerySet:
        if not value:
            return qs
        from tracker.regions.models import Region

        path = Region.path_for_code(value)
        if path is None:
            return qs.none()
        return qs.within(path)


class TrackerFilterSet(django_filters.FilterSet):
    within = WithinFilter()


class IntegerFilter(django_filters.NumberFilter):
    """A whole number (django-filter's NumberFilter takes decimals: `?days=0.5` passed)."""

    field_class = forms.IntegerField


@extend_schema_field({"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID})
class IdFilter(IntegerFilter):
    """A record id: a whole number within the database's range (else 400, never an overflow)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


def _query_keys(name: str, filter_: django_filters.Filter) -> list[str]:
    """The query parameters a filter reads: its name, or name_<suffix> for range widgets."""
    suffixes = getattr(filter_.field.widget, "suffixes", None)
    if suffixes:
        return [f"{name}_{suffix}" if suffix else name for suffix in suffixes]
    return [name]


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter's backend, except that a declared filter given with no value (`?status=`), with
    blanks around it, or (single-valued) twice, is a 400 naming it: django-filter read these as "no
    filter", a trimmed value or "the last one", so a client's mistake returned a list it did not ask
    for, or one its schema did not describe."""

    _keys_cache: dict[type, frozenset[str]] = {}

    def _declared_keys(self, filterset_class: type) -> frozenset[str]:
        keys = self._keys_cache.get(filterset_class)
        if keys is None:
            keys = frozenset(
                key
                for name, filter_ in filterset_class.base_filters.items()
                for key in _query_keys(name, filter_)
            )
            self._keys_cache[filterset_class] = keys
        return keys

    def filter_queryset(self, request: Any, queryset: QuerySet, view: Any) -> QuerySet:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return queryset
        if not self._declared_keys(filterset_class).intersection(request.query_params):
            # No filter asked for: building the filter set and its form would change nothing (a good
            # share of a short page's time).
            return queryset
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        errors: dict[str, list[str]] = {}
        for name, filter_ in filterset.filters.items():
            multiple = getattr(filter_.field.widget, "allow_multiple_selected", False)
            for key in _query_keys(name, filter_):
                values = request.query_params.getlist(key)
                problems = [problem for value in values if (problem := value_problem(value))]
                if problems:
                    errors[key] = problems[:1]
                elif len(values) > 1 and not multiple:
                    errors[key] = [_("Give this parameter once.")]
        if not errors and not filterset.is_valid():
            errors = filter_utils.translate_validation(filterset.errors).detail
        if errors:
            raise ValidationError(errors)
        cleaned = filterset.form.cleaned_data
        for name, value in cleaned.items():
            if isinstance(value, dt.datetime):
                cleaned[name] = in_utc(value)
        return filterset.qs


def in_utc(value: dt.datetime) -> dt.datetime:
    """An instant in UTC, the form every database compares. Kept with its own offset, a valid
    RFC 3339 time reached PostgreSQL as an error (it refuses offsets beyond 15:59) and a time just
    after year 1 in a zone east of UTC fell before year 1 when the driver converted it (a 500 on
    SQLite). Instants outside the representable range become its ends, which compare the same."""
    if value.tzinfo is None:
        return value
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        edge = dt.datetime.min if value.year == dt.MINYEAR else dt.datetime.max
        return edge.replace(tzinfo=dt.UTC)


class StrictFilterExtension(DjangoFilterExtension):
    """The schema of each filter parameter states the filter's form field's limits: maxLength,
    minimum, maximum (the rule on blanks, for every query parameter, is added by
    tracker.api.schema.strict_query_parameters)."""

    target_class = "tracker.api.filters.StrictFilterBackend"
    priority = 1

    def resolve_filter_field(
        self, auto_schema: Any, model: Any, filterset_class: Any, field_name: str, filter_field: Any
    ) -> list[dict[str, Any]]:
        parameters = super().resolve_filter_field(
            auto_schema, model, filterset_class, field_name, filter_field
        )
        extra = filter_field.extra
        for parameter in parameters:
            schema = parameter["schema"]
            target = schema.get("items", schema)
            if target.get("type") == "string" and extra.get("max_length") is not None:
                target.setdefault("maxLength", extra["max_length"])
            if target.get("type") in ("integer", "number"):
                if extra.get("min_value") is not None:
                    target.setdefault("minimum", extra["min_value"])
                if extra.get("max_value") is not None:
                    target.setdefault("maximum", extra["max_value"])
        return parameters


class StrictOrderingFilter(OrderingFilter):
    """`?ordering=` takes one of the view's `ordering_fields`, optionally prefixed with `-`; anything
    else is a 400 (DRF dropped unknown fields silently). A view without `ordering_fields` offers no
    ordering, and its `ordering` parameter is an unknown one, ignored."""

    def _terms(self, view: Any) -> list[str] | None:
        fields = getattr(view, "ordering_fields", None)
        if not fields or fields == "__all__":
            return None
        names = [item if isinstance(item, str) else item[0] for item in fields]
        return [term for name in names for term in (name, f"-{name}")]

    def get_ordering(self, request: Any, queryset: QuerySet, view: Any) -> Any:
        terms = self._terms(view)
        if terms is None:
            return self.get_default_ordering(view)
        values = request.query_params.getlist(self.ordering_param)
        if not values:
            return self.get_default_ordering(view)
        if len(values) > 1 or values[0] not in terms:
            raise ValidationError(
                {self.ordering_param: [_("Expected one of: %(terms)s.") % {"terms": ", ".join(terms)}]}
            )
        return (values[0],)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        terms = self._terms(view)
        if terms is None:
            return []
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": "Which field to order the results by; `-` for descending.",
                "schema": {"type": "string", "enum": terms},
            }
        ]
