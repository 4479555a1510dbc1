"""Targets (计划/目标): a figure per region, year and measure. The figure achieved is never stored:
programs.targets.selectors counts it from the records in SQL. A target the source does not print but
implies (Zhangjiakou's provincial tasks) is stored as an assumption, with the reasoning."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from programs.targets.choices import Measure
from tracker.changelog.models import TrackedModel


class Target(TrackedModel):
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(
        _("year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    measure = models.CharField(_("measure"), max_length=32, choices=Measure.choices)
    figure = models.PositiveIntegerField(_("target"), validators=[MinValueValidator(1)])
    assumed = models.BooleanField(
        _("assumed"), default=False, help_text=_("The source does not print this target; it is inferred.")
    )
    assumption = models.TextField(_("assumption"), blank=True)
    source_quote = models.TextField(_("source quote"), blank=True)
    source_line = models.CharField(_("source line"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["region_id", "year", "measure"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "year", "measure"], name="target_one_per_region_year_measure"
            ),
            models.CheckConstraint(condition=Q(figure__gt=0), name="target_positive"),
            models.CheckConstraint(
                condition=Q(assumed=False) | ~Q(assumption=""), name="target_assumption_explained"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region} {self.year} {self.get_measure_display()}: {self.figure}"

    def change_label(self) -> str:
        return f"{self.region_id} {self.year} {self.measure} {self.figure}"
