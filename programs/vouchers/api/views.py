"""Training-voucher API: types, plans (with progress), training institutions, courses and sessions,
the vouchers with their lifecycle, check-ins, certificates, and per person the training profile and
the lifelong training record. Every write calls one service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from beneficiaries.filtersets import BeneficiaryFilterSet
from beneficiaries.models import Beneficiary
from programs.funding import services as funding
from programs.funding.api.serializers import ReasonSerializer
from programs.funding.api.views import IDEMPOTENCY_PARAMETER, IF_MATCH_PARAMETER
from programs.funding.models import TrainingInstitution
from programs.vouchers import selectors, services
from programs.vouchers.api.serializers import (
    CertificateSerializer,
    CheckInCreateSerializer,
    CheckInSerializer,
    ClaimSerializer,
    CompleteSerializer,
    CourseSerializer,
    CourseSessionSerializer,
    CourseWriteSerializer,
    EnrollSerializer,
    EvaluateSerializer,
    EvaluationSerializer,
    MoveSerializer,
    StepResultSerializer,
    SuspendResultSerializer,
    TrainingInstitutionSerializer,
    VoucherBatchIssueSerializer,
    VoucherBatchResultSerializer,
    VoucherIssueSerializer,
    VoucherPlanSerializer,
    VoucherSerializer,
    VoucherTypeSerializer,
    WorkerTrainingProfileSerializer,
)
from programs.vouchers.codes import is_valid_code, normalise_code
from programs.vouchers.filtersets import (
    CheckInFilterSet,
    CourseFilterSet,
    CourseSessionFilterSet,
    TrainingInstitutionFilterSet,
    VoucherFilterSet,
    VoucherPlanFilterSet,
    VoucherTypeFilterSet,
)
from programs.vouchers.models import (
    Certificate,
    CheckIn,
    Course,
    CourseSession,
    Voucher,
    VoucherPlan,
    VoucherType,
    WorkerTrainingProfile,
)
from tracker.accounts.choices import Role
from tracker.api.idempotency import idempotent
from tracker.api.reads import plan_for
from tracker.api.viewsets import TrackerModelViewSet, TrackerReadOnlyViewSet, check_if_match, etag_for
from tracker.transactions import door_transaction


class VoucherTypeViewSet(TrackerModelViewSet):
    """Voucher types (券种). A type issued by a region applies to its subtree: a user sees those of
    their subtree and of their region's ancestors. Reviewers set them up."""

    queryset = VoucherType.objects.select_related("region", "program")
    serializer_class = VoucherTypeSerializer
    filterset_class = VoucherTypeFilterSet
    http_method_names = ["get", "post", "patch", "head", "options"]
    write_roles = frozenset({Role.REVIEWER})
    ordering_fields = ["id"]

    def perform_create(self, serializer: Any) -> VoucherType:
        return services.voucher_type_create(actor=self.request.user, fields=serializer.validated_data)

    def perform_update(self, instance: VoucherType, serializer: Any) -> VoucherType:
        return services.voucher_type_update(
            voucher_type=instance, actor=self.request.user, fields=serializer.validated_data
        )


class VoucherPlanViewSet(TrackerModelViewSet):
    """Voucher plans per region, year and type, with their progress (issued, claimed, completed,
    redeemed) and what an optional hard cap leaves. Reviewers set them up."""

    queryset = VoucherPlan.objects.select_related("region", "type")
    serializer_class = VoucherPlanSerializer
    filterset_class = VoucherPlanFilterSet
    http_method_names = ["get", "post", "patch", "head", "options"]
    write_roles = frozenset({Role.REVIEWER})
    ordering_fields = ["id"]

    def perform_create(self, serializer: Any) -> VoucherPlan:
        return services.voucher_plan_create(actor=self.request.user, fields=serializer.validated_data)

    def perform_update(self, instance: VoucherPlan, serializer: Any) -> VoucherPlan:
        return services.voucher_plan_update(
            plan=instance, actor=self.request.user, fields=serializer.validated_data
        )


