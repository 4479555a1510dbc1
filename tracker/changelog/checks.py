"""System checks (run by `manage.py check`, and so by `make test`) for writes the log cannot see."""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.db import models


@checks.register(checks.Tags.models)
def tracked_foreign_keys(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Deleting a referenced row with on_delete=SET_NULL / SET_DEFAULT / SET(...) makes Django
    UPDATE the tracked rows that point at it directly in SQL, with no change entry. Tracked models
    must PROTECT (or CASCADE, whose deletes are logged) instead."""
    from tracker.changelog.selectors import tracked_models

    errors = []
    for model in tracked_models():
        for field in model._meta.concrete_fields:
            if not isinstance(field, models.ForeignKey):
                continue
            on_delete = field.remote_field.on_delete
            if (
                on_delete in (models.SET_NULL, models.SET_DEFAULT)
                or getattr(on_delete, "__name__", "") == "set_on_delete"
            ):
                errors.append(
                    checks.Error(
                        f"{model._meta.label}.{field.name} uses on_delete={on_delete.__name__}, "
                        "which changes tracked rows without a change entry",
                        hint="Use PROTECT (deactivate instead of deleting) or CASCADE.",
                        obj=field,
                        id="changelog.E001",
                    )
                )
    return errors
