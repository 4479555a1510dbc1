"""The one base viewset: region scope on every queryset (tracker.scope), ETag / If-Match optimistic
concurrency, and write paths that call services.

Who may write where is the services' to decide (role and region checks, see tracker.scope and
tracker.accounts.roles), and the change log refuses any tracked write outside the actor's region; the
view's permission class is only the coarse gate (a role that never writes gets 403 early)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models, router
from django.http import Http404
from django.utils import timezone
from django.utils.translation import get_language
from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from tracker.accounts.choices import Role
from tracker.api.exceptions import PreconditionFailed
from tracker.api.history import HistoryMixin
from tracker.api.reads import ReadPlan, plan_for
from tracker.scope import user_scope
from tracker.statements import PageQuery, prepared_key, read, sentinel_for
from tracker.transactions import door_transaction


def etag_for(instance: Any) -> str:
    return f'"{instance._meta.label_lower}:{instance.pk}:{instance.version}"'


def check_if_match(request: Request, instance: Any) -> None:
    """A stale If-Match means someone else changed the record since the client read it: 412."""
    header = request.headers.get("If-Match")
    if not header:
        return
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    if "*" not in tags and etag_for(instance) not in tags:
        raise PreconditionFailed()


class ScopedViewSetMixin:
    """Scope every queryset to the caller; lock the row for writes; read lists and details through
    the lean read path (tracker.api.reads) compiled from the view's serializer."""

    write_roles: frozenset[str] = frozenset({Role.CLERK})
    action_roles: dict[str, set[str]] = {}
    # Serializer used for input when it differs from the output one.
    write_serializer_class: Any = None
    # Reads reuse their compiled SQL (tracker.statements); False where get_queryset() does more
    # than build a query from what `shape_key` holds.
    compiled_reads: bool = True

    def get_queryset(self) -> models.QuerySet:
        queryset = super().get_queryset()  # type: ignore[misc]
        return queryset.visible_to(self.request.user)  # type: ignore[attr-defined]

    def get_write_serializer(self, *args: Any, **kwargs: Any) -> Any:
        cls = self.write_serializer_class or self.get_serializer_class()  # type: ignore[attr-defined]
        kwargs.setdefault("context", self.get_serializer_context())  # type: ignore[attr-defined]
        return cls(*args, **kwargs)

    def get_object_for_update(self) -> Any:
        """The object, re-read with a row lock inside the caller's transaction."""
        self.queryset_for_update = True
        return self.get_object()  # type: ignore[attr-defined]

    def filter_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        queryset = super().filter_queryset(queryset)  # type: ignore[misc]
        if getattr(self, "queryset_for_update", False):
            queryset = queryset.select_for_update(of=("self",))
        return queryset

    def write_action(
        self,
        request: Request,
        service: Callable[..., Any],
        *,
        body: Any = None,
        status_code: int = status.HTTP_200_OK,
        reread: Callable[[Any], Any] | None = None,
    ) -> Response:
        """The pattern of every write on one record: validate the body, then in one transaction lock
        the record, honour If-Match, call the service with (record, **body) and answer with the
        result (re-read through `reread` when the list's shape needs more than the service returned)."""
        data: dict[str, Any] = {}
        if body is not None:
            serializer = body(data=request.data, context=self.get_serializer_context())  # type: ignore[attr-defined]
            serializer.is_valid(raise_exception=True)
            data = dict(serializer.validated_data)
        with door_transaction():
            instance = self.get_object_for_update()
            check_if_match(request, instance)
            result = service(instance, **data)
        if reread is not None:
            result = reread(result)
        return self.respond(result, status_code)

    # -- reads ------------------------------------------------------------------------------------
    def read_plan(self) -> ReadPlan:
        return plan_for(self.get_serializer_class())  # type: ignore[attr-defined]

    def shape_key(self) -> tuple[Any, ...] | None:
        """Everything this read's SQL may depend on besides its one variable (the detail's key or the
        cursor's position): the view and its action, the serializer, the caller's scope, the
        language and the day (e.g. the groups a person holds today). None (the ORM builds the read)
        for a request with any query parameter but the page's own, whose filters are not in it."""
        if not self.compiled_reads:
            return None
        allowed = ("cursor", "page_size") if self.action == "list" else ()  # type: ignore[attr-defined]
        if any(name not in allowed for name in self.request.query_params):  # type: ignore[attr-defined]
            return None
        return (
            type(self),
            self.action,  # type: ignore[attr-defined]
            self.get_serializer_class(),  # type: ignore[attr-defined]
            user_scope(self.request.user),  # type: ignore[attr-defined]
            get_language(),
            timezone.localdate(),
            getattr(self, "queryset_for_update", False),
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        plan = self.read_plan()

        def base() -> models.QuerySet:
            return self.filter_queryset(self.get_queryset())  # type: ignore[attr-defined]

        # The page is read as the output rows themselves (the plan is the page's RowShape) where they
        # carry the record's id, which the paginator's positions and the page columns read; else as
        # `values()` dicts, shaped after paging.
        shaped = plan.reads_id()
        queryset = PageQuery(self.shape_key(), base, plan.values, shape=plan if shaped else None)
        page = self.paginate_queryset(queryset)  # type: ignore[attr-defined]
        rows = list(queryset) if page is None else page
        rows = plan.fill(rows) if shaped else plan.rows(rows)
        if page is None:
            return Response(rows)
        return self.get_paginated_response(rows)  # type: ignore[attr-defined]

    def _detail_rows(self, build: Callable[[Any], models.QuerySet], tag: str) -> list[dict[str, Any]]:
        """The rows of `build(<the URL's lookup value>)` (a values queryset of at most two rows),
        through the compiled statement of this read's shape; a value the key's field cannot hold is a
        404, as get_object_or_404 makes it."""
        lookup_field = self.lookup_field  # type: ignore[attr-defined]
        raw = self.kwargs[self.lookup_url_kwarg or lookup_field]  # type: ignore[attr-defined]
        model = self.queryset.model  # type: ignore[attr-defined]
        field = model._meta.pk if lookup_field == "pk" else model._meta.get_field(lookup_field)
        key = self.shape_key()
        if not isinstance(field, (models.IntegerField, models.CharField, models.TextField)):
            key = None
        try:
            if key is None:
                queryset = build(raw)
            else:
                value = prepared_key(field, raw, router.db_for_read(model))
        except (TypeError, ValueError, LookupError, DjangoValidationError):
            raise Http404 from None
        return list(queryset) if key is None else read((*key, tag), build, value, sentinel_for(field))

    def _lookup(self, value: Any) -> models.QuerySet:
        queryset = self.filter_queryset(self.get_queryset())  # type: ignore[attr-defined]
        return queryset.filter(**{self.lookup_field: value})  # type: ignore[attr-defined]

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        plan = self.read_plan()
        model = self.queryset.model  # type: ignore[attr-defined]
        versioned = any(f.name == "version" for f in model._meta.concrete_fields)
        extra = ("version",) if versioned else ()
        values = self._detail_rows(lambda value: plan.values(self._lookup(value), extra=extra)[:2], "detail")
        if len(values) != 1:
            raise Http404
        response = Response(plan.rows(values)[0])
        if versioned:
            response["ETag"] = f'"{model._meta.label_lower}:{values[0]["id"]}:{values[0]["version"]}"'
        return response

    def read_object(self) -> Any:
        """get_object() for a read-only action: the record's own row (no related rows joined), read
        through the compiled statement of the action's shape."""
        model = self.queryset.model  # type: ignore[attr-defined]
        names = [f.attname for f in model._meta.concrete_fields]
        values = self._detail_rows(lambda value: self._lookup(value).values(*names)[:2], "object")
        if len(values) != 1:
            raise Http404
        instance = model.from_db(router.db_for_read(model), names, [values[0][n] for n in names])
        self.check_object_permissions(self.request, instance)  # type: ignore[attr-defined]
        return instance

    def respond(self, instance: Any, status_code: int = status.HTTP_200_OK) -> Response:
        serializer = self.get_serializer(instance)  # type: ignore[attr-defined]
        response = Response(serializer.data, status=status_code)
        if hasattr(instance, "version"):
            response["ETag"] = etag_for(instance)
        return response


class TrackerReadOnlyViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


class TrackerModelViewSet(
    ScopedViewSetMixin,
    HistoryMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Create / update / delete call `perform_create`, `perform_update`, `perform_destroy`, which
    subclasses implement by calling exactly one service (a view that allows the method and forgets
    to is a programming error, not a silent save without rules)."""

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_write_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with door_transaction():
            instance = self.perform_create(serializer)
        return self.respond(instance, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, partial: bool = False, **kwargs: Any) -> Response:
        with door_transaction():
            instance = self.get_object_for_update()
            check_if_match(request, instance)
            serializer = self.get_write_serializer(instance, data=request.data, partial=partial)
            serializer.is_valid(raise_exception=True)
            instance = self.perform_update(instance, serializer)
        return self.respond(instance)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with door_transaction():
            instance = self.get_object_for_update()
            check_if_match(request, instance)
            self.perform_destroy(instance)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def perform_create(self, serializer: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must create through a service")

    def perform_update(self, instance: Any, serializer: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must update through a service")

    def perform_destroy(self, instance: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__} must delete through a service")
