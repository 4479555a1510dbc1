"""The registry's API: people, their status history and file, groups, follow-ups and the bulk import.
Views are thin: each write calls one service (beneficiaries.services / beneficiaries.imports)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from beneficiaries import imports as importing
from beneficiaries import jobs as import_jobs
from beneficiaries import probes, services
from beneficiaries.api.serializers import (
    BeneficiaryFileSerializer,
    BeneficiaryGroupSerializer,
    BeneficiarySerializer,
    BeneficiaryWriteSerializer,
    DeactivateSerializer,
    FollowUpSerializer,
    FollowUpServiceSerializer,
    ImportResultSerializer,
    ImportUploadSerializer,
    MembershipSerializer,
    RevealRequestSerializer,
    RevealResponseSerializer,
    StatusChangeSerializer,
    validated_write_data,
)
from beneficiaries.file_sections import file_sections
from beneficiaries.filtersets import BeneficiaryFilterSet, FollowUpFilterSet
from beneficiaries.models import Beneficiary, BeneficiaryGroup, FollowUp, GroupMembership, StatusChange
from beneficiaries.selectors import beneficiary_status_on
from tracker.accounts.choices import Role
from tracker.api.exceptions import problem_response
from tracker.api.history import HistoryMixin
from tracker.api.jobs import JobSerializer, accepted
from tracker.api.query import query_param
from tracker.api.viewsets import TrackerModelViewSet, TrackerReadOnlyViewSet, check_if_match
from tracker.jobs.services import job_enqueue
from tracker.transactions import door_transaction

AS_OF = OpenApiParameter("as_of", OpenApiTypes.DATE, description="Date (default today).")


def _as_of(request: Request) -> dt.date | None:
    return query_param(request, "as_of", field=serializers.DateField())


def _flag(request: Request, name: str) -> bool:
    raw = query_param(request, name, default="false").strip().lower()
    if raw in {"0", "false", "no"}:
        return False
    if raw in {"1", "true", "yes"}:
        return True
    raise ValidationError({name: [_("Expected true or false.")]})


def _fresh(instance: Beneficiary) -> Beneficiary:
    """Drop the list prefetch so `groups` is read again after a write."""
    instance.__dict__.pop("current_memberships", None)
    return instance


class BeneficiaryViewSet(TrackerModelViewSet):
    """People in the real-name registry (一人一档), masked. Scope: the caller's region subtree."""

    queryset = Beneficiary.objects.select_related("region")
    serializer_class = BeneficiarySerializer
    write_serializer_class = BeneficiaryWriteSerializer
    filterset_class = BeneficiaryFilterSet
    ordering_fields = ["id"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    # Any role may ask; the service checks the `beneficiaries.reveal_pii` permission itself.
    action_roles = {"reveal": set(Role.values)}

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # `?format=csv|xlsx` picks the template's file type, not a renderer.
        if getattr(self, "action", None) == "import_template":
            return JSONRenderer(), JSONRenderer.media_type
        return super().perform_content_negotiation(request, force)

    @extend_schema(request=BeneficiaryWriteSerializer, responses={201: BeneficiarySerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # Outside the create's transaction, so a probe of another region's person stays logged.
        if isinstance(request.data, dict):
            probes.check_single_registration(actor=request.user, id_number=request.data.get("id_number"))
        return super().create(request, *args, **kwargs)

    @extend_schema(request=BeneficiaryWriteSerializer, responses=BeneficiarySerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().partial_update(request, *args, **kwargs)

    def perform_create(self, serializer: Any) -> Beneficiary:
        data, groups = validated_write_data(serializer)
        return _fresh(services.beneficiary_create(actor=self.request.user, groups=groups, **data))

    def perform_update(self, instance: Beneficiary, serializer: Any) -> Beneficiary:
        data, groups = validated_write_data(serializer)
        return _fresh(
            services.beneficiary_update(beneficiary=instance, actor=self.request.user, groups=groups, **data)
        )

    def perform_destroy(self, instance: Beneficiary) -> None:
        services.beneficiary_delete(beneficiary=instance, actor=self.request.user)

    # -- personal data --------------------------------------------------------------------------------
    @extend_schema(request=RevealRequestSerializer, responses=RevealResponseSerializer)
    @action(detail=True, methods=["post"], filterset_class=None, ordering_fields=None)
    def reveal(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The full identity number and phone, for holders of `beneficiaries.reveal_pii`; logged
        with the reason as a `pii_reveal` change entry."""
        body = RevealRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with door_transaction():
            beneficiary = self.get_object_for_update()
            values = services.beneficiary_reveal_pii(
                beneficiary=beneficiary, actor=request.user, reason=body.validated_data["reason"]
            )
        response = Response({"id": beneficiary.pk, **values})
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(request=DeactivateSerializer, responses=BeneficiarySerializer)
    @action(detail=True, methods=["post"], filterset_class=None, ordering_fields=None)
    def deactivate(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Deactivate (deceased, moved away) with a date and reason; the file is kept."""
        return self.write_action(
            request,
            lambda person, deactivated_on, reason, note: _fresh(
                services.beneficiary_deactivate(
                    beneficiary=person, actor=request.user, on=deactivated_on, reason=reason, note=note
                )
            ),
            body=DeactivateSerializer,
        )

    # -- employment status -------------------------------------------------------------------------------
    @extend_schema(
        methods=["GET"],
        parameters=[AS_OF],
        responses=StatusChangeSerializer(many=True),
        description="Status history, newest first; with `as_of`, only changes effective by that date "
        "(the first is the status as of it).",
    )
    @extend_schema(methods=["POST"], request=StatusChangeSerializer, responses={201: StatusChangeSerializer})
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="status-changes",
        filterset_class=None,
        ordering_fields=None,
        pagination_class=None,
    )
    def status_changes(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if request.method == "GET":
            beneficiary = self.get_object()
            changes = StatusChange.objects.filter(beneficiary=beneficiary).select_related("recorded_by")
            as_of = _as_of(request)
            if as_of is not None:
                changes = changes.filter(effective_on__lte=as_of)
            return Response(StatusChangeSerializer(changes.order_by("-effective_on", "-id"), many=True).data)
        body = StatusChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with door_transaction():
            beneficiary = self.get_object_for_update()
            check_if_match(request, beneficiary)
            change = services.status_change_record(
                beneficiary=beneficiary, actor=request.user, **body.validated_data
            )
        response = Response(StatusChangeSerializer(change).data, status=status.HTTP_201_CREATED)
        return response

    @extend_schema(methods=["GET"], responses=MembershipSerializer(many=True))
    @extend_schema(methods=["POST"], request=MembershipSerializer, responses={201: MembershipSerializer})
    @action(
        detail=True,
        methods=["get", "post"],
        filterset_class=None,
        ordering_fields=None,
        pagination_class=None,
    )
    def memberships(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Group memberships with their validity periods (past, current and future)."""
        if request.method == "GET":
            beneficiary = self.get_object()
            memberships = GroupMembership.objects.filter(beneficiary=beneficiary).select_related("group")
            return Response(
                MembershipSerializer(memberships.order_by("valid_from", "group__code"), many=True).data
            )
        body = MembershipSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with door_transaction():
            beneficiary = self.get_object_for_update()
            check_if_match(request, beneficiary)
            membership = services.membership_add(
                beneficiary=beneficiary,
                actor=request.user,
                group=body.validated_data["group"],
                valid_from=body.validated_data["valid_from"],
                valid_to=body.validated_data.get("valid_to"),
            )
        return Response(MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[AS_OF], responses=BeneficiaryFileSerializer)
    @action(detail=True, methods=["get"], filterset_class=None, ordering_fields=None)
    def file(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """One person, one file: every registered section (this app's and later apps'), plus the
        employment status as of `as_of`."""
        beneficiary = self.read_object()
        as_of = _as_of(request) or timezone.localdate()
        sections = [
            {"key": s.key, "title": str(s.title), "data": s.provider(beneficiary, request.user)}
            for s in file_sections()
        ]
        return Response(
            {
                "id": beneficiary.pk,
                "as_of": as_of.isoformat(),
                "status_as_of": beneficiary_status_on(beneficiary=beneficiary, on=as_of),
                "sections": sections,
            }
        )

    # -- bulk import ----------------------------------------------------------------------------------
    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        parameters=[
            OpenApiParameter("dry_run", OpenApiTypes.BOOL, description="Validate only; write nothing."),
            OpenApiParameter(
                "mode",
                OpenApiTypes.STR,
                enum=["create", "upsert"],
                description="upsert: rows whose identity number is registered update that record.",
            ),
            OpenApiParameter(
                "background",
                OpenApiTypes.BOOL,
                description="Run as a background job (files above IMPORT_JOB_THRESHOLD_BYTES always do).",
            ),
        ],
        responses={200: ImportResultSerializer, 201: ImportResultSerializer, 202: JobSerializer},
        description=importing.TEMPLATE_DOC,
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser],
        filterset_class=None,
        ordering_fields=None,
    )
    def import_file(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Bulk import (CSV UTF-8/GB18030 or XLSX): validated whole, written all or nothing."""
        dry_run = _flag(request, "dry_run")
        mode = query_param(request, "mode", choices=("create", "upsert"), default="create")
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": [_("Upload the file as the multipart field `file`.")]})
        if upload.size > settings.IMPORT_JOB_THRESHOLD_BYTES or _flag(request, "background"):
            # Too large for a request's time: a background job with the same guarantees (202 + job).
            job = job_enqueue(
                kind=import_jobs.KIND,
                actor=request.user,
                parameters={"filename": upload.name, "dry_run": dry_run, "upsert": mode == "upsert"},
                input_file=upload,
                input_name=upload.name,
            )
            return accepted(request, job)
        try:
            result = importing.beneficiaries_import(
                file=upload,
                filename=upload.name,
                actor=request.user,
                dry_run=dry_run,
                upsert=mode == "upsert",
            )
        except importing.ImportRejected as exc:
            return problem_response(400, exc.detail, exc.errors_by_path(), row_errors=exc.row_errors)
        except importing.ProbeLimitExceeded as exc:
            raise Throttled(wait=exc.retry_after, detail=exc.detail) from None
        code = status.HTTP_200_OK if dry_run else status.HTTP_201_CREATED
        return Response(result.as_dict(), status=code)

    @extend_schema(
        parameters=[
            OpenApiParameter("format", OpenApiTypes.STR, enum=["csv", "xlsx"]),
            OpenApiParameter("headers", OpenApiTypes.STR, enum=["zh", "en"]),
        ],
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, importing.XLSX_CONTENT_TYPE): OpenApiTypes.BINARY,
        },
        description=importing.TEMPLATE_DOC,
    )
    @action(
        detail=False, methods=["get"], url_path="import/template", filterset_class=None, ordering_fields=None
    )
    def import_template(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        """The import template: headers only (never data), Chinese by default, `headers=en` for the
        English field names."""
        fmt = query_param(request, "format", choices=("csv", "xlsx"), default="csv")
        headers = query_param(request, "headers", choices=("zh", "en"), default="zh")
        content, content_type = importing.template(fmt=fmt, english=headers == "en")
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="beneficiaries-template.{fmt}"'
        return response


class BeneficiaryGroupViewSet(TrackerReadOnlyViewSet):
    """Groups (人员类别): reference data, the same for every region."""

    queryset = BeneficiaryGroup.objects.all()
    serializer_class = BeneficiaryGroupSerializer
    lookup_field = "code"
    # Codes are slugs; anything else (e.g. a NUL, which PostgreSQL refuses in a query) is a 404.
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    filterset_class = None
    ordering_fields = ["id"]

    def get_queryset(self) -> Any:
        # Not region data: every user with a role sees every group.
        return BeneficiaryGroup.objects.all()


class FollowUpViewSet(HistoryMixin, TrackerReadOnlyViewSet):
    """Follow-ups after a move into unemployment (就业转失业), scoped by the person's region."""

    queryset = FollowUp.objects.select_related("beneficiary__region", "closed_by")
    serializer_class = FollowUpSerializer
    filterset_class = FollowUpFilterSet
    ordering_fields = ["id"]

    @extend_schema(request=FollowUpServiceSerializer, responses=FollowUpSerializer)
    @action(
        detail=True, methods=["post"], url_path="record-service", filterset_class=None, ordering_fields=None
    )
    def record_service(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Record the service given; it closes the follow-up."""
        return self.write_action(
            request,
            lambda follow_up, **data: services.follow_up_record_service(
                follow_up=follow_up, actor=request.user, **data
            ),
            body=FollowUpServiceSerializer,
            reread=lambda follow_up: FollowUp.objects.select_related("beneficiary__region", "closed_by").get(
                pk=follow_up.pk
            ),
        )
