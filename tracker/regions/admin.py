from django.contrib import admin

from tracker.admin import ScopedAdmin
from tracker.regions.models import Designation, Region
from tracker.regions.services import designation_upsert, region_upsert


@admin.register(Region)
class RegionAdmin(ScopedAdmin):
    list_display = ("code", "name_zh", "name_en", "level", "parent", "local_code")
    list_filter = ("level", "local_code")
    search_fields = ("code", "name_zh", "name_en")
    readonly_fields = ("path", "version")
    autocomplete_fields = ("parent",)

    def save_via_service(self, request, obj, form, change, *, dry_run=False):
        return region_upsert(
            code=obj.code,
            name_zh=obj.name_zh,
            name_en=obj.name_en,
            level=obj.level,
            parent_code=obj.parent.code if obj.parent_id else None,
            local_code=obj.local_code,
            designations=obj.designations,
            actor=request.user,
            dry_run=dry_run,
        )

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(Designation)
class DesignationAdmin(ScopedAdmin):
    list_display = ("code", "name_zh", "name_en")

    def save_via_service(self, request, obj, form, change, *, dry_run=False):
        return designation_upsert(
            code=obj.code, name_zh=obj.name_zh, name_en=obj.name_en, actor=request.user, dry_run=dry_run
        )

    def get_queryset(self, request):
        return Designation.objects.all()

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser
