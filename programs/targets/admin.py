from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from programs.targets import services
from programs.targets.models import Target
from tracker.admin import RegionSubtreeFilter, ScopedAdmin


@admin.register(Target)
class TargetAdmin(ScopedAdmin):
    list_display = ("region", "year", "measure", "figure", "assumed")
    list_filter = ("year", "measure", "assumed", RegionSubtreeFilter)
    search_fields = ("region__name_zh", "region__code")
    autocomplete_fields = ("region",)
    list_select_related = ("region",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("region", "year", "measure", "version") if obj is not None else ("version",)

    def save_via_service(
        self, request: HttpRequest, obj: Target, form: Any, change: bool, *, dry_run: bool = False
    ) -> Any:
        if change:
            fields = {n: form.cleaned_data[n] for n in form.changed_data if n in services.TARGET_FIELDS}
            return services.target_update(
                target=Target.objects.get(pk=obj.pk), actor=request.user, fields=fields, dry_run=dry_run
            )
        return services.target_create(
            actor=request.user,
            region=obj.region,
            year=obj.year,
            measure=obj.measure,
            figure=obj.figure,
            assumed=obj.assumed,
            assumption=obj.assumption,
            source_quote=obj.source_quote,
            source_line=obj.source_line,
            dry_run=dry_run,
        )
