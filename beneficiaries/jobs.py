"""The registry's background job: an import too large to run inside a request. The job keeps the
import's guarantees (validated whole, written all or nothing in one transaction, as the requesting
user); the upload waits in the job's input file until the job ends."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from beneficiaries.imports import beneficiaries_import
from tracker.jobs.registry import Report, register_job_kind

KIND = "beneficiary_import"


def run_import(job: Any, report: Report) -> dict[str, Any]:
    params = job.parameters
    with job.input_file.open("rb") as handle:
        result = beneficiaries_import(
            file=handle,
            filename=params.get("filename", ""),
            actor=job.requested_by,
            dry_run=bool(params.get("dry_run")),
            upsert=bool(params.get("upsert")),
            progress=lambda step, done, total: report(done, total),
        )
    return {**result.as_dict(), "total": result.rows}


def register() -> None:
    register_job_kind(KIND, _("Import beneficiaries"), run_import)
