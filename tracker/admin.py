"""The admin's shared base: the same region scope as the API for non-superusers, writes that go
through services (every door enforces the same rules), and the change log as the history view."""

from __future__ import annotations

import copy
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import APIException

from tracker.changelog.models import ChangeEntry


class _DryRunDone(Exception):
    """Raised to roll back the form's dry run of the service."""


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

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        """The form runs the service once as a dry run (inside a savepoint that is rolled back), so a
        rule the service refuses shows as an error on the form with the clerk's input kept, instead
        of a server error after the form was accepted."""
        form_class = super().get_form(request, obj, change=change, **kwargs)
        admin_obj = self

        class ServiceCheckedForm(form_class):  # type: ignore[misc, valid-type]
            def _post_clean(self) -> None:
                super()._post_clean()
                if self.errors:
                    return
                trial = copy.copy(self.instance)
                try:
                    with transaction.atomic():
                        saved = admin_obj.save_via_service(request, trial, self, change)
                        admin_obj.check_scope(request, saved)
                        raise _DryRunDone
                except _DryRunDone:
                    pass
                except ValidationError as exc:
                    for field, messages in (
                        exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]
                    ):
                        if field in self.fields:
                            self.add_error(field, messages)
                        else:
                            prefix = "" if field in (None, "__all__") else f"{field}: "
                            self.add_error(None, [f"{prefix}{m}" for m in messages])
                except (PermissionDenied, APIException) as exc:
                    detail = getattr(exc, "detail", None) or str(exc)
                    self.add_error(None, str(detail))

        return form_class if request.method != "POST" else ServiceCheckedForm

    def check_scope(self, request: HttpRequest, saved: Any) -> None:
        if not type(saved)._default_manager.visible_to(request.user).filter(pk=saved.pk).exists():
            raise PermissionDenied(_("The record would lie outside your region."))

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        with transaction.atomic():
            saved = self.save_via_service(request, obj, form, change)
            self.check_scope(request, saved)
        if saved is not obj:
            obj.pk = saved.pk

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
