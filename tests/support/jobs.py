from __future__ import annotations

import time
from typing import Any

from django.db import transaction

from tracker.jobs.registry import Report, register_job_kind
from tracker.regions.services import designation_upsert


def run_slow_writes(job: Any, report: Report) -> dict[str, Any]:
    """Two writes in one transaction with a wait between them: killed in the middle, nothing stays."""
    seconds = float(job.parameters.get("seconds", 5))
    codes = job.parameters["codes"]
    with transaction.atomic():
        designation_upsert(code=codes[0], name_zh="测试甲", name_en="Test A", actor=job.requested_by)
        steps = int(seconds * 10)
        for step in range(steps):
            time.sleep(0.1)
            report(step, steps)
        designation_upsert(code=codes[1], name_zh="测试乙", name_en="Test B", actor=job.requested_by)
    return {"codes": codes}


def run_reporting(job: Any, report: Report) -> dict[str, Any]:
    """Reports progress, then returns what its own job row showed meanwhile (as a client polling
    GET jobs/{id}/ would see it)."""
    from tracker.jobs.models import Job

    report(1, 4)
    row = Job.objects.values("progress_done", "progress_total", "heartbeat_at").get(pk=job.pk)
    return {"seen": [row["progress_done"], row["progress_total"]], "heartbeat": bool(row["heartbeat_at"])}


def run_cancelled_while_running(job: Any, report: Report) -> dict[str, Any]:
    """Its requester cancels it while it runs (another request, here called directly); the next
    progress report stops it, before the chunk it would have written next."""
    from tracker.jobs.models import Job
    from tracker.jobs.services import job_cancel

    codes = job.parameters["codes"]
    job_cancel(job=Job.objects.get(pk=job.pk), actor=job.requested_by)
    report(1, 2)
    with transaction.atomic():
        designation_upsert(code=codes[0], name_zh="测试甲", name_en="Test A", actor=job.requested_by)
    return {"codes": codes}


def register() -> None:
    register_job_kind("test_slow_writes", "Test: slow writes", run_slow_writes)
    register_job_kind("test_reporting", "Test: reports progress", run_reporting)
    register_job_kind(
        "test_cancelled_while_running", "Test: cancelled while running", run_cancelled_while_running
    )
