"""The admin's shared base: the same region scope as the API for non-superusers, writes that go
through services (every door enforces the same rules), and the change log as the history view."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from tracker.changelog.models import ChangeEntry


class ScopedAdmin(admin.ModelAdmin):
    """Base ModelAdmin for tracked models.

    Subclasses that have rules override `save_via_service` to call their service. Hard delete is off
    by default (records are deactivated, not deleted); the history page shows the change log.
    """

    allow_delete = False
    readonly_fields: Any = ("version",)

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return super().get_queryset(request).visible_to(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.allow_delete and super().has_delete_permission(request, obj)

    def save_via_service(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> Any:
        obj.full_clean()
        obj.save()
        return obj

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        with transaction.atomic():
            saved = self.save_via_service(request, obj, form, change)
            if not type(saved)._default_manager.visible_to(request.user).filter(pk=saved.pk).exists():
                raise PermissionDenied(_("The record would lie outside your region."))
        if saved is not obj:
            obj.pk = saved.pk

    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # A rule refused in a service shows as a message on the form rather than a server error.
        try:
            return super().changeform_view(request, *args, **kwargs)
        except ValidationError as exc:
            for message in exc.messages:
                self.message_user(request, message, messages.ERROR)
            return (
                super().changeform_view(request, *args, **kwargs)
                if request.method == "GET"
                else (self._redirect_back(request))
            )
        except PermissionDenied as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return self._redirect_back(request)

    def _redirect_back(self, request: HttpRequest) -> HttpResponse:
        from django.http import HttpResponseRedirect

        return HttpResponseRedirect(request.get_full_path())

    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        obj = self.get_object(request, admin.utils.unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.model._meta, object_id)
        entries = ChangeEntry.objects.filter(model=obj._meta.label_lower, object_id=str(obj.pk)).order_by(
            "-id"
        )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Change history: %s") % obj,
            "object": obj,
            "opts": self.model._meta,
            "entries": entries[:500],
        }
        return TemplateResponse(request, "admin/tracker/change_history.html", context)
