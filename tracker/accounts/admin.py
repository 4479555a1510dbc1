from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from tracker.accounts.models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (*DjangoUserAdmin.fieldsets, (_("Region scope"), {"fields": ("region",)}))
    list_display = ("username", "region", "is_superuser", "is_active")
    list_filter = ("is_superuser", "is_active", "groups")
    autocomplete_fields = ("region",)
