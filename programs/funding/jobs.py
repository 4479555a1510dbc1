"""The ledger's background job: an export too large to stream inside a request's time. The job
writes the same file the request would have streamed, with the same filters and the requester's
scope, to a result file the requester downloads from the job until it expires."""

from __future__ import annotations

from typing import Any

from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

from programs.funding.export import COLUMNS, export_rows
from programs.funding.filtersets import PaymentFilterSet
from programs.funding.models import Payment
from tracker.db_routers import read_from_replica
from tracker.exports import csv_stream, xlsx_stream
from tracker.jobs.registry import JobOutput, Report, register_job_kind
from tracker.jobs.services import temp_result_path

KIND = "payments_export"


@read_from_replica()  # a snapshot: the replica's, when there is one
def run_export(job: Any, report: Report) -> JobOutput:
    params = dict(job.parameters)
    fmt = params.pop("format", "csv")
    labels = params.pop("labels", "names") == "names"
    language = params.pop("language", None)
    query = QueryDict(mutable=True)
    for name, value in params.items():
        query.setlist(name, value if isinstance(value, list) else [value])
    filterset = PaymentFilterSet(data=query, queryset=Payment.objects.visible_to(job.requested_by))
    if not filterset.is_valid():
        from django.core.exceptions import ValidationError

        raise ValidationError(filterset.errors)
    queryset = filterset.qs.order_by("id")
    path = temp_result_path(f".{fmt}")
    count = 0

    def counted(rows: Any) -> Any:
        nonlocal count
        for row in rows:
            count += 1
            if count % 5000 == 0:
                report(count, None)
            yield row

    with override(language), open(path, "wb") as out:
        rows = counted(export_rows(queryset, labels=labels))
        stream = (
            xlsx_stream(COLUMNS, rows, labels=labels, sheet_title="payments")
            if fmt == "xlsx"
            else csv_stream(COLUMNS, rows, labels=labels)
        )
        for chunk in stream:
            out.write(chunk)
    return JobOutput(
        {"rows": count, "total": count, "format": fmt}, path, f"payments-{timezone.localdate():%Y%m%d}.{fmt}"
    )


def register() -> None:
    register_job_kind(KIND, _("Export payments"), run_export)
