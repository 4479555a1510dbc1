"""Refusals of the database's own row checks, as the field errors a client can act on.

Services do not re-query what the database enforces anyway (unique fields and constraints, check
constraints): `full_clean` would cost one query per unique field and constraint on every save. When
the database refuses, this turns its error into the same 400 a `full_clean` would have given, on the
field(s) concerned.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models
from django.utils.text import capfirst
from django.utils.translation import gettext as _

_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (.+)")
_SQLITE_CHECK = re.compile(r"CHECK constraint failed: (\w+)")
_PG_KEY = re.compile(r"Key \((.+?)\)=")


def _columns(exc: IntegrityError) -> tuple[list[str], str | None]:
    """The columns of a violated unique constraint, or the name of a violated check constraint."""
    cause = exc.__cause__
    diag = getattr(cause, "diag", None)
    if diag is not None:  # PostgreSQL (psycopg)
        match = _PG_KEY.search(diag.message_detail or "")
        columns = [c.strip().strip('"') for c in match.group(1).split(",")] if match else []
        return columns, diag.constraint_name
    text = str(exc)
    match = _SQLITE_UNIQUE.search(text)
    if match:
        return [part.rsplit(".", 1)[-1].strip() for part in match.group(1).split(",")], None
    match = _SQLITE_CHECK.search(text)
    return [], match.group(1) if match else None


def as_validation_error(instance: models.Model, exc: IntegrityError) -> ValidationError | None:
    """The field errors for a refused unique or check constraint of `instance`'s table, or None when
    the error is something else (a concurrent writer, a foreign key)."""
    columns, constraint = _columns(exc)
    opts = instance._meta
    by_column = {f.column: f for f in opts.concrete_fields}
    fields = [by_column[c] for c in columns if c in by_column]
    if fields:
        if len(fields) == 1:
            field = fields[0]
            message = field.error_messages.get("unique") or _("%(model)s with this %(field)s already exists.")
            return ValidationError(
                {
                    field.name: [
                        ValidationError(
                            message,
                            code="unique",
                            params={
                                "model_name": capfirst(opts.verbose_name),
                                "field_label": capfirst(field.verbose_name),
                                "model": capfirst(opts.verbose_name),
                                "field": field.verbose_name,
                            },
                        )
                    ]
                }
            )
        names = ", ".join(str(f.verbose_name) for f in fields)
        return ValidationError(
            {
                "__all__": [
                    _("A %(model)s with these %(fields)s already exists.")
                    % {"model": opts.verbose_name, "fields": names}
                ]
            }
        )
    for check in opts.constraints:
        if check.name == constraint:
            message: Any = getattr(check, "violation_error_message", None) or _(
                "The values are inconsistent."
            )
            return ValidationError({"__all__": [str(message) % {"name": check.name}]})
    return None
