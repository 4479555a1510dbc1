"""`GET /api/v1/audit/reports/` (the reports and their titles) and `GET /api/v1/audit/reports/{name}/`
(every section registered for the report, within a region, as JSON, CSV or XLSX)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from programs.reports import render
from programs.reports.api.serializers import ReportSerializer, ReportSummarySerializer
from programs.reports.selectors import catalogue, report_data
from tracker.api.query import query_param
from tracker.exports import XLSX_MEDIA_TYPE

REPORT_NAMES = [
    "overview",
    "employment",
    "posts",
    "vouchers",
    "payments",
    "households",
    "entrepreneurship",
    "findings",
]


class JsonErrorsNegotiation(DefaultContentNegotiation):
    """`?format=` chooses CSV or XLSX here, not a DRF renderer; every other answer (errors) is JSON
    whatever the Accept header says."""

    def select_renderer(self, request: Request, renderers: Any, format_suffix: Any = None) -> Any:
        return renderers[0], renderers[0].media_type


def _date(request: Request, name: str) -> Any:
    return query_param(request, name, field=serializers.DateField(input_formats=["iso-8601"]))


class ReportListView(APIView):
    """The audit reports (overview, employment, posts, vouchers, payments, households,
    entrepreneurship, findings) with their titles in the request's language and their URLs."""

    @extend_schema(responses=ReportSummarySerializer(many=True), operation_id="audit_reports_list")
    def get(self, request: Request) -> Response:
        return Response(
            [
                {
                    "name": name,
                    "title": title,
                    "href": reverse("report-detail", kwargs={"name": name}, request=request),
                }
                for name, title in catalogue()
            ]
        )


class ReportDetailView(APIView):
    """One audit report within a region (default: the caller's home region): each section's totals
    and its breakdown by child region, as JSON, CSV or XLSX (`format`)."""

    content_negotiation_class = JsonErrorsNegotiation

    @extend_schema(
        operation_id="audit_reports_retrieve",
        parameters=[
            OpenApiParameter(
                "name",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description="The report's name (GET audit/reports/ lists them).",
                pattern=r"^[a-z_]{1,40}$",
            ),
            OpenApiParameter(
                "within",
                {"type": "string", "pattern": r"^[0-9A-Z]{6}([0-9A-Z]{3}){0,2}$"},
                description="Region code (default: the caller's home region); 404 for a region the "
                "caller cannot see, 403 for one above their region.",
            ),
            OpenApiParameter("from", OpenApiTypes.DATE, description="First day of the period (inclusive)."),
            OpenApiParameter(
                "to",
                OpenApiTypes.DATE,
                description="Last day of the period (inclusive). A period that ends before it starts "
                "holds nothing (like the lists' since/until), not an error.",
            ),
            OpenApiParameter(
                "as_of",
                OpenApiTypes.DATE,
                description="The date current figures (statuses, groups, open posts) are read on "
                "(default: `to`, else today).",
            ),
            OpenApiParameter(
                "format",
                OpenApiTypes.STR,
                enum=["json", "csv", "xlsx"],
                description="json (default); csv (UTF-8 with BOM, sections one after another) or xlsx "
                "(one sheet per section), with labels in the request's language.",
            ),
        ],
        responses={
            (200, "application/json"): ReportSerializer,
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, XLSX_MEDIA_TYPE): OpenApiTypes.BINARY,
        },
    )
    def get(self, request: Request, name: str) -> Any:
        fmt = query_param(request, "format", choices=("json", "csv", "xlsx"), default="json")
        code = query_param(
            request, "within", field=serializers.RegexField(r"^[0-9A-Z]{6}([0-9A-Z]{3}){0,2}$")
        )
        date_from, date_to, as_of = _date(request, "from"), _date(request, "to"), _date(request, "as_of")
        result = report_data(
            name, user=request.user, code=code, date_from=date_from, date_to=date_to, as_of=as_of
        )
        if fmt == "csv":
            return render.csv_response(result)
        if fmt == "xlsx":
            return render.xlsx_response(result)
        return Response(render.as_json(result))
