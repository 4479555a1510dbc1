"""Writes to the region tree. Regions are reference data: the seed and superusers change them."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from tracker.changelog.context import acting
from tracker.regions.models import Designation, Region
from tracker.transactions import atomic_service


def _require_admin(actor: Any) -> None:
    """Regions are reference data: superusers change them (the seed, with no actor, loads them)."""
    if actor is not None and not actor.is_superuser:
        raise PermissionDenied(_("Only administrators change reference data."))


@atomic_service
def designation_upsert(
    *, code: str, name_zh: str, name_en: str, actor: Any = None, dry_run: bool = False
) -> Designation:
    _require_admin(actor)
    designation = Designation.objects.filter(code=code).first() or Designation(code=code)
    if designation.pk and (designation.name_zh, designation.name_en) == (name_zh, name_en):
        return designation
    designation.name_zh, designation.name_en = name_zh, name_en
    designation.validate_row(dry_run=dry_run)
    if dry_run:
        return designation
    with acting(actor):
        designation.save()
    return designation


@atomic_service
def region_upsert(
    *,
    code: str,
    name_zh: str,
    name_en: str,
    level: str,
    parent_code: str | None,
    local_code: bool = False,
    designations: list[str] | None = None,
    actor: Any = None,
    dry_run: bool = False,
) -> Region:
    """Create the region or bring it up to date; a region never moves to another parent, since
    every record's scope is derived from its region's path."""
    _require_admin(actor)
    parent = Region.objects.get(code=parent_code) if parent_code else None
    region = Region.objects.filter(code=code).first()
    wanted: dict[str, Any] = {
        "name_zh": name_zh,
        "name_en": name_en,
        "level": level,
        "local_code": local_code,
        "designations": sorted(designations or []),
    }
    if region is None:
        region = Region(code=code, parent=parent, **wanted)
    else:
        if region.parent_id != (parent.pk if parent else None):
            raise ValidationError({"parent": f"region {code} cannot move to another parent"})
        if all(getattr(region, k) == v for k, v in wanted.items()):
            return region
        for key, value in wanted.items():
            setattr(region, key, value)
    region.path = region.build_path()
    region.validate_row(dry_run=dry_run)
    if dry_run:
        return region
    with acting(actor):
        region.save()
    Region._path_cache.pop(region.pk, None)
    return region
