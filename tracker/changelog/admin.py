from django.contrib import admin

from tracker.changelog.models import ChangeEntry


@admin.register(ChangeEntry)
class ChangeEntryAdmin(admin.ModelAdmin):
    """The change log, read-only for everyone (superusers included), scoped by region."""

    list_display = ("at", "actor_name", "source", "action", "model", "object_id", "object_version", "label")
    list_filter = ("source", "action", "model")
    search_fields = ("object_id", "actor_name", "request_id", "label")
    date_hierarchy = "at"

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