class TrainingInstitutionViewSet(TrackerModelViewSet):
    """Training institutions (培训机构), scoped by their region: USCC checked, licence, status.
    Clerks and reviewers register them; reviewers suspend and reinstate them."""

    queryset = TrainingInstitution.objects.select_related("region")
    serializer_class = TrainingInstitutionSerializer
    filterset_class = TrainingInstitutionFilterSet
    http_method_names = ["get", "post", "patch", "head", "options"]
    write_roles = frozenset({Role.CLERK, Role.REVIEWER})
    action_roles = {"suspend": {Role.REVIEWER}, "reinstate": {Role.REVIEWER}}
    ordering_fields = ["id"]

    def perform_create(self, serializer: Any) -> TrainingInstitution:
        return funding.training_institution_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, instance: TrainingInstitution, serializer: Any) -> TrainingInstitution:
        fields = dict(serializer.validated_data)
        if "uscc" in fields and fields.pop("uscc") != instance.uscc:
            raise ValidationError(
                {"uscc": [_("The unified social credit code identifies the institution; it stays.")]}
            )
        return funding.training_institution_update(
            institution=instance, actor=self.request.user, fields=fields
        )

    @extend_schema(
        request=ReasonSerializer, responses=SuspendResultSerializer, parameters=[IF_MATCH_PARAMETER]
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def suspend(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """active → suspended: no new enrolments or redemptions; answers with the vouchers enrolled
        there, to move (`POST /vouchers/{code}/move/`) or cancel one by one. Nothing is voided."""
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with door_transaction():
            institution = self.get_object_for_update()
            check_if_match(request, institution)
            enrolled = services.institution_suspend(
                institution=institution, actor=request.user, reason=body.validated_data["reason"]
            )
        institution.refresh_from_db()
        response = Response(
            SuspendResultSerializer({"institution": institution, "enrolled_vouchers": enrolled}).data
        )
        response["ETag"] = etag_for(institution)
        return response

    @extend_schema(
        request=ReasonSerializer, responses=TrainingInstitutionSerializer, parameters=[IF_MATCH_PARAMETER]
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def reinstate(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """suspended → active."""
        return self.write_action(
            request,
            lambda institution, reason: funding.training_institution_reinstate(
                institution=institution, actor=request.user, reason=reason
            ),
            body=ReasonSerializer,
        )

    @extend_schema(responses=VoucherSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], filterset_class=None, ordering_fields=None)
    def vouchers(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The vouchers enrolled in the institution's courses (what a suspension leaves to move)."""
        institution = self.get_object()
        queryset = selectors.vouchers_enrolled_at(institution).visible_to(request.user)
        plan = plan_for(VoucherSerializer)
        page = self.paginate_queryset(plan.values(queryset))
        return self.get_paginated_response(plan.rows(page))


class CourseViewSet(TrackerModelViewSet):
    """Courses, scoped by their institution's region; the course search for workers
    (`?occupation=&within=&starts_after=&q=`). Clerks and reviewers enter them."""

    queryset = Course.objects.select_related("institution__region")
    serializer_class = CourseSerializer
    write_serializer_class = CourseWriteSerializer
    filterset_class = CourseFilterSet
    http_method_names = ["get", "post", "patch", "head", "options"]
    write_roles = frozenset({Role.CLERK, Role.REVIEWER})
    ordering_fields = ["id"]

    @extend_schema(request=CourseWriteSerializer, responses={201: CourseSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    @extend_schema(request=CourseWriteSerializer, responses=CourseSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().partial_update(request, *args, **kwargs)

    def perform_create(self, serializer: Any) -> Course:
        data = dict(serializer.validated_data)
        datum = data.pop("site_datum")
        return services.course_create(actor=self.request.user, fields=data, site_datum=datum)

    def perform_update(self, instance: Course, serializer: Any) -> Course:
        data = dict(serializer.validated_data)
        datum = data.pop("site_datum", "wgs84")
        return services.course_update(course=instance, actor=self.request.user, fields=data, site_datum=datum)


class CourseSessionViewSet(TrackerModelViewSet):
    """The sessions of courses (the classes trainees check in to)."""

    queryset = CourseSession.objects.select_related("course__institution")
    serializer_class = CourseSessionSerializer
    filterset_class = CourseSessionFilterSet
    http_method_names = ["get", "post", "patch", "head", "options"]
    write_roles = frozenset({Role.CLERK, Role.REVIEWER})
    ordering_fields = ["id"]

    def perform_create(self, serializer: Any) -> CourseSession:
        return services.course_session_create(actor=self.request.user, fields=serializer.validated_data)

    def perform_update(self, instance: CourseSession, serializer: Any) -> CourseSession:
        return services.course_session_update(
            session=instance, actor=self.request.user, fields=serializer.validated_data
        )


def voucher_queryset() -> Any:
    return Voucher.objects.select_related(
        "type", "holder__region", "issued_by", "course__institution", "certificate", "evaluation"
    )


def _step_response(result: services.StepResult, code: int = status.HTTP_200_OK) -> Response:
    voucher = voucher_queryset().get(pk=result.voucher.pk)
    data = StepResultSerializer(
        {
            "voucher": voucher,
            "payments": result.payments,
            "allowances_refused": {code: list(error.messages) for code, error in result.refused.items()},
        }
    ).data
    response = Response(data, status=code)
    response["ETag"] = etag_for(voucher)
    return response


class VoucherViewSet(TrackerModelViewSet):
    """Training vouchers (职业培训券), scoped by the holder's region and looked up by their code
    (case and separators ignored; a code whose check character does not match is a 404 saying so). Clerks
    issue them and record each step; a move from the wrong status is a 409 naming the current one."""

    queryset = voucher_queryset()
    serializer_class = VoucherSerializer
    write_serializer_class = VoucherIssueSerializer
    filterset_class = VoucherFilterSet
    http_method_names = ["get", "post", "head", "options"]
    lookup_field = "code"
    lookup_value_regex = r"[A-Za-z0-9-]{4,32}"
    write_roles = frozenset({Role.CLERK})
    action_roles = {"cancel": {Role.CLERK, Role.REVIEWER}}
    ordering_fields = ["id"]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        allowed = request.method.lower() in self.http_method_names and hasattr(self, request.method.lower())
        if "code" in self.kwargs and allowed:  # a method the view does not offer stays a 405
            code = normalise_code(self.kwargs["code"])
            if not is_valid_code(code):
                # No voucher has this code (the check character does not match): a 404 like any code
                # that does not exist, saying what to check — the schema cannot state a check character.
                raise NotFound(
                    _("INVALID_CODE: this is not a voucher code (check character); check what was typed.")
                )
            self.kwargs["code"] = code

    @extend_schema(
        request=VoucherIssueSerializer, responses={201: VoucherSerializer}, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Issue one voucher of the plan's type to a person (every issue rule and the plan's cap)."""
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer: Any) -> Voucher:
        voucher = services.voucher_issue(actor=self.request.user, **serializer.validated_data)
        return voucher_queryset().get(pk=voucher.pk)

    @extend_schema(
        request=VoucherBatchIssueSerializer,
        responses={200: VoucherBatchResultSerializer, 201: VoucherBatchResultSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        filters=False,
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="issue-batch",
        filterset_class=None,
        pagination_class=None,
        filter_backends=[],
    )
    @idempotent
    def issue_batch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Issue to listed people or to everyone matching a filter of the beneficiary list: all or
        nothing within the plan's cap; with `skip_refused` the refused people are reported and the
        others issued; `dry_run` checks and writes nothing."""
        body = VoucherBatchIssueSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = body.validated_data
        plan = data["plan"]
        with door_transaction():
            people = self._batch_people(request, data)
            result = services.vouchers_issue_batch(
                plan=plan,
                holders=people,
                actor=request.user,
                employer=data.get("employer"),
                skip_refused=data["skip_refused"],
                dry_run=data["dry_run"],
            )
            progress = selectors.with_remaining(selectors.plan_progress([plan.pk])[plan.pk], plan.cap)
        refused = [
            {
                "index": index,
                "holder": people[index].pk,
                "codes": result.refusal_codes(index),
                "errors": {
                    name: [str(m) for m in error.messages] for name, error in _by_field(error).items()
                },
            }
            for index, error in sorted(result.refused.items())
        ]
        payload = {
            "plan": plan.pk,
            "dry_run": data["dry_run"],
            "issued_count": len(result.issued),
            "issued": [{"id": v.pk, "code": v.code, "holder": v.holder_id} for v in result.issued],
            "refused": refused,
            "remaining": progress["remaining"],
        }
        code = status.HTTP_200_OK if data["dry_run"] else status.HTTP_201_CREATED
        return Response(VoucherBatchResultSerializer(payload).data, status=code)

    def _batch_people(self, request: Request, data: dict[str, Any]) -> list[Beneficiary]:
        visible = Beneficiary.objects.visible_to(request.user)
        if "holders" in data:
            ids = data["holders"]
            found = {p.pk: p for p in visible.filter(pk__in=ids)}
            missing = {f"holders.{i}": [_("Not found.")] for i, pk in enumerate(ids) if pk not in found}
            if missing:
                raise ValidationError(missing)
            return [found[pk] for pk in ids]
        filterset = BeneficiaryFilterSet(data=data["filter"], queryset=visible, request=request)
        if not filterset.is_valid():
            raise ValidationError({f"filter.{k}": v for k, v in filterset.errors.items()})
        people = list(filterset.qs.order_by("pk")[: services.MAX_BATCH + 1])
        if len(people) > services.MAX_BATCH:
            raise ValidationError(
                {
                    "filter": [
                        _("More than %(max)s people match; narrow the filter.") % {"max": services.MAX_BATCH}
                    ]
                }
            )
        return people

    def _step(
        self, request: Request, service: Callable[..., Any], body: Any = None, code: int = status.HTTP_200_OK
    ) -> Response:
        self.get_object()  # a voucher outside the caller's region is a 404 before its body is read
        return self.write_action(
            request,
            lambda voucher, **data: service(voucher=voucher, actor=request.user, **data),
            body=body,
            status_code=code,
            reread=lambda result: voucher_queryset().get(pk=result.pk),
        )

    @extend_schema(request=ClaimSerializer, responses=VoucherSerializer)
    @action(detail=True, methods=["post"], filterset_class=None)
    def claim(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """issued → claimed with the holder's proof (channel `e_ssc`: the electronic social-security
        card number on file; `counter`: the last 6 characters of the identity number). A wrong proof
        is a 400 and counted; 5 lock claiming this voucher for an hour (429 with Retry-After)."""
        voucher = self.get_object()
        body = ClaimSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        # Outside the door's transaction on purpose: a wrong proof's count must outlive its 400.
        claimed = services.voucher_claim(voucher=voucher, actor=request.user, **body.validated_data)
        return self.respond(voucher_queryset().get(pk=claimed.pk))

    @extend_schema(
        request=EnrollSerializer,
        responses=StepResultSerializer,
        parameters=[IDEMPOTENCY_PARAMETER, IF_MATCH_PARAMETER],
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    @idempotent
    def enroll(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """claimed → enrolled in a course; pays an advance living allowance where one applies."""
        self.get_object()
        body = EnrollSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        with door_transaction():
            voucher = self.get_object_for_update()
            check_if_match(request, voucher)
            result = services.voucher_enroll(voucher=voucher, actor=request.user, **body.validated_data)
        return _step_response(result)

    @extend_schema(request=MoveSerializer, responses=VoucherSerializer, parameters=[IF_MATCH_PARAMETER])
    @action(detail=True, methods=["post"], filterset_class=None)
    def move(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """enrolled → enrolled in another course (e.g. away from a suspended institution)."""
        return self._step(request, services.voucher_move, MoveSerializer)

    @extend_schema(
        methods=["GET"],
        responses=CheckInSerializer(many=True),
        filters=False,
        parameters=[
            OpenApiParameter("session", OpenApiTypes.INT64, description="Session id."),
            OpenApiParameter(
                "accepted", OpenApiTypes.BOOL, description="Accepted (true) or rejected (false)."
            ),
        ],
    )
    @extend_schema(methods=["POST"], request=CheckInCreateSerializer, responses={201: CheckInSerializer})
    @action(detail=True, methods=["get", "post"], url_path="check-ins", filterset_class=None)
    def check_ins(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """GET: every check-in attempt of the voucher, accepted and rejected with its reason, newest
        first. POST: a located check-in to a session (`datum` wgs84 or gcj02); kept whatever the
        verdict (201 with `accepted` and `rejection`)."""
        if request.method == "GET":
            voucher = self.get_object()
            filterset = CheckInFilterSet(
                data=request.query_params, queryset=CheckIn.objects.filter(voucher=voucher), request=request
            )
            if not filterset.is_valid():
                raise ValidationError(filterset.errors)
            queryset = filterset.qs
            plan = plan_for(CheckInSerializer)
            page = self.paginate_queryset(plan.values(queryset))
            return self.get_paginated_response(plan.rows(page))
        self.get_object()
        body = CheckInCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        with door_transaction():
            voucher = self.get_object_for_update()
            record = services.voucher_check_in(voucher=voucher, actor=request.user, **body.validated_data)
        record = CheckIn.objects.select_related("voucher", "recorded_by").get(pk=record.pk)
        return Response(CheckInSerializer(record).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CompleteSerializer, responses=VoucherSerializer, parameters=[IF_MATCH_PARAMETER])
    @action(detail=True, methods=["post"], filterset_class=None)
    def complete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """enrolled → completed with the certificate; refused below the course's minimum attendance."""
        return self._step(request, services.voucher_complete, CompleteSerializer)

    @extend_schema(request=EvaluateSerializer, responses={201: EvaluationSerializer})
    @action(detail=True, methods=["post"], filterset_class=None)
    def evaluate(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The worker's rating of the course and the institution, once, after completion."""
        self.get_object()
        body = EvaluateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with door_transaction():
            voucher = self.get_object_for_update()
            evaluation = services.voucher_evaluate(voucher=voucher, actor=request.user, **body.validated_data)
        return Response(EvaluationSerializer(evaluation).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None, responses=StepResultSerializer, parameters=[IDEMPOTENCY_PARAMETER, IF_MATCH_PARAMETER]
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    @idempotent
    def redeem(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """completed → redeemed: one payment to the type's payee through the payments ledger (and the
        living allowances due), exactly once."""
        with door_transaction():
            voucher = self.get_object_for_update()
            check_if_match(request, voucher)
            result = services.voucher_redeem(voucher=voucher, actor=request.user)
        return _step_response(result)

    @extend_schema(request=ReasonSerializer, responses=VoucherSerializer, parameters=[IF_MATCH_PARAMETER])
    @action(detail=True, methods=["post"], filterset_class=None)
    def cancel(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """issued/claimed/enrolled → cancelled with a reason; an advance allowance is rejected or
        reversed (a reviewer's decision)."""
        return self._step(request, services.voucher_cancel, ReasonSerializer)


def _by_field(error: DjangoValidationError) -> dict[str, DjangoValidationError]:
    return {name: DjangoValidationError(messages) for name, messages in error.error_dict.items()}


class CertificateViewSet(TrackerReadOnlyViewSet):
    """Certificates looked up by number: which course, level, date and institution, the holder
    masked. Scoped by the holder's region."""

    queryset = Certificate.objects.select_related("voucher__holder", "voucher__course__institution")
    serializer_class = CertificateSerializer
    filterset_class = None
    lookup_field = "number"
    lookup_value_regex = r"[^/\x00]{1,64}"
    ordering_fields = ["id"]


class PersonTrainingViewSet(viewsets.ViewSet):
    """Per person, under `beneficiaries/{id}/`: the lifelong training record and the training profile
    (months of unemployment-insurance contributions). The person is looked up in the caller's scope
    (404 outside it)."""

    def _person(self, request: Request, beneficiary_id: int, *, lock: bool = False) -> Beneficiary:
        queryset = Beneficiary.objects.visible_to(request.user)
        if lock:
            queryset = queryset.select_for_update()
        person = queryset.filter(pk=beneficiary_id).first()
        if person is None:
            raise Http404
        return person

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def training_record(self, request: Request, beneficiary_id: int) -> Response:
        """Every voucher, course, institution, attendance rate, evaluation, certificate and payment,
        newest first (the same as the training-record section of the person's file)."""
        person = self._person(request, beneficiary_id)
        return Response(
            {"beneficiary": person.pk, "vouchers": selectors.training_record(person, request.user)}
        )

    @extend_schema(methods=["GET"], responses=WorkerTrainingProfileSerializer)
    @extend_schema(
        methods=["PUT"], request=WorkerTrainingProfileSerializer, responses=WorkerTrainingProfileSerializer
    )
    def training_profile(self, request: Request, beneficiary_id: int) -> Response:
        if request.method == "GET":
            person = self._person(request, beneficiary_id)
            profile = WorkerTrainingProfile.objects.filter(beneficiary=person).first()
            if profile is None:
                raise Http404
            response = Response(WorkerTrainingProfileSerializer(profile).data)
            response["ETag"] = etag_for(profile)
            return response
        body = WorkerTrainingProfileSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with door_transaction():
            person = self._person(request, beneficiary_id, lock=True)
            existing = WorkerTrainingProfile.objects.filter(beneficiary=person).first()
            if existing is not None:
                check_if_match(request, existing)
            profile = services.worker_training_profile_set(
                beneficiary=person, actor=request.user, **body.validated_data
            )
        response = Response(WorkerTrainingProfileSerializer(profile).data)
        response["ETag"] = etag_for(profile)
        return response

    def get_permissions(self) -> list[Any]:
        from tracker.api.permissions import RolePermission

        return [RolePermission()]


__all__ = [
    "CertificateViewSet",
    "CourseSessionViewSet",
    "CourseViewSet",
    "PersonTrainingViewSet",
    "TrainingInstitutionViewSet",
    "VoucherPlanViewSet",
    "VoucherTypeViewSet",
    "VoucherViewSet",
]
