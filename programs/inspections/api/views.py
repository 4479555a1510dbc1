"""The audit API (`/api/v1/audit/`): inspections with their items, close and report; findings and
their rectification steps with evidence; complaints; sampled payment confirmation; compliance
checks and their runs. Every write calls one service (programs.inspections.services)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from programs.funding.api.views import IF_MATCH_PARAMETER, ExportNegotiation
from programs.inspections import jobs as check_jobs
from programs.inspections import services
from programs.inspections.api.serializers import (
    CheckRuleSerializer,
    CheckRunCreateSerializer,
    CheckRunSerializer,
    ComplaintCreateSerializer,
    ComplaintMoveSerializer,
    ComplaintResolveSerializer,
    ComplaintSerializer,
    ConfirmationRecordSerializer,
    ConfirmationSampleCreateSerializer,
    ConfirmationSampleSerializer,
    ConfirmationSerializer,
    FindingCreateSerializer,
    FindingNoteSerializer,
    FindingSerializer,
    FindingStepCreateSerializer,
    FindingStepSerializer,
    InspectionCloseSerializer,
    InspectionCreateSerializer,
    InspectionItemSerializer,
    InspectionSerializer,
    ItemsAnswerSerializer,
)
from programs.inspections.checks import check_rules, check_run_create
from programs.inspections.filtersets import (
    CheckRunFilterSet,
    ComplaintFilterSet,
    ConfirmationFilterSet,
    ConfirmationSampleFilterSet,
    FindingFilterSet,
    InspectionFilterSet,
)
from programs.inspections.models import (
    CheckRun,
    Complaint,
    Confirmation,
    ConfirmationSample,
    Finding,
    FindingStep,
    Inspection,
    InspectionItem,
)
from tracker.accounts.choices import Role
from tracker.api.history import HistoryMixin
from tracker.api.jobs import JobSerializer, accepted
from tracker.api.query import query_param
from tracker.api.reads import read_rows
from tracker.api.viewsets import TrackerModelViewSet, TrackerReadOnlyViewSet, check_if_match
from tracker.exports import XLSX_MEDIA_TYPE, Column, export_response
from tracker.jobs.services import job_enqueue
from tracker.regions.choices import RegionLevel
from tracker.scope import require_in_scope
from tracker.transactions import door_transaction

ID = r"[0-9]+"


def _items(inspection: Inspection) -> Any:
    return (
        InspectionItem.objects.filter(inspection=inspection)
        .select_related("region")
        .order_by("region__path", "post_id", "assignment_id", "id")
    )


REPORT_COLUMNS = (
    Column("village", _("Village code")),
    Column("village_name", _("Village"), width=20),
    Column("code", _("Item")),
    Column("level", _("Level")),
    Column("post", _("Post"), kind="int"),
    Column("assignment", _("Holding"), kind="int"),
    Column("prefilled", _("Pre-filled result")),
    Column("result", _("Result")),
    Column("present", _("Present")),
    Column("interviewed", _("Interviewed")),
    Column("note", _("Inspector's note"), width=30),
    Column("rectification_opinion", _("Rectification opinion (整改意见)"), width=40),
)


class InspectionViewSet(TrackerModelViewSet):
    """Inspections (督查) of a region's public-welfare posts, village by village. Inspectors start
    them (items pre-filled from the data), answer the items, and close them; `report` gives the
    inspection report as JSON, CSV or XLSX."""

    queryset = Inspection.objects.select_related("region", "created_by", "closed_by")
    serializer_class = InspectionSerializer
    write_serializer_class = InspectionCreateSerializer
    filterset_class = InspectionFilterSet
    http_method_names = ["get", "post", "patch", "head", "options"]
    write_roles = frozenset({Role.INSPECTOR})
    action_roles = {"close": {Role.INSPECTOR}}
    lookup_value_regex = ID
    ordering_fields = ["id"]

    @extend_schema(request=InspectionCreateSerializer, responses={201: InspectionSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer: Any) -> Inspection:
        return services.inspection_create(actor=self.request.user, **serializer.validated_data)

    @extend_schema(
        methods=["GET"], request=None, responses=InspectionItemSerializer(many=True), filters=False
    )
    @extend_schema(
        methods=["PATCH"],
        request=ItemsAnswerSerializer,
        responses=InspectionItemSerializer(many=True),
        parameters=[IF_MATCH_PARAMETER],
        filters=False,
    )
    @action(detail=True, methods=["get", "patch"], filterset_class=None, pagination_class=None)
    def items(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Every item of the inspection, village by village (GET); the inspector's answers (PATCH):
        each item confirmed or overridden with a note, a failed one with its rectification opinion."""
        if request.method == "GET":
            return Response(read_rows(InspectionItemSerializer, _items(self.get_object())))
        body = ItemsAnswerSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        with door_transaction():
            inspection = self.get_object_for_update()
            check_if_match(request, inspection)
            services.inspection_items_answer(
                inspection=inspection, answers=body.validated_data["items"], actor=request.user
            )
        return Response(read_rows(InspectionItemSerializer, _items(inspection)))

    @extend_schema(
        request=InspectionCloseSerializer, responses=InspectionSerializer, parameters=[IF_MATCH_PARAMETER]
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def close(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """in progress -> closed; refused (409) while any item is unanswered."""
        return self.write_action(
            request,
            lambda inspection, **data: services.inspection_close(
                inspection=inspection, actor=request.user, **data
            ),
            body=InspectionCloseSerializer,
        )

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "format",
                OpenApiTypes.STR,
                enum=["json", "csv", "xlsx"],
                description="json (default), csv or xlsx",
            )
        ],
        responses={
            (200, "application/json"): OpenApiTypes.OBJECT,
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, XLSX_MEDIA_TYPE): OpenApiTypes.BINARY,
        },
        filters=False,
    )
    @action(
        detail=True,
        methods=["get"],
        filterset_class=None,
        pagination_class=None,
        content_negotiation_class=ExportNegotiation,
    )
    def report(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        """The inspection report: the inspection, each village's items with results, notes and
        rectification opinions, the counts, and the findings opened."""
        fmt = query_param(request, "format", choices=("json", "csv", "xlsx"), default="json")
        inspection = self.get_object()
        items = read_rows(InspectionItemSerializer, _items(inspection))
        if fmt != "json":
            rows = (
                [
                    row["region"],
                    row["region_name"],
                    row["code"],
                    row["level"],
                    row["post"],
                    row["assignment"],
                    row["prefilled"],
                    row["result"],
                    "" if row["present"] is None else str(row["present"]).lower(),
                    "" if row["interviewed"] is None else str(row["interviewed"]).lower(),
                    row["note"],
                    row["rectification_opinion"],
                ]
                for row in items
            )
            return export_response(
                fmt, f"inspection-{inspection.pk}", REPORT_COLUMNS, rows, sheet_title="inspection"
            )
        villages: dict[str, dict[str, Any]] = {}
        for row in items:
            village = villages.setdefault(
                row["region"], {"region": row["region"], "region_name": row["region_name"], "items": []}
            )
            village["items"].append(row)
        findings = read_rows(FindingSerializer, Finding.objects.filter(inspection=inspection).order_by("id"))
        return Response(
            {
                "inspection": read_rows(InspectionSerializer, Inspection.objects.filter(pk=inspection.pk))[0],
                "counts": {
                    "items": len(items),
                    "by_result": dict(Counter(row["result"] for row in items)),
                    "failed_by_code": dict(
                        Counter(row["code"] for row in items if row["result"] == "failed")
                    ),
                    "findings": len(findings),
                },
                "villages": list(villages.values()),
                "findings": findings,
            }
        )


class FindingViewSet(TrackerModelViewSet):
    """Findings and their rectification (整改): `POST .../{id}/<verb>/` moves one (start, rectify by
    the responsible unit; verify, waive, reopen by inspectors, never verifying one's own
    rectification); `steps` lists its steps and evidence, `evidence` adds a note or attachment."""

    queryset = Finding.objects.select_related(
        "region", "opened_by", "rectified_by", "verified_by", "waived_by"
    )
    serializer_class = FindingSerializer
    write_serializer_class = FindingCreateSerializer
    filterset_class = FindingFilterSet
    http_method_names = ["get", "post", "head", "options"]
    write_roles = frozenset({Role.INSPECTOR})
    action_roles = {
        "start": {Role.CLERK, Role.REVIEWER},
        "rectify": {Role.CLERK, Role.REVIEWER},
        "verify": {Role.INSPECTOR},
        "waive": {Role.INSPECTOR},
        "reopen": {Role.INSPECTOR},
        "evidence": {Role.CLERK, Role.REVIEWER, Role.INSPECTOR},
    }
    lookup_value_regex = ID
    ordering_fields = ["id"]

    @extend_schema(request=FindingCreateSerializer, responses={201: FindingSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer: Any) -> Finding:
        return services.finding_create(actor=self.request.user, fields=serializer.validated_data)

    def _move(self, request: Request, verb: str) -> Response:
        return self.write_action(
            request,
            lambda finding, **data: services.finding_move(
                finding=finding, verb=verb, actor=request.user, **data
            ),
            body=FindingNoteSerializer,
        )

    @extend_schema(
        request=FindingNoteSerializer, responses=FindingSerializer, parameters=[IF_MATCH_PARAMETER]
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def start(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """open or reopened -> rectifying (整改中), by the responsible unit's clerk or reviewer."""
        return self._move(request, "start")

    @extend_schema(
        request=FindingNoteSerializer, responses=FindingSerializer, parameters=[IF_MATCH_PARAMETER]
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def rectify(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """-> rectified, with a note of what was done."""
        return self._move(request, "rectify")

    @extend_schema(
        request=FindingNoteSerializer, responses=FindingSerializer, parameters=[IF_MATCH_PARAMETER]
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def verify(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """rectified or no longer reproducing -> verified, by an inspector who did not rectify it."""
        return self._move(request, "verify")

    @extend_schema(
        request=FindingNoteSerializer, responses=FindingSerializer, parameters=[IF_MATCH_PARAMETER]
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def waive(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """-> waived, by an inspector, with the reason."""
        return self._move(request, "waive")

    @extend_schema(
        request=FindingNoteSerializer, responses=FindingSerializer, parameters=[IF_MATCH_PARAMETER]
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def reopen(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """rectified or no longer reproducing -> reopened when verification fails, with the reason."""
        return self._move(request, "reopen")

    @extend_schema(request=None, responses=FindingStepSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def steps(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The finding's steps with their notes and attachments, oldest first."""
        finding = self.get_object()
        return Response(
            read_rows(FindingStepSerializer, FindingStep.objects.filter(finding=finding).order_by("id"))
        )

    @extend_schema(
        request={"multipart/form-data": FindingStepCreateSerializer},
        responses={201: FindingStepSerializer},
        filters=False,
    )
    @action(detail=True, methods=["post"], filterset_class=None, parser_classes=[MultiPartParser, FormParser])
    def evidence(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Add evidence to the finding: a note and an optional attachment (PDF, JPEG or PNG, size
        limited by FINDING_ATTACHMENT_MAX_BYTES)."""
        body = FindingStepCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        finding = self.get_object()
        with door_transaction():
            step = services.finding_step_add(finding=finding, actor=request.user, **body.validated_data)
        return Response(FindingStepSerializer(step).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
        parameters=[OpenApiParameter("step_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        filters=False,
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"steps/(?P<step_id>[0-9]+)/attachment",
        filterset_class=None,
        pagination_class=None,
        content_negotiation_class=ExportNegotiation,
    )
    def attachment(self, request: Request, *args: Any, step_id: str = "", **kwargs: Any) -> Any:
        """A step's attachment, only to users who may see the finding."""
        finding = self.get_object()
        step = FindingStep.objects.filter(finding=finding, pk=int(step_id)).exclude(attachment="").first()
        if step is None:
            raise Http404
        response = FileResponse(
            default_storage.open(step.attachment, "rb"),
            content_type=step.attachment_type,
            as_attachment=True,
            filename=step.attachment_name,
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response


class ComplaintViewSet(TrackerModelViewSet):
    """Complaints and tip-offs (投诉举报): channel, complainant (masked; anonymous allowed), what it
    concerns, category, assigned unit and due date; received -> investigating -> resolved (optionally
    opening a finding) or unfounded."""

    queryset = Complaint.objects.select_related("region", "created_by")
    serializer_class = ComplaintSerializer
    write_serializer_class = ComplaintCreateSerializer
    filterset_class = ComplaintFilterSet
    http_method_names = ["get", "post", "head", "options"]
    write_roles = frozenset({Role.CLERK, Role.REVIEWER, Role.INSPECTOR})
    lookup_value_regex = ID
    ordering_fields = ["id"]

    @extend_schema(request=ComplaintCreateSerializer, responses={201: ComplaintSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer: Any) -> Complaint:
        return services.complaint_create(actor=self.request.user, fields=serializer.validated_data)

    def _move(self, request: Request, verb: str, body: Any) -> Response:
        return self.write_action(
            request,
            lambda complaint, **data: services.complaint_move(
                complaint=complaint, verb=verb, actor=request.user, **data
            ),
            body=body,
        )

    @extend_schema(
        request=ComplaintMoveSerializer, responses=ComplaintSerializer, parameters=[IF_MATCH_PARAMETER]
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def investigate(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """received -> investigating."""
        return self._move(request, "investigate", ComplaintMoveSerializer)

    @extend_schema(
        request=ComplaintResolveSerializer, responses=ComplaintSerializer, parameters=[IF_MATCH_PARAMETER]
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def resolve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """-> resolved with the outcome; an inspector may open the finding it led to."""
        return self._move(request, "resolve", ComplaintResolveSerializer)

    @extend_schema(
        request=ComplaintMoveSerializer, responses=ComplaintSerializer, parameters=[IF_MATCH_PARAMETER]
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def unfounded(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """-> unfounded with the outcome."""
        return self._move(request, "unfounded", ComplaintMoveSerializer)


class ConfirmationSampleViewSet(TrackerModelViewSet):
    """Sampled payment confirmation (回访核实): `POST` draws a reproducible random sample (seed stored)
    of the payments to people paid in a region and period; each sampled payment is a confirmation
    to record (`audit/confirmations/`). The sample answers its reach, confirmation and discrepancy
    rates."""

    queryset = ConfirmationSample.objects.select_related("region", "program", "created_by")
    serializer_class = ConfirmationSampleSerializer
    write_serializer_class = ConfirmationSampleCreateSerializer
    filterset_class = ConfirmationSampleFilterSet
    http_method_names = ["get", "post", "head", "options"]
    write_roles = frozenset({Role.INSPECTOR})
    lookup_value_regex = ID
    ordering_fields = ["id"]

    @extend_schema(request=ConfirmationSampleCreateSerializer, responses={201: ConfirmationSampleSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer: Any) -> ConfirmationSample:
        return services.confirmation_sample_draw(actor=self.request.user, **serializer.validated_data)


class ConfirmationViewSet(HistoryMixin, TrackerReadOnlyViewSet):
    """The sampled payments and what each person said; `POST .../{id}/record/` records it (a
    discrepancy opens a high-severity finding)."""

    queryset = Confirmation.objects.select_related("region", "payment", "confirmed_by")
    serializer_class = ConfirmationSerializer
    filterset_class = ConfirmationFilterSet
    action_roles = {"record": {Role.CLERK, Role.REVIEWER, Role.INSPECTOR}}
    lookup_value_regex = ID
    ordering_fields = ["id"]

    @extend_schema(
        request=ConfirmationRecordSerializer,
        responses=ConfirmationSerializer,
        parameters=[IF_MATCH_PARAMETER],
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def record(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Record what the person said: method, reached, received (yes / partly / no), amount stated."""
        return self.write_action(
            request,
            lambda confirmation, **data: services.confirmation_record(
                confirmation=confirmation, actor=request.user, fields=data
            ),
            body=ConfirmationRecordSerializer,
        )


# -- compliance checks ----------------------------------------------------------------------------------

# Runs over regions of these levels go to a background job (a province's payments take longer than a
# request may); below them they run inline unless `background` is asked for.
JOB_LEVELS = frozenset({RegionLevel.COUNTRY, RegionLevel.PROVINCE})


class CheckListView(APIView):
    """The compliance rules a check run applies: code, description (zh, en), severity, the kind of
    record each concerns and the app that registered it."""

    pagination_class = None

    @extend_schema(responses=CheckRuleSerializer(many=True))
    def get(self, request: Request) -> Response:
        rows = [
            {
                "code": rule.code,
                "description_zh": rule.description_zh,
                "description_en": rule.description_en,
                "severity": rule.severity,
                "concerns": rule.concerns,
                "app": rule.app,
            }
            for rule in check_rules()
        ]
        return Response(CheckRuleSerializer(rows, many=True).data)


class CheckRunViewSet(TrackerModelViewSet):
    """Compliance check runs: `POST` runs the rules over a region's subtree and a period, opening one
    finding per violation (never beside an unresolved one of the same rule and record) and moving
    findings whose violation is gone to `no_longer_reproduces`; a province or the country (or
    `background=true`) runs as a job (202)."""

    queryset = CheckRun.objects.select_related("region", "created_by")
    serializer_class = CheckRunSerializer
    write_serializer_class = CheckRunCreateSerializer
    filterset_class = CheckRunFilterSet
    http_method_names = ["get", "post", "head", "options"]
    write_roles = frozenset({Role.INSPECTOR})
    lookup_value_regex = ID
    ordering_fields = ["id"]

    @extend_schema(request=CheckRunCreateSerializer, responses={201: CheckRunSerializer, 202: JobSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = CheckRunCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        background = data.pop("background")
        region = data["region"]
        if background or region.level in JOB_LEVELS:
            with door_transaction():
                require_in_scope(request.user, region)
                job = job_enqueue(
                    kind=check_jobs.KIND,
                    actor=request.user,
                    region=region,
                    parameters={
                        "period_start": data["period_start"].isoformat(),
                        "period_end": data["period_end"].isoformat(),
                        "rules": list(data["rules"]),
                    },
                )
            return accepted(request, job)
        with door_transaction():
            run = check_run_create(actor=request.user, **data)
        return self.respond(run, status.HTTP_201_CREATED)
