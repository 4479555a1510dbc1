"""Posts API: county standards, posts (+ roster, suspend/resume/close), holdings (hire, end, replace),
personnel changes (+ approve), attendance (+ bulk, import), assessment standards, assessments and the
monthly subsidy runs. Every write calls one service (programs.posts.services / imports)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from programs.funding.api.views import IDEMPOTENCY_PARAMETER, IF_MATCH_PARAMETER
from programs.posts import imports, services
from programs.posts.api.serializers import (
    AssessmentSerializer,
    AssessmentStandardSerializer,
    AssessmentWriteSerializer,
    AssignmentSerializer,
    AttendanceBulkResultSerializer,
    AttendanceBulkSerializer,
    AttendanceImportResultSerializer,
    AttendanceSerializer,
    AttendanceWriteSerializer,
    CloseSerializer,
    EndSerializer,
    HireSerializer,
    HoldingFieldsSerializer,
    PersonnelChangeSerializer,
    PostReasonSerializer,
    PostSerializer,
    PostStandardSerializer,
    PostStandardUpdateSerializer,
    PostWriteSerializer,
    ReplacementSerializer,
    ReplaceSerializer,
    SubsidyRunCreateSerializer,
    SubsidyRunSerializer,
)
from programs.posts.filtersets import (
    AssessmentFilterSet,
    AssessmentStandardFilterSet,
    AssignmentFilterSet,
    AttendanceFilterSet,
    PersonnelChangeFilterSet,
    PostFilterSet,
    PostStandardFilterSet,
    SubsidyRunFilterSet,
)
from programs.posts.models import (
    Assessment,
    AssessmentStandard,
    Assignment,
    Attendance,
    PersonnelChange,
    Post,
    PostStandard,
    SubsidyRun,
)
from programs.posts.selectors import holdings_in_month_exceed, roster_on
from tracker.accounts.choices import Role
from tracker.api.exceptions import problem_response
from tracker.api.history import HistoryMixin
from tracker.api.idempotency import idempotent
from tracker.api.jobs import JobSerializer, accepted
from tracker.api.reads import read_rows
from tracker.api.viewsets import TrackerModelViewSet, TrackerReadOnlyViewSet, check_if_match
from tracker.periods import Month
from tracker.transactions import door_transaction

ID = r"[0-9]+"


def _date_param(request: Request, name: str) -> dt.date | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        return serializers.DateField().to_internal_value(raw)
    except serializers.ValidationError as exc:
        raise ValidationError({name: exc.detail}) from None


def _flag(request: Request, name: str) -> bool:
    raw = (request.query_params.get(name) or "").strip().lower()
    if raw in {"", "0", "false", "no"}:
        return False
    if raw in {"1", "true", "yes"}:
        return True
    raise ValidationError({name: [_("Expected true or false.")]})


class PostStandardViewSet(TrackerModelViewSet):
    """County post subsidy standards per year: the urban standard and the rural cap (Fujian R021/R022).
    Reviewers of the county or above set them."""

    queryset = PostStandard.objects.select_related("region")
    serializer_class = PostStandardSerializer
    filterset_class = PostStandardFilterSet
    http_method_names = ["get", "post", "patch", "head", "options"]
    write_roles = frozenset({Role.REVIEWER})
    lookup_value_regex = ID
    ordering_fields = ["id"]

    def get_write_serializer(self, *args: Any, **kwargs: Any) -> Any:
        if self.action == "partial_update":
            kwargs.setdefault("context", self.get_serializer_context())
            return PostStandardUpdateSerializer(*args, **kwargs)
        return super().get_write_serializer(*args, **kwargs)

    @extend_schema(request=PostStandardUpdateSerializer, responses=PostStandardSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().partial_update(request, *args, **kwargs)

    def perform_create(self, serializer: Any) -> PostStandard:
        return services.post_standard_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, instance: PostStandard, serializer: Any) -> PostStandard:
        return services.post_standard_update(
            standard=instance, actor=self.request.user, fields=serializer.validated_data
        )


class PostViewSet(TrackerModelViewSet):
    """Public-welfare posts (公益性岗位), scoped by their region. Clerks set and correct them;
    `roster` lists who holds a post on a day."""

    queryset = Post.objects.select_related("region", "employer", "program")
    serializer_class = PostSerializer
    write_serializer_class = PostWriteSerializer
    filterset_class = PostFilterSet
    http_method_names = ["get", "post", "patch", "head", "options"]
    write_roles = frozenset({Role.CLERK})
    action_roles = {"suspend": {Role.CLERK}, "resume": {Role.CLERK}, "close": {Role.CLERK}}
    lookup_value_regex = ID
    ordering_fields = ["id"]

    @extend_schema(request=PostWriteSerializer, responses={201: PostSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    @extend_schema(request=PostWriteSerializer, responses=PostSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().partial_update(request, *args, **kwargs)

    def perform_create(self, serializer: Any) -> Post:
        return services.post_create(actor=self.request.user, fields=serializer.validated_data)

    def perform_update(self, instance: Post, serializer: Any) -> Post:
        return services.post_update(post=instance, actor=self.request.user, fields=serializer.validated_data)

    @extend_schema(
        parameters=[OpenApiParameter("on", OpenApiTypes.DATE, description="Date (default today).")],
        responses=AssignmentSerializer(many=True),
        filters=False,
    )
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def roster(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Who holds the post on a day (`on`, default today), in order of their start."""
        post = self.get_object()
        on = _date_param(request, "on") or timezone.localdate()
        return Response(read_rows(AssignmentSerializer, roster_on(post=post, on=on)))

    def _move(self, request: Request, service: Any, body: Any = PostReasonSerializer) -> Response:
        return self.write_action(
            request, lambda post, **data: service(post=post, actor=request.user, **data), body=body
        )

    @extend_schema(request=PostReasonSerializer, responses=PostSerializer, parameters=[IF_MATCH_PARAMETER])
    @action(detail=True, methods=["post"], filterset_class=None)
    def suspend(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """open → suspended: no one is hired while suspended."""
        return self._move(request, services.post_suspend)

    @extend_schema(request=PostReasonSerializer, responses=PostSerializer, parameters=[IF_MATCH_PARAMETER])
    @action(detail=True, methods=["post"], filterset_class=None)
    def resume(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """suspended → open."""
        return self._move(request, services.post_resume)

    @extend_schema(request=CloseSerializer, responses=PostSerializer, parameters=[IF_MATCH_PARAMETER])
    @action(detail=True, methods=["post"], filterset_class=None)
    def close(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """open or suspended → closed, once every holder has left by the closing day."""
        return self._move(request, services.post_close, CloseSerializer)


class AssignmentViewSet(TrackerModelViewSet):
    """Holdings of posts (在岗人员): `POST` hires (上岗), `.../end/` ends (离岗), `.../replace/` ends one
    holder and hires the successor in one transaction; `PATCH` records the contract, insurance and
    payee account."""

    queryset = Assignment.objects.select_related("post", "region", "beneficiary")
    serializer_class = AssignmentSerializer
    write_serializer_class = HireSerializer
    filterset_class = AssignmentFilterSet
    http_method_names = ["get", "post", "patch", "head", "options"]
    write_roles = frozenset({Role.CLERK})
    action_roles = {"end": {Role.CLERK}, "replace": {Role.CLERK}}
    lookup_value_regex = ID
    ordering_fields = ["id"]

    def get_write_serializer(self, *args: Any, **kwargs: Any) -> Any:
        if self.action == "partial_update":
            kwargs.setdefault("context", self.get_serializer_context())
            return HoldingFieldsSerializer(*args, **kwargs)
        return super().get_write_serializer(*args, **kwargs)

    @extend_schema(request=HireSerializer, responses={201: AssignmentSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    @extend_schema(request=HoldingFieldsSerializer, responses=AssignmentSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().partial_update(request, *args, **kwargs)

    def perform_create(self, serializer: Any) -> Assignment:
        data = dict(serializer.validated_data)
        return services.assignment_hire(
            actor=self.request.user,
            post=data.pop("post"),
            beneficiary=data.pop("beneficiary"),
            start_date=data.pop("start_date"),
            reported_on=data.pop("reported_on", None),
            reason=data.pop("reason", ""),
            **data,
        )

    def perform_update(self, instance: Assignment, serializer: Any) -> Assignment:
        return services.assignment_update(
            assignment=instance, actor=self.request.user, fields=serializer.validated_data
        )

    @extend_schema(request=EndSerializer, responses=AssignmentSerializer, parameters=[IF_MATCH_PARAMETER])
    @action(detail=True, methods=["post"], filterset_class=None)
    def end(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """End the holding on its last day; the person's status from the next day is `status`
        (default unemployed, which opens a follow-up)."""
        return self.write_action(
            request,
            lambda assignment, **data: services.assignment_end(
                assignment=assignment, actor=request.user, **data
            ),
            body=EndSerializer,
        )

    @extend_schema(
        request=ReplaceSerializer, responses={201: ReplacementSerializer}, parameters=[IF_MATCH_PARAMETER]
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def replace(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """End this holder and hire the successor (人员替换), all or nothing."""
        body = ReplaceSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        with door_transaction():
            assignment = self.get_object_for_update()
            check_if_match(request, assignment)
            ended, successor = services.assignment_replace(assignment=assignment, actor=request.user, **data)
        return Response(
            ReplacementSerializer({"ended": ended, "successor": successor}).data,
            status=status.HTTP_201_CREATED,
        )


class PersonnelChangeViewSet(HistoryMixin, TrackerReadOnlyViewSet):
    """Personnel changes: every hire, end and replacement (written by the holding services), with whether it was
    reported late; reviewers of the township or above approve them."""

    queryset = PersonnelChange.objects.select_related(
        "post", "region", "assignment__beneficiary", "successor__beneficiary", "reported_by", "approved_by"
    )
    serializer_class = PersonnelChangeSerializer
    filterset_class = PersonnelChangeFilterSet
    action_roles = {"approve": {Role.REVIEWER}}
    lookup_value_regex = ID
    ordering_fields = ["id"]

    @extend_schema(request=None, responses=PersonnelChangeSerializer, parameters=[IF_MATCH_PARAMETER])
    @action(detail=True, methods=["post"], filterset_class=None)
    def approve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """reported → approved, by a reviewer of the township or above who did not report it."""
        return self.write_action(
            request, lambda change: services.personnel_change_approve(change=change, actor=request.user)
        )


class AttendanceViewSet(TrackerModelViewSet):
    """Monthly attendance per holding (考勤). `POST` records (or corrects) one month of one holder;
    `bulk/` a whole roster's month in one request; `import/` a sign-in sheet file. All or nothing."""

    queryset = Attendance.objects.select_related("assignment__beneficiary", "region", "recorded_by")
    serializer_class = AttendanceSerializer
    write_serializer_class = AttendanceWriteSerializer
    filterset_class = AttendanceFilterSet
    http_method_names = ["get", "post", "head", "options"]
    write_roles = frozenset({Role.CLERK})
    action_roles = {"bulk": {Role.CLERK}, "import_file": {Role.CLERK}}
    lookup_value_regex = ID
    ordering_fields = ["id"]

    @extend_schema(
        request=AttendanceWriteSerializer, responses={200: AttendanceSerializer, 201: AttendanceSerializer}
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """One holder's month: 201 when new, 200 when an existing month was corrected."""
        serializer = self.get_write_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with door_transaction():
            record, created = services.attendance_record(actor=request.user, **serializer.validated_data)
        return self.respond(record, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        request=AttendanceBulkSerializer,
        responses=AttendanceBulkResultSerializer,
        parameters=[OpenApiParameter("dry_run", OpenApiTypes.BOOL, description="Check only; write nothing.")],
        filters=False,
    )
    @action(detail=False, methods=["post"], filterset_class=None, pagination_class=None, filter_backends=[])
    def bulk(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A month's attendance for a whole roster: every row checked, errors as `rows.<i>.<field>`,
        nothing written unless every row is valid."""
        dry_run = _flag(request, "dry_run")
        body = AttendanceBulkSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rows = body.validated_data["rows"]
        ids = [row["assignment"] for row in rows]
        with door_transaction():
            found = {a.pk: a for a in Assignment.objects.visible_to(request.user).filter(pk__in=ids)}
            missing = {
                f"rows.{i}.assignment": [_("Not found.")] for i, pk in enumerate(ids) if pk not in found
            }
            if missing:
                raise ValidationError(missing)
            result = services.attendance_bulk_upsert(
                actor=request.user,
                month=body.validated_data["month"],
                source=body.validated_data["source"],
                rows=[
                    services.AttendanceRow(
                        found[row["assignment"]],
                        row["days_required"],
                        row["days_present"],
                        row["paid_leave_days"],
                    )
                    for row in rows
                ],
                dry_run=dry_run,
            )
        saved = [r.pk for r in result.rows if r.pk is not None]
        return Response(
            {
                "month": body.validated_data["month"],
                "created": len(result.created),
                "updated": len(result.updated),
                "unchanged": len(result.unchanged),
                "dry_run": dry_run,
                "rows": read_rows(
                    AttendanceSerializer, Attendance.objects.filter(pk__in=saved).order_by("id")
                )
                if not dry_run
                else [],
            },
            status=status.HTTP_200_OK if dry_run else status.HTTP_201_CREATED,
        )

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        },
        parameters=[
            OpenApiParameter("dry_run", OpenApiTypes.BOOL, description="Validate only; write nothing.")
        ],
        responses={200: AttendanceImportResultSerializer, 201: AttendanceImportResultSerializer},
        description="Columns (Chinese or English headers): "
        + ", ".join(
            f"`{f}` / {zh}{' (required)' if required else ''}" for f, zh, required in imports.COLUMNS
        ),
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser],
        filterset_class=None,
        pagination_class=None,
        filter_backends=[],
    )
    def import_file(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Attendance from a sign-in sheet (CSV UTF-8/GB18030 or XLSX), validated whole and written all or
        nothing; every error as {row, column, message}."""
        dry_run = _flag(request, "dry_run")
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": [_("Upload the file as the multipart field `file`.")]})
        try:
            result = imports.attendance_import(
                file=upload, filename=upload.name, actor=request.user, dry_run=dry_run
            )
        except imports.ImportRejected as exc:
            return problem_response(400, exc.detail, exc.errors_by_path(), row_errors=exc.row_errors)
        return Response(result.as_dict(), status=status.HTTP_200_OK if dry_run else status.HTTP_201_CREATED)


class AssessmentStandardViewSet(TrackerModelViewSet):
    """Villages' and townships' refined assessment standards (细化考核标准)."""

    queryset = AssessmentStandard.objects.select_related("region")
    serializer_class = AssessmentStandardSerializer
    filterset_class = AssessmentStandardFilterSet
    http_method_names = ["get", "post", "head", "options"]
    write_roles = frozenset({Role.CLERK, Role.REVIEWER})
    lookup_value_regex = ID
    ordering_fields = ["id"]

    def perform_create(self, serializer: Any) -> AssessmentStandard:
        return services.assessment_standard_create(actor=self.request.user, **serializer.validated_data)


class AssessmentViewSet(TrackerModelViewSet):
    """Assessments (考核) of holders by month or quarter, each naming the standard applied."""

    queryset = Assessment.objects.select_related("assignment__beneficiary", "region", "standard", "assessor")
    serializer_class = AssessmentSerializer
    write_serializer_class = AssessmentWriteSerializer
    filterset_class = AssessmentFilterSet
    http_method_names = ["get", "post", "head", "options"]
    write_roles = frozenset({Role.CLERK, Role.REVIEWER})
    lookup_value_regex = ID
    ordering_fields = ["id"]

    @extend_schema(request=AssessmentWriteSerializer, responses={201: AssessmentSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer: Any) -> Assessment:
        return services.assessment_create(actor=self.request.user, **serializer.validated_data)


class SubsidyRunViewSet(TrackerModelViewSet):
    """The monthly post subsidy run (`POST` with `region`, `month`, `dry_run`): one submitted payment
    per holding held that month, through the ledger's batch path; every holding not paid is listed
    with its reason. Running a month again creates no payment and reports the existing ones."""

    queryset = SubsidyRun.objects.select_related("region", "created_by")
    serializer_class = SubsidyRunSerializer
    write_serializer_class = SubsidyRunCreateSerializer
    filterset_class = SubsidyRunFilterSet
    http_method_names = ["get", "post", "head", "options"]
    write_roles = frozenset({Role.CLERK})
    lookup_value_regex = ID
    ordering_fields = ["id"]

    @extend_schema(
        request=SubsidyRunCreateSerializer,
        responses={200: SubsidyRunSerializer, 201: SubsidyRunSerializer, 202: JobSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """201 with the stored run; a dry run answers 200 with the run as it would be (no id); above
        SUBSIDY_RUN_JOB_THRESHOLD holdings, or with `background`, 202 with the job that runs it."""
        serializer = self.get_write_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        background = data.pop("background")
        month = Month.parse(data["month"])
        if background or holdings_in_month_exceed(
            region_path=data["region"].path, month=month, limit=settings.SUBSIDY_RUN_JOB_THRESHOLD
        ):
            # Too many holdings for a request's time: the same run, as a background job (202).
            with door_transaction():
                job = services.subsidy_run_enqueue(actor=request.user, **data)
            return accepted(request, job)
        with door_transaction():
            run = services.subsidy_run_create(actor=request.user, **data)
        return self.respond(run, status.HTTP_200_OK if data["dry_run"] else status.HTTP_201_CREATED)
