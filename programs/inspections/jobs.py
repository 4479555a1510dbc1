"""A compliance check run as a background job, for regions too large for a request (a province)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext_lazy as _

from tracker.jobs.registry import Report, register_job_kind

KIND = "inspections_check_run"


def run_check_job(job: Any, report: Report) -> dict[str, Any]:
    from programs.inspections.checks import check_run_create

    parameters = job.parameters
    report(0, 1)
    run = check_run_create(
        actor=job.requested_by,
        region=job.region,
        period_start=dt.date.fromisoformat(parameters["period_start"]),
        period_end=dt.date.fromisoformat(parameters["period_end"]),
        rules=parameters.get("rules") or (),
    )
    report(1, 1)
    return {"check_run": run.pk, "violations": run.violations, "opened": run.opened, "resolved": run.resolved}


def register() -> None:
    register_job_kind(KIND, _("Run compliance checks"), run_check_job)
