"""Query parameters: one rule for every parameter an operation declares (its filters, pagination,
ordering, and those a view reads itself such as `as_of`, `format`, `year`). Absent means the
default. Given empty, with blanks around the value, twice, or with a value the server cannot use, it
is a 400 naming the parameter, never silently the default: `?status=` used to list everything.
Parameters an operation does not declare are ignored."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

# Python's whitespace (what str.strip() removes) as a JSON Schema (ECMA-262) character class, so the
# schema's pattern and the server's check agree on every character.
BLANKS = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# A value that is not empty and has no blanks at either end.
TRIMMED_PATTERN = rf"^[^{BLANKS}](?:[\s\S]*[^{BLANKS}])?$"


def value_problem(raw: str) -> str | None:
    """Why a query parameter's raw value is unusable whatever its type, or None."""
    if not raw.strip():
        return _("Give a value, or leave the parameter out.")
    if raw != raw.strip():
        return _("Remove the blanks around the value.")
    return None


def query_param(
    request: Request,
    name: str,
    *,
    field: serializers.Field | None = None,
    choices: Iterable[str] | None = None,
    default: Any = None,
) -> Any:
    """The value of query parameter `name`, converted by `field` or checked against `choices`;
    `default` when the parameter is absent."""
    values = request.query_params.getlist(name)
    if not values:
        return default
    if len(values) > 1:
        raise ValidationError({name: [_("Give this parameter once.")]})
    raw = values[0]
    problem = value_problem(raw)
    if problem:
        raise ValidationError({name: [problem]})
    if choices is not None:
        allowed = list(choices)
        if raw not in allowed:
            raise ValidationError({name: [_("Expected one of: %(terms)s.") % {"terms": ", ".join(allowed)}]})
    if field is not None:
        try:
            return field.run_validation(raw)
        except serializers.ValidationError as exc:
            raise ValidationError({name: exc.detail}) from None
    return raw
