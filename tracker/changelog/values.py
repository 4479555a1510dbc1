"""Turn field values into the JSON-safe form stored in change entries (and hashed)."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


def field_log_value(field: models.Field, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(field, models.DecimalField):
        quantum = decimal.Decimal(1).scaleb(-(field.decimal_places or 0))
        return str(decimal.Decimal(value).quantize(quantum))
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (bool, int, str)):
        return value
    if hasattr(value, "name") and isinstance(field, models.FileField):
        return value.name or None
    # JSON fields and anything else: round-trip through JSON so what we hash is what we store.
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _plain(value: Any) -> Any:
    return value


def log_converter(field: models.Field) -> Any:
    """A fast converter for one field (chosen once per model, not per value): most columns are
    strings, integers, booleans or foreign keys, which need no conversion."""
    if isinstance(
        field, (models.CharField, models.TextField, models.BooleanField, models.IntegerField)
    ) and not (isinstance(field, models.FileField)):
        return _plain
    if isinstance(field, models.ForeignKey):
        return _plain
    return lambda value: field_log_value(field, value)
