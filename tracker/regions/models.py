"""The region tree (GB/T 2260 administrative divisions) and its designations.

Each region stores its materialised path of codes ("000000/360000/360300/"), so "everything within
萍乡市" is one indexed prefix query (`path LIKE '000000/360000/360300/%'`), never recursion.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from tracker.changelog.models import TrackedModel, TrackedQuerySet
from tracker.regions.choices import LEVEL_CODE_LENGTH, LEVEL_DEPTH, RegionLevel

PATH_SEPARATOR = "/"


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

    def get_region_path(self) -> str:
        return ""


class RegionQuerySet(TrackedQuerySet):
    def within(self, path: str) -> RegionQuerySet:
        return self.filter(path__startswith=path)

    def visible_to(self, user: Any) -> RegionQuerySet:
        """A user sees their region's subtree and the ancestors of their region (to show its path)."""
        path = getattr(user, "scope_path", None)
        if path is None:
            return self.none()
        if not path:
            return self
        ancestors = [c for c in path.split(PATH_SEPARATOR) if c]
        return self.filter(models.Q(path__startswith=path) | models.Q(code__in=ancestors))


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

    region_lookup: ClassVar[str] = ""
    objects = RegionQuerySet.as_manager()

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

    def get_region_path(self) -> str:
        return self.path

    @classmethod
    def rows_within(cls, path: str) -> models.QuerySet:
        return cls._base_manager.filter(path__startswith=path)

    @property
    def depth(self) -> int:
        return self.path.count(PATH_SEPARATOR) - 1

    def ancestor_codes(self) -> list[str]:
        return [c for c in self.path.split(PATH_SEPARATOR) if c]

    def is_within(self, other: Region) -> bool:
        return self.path.startswith(other.path)

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
    def cached_path(cls, region_id: int) -> str:
        path = cls._path_cache.get(region_id)
        if path is None:
            path = cls._base_manager.filter(pk=region_id).values_list("path", flat=True).first() or ""
            if path:
                cls._path_cache[region_id] = path
        return path


def designations_for_path(path: str) -> set[str]:
    """All designations carried by a region or any of its ancestors (one query)."""
    codes = [c for c in path.split(PATH_SEPARATOR) if c]
    result: set[str] = set()
    for designations in Region.objects.filter(code__in=codes).values_list("designations", flat=True):
        result.update(designations or [])
    return result


__all__ = ["Designation", "Region", "RegionQuerySet", "designations_for_path"]
