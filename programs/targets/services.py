"""Writes of targets: reviewers of the region or above set them; an assumed target explains itself."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from programs.targets.models import Target
from tracker.accounts.choices import Role
from tracker.accounts.roles import require_role
from tracker.changelog.context import acting
from tracker.scope import require_in_scope
from tracker.transactions import atomic_service

TARGET_FIELDS = frozenset({"figure", "assumed", "assumption", "source_quote", "source_line"})


def _check(target: Target) -> None:
    if target.assumed and not (target.assumption or "").strip():
        raise ValidationError({"assumption": [_("An assumed target says what it assumes and why.")]})


@atomic_service
def target_create(*, actor: Any, dry_run: bool = False, **fields: Any) -> Target:
    require_role(actor, Role.REVIEWER)
    require_in_scope(actor, fields["region"])
    target = Target(**fields)
    _check(target)
    target.validate_row(dry_run=dry_run)
    if dry_run:
        return target
    with acting(actor):
        target.save()
    return target


@atomic_service
def target_update(*, target: Target, actor: Any, fields: Mapping[str, Any], dry_run: bool = False) -> Target:
    require_role(actor, Role.REVIEWER)
    unknown = set(fields) - TARGET_FIELDS
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed.")] for name in sorted(unknown)})
    target = Target.objects.select_for_update().select_related("region").get(pk=target.pk)
    require_in_scope(actor, target)
    for name, value in fields.items():
        setattr(target, name, value)
    _check(target)
    target.validate_row(dry_run=dry_run)
    if dry_run:
        return target
    with acting(actor):
        target.save()
    return target
