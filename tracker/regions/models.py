"""The region tree (GB/T 2260 administrative divisions) and its designations.

Each region stores its materialised path of codes ("000000/360000/360300/"), so "everything within
萍乡市" is one indexed prefix query (`path LIKE '000000/360000/360300/%'`), never recursion.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from tracker.changelog.models import TrackedModel
from tracker.regions.choices import LEVEL_CODE_LENGTH, LEVEL_DEPTH, RegionLevel
from tracker.scope import PATH_SEPARATOR


class Designation(TrackedModel):
    """A label a region carries that policies refer to, e.g. 国家乡村振兴重点帮扶县 (key county), for
    which some subsidies are raised."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=200)

    region_lookup: ClassVar[str] = ""

    class Meta:
        verbose_name = _("designation")
        verbose_name_plural = _("designations")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name_zh


class Region(TrackedModel):
    code = models.CharField(_("code"), max_length=12, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    level = models.CharField(_("level"), max_length=16, choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(_("path"), max_length=255, unique=True, editable=False)
    local_code = models.BooleanField(
        _("local code"),
        default=False,
        help_text=_("The area has no GB/T 2260 code; its code is a stable local one under its parent."),
    )
    designations = models.JSONField(_("designations"), default=list, blank=True)

    # A region's scope is its own path; a user also sees the ancestors of their region (to show
    # where it lies), but writes only within its subtree (tracker.scope).
    region_lookup: ClassVar[str] = "self"
    scope_includes_ancestors: ClassVar[bool] = True

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["path"]
        indexes = [
            # Prefix queries on PostgreSQL use this index whatever the database collation is.
            models.Index(fields=["path"], name="region_path_like_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["level"], name="region_level_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name_zh} ({self.code})"

    def build_path(self) -> str:
        prefix = self.parent.path if self.parent_id else ""
        return f"{prefix}{self.code}{PATH_SEPARATOR}"

    def clean(self) -> None:
        errors: dict[str, list[Any]] = {}
        if not re.fullmatch(r"[0-9A-Z]{6}|[0-9A-Z]{9}|[0-9A-Z]{12}", self.code or ""):
            errors.setdefault("code", []).append(_("A region code has 6, 9 or 12 digits or capital letters."))
        elif not self.local_code:
            expected = LEVEL_CODE_LENGTH.get(self.level)
            if expected and (len(self.code) != expected or not self.code.isdigit()):
                errors.setdefault("code", []).append(
                    _("A GB/T 2260 code at this level has %(n)d digits.") % {"n": expected}
                )
        if self.level == RegionLevel.COUNTRY:
            if self.parent_id:
                errors.setdefault("parent", []).append(_("The country has no parent."))
        elif not self.parent_id:
            errors.setdefault("parent", []).append(_("Every region below the country has a parent."))
        elif self.parent and LEVEL_DEPTH.get(self.parent.level, 99) >= LEVEL_DEPTH.get(self.level, -1):
            errors.setdefault("level", []).append(_("A region must be below its parent's level."))
        if not isinstance(self.designations, list) or not all(isinstance(d, str) for d in self.designations):
            errors.setdefault("designations", []).append(_("Designations are a list of codes."))
        else:
            known = set(Designation.objects.filter(code__in=self.designations).values_list("code", flat=True))
            unknown = sorted(set(self.designations) - known)
            if unknown:
                errors.setdefault("designations", []).append(
                    _("Unknown designation codes: %(codes)s") % {"codes": ", ".join(unknown)}
                )
        if errors:
            raise ValidationError(errors)

    # A process-wide cache of region id -> path: paths are derived from codes, which never change,
    # so stamping change entries and scope checks need no query per row.
    _path_cache: ClassVar[dict[int, str]] = {}

    @classmethod
    def path_for_code(cls, code: str) -> str | None:
        """The materialised path of the region with this code (None when there is none)."""
        return cls._base_manager.filter(code=code).values_list("path", flat=True).first()

    @classmethod
    def cache_paths(cls, region_ids: Iterable[int]) -> None:
        """Fill the path cache for these regions in one query (batches look paths up per row)."""
        missing = {pk for pk in region_ids if pk is not None and pk not in cls._path_cache}
        if missing:
            cls._path_cache.update(cls._base_manager.filter(pk__in=missing).values_list("pk", "path"))

    @classmethod
    def cached_path(cls, region_id: int) -> str:
        path = cls._path_cache.get(region_id)
        if path is None:
            path = cls._base_manager.filter(pk=region_id).values_list("path", flat=True).first() or ""
            if path:
                cls._path_cache[region_id] = path
        return path


def designations_for_path(path: str) -> set[str]:
    """All designations carried by a region or any of its ancestors (one query)."""
    return designations_for_paths([path])[path]


def designations_for_paths(paths: Iterable[str]) -> dict[str, frozenset[str]]:
    """For each region path, the designations carried by that region or any of its ancestors (one
    query for any number of paths)."""
    paths = set(paths)
    codes = {code for path in paths for code in path.split(PATH_SEPARATOR) if code}
    by_code = dict(Region.objects.filter(code__in=codes).values_list("code", "designations"))
    return {
        path: frozenset(d for code in path.split(PATH_SEPARATOR) if code for d in (by_code.get(code) or []))
        for path in paths
    }


__all__ = ["Designation", "Region", "designations_for_path", "designations_for_paths"]
