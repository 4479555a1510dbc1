from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tracker.accounts.models import LoginLockout, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (*DjangoUserAdmin.fieldsets, (_("Region scope"), {"fields": ("region",)}))
    list_display = ("username", "full_name", "region", "is_superuser", "is_active")
    search_fields = ("username", "last_name", "first_name")

    @admin.display(description=pgettext_lazy("person", "name"), ordering="last_name")
    def full_name(self, user: User) -> str:
        # Family name first, as Chinese names are written (the admin's welcome line does the same).
        return f"{user.last_name}{user.first_name}" or "—"

    list_filter = ("is_superuser", "is_active", "groups")
    autocomplete_fields = ("region",)


@admin.register(LoginLockout)
class LoginLockoutAdmin(admin.ModelAdmin):
    """Who is locked out and why; deleting a row lifts its lock."""

    list_display = ("username", "failures", "last_failure_at", "last_ip", "locked_until")
    search_fields = ("username",)
    ordering = ("-last_failure_at",)
    readonly_fields = (
        "username",
        "failures",
        "first_failure_at",
        "last_failure_at",
        "last_ip",
        "locked_until",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
