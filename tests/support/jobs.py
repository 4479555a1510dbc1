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


def register() -> None:
    register_job_kind("test_slow_writes", "Test: slow writes", run_slow_writes)
