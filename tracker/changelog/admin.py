"""The change log in the admin: read-only for everyone (superusers included), scoped by region, and
rendered for people (tracker.changelog.display): field names in the page's language, records and
users by name, choice labels, local times. Bookkeeping entries are hidden from the list by default."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from tracker.changelog.display import EMPTY, EntryView, bookkeeping_q, describe_entries, object_names
from tracker.changelog.models import ChangeEntry

# Changes shown per row of the list; the entry's own page shows them all.
LIST_CHANGES = 4


class BookkeepingFilter(admin.SimpleListFilter):
    title = _("entries shown")
    parameter_name = "entries"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("all", _("All, bookkeeping included")),
            ("bookkeeping", _("Bookkeeping only")),
        ]

    def choices(self, changelist: Any) -> Any:
        # The default (no parameter) is "changes that record a fact", not Django's "All".
        for index, choice in enumerate(super().choices(changelist)):
            if index == 0:
                choice = {**choice, "display": _("Changes that record a fact")}
            yield choice

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "all":
            return queryset
        if self.value() == "bookkeeping":
            return queryset.filter(bookkeeping_q())
        return queryset.exclude(bookkeeping_q())


class ModelFilter(admin.SimpleListFilter):
    """Object type by its name in the page's language (not `beneficiaries.beneficiary`)."""

    title = _("object type")
    parameter_name = "model"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        from tracker.changelog.selectors import tracked_models

        return sorted(
            ((m._meta.label_lower, m._meta.verbose_name_plural) for m in tracked_models()),
            key=lambda c: str(c[1]),
        )

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(model=self.value()) if self.value() else queryset


class DescribedChangeList(ChangeList):
    """Renders the page's entries once, with one query per related model for their names."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        names = object_names(self.result_list)
        for view in describe_entries(self.result_list):
            view.entry.view = view
            view.entry.object_name = names.get((view.entry.model, view.entry.object_id), view.entry.label)


def _view(entry: ChangeEntry) -> EntryView:
    view = getattr(entry, "view", None)
    if view is None:
        view = describe_entries([entry])[0]
        entry.view = view
    return view


@admin.register(ChangeEntry)
class ChangeEntryAdmin(admin.ModelAdmin):
    list_display = ("when", "actor_display", "action_display", "object_display", "changes_short")
    list_display_links = ("when",)
    list_filter = (BookkeepingFilter, "source", ModelFilter)
    search_fields = ("object_id", "actor_name", "request_id", "label")
    search_help_text = _("Object id, username, request id or the record's label.")
    date_hierarchy = "at"
    fields = (
        "when",
        "actor_display",
        "action_display",
        "model_display",
        "object_id",
        "object_version",
        "label",
        "changes_full",
        "reason",
        "request_id",
        "row_hash",
        "hmac",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).visible_to(request.user)

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return DescribedChangeList

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("when"), ordering="at")
    def when(self, entry: ChangeEntry) -> str:
        return _view(entry).when.strftime("%Y-%m-%d %H:%M:%S")

    @admin.display(description=_("actor"), ordering="actor_name")
    def actor_display(self, entry: ChangeEntry) -> str:
        view = _view(entry)
        return format_html(
            '<span title="{}">{}</span><div class="help">{}</div>',
            view.actor_username,
            view.actor,
            view.source,
        )

    @admin.display(description=_("action"), ordering="action")
    def action_display(self, entry: ChangeEntry) -> str:
        return _view(entry).action

    @admin.display(description=_("object type"), ordering="model")
    def model_display(self, entry: ChangeEntry) -> str:
        return _view(entry).model

    @admin.display(description=_("record"))
    def object_display(self, entry: ChangeEntry) -> str:
        name = getattr(entry, "object_name", None)
        if name is None:
            name = object_names([entry]).get((entry.model, entry.object_id), entry.label)
        return format_html('{}<div class="help">{}</div>', name, _view(entry).model)

    @admin.display(description=_("changed fields"))
    def changes_short(self, entry: ChangeEntry) -> str:
        changes = _view(entry).changes
        if not changes:
            return EMPTY
        shown = format_html_join(
            "", "<div><b>{}</b>: {} → {}</div>", ((c.label, c.old, c.new) for c in changes[:LIST_CHANGES])
        )
        more = len(changes) - LIST_CHANGES
        if more > 0:
            shown += format_html("<div>… (+{})</div>", more)
        return shown

    @admin.display(description=_("changed fields"))
    def changes_full(self, entry: ChangeEntry) -> str:
        changes = _view(entry).changes
        if not changes:
            return EMPTY
        return format_html_join(
            "", "<div><b>{}</b>: {} → {}</div>", ((c.label, c.old, c.new) for c in changes)
        )
