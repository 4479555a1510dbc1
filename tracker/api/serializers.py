"""Base serializers for request bodies: each value must already have the JSON type the schema gives
its field. DRF converts what it can, so `"note": 0` became "0", `"submit": "yes"` became True,
`"region": 360300` found the region and `"amount": "1e3"` was 1000, all of which the schema (and so
every generated client) calls invalid; a request that breaks its schema is now a 400 naming the
field, as the schema promises. Decimals take a string in the form the schema's pattern states (see
decimal_pattern) or a JSON number (read exactly, from its digits)."""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.fields import empty

# Field class -> the JSON type its values take in a request body (see json_type_of).
_STRING_FIELDS = (
    serializers.CharField,
    serializers.DateField,
    serializers.DateTimeField,
    serializers.TimeField,
    serializers.DurationField,
    serializers.UUIDField,
    serializers.SlugRelatedField,
)
_MESSAGES = {
    "string": _("Expected a string."),
    "integer": _("Expected a whole number."),
    "boolean": _("Expected true or false."),
    "array": _("Expected a list."),
    "object": _("Expected an object."),
    "decimal": _('Expected a number, or a string such as "1234.50".'),
}


def decimal_pattern(field: serializers.DecimalField) -> str | None:
    """The decimal strings a field takes: digits with an optional fraction, a sign only where
    negatives are allowed, and no more whole or fraction digits than the field holds."""
    if field.max_digits is None:
        return None
    places = field.decimal_places or 0
    sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
    fraction = rf"(?:\.\d{{1,{places}}})?" if places else ""
    return rf"^{sign}\d{{1,{field.max_digits - places}}}{fraction}$"


def json_type_of(field: serializers.Field) -> str | None:
    """The JSON type a request body gives this field, or None where any (or a custom check) goes."""
    if isinstance(field, serializers.BooleanField):
        return "boolean"
    if isinstance(field, serializers.DecimalField):
        return "decimal"
    if isinstance(field, (serializers.IntegerField, serializers.PrimaryKeyRelatedField)):
        return "integer"
    if isinstance(field, (serializers.MultipleChoiceField, serializers.ManyRelatedField)):
        return "array"
    if isinstance(field, serializers.ChoiceField):
        keys = list(field.choices)
        return "string" if keys and all(isinstance(key, str) for key in keys) else None
    if isinstance(field, _STRING_FIELDS):
        return "string"
    if isinstance(field, (serializers.ListField, serializers.ListSerializer)):
        return "array"
    if isinstance(field, (serializers.DictField, serializers.Serializer)):
        return "object"
    return None


def has_json_type(value: Any, json_type: str, field: serializers.Field | None = None) -> bool:
    if json_type == "decimal":
        if isinstance(value, str):
            pattern = decimal_pattern(field) if field is not None else None
            return pattern is None or re.fullmatch(pattern, value) is not None
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if json_type == "string":
        return isinstance(value, str)
    if json_type == "boolean":
        return isinstance(value, bool)
    if json_type == "integer":  # JSON Schema counts 3.0 as an integer
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if json_type == "array":
        return isinstance(value, list)
    if json_type == "object":
        return isinstance(value, dict)
    return True


def type_errors(fields: dict[str, serializers.Field], data: dict[str, Any]) -> dict[str, Any]:
    """{field: [message]} for values (and list items) whose JSON type is not their field's."""
    errors: dict[str, Any] = {}
    for name, field in fields.items():
        if field.read_only or field.source == "*" or name not in data:
            continue
        value = data[name]
        if value is None:
            continue  # DRF answers for null (allowed or "may not be null")
        json_type = json_type_of(field)
        if json_type is not None and not has_json_type(value, json_type, field):
            errors[name] = [_MESSAGES[json_type]]
            continue
        child = getattr(field, "child", None)
        child_type = json_type_of(child) if isinstance(child, serializers.Field) else None
        if child_type is None or child_type == "object":
            continue
        pairs = value.items() if isinstance(value, dict) else enumerate(value)
        bad = {
            str(key): [_MESSAGES[child_type]]
            for key, item in pairs
            if item is not None and not has_json_type(item, child_type, child)
        }
        if bad:
            errors[name] = bad
    return errors


class StrictTypesMixin:
    """Refuse a JSON body whose values do not have their fields' JSON types, before DRF converts
    them. Form and multipart bodies (strings throughout) are left to DRF."""

    def run_validation(self, data: Any = empty) -> Any:
        if type(data) is dict:  # a parsed JSON object; QueryDict (forms) is a dict subclass
            errors = type_errors(self.fields, data)  # type: ignore[attr-defined]
            if errors:
                raise serializers.ValidationError(errors)
        return super().run_validation(data)  # type: ignore[misc]


class TrackerSerializer(StrictTypesMixin, serializers.Serializer):
    pass


class TrackerModelSerializer(StrictTypesMixin, serializers.ModelSerializer):
    pass
