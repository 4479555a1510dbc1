"""Funding API: fund sources, programs (+ budget), employers, and the payments ledger with its
transitions, batch approval and streaming export. Every write calls one service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response

from programs.funding import jobs as export_jobs
from programs.funding import services
from programs.funding.api.serializers import (
    ApproveBatchSerializer,
    EmployerSerializer,
    FundSourceSerializer,
    MarkPaidSerializer,
    PaymentCreateSerializer,
    PaymentSerializer,
    ProgramBudgetSerializer,
    ProgramSerializer,
    ReasonSerializer,
)
from programs.funding.export import COLUMNS as EXPORT_COLUMNS
from programs.funding.export import export_rows
from programs.funding.filtersets import (
    EmployerFilterSet,
    FundSourceFilterSet,
    PaymentFilterSet,
    ProgramFilterSet,
)
from programs.funding.models import Employer, FundSource, Payment, Program
from programs.funding.selectors import payments_for_list, program_budget
from tracker.accounts.choices import Role
from tracker.api.idempotency import IDEMPOTENCY_KEY_SCHEMA, idempotent
from tracker.api.jobs import JobSerializer, accepted
from tracker.api.query import query_param
from tracker.api.viewsets import TrackerModelViewSet
from tracker.db_routers import pin_to_routed_database, read_from_replica
from tracker.exports import XLSX_MEDIA_TYPE, export_response
from tracker.jobs.services import job_enqueue
from tracker.transactions import door_transaction

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    IDEMPOTENCY_KEY_SCHEMA,
    OpenApiParameter.HEADER,
    description="Retry-safe key: a replay with the same key and body returns the first answer; another body is 409.",
)
IF_MATCH_PARAMETER = OpenApiParameter(
    "If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, description="ETag last read; 412 when stale."
)


class FundSourceViewSet(TrackerModelViewSet):
    """Fund sources (资金来源): national reference data everyone reads; administrators add them."""

    queryset = FundSource.objects.select_related("part_of")
    serializer_class = FundSourceSerializer
    filterset_class = FundSourceFilterSet
    http_method_names = ["get", "post", "head", "options"]
    write_roles = frozenset()  # superusers only (RolePermission lets superusers through)
    ordering_fields = ["id"]

    def perform_create(self, serializer: Any) -> FundSource:
        return services.fund_source_create(actor=self.request.user, **serializer.validated_data)


class ProgramViewSet(TrackerModelViewSet):
    """Subsidy programs. A program issued by a region applies to its subtree: a user sees those of
    their subtree and of their region's ancestors. Reviewers (and administrators) set up programs of
    their own region or below."""

    queryset = Program.objects.select_related("region", "fund_source")
    serializer_class = ProgramSerializer
    filterset_class = ProgramFilterSet
    http_method_names = ["get", "post", "patch", "head", "options"]
    write_roles = frozenset({Role.REVIEWER})
    ordering_fields = ["id"]

    def perform_create(self, serializer: Any) -> Program:
        return services.program_create(actor=self.request.user, fields=serializer.validated_data)

    def perform_update(self, instance: Program, serializer: Any) -> Program:
        return services.program_update(
            program=instance, actor=self.request.user, fields=serializer.validated_data
        )

    @extend_schema(
        responses=ProgramBudgetSerializer,
        parameters=[
            OpenApiParameter(
                "year",
                {"type": "integer", "minimum": 1900, "maximum": 2999},
                description="Budget year (default: the program's first year, else this year).",
            )
        ],
        filters=False,
    )
    @action(detail=True, methods=["get"], filterset_class=None)
    def budget(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Budget, committed (submitted + approved), paid, reversed and remaining, for one year.
        For a program issued above the caller's region the figures cover the caller's region only and
        `remaining` is null (the rest is outside their scope)."""
        program = self.get_object()
        year = query_param(request, "year", field=serializers.IntegerField(min_value=1900, max_value=2999))
        return Response(
            ProgramBudgetSerializer(program_budget(program=program, year=year, user=request.user)).data
        )


class EmployerViewSet(TrackerModelViewSet):
    """Employers (用人单位), scoped by their region. Clerks and reviewers add them."""

    queryset = Employer.objects.select_related("region")
    serializer_class = EmployerSerializer
    filterset_class = EmployerFilterSet
    http_method_names = ["get", "post", "head", "options"]
    write_roles = frozenset({Role.CLERK, Role.REVIEWER})
    ordering_fields = ["id"]

    def perform_create(self, serializer: Any) -> Employer:
        return services.employer_create(actor=self.request.user, **serializer.validated_data)


class ExportNegotiation(DefaultContentNegotiation):
    """`?format=` chooses the export format here, not a DRF renderer; answers (errors) are JSON."""

    def select_renderer(self, request: Request, renderers: Any, format_suffix: Any = None) -> Any:
        return renderers[0], renderers[0].media_type


