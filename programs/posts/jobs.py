"""The posts' background job: a subsidy run too large for a request's time (a province's month).
The job runs the same service, as its requester, in one transaction: all of the month's payments or
none, so a worker killed mid-run leaves nothing and the rerun starts clean."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from programs.posts import services
from tracker.jobs.registry import Report, register_job_kind
from tracker.regions.models import Region

KIND = "posts_subsidy_run"


def run_subsidy_run(job: Any, report: Report) -> dict[str, Any]:
    params = job.parameters
    region = Region.objects.get(code=params["region"])
    report(0, 1)
    run = services.subsidy_run_create(
        actor=job.requested_by, region=region, month=params["month"], dry_run=bool(params.get("dry_run"))
    )
    return {
        "subsidy_run": run.pk,
        "region": region.code,
        "month": run.month,
        "dry_run": run.pk is None,
        "considered": run.considered,
        "paid_count": run.paid_count,
        "skipped_count": run.skipped_count,
        "already_paid_count": run.already_paid_count,
        "amount": str(run.total),  # not "total": that key is the progress count (job_run)
    }


def register() -> None:
    register_job_kind(KIND, _("Post subsidy run"), run_subsidy_run)
