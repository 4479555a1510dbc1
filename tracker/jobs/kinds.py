"""The core's own job kinds: verify over the whole log (or a scope). The apps that own other work
register theirs from their AppConfig.ready()."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from tracker.changelog.selectors import changes_verify
from tracker.jobs.registry import Report, register_job_kind


def run_verify(job: Any, report: Report) -> dict[str, Any]:
    """Verify the change log within the job's region (the whole log for a national job)."""
    path = job.region_path if job.region_path.count("/") > 1 else None
    report(0, None)
    result = changes_verify(within_path=path, since_checkpoint=bool(job.parameters.get("since_checkpoint")))
    return {**result, "within": job.region.code}


register_job_kind("changes_verify", _("Verify the change log"), run_verify)