class PaymentViewSet(TrackerModelViewSet):
    """The subsidy payments ledger, scoped by the payee's region. Clerks create and submit; reviewers
    (never the creator or submitter) approve or reject, mark paid and reverse."""

    queryset = payments_for_list()
    serializer_class = PaymentSerializer
    write_serializer_class = PaymentCreateSerializer
    filterset_class = PaymentFilterSet
    http_method_names = ["get", "post", "head", "options"]
    write_roles = frozenset({Role.CLERK})
    action_roles = {
        "submit": {Role.CLERK},
        "approve": {Role.REVIEWER},
        "reject": {Role.REVIEWER},
        "mark_paid": {Role.REVIEWER},
        "reverse": {Role.REVIEWER},
        "approve_batch": {Role.REVIEWER},
    }
    ordering_fields = ["id"]

    @extend_schema(
        request=PaymentCreateSerializer,
        responses={201: PaymentSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer: Any) -> Payment:
        data = dict(serializer.validated_data)
        payment = services.payment_create(actor=self.request.user, **data)
        return payments_for_list().get(pk=payment.pk)  # the list's shape in one query

    def _transition(
        self,
        request: Request,
        service: Callable[..., Payment],
        body: Any = None,
        code: int = status.HTTP_200_OK,
    ) -> Response:
        return self.write_action(
            request,
            lambda payment, **data: service(payment=payment, actor=request.user, **data),
            body=body,
            status_code=code,
            reread=lambda result: payments_for_list().get(pk=result.pk),
        )

    @extend_schema(
        request=None, responses=PaymentSerializer, parameters=[IDEMPOTENCY_PARAMETER, IF_MATCH_PARAMETER]
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    @idempotent
    def submit(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """draft → submitted (all rules again, and the budget)."""
        return self._transition(request, services.payment_submit)

    @extend_schema(
        request=None, responses=PaymentSerializer, parameters=[IDEMPOTENCY_PARAMETER, IF_MATCH_PARAMETER]
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    @idempotent
    def approve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """submitted → approved, by a reviewer who neither created nor submitted it."""
        return self._transition(request, services.payment_approve)

    @extend_schema(
        request=ReasonSerializer,
        responses=PaymentSerializer,
        parameters=[IDEMPOTENCY_PARAMETER, IF_MATCH_PARAMETER],
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    @idempotent
    def reject(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """submitted → rejected, with a reason."""
        return self._transition(request, services.payment_reject, ReasonSerializer)

    @extend_schema(
        request=MarkPaidSerializer,
        responses=PaymentSerializer,
        parameters=[IDEMPOTENCY_PARAMETER, IF_MATCH_PARAMETER],
    )
    @action(detail=True, methods=["post"], url_path="mark-paid", filterset_class=None)
    @idempotent
    def mark_paid(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """approved → paid, with the external payment reference."""
        return self._transition(request, services.payment_mark_paid, MarkPaidSerializer)

    @extend_schema(
        request=ReasonSerializer,
        responses={201: PaymentSerializer},
        parameters=[IDEMPOTENCY_PARAMETER, IF_MATCH_PARAMETER],
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    @idempotent
    def reverse(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """paid → reversed: answers with the new negative entry linked to the payment (201)."""
        return self._transition(request, services.payment_reverse, ReasonSerializer, status.HTTP_201_CREATED)

    @extend_schema(
        request=ApproveBatchSerializer,
        responses=PaymentSerializer(many=True),
        parameters=[IDEMPOTENCY_PARAMETER],
        filters=False,
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="approve-batch",
        filterset_class=None,
        pagination_class=None,
        filter_backends=[],
    )
    @idempotent
    def approve_batch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Approve a list of submitted payments, all or nothing."""
        serializer = ApproveBatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ids = serializer.validated_data["ids"]
        with door_transaction():
            visible = set(
                Payment.objects.visible_to(request.user).filter(pk__in=ids).values_list("pk", flat=True)
            )
            missing = {f"ids.{i}": [_("Not found.")] for i, pk in enumerate(ids) if pk not in visible}
            if missing:
                raise ValidationError(missing)
            services.payments_approve_batch(payments=[Payment(pk=pk) for pk in ids], actor=request.user)
        rows = payments_for_list().filter(pk__in=ids).order_by("pk")
        return Response(PaymentSerializer(rows, many=True).data)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "format", OpenApiTypes.STR, enum=["csv", "xlsx"], description="csv (default) or xlsx"
            ),
            OpenApiParameter(
                "labels",
                OpenApiTypes.STR,
                enum=["names", "codes"],
                description="names (default): headers and values as labels in the request's language; "
                "codes: field names and codes, for machines",
            ),
        ],
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, XLSX_MEDIA_TYPE): OpenApiTypes.BINARY,
            (202, "application/json"): JobSerializer,
        },
        filters=True,
    )
    @action(detail=False, methods=["get"], content_negotiation_class=ExportNegotiation, pagination_class=None)
    def export(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        """The filtered payments as CSV or XLSX, streamed, with personal data masked."""
        fmt = query_param(request, "format", choices=("csv", "xlsx"), default="csv")
        labels = query_param(request, "labels", choices=("names", "codes"), default="names")
        background = query_param(request, "background", choices=("true", "false"), default="false") == "true"
        with read_from_replica():  # an export is a snapshot: the replica's, when there is one
            queryset = self.filter_queryset(Payment.objects.visible_to(request.user)).order_by("id")
            queryset = pin_to_routed_database(queryset)  # streamed after the view returns
        threshold = settings.EXPORT_JOB_THRESHOLD_ROWS
        if background or queryset[: threshold + 1].count() > threshold:
            # Too many rows for a request's time: the same file, written by a background job (202).
            parameters = {name: request.query_params.getlist(name) for name in request.query_params}
            parameters.pop("background", None)
            parameters.update(format=fmt, labels=labels, language=get_language())
            job = job_enqueue(kind=export_jobs.KIND, actor=request.user, parameters=parameters)
            return accepted(request, job)
        return export_response(
            fmt,
            f"payments-{timezone.localdate():%Y%m%d}",
            EXPORT_COLUMNS,
            export_rows(queryset, labels=labels == "names"),
            labels=labels == "names",
            sheet_title="payments",
        )
