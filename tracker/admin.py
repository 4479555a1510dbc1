"""The admin's shared base: the same region scope as the API for every list, form, widget and
autocomplete; writes that go through services (every door enforces the same rules); and the change
log as the history view.

The admin is a door like the API, so it is scoped everywhere a record can show:
- lists and change pages (`get_queryset`: tracker.scope visible_to);
- every foreign-key and many-to-many choice in a form, including values pre-filled from the add
  page's query string (`?beneficiary=42`), which Django renders through the field's queryset:
  an id outside the user's region renders as nothing;
- autocomplete look-ups, which Django answers from the related model's admin queryset (scoped here)
  and its search; raw-id boxes are not used (they render any id's label, unscoped).
Where a user may *write* is the services' decision (tracker.scope.require_in_scope) and the change
log's last check.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from tracker.changelog.display import describe_entries
from tracker.changelog.entries import ChangeEntry
from tracker.errors import DomainError
from tracker.scope import ScopedQuerySet

# Newest entries a history page shows (the API's history pages through all of them).
HISTORY_LIMIT = 500


def scoped_choices(queryset: models.QuerySet, request: HttpRequest) -> models.QuerySet:
    """The records of a form's choice field the user may pick: within their region (reference data
    without a region stays whole). Regions offered for writing are the user's subtree only."""
    if isinstance(queryset, ScopedQuerySet):
        return queryset.writable_by(request.user)
    return queryset


class ScopedAdmin(admin.ModelAdmin):
    """Base ModelAdmin for tracked models.

    Subclasses that have rules override `save_via_service` to call their service. Hard delete is off
    by default (records are deactivated, not deleted); the history page shows the change log.
    """

    allow_delete = False
    readonly_fields: Any = ("version",)
    raw_id_fields: Any = ()

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return super().get_queryset(request).visible_to(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.allow_delete and super().has_delete_permission(request, obj)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and hasattr(field, "queryset"):
            field.queryset = scoped_choices(field.queryset, request)
        return field

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and hasattr(field, "queryset"):
            field.queryset = scoped_choices(field.queryset, request)
        return field

    def get_search_results(self, request: HttpRequest, queryset: Any, search_term: str) -> tuple[Any, bool]:
        """Autocomplete for a form field offers what the user may write into (their subtree), not
        everything they may read (e.g. the ancestors of their region)."""
        queryset, duplicates = super().get_search_results(request, queryset, search_term)
        if request.path.endswith("/autocomplete/") and isinstance(queryset, ScopedQuerySet):
            queryset = queryset.writable_by(request.user)
        return queryset, duplicates

    def save_via_service(
        self, request: HttpRequest, obj: Any, form: Any, change: bool, *, dry_run: bool = False
    ) -> Any:
        """Call the record's service with the form's values; with `dry_run` the service checks every
        rule and writes nothing."""
        raise PermissionDenied(_("This record is changed through its own actions, not this form."))

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        """When the form is cleaned, the service checks it as a dry run (every rule, no write), so a
        refused rule shows beside its field with the clerk's input kept, instead of a server error
        after the form was accepted."""
        form_class = super().get_form(request, obj, change=change, **kwargs)
        admin_obj = self

        class ServiceCheckedForm(form_class):  # type: ignore[misc, valid-type]
            def _post_clean(self) -> None:
                super()._post_clean()
                if self.errors:
                    return
                try:
                    # What the service would write (e.g. the date of birth an identity number gives),
                    # for inline forms checked after this one (ScopedAdmin.save_form).
                    self.service_preview = admin_obj.save_via_service(
                        request, copy.copy(self.instance), self, change, dry_run=True
                    )
                except ValidationError as exc:
                    add_service_errors(self, exc)
                except (PermissionDenied, DomainError) as exc:
                    self.add_error(None, admin_obj.refusal_message(exc))

        return form_class if request.method != "POST" else ServiceCheckedForm

    def refusal_message(self, exc: Exception) -> str:
        """A service's refusal (403, 409) as the form shows it."""
        return strip_rule_code(str(getattr(exc, "detail", None) or exc))

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        with transaction.atomic():
            saved = self.save_via_service(request, obj, form, change)
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
            "entries": describe_entries(entries[:HISTORY_LIMIT]),
            "time_zone": settings.TIME_ZONE,
        }
        return TemplateResponse(request, "admin/tracker/change_history.html", context)


class RegionSubtreeFilter(admin.SimpleListFilter):
    """Records within a region's subtree (萍乡市 and everything under it), offered down to the county
    level within the user's own region; the model must be region-scoped (tracker.scope)."""

    title = _("region (with the areas under it)")
    parameter_name = "within"
    deepest_levels_offered = 2  # below the user's home region: e.g. a city clerk sees its counties

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        from tracker.regions.models import Region

        regions = list(Region.objects.writable_by(request.user).only("code", "name_zh", "path"))
        if not regions:
            return []
        top = min(region.path.count("/") for region in regions)
        offered = []
        for region in sorted(regions, key=lambda r: r.path):
            depth = region.path.count("/") - top
            if depth <= self.deepest_levels_offered:
                offered.append((region.code, "\u3000" * depth + region.name_zh))
        return offered

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if not self.value():
            return queryset
        from tracker.regions.models import Region

        path = Region.objects.filter(code=self.value()).values_list("path", flat=True).first()
        return queryset.within(path) if path else queryset.none()


RULE_CODE = re.compile(r"^([A-Z][A-Z0-9_]{2,})[:：]\s*")


def strip_rule_code(text: str) -> str:
    """`MAX_UNITS: at most 6 months` -> `at most 6 months [MAX_UNITS]`: a clerk reads the sentence
    first; the rule's CODE stays at the end, to quote when asking for help (the API's problem details
    keep it in front, for machines)."""
    match = RULE_CODE.match(text)
    return f"{text[match.end() :]} [{match.group(1)}]" if match else text


def add_service_errors(form: Any, exc: ValidationError) -> None:
    """A service's ValidationError on the form: beside the field it names, else at the top."""
    pairs = exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]
    for field, messages in pairs:
        messages = [strip_rule_code(m) for m in messages]
        if field in form.fields:
            form.add_error(field, messages)
        else:
            prefix = "" if field in (None, "__all__") else f"{field}: "
            form.add_error(None, [f"{prefix}{m}" for m in messages])
