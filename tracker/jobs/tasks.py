"""The Celery task behind every job: run job N (tracker.jobs.services.job_run)."""

from __future__ import annotations

from celery import shared_task
from celery.signals import worker_ready


@shared_task(name="tracker.jobs.run_job", acks_late=True, reject_on_worker_lost=True)
def run_job(job_id: int) -> str | None:
    from tracker.jobs.services import job_run

    return job_run(job_id)


@worker_ready.connect
def _reap_on_start(**kwargs: object) -> None:
    """A worker that starts picks up the jobs whose workers went silent."""
    from tracker.jobs.services import jobs_reap

    jobs_reap()
