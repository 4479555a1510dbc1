"""Queueing, running, cancelling and reaping background jobs.

The job row is the source of truth; Celery only carries "run job N". A worker claims a job with one
conditional UPDATE (queued -> running, or a running job whose worker is gone), so two deliveries of one
message never run it twice at once. The work runs as the requester (`acting`), with source `job` and
the request id `job-<id>` on every change entry. Progress and heartbeats are written on a connection of
their own where the engine allows it (PostgreSQL), so they show while the job's transaction is still
open. A job's writes are one transaction (or idempotent chunks), so a job that dies leaves nothing
half-written and can run again.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from tracker.changelog.context import Source, acting, change_context
from tracker.errors import Conflict, DomainError
from tracker.jobs.models import FINISHED, Job, JobStatus
from tracker.jobs.registry import JobOutput, job_kind, job_kinds
from tracker.scope import require_in_scope

logger = logging.getLogger(__name__)
HOST = socket.gethostname()


class JobCancelled(Exception):
    """Raised inside a runner's progress report when someone cancelled the job."""


def _progress_alias() -> str:
    """The connection progress is written on: a second one on PostgreSQL, so it is seen while the
    job's own transaction is open; SQLite has one writer, so there progress waits for the end."""
    return getattr(settings, "JOB_PROGRESS_DATABASE", "default")


@transaction.atomic
def job_enqueue(
    *,
    kind: str,
    actor: Any,
    parameters: dict[str, Any] | None = None,
    region: Any = None,
    input_file: Any = None,
    input_name: str = "",
) -> Job:
    """Queue a job of a registered kind for `actor`, scoped to `region` (default: the actor's own).
    It runs after the caller's transaction commits: on a worker, or inline without a broker."""
    if kind not in job_kinds():
        raise ValidationError({"kind": [_("Unknown job kind.")]})
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise PermissionDenied(_("A job runs for a signed-in user."))
    region = region or actor.region
    if region is None:
        raise PermissionDenied(_("You have no region to run a job in."))
    require_in_scope(actor, region)
    job = Job(
        kind=kind, parameters=parameters or {}, requested_by=actor, region=region, region_path=region.path
    )
    job.save()
    if input_file is not None:
        job.input_file.save(input_name or f"job-{job.pk}", input_file, save=True)
    from tracker.jobs.tasks import run_job

    transaction.on_commit(lambda: run_job.delay(job.pk))
    return job


def job_cancel(*, job: Job, actor: Any) -> Job:
    """The requester (or an administrator) cancels a job: a queued one at once, a running one at its
    next progress report (its transaction then rolls back)."""
    if not (actor.is_superuser or actor.pk == job.requested_by_id):
        raise PermissionDenied(_("Only the user who asked for the job can cancel it."))
    if job.status in FINISHED:
        raise Conflict(
            _("STATUS: the job is %(status)s; only queued or running jobs can be cancelled.")
            % {"status": job.get_status_display()},
            extra={"status_now": job.status},
        )
    updated = Job.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
        status=JobStatus.CANCELLED, finished_at=timezone.now(), cancel_requested=True
    )
    if not updated:
        Job.objects.filter(pk=job.pk).update(cancel_requested=True)
    job.refresh_from_db()
    return job


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _claim(job_id: int) -> Job | None:
    """Take the job for this process: queued, or running on a worker that is gone (its process no
    longer exists on this host, or its heartbeat is older than JOB_HEARTBEAT_TIMEOUT)."""
    now = timezone.now()
    stale = now - dt.timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT)
    job = Job.objects.filter(pk=job_id).first()
    if job is None or job.status in FINISHED:
        return None
    if job.status == JobStatus.RUNNING:
        host, _sep, pid = job.worker.rpartition(":")
        same_host_dead = host == HOST and pid.isdigit() and not _pid_alive(int(pid))
        lost = same_host_dead or (job.heartbeat_at is not None and job.heartbeat_at < stale)
        if not lost:
            return None
    if job.attempts >= settings.JOB_MAX_ATTEMPTS:
        _finish(job.pk, JobStatus.FAILED, error=_problem_lost())
        return None
    claimed = Job.objects.filter(pk=job_id, status=job.status, attempts=job.attempts).update(
        status=JobStatus.RUNNING,
        started_at=now,
        heartbeat_at=now,
        attempts=F("attempts") + 1,
        worker=f"{HOST}:{os.getpid()}",
    )
    if not claimed:
        return None
    return Job.objects.select_related("requested_by", "region").get(pk=job_id)


def _problem_lost() -> dict[str, Any]:
    return {
        "type": "/problems/500",
        "title": str(_("Internal error")),
        "status": 500,
        "detail": str(_("The job's worker stopped too many times; the job was given up.")),
        "errors": {},
    }


def problem_for(exc: BaseException) -> dict[str, Any]:
    """A job's failure in the API's problem shape."""
    if isinstance(exc, ValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        detail = exc.messages[0] if len(exc.messages) == 1 else str(_("Some fields are invalid."))
        return {
            "type": "/problems/400",
            "title": str(_("Invalid request")),
            "status": 400,
            "detail": detail,
            "errors": errors,
        }
    if isinstance(exc, PermissionDenied):
        return {
            "type": "/problems/403",
            "title": str(_("Forbidden")),
            "status": 403,
            "detail": str(exc),
            "errors": {},
        }
    if isinstance(exc, DomainError):
        return {
            "type": f"/problems/{exc.status}",
            "title": str(_("Conflict")) if exc.status == 409 else str(_("Error")),
            "status": exc.status,
            "detail": str(exc.detail),
            "errors": {},
            **exc.extra,
        }
    row_errors = getattr(exc, "row_errors", None)
    if row_errors is not None:  # an import's rejection: every {row, column, message}
        return {
            "type": "/problems/400",
            "title": str(_("Invalid request")),
            "status": 400,
            "detail": str(getattr(exc, "detail", exc)),
            "errors": {},
            "row_errors": row_errors[:1000],
        }
    return {
        "type": "/problems/500",
        "title": str(_("Internal error")),
        "status": 500,
        "detail": str(_("The job could not be completed.")),
        "errors": {},
    }


def _finish(job_id: int, status: str, **fields: Any) -> None:
    Job.objects.filter(pk=job_id).update(
        status=status, finished_at=timezone.now(), heartbeat_at=timezone.now(), **fields
    )


class _Reporter:
    """The runner's `report(done, total)`: progress and heartbeat at most once a second, and the
    cancellation check."""

    def __init__(self, job: Job) -> None:
        self.job_id = job.pk
        self.last = 0.0
        self.alias = _progress_alias()

    def __call__(self, done: int, total: int | None = None) -> None:
        now = time.monotonic()
        if now - self.last < 1.0:
            return
        self.last = now
        if self.alias == "default" and transaction.get_connection().in_atomic_block:
            return  # SQLite: one writer; progress shows when the job's transaction ends
        rows = Job.objects.using(self.alias).filter(pk=self.job_id)
        rows.update(progress_done=done, progress_total=total, heartbeat_at=timezone.now())
        if rows.filter(cancel_requested=True).exists():
            raise JobCancelled


def job_run(job_id: int) -> str | None:
    """Run a queued job here (the Celery task's body). Returns the final status, or None when
    another worker has it or it is finished."""
    job = _claim(job_id)
    if job is None:
        return None
    kind = job_kind(job.kind)
    report = _Reporter(job)
    try:
        with change_context(source=Source.JOB, request_id=f"job-{job.pk}"), acting(job.requested_by):
            output = kind.runner(job, report)
    except JobCancelled:
        _finish(job.pk, JobStatus.CANCELLED, result={})
        return JobStatus.CANCELLED
    except Exception as exc:  # every failure is recorded on the job, in the problem shape
        logger.info(
            "job %s (%s) failed: %s",
            job.pk,
            job.kind,
            exc,
            exc_info=not isinstance(exc, (ValidationError, PermissionDenied, DomainError)),
        )
        _finish(job.pk, JobStatus.FAILED, error=problem_for(exc), result={})
        _drop_input(job)
        return JobStatus.FAILED
    summary = output.summary if isinstance(output, JobOutput) else dict(output or {})
    fields: dict[str, Any] = {"result": summary}
    if isinstance(output, JobOutput) and output.path is not None:
        job.result_name = output.filename
        with open(output.path, "rb") as handle:
            job.result_file.save(output.filename, File(handle), save=False)
        Path(output.path).unlink(missing_ok=True)
        fields.update(
            result_file=job.result_file.name,
            result_name=output.filename,
            result_expires_at=timezone.now() + dt.timedelta(hours=settings.JOB_RESULT_TTL_HOURS),
        )
    if summary.get("total") is not None:
        fields["progress_done"] = fields["progress_total"] = summary["total"]
    _finish(job.pk, JobStatus.SUCCEEDED, **fields)
    _drop_input(job)
    return JobStatus.SUCCEEDED


def _drop_input(job: Job) -> None:
    if job.input_file:
        job.input_file.delete(save=False)
        Job.objects.filter(pk=job.pk).update(input_file="")


def jobs_reap() -> int:
    """Jobs whose worker went silent (its machine lost, its message lost): queue them again, or fail
    them after JOB_MAX_ATTEMPTS. Never leaves a job "running" for ever. Returns how many it touched."""
    stale = timezone.now() - dt.timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT)
    touched = 0
    lost = Job.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=stale)
    for job in lost.only("pk", "attempts"):
        if job.attempts >= settings.JOB_MAX_ATTEMPTS:
            _finish(job.pk, JobStatus.FAILED, error=_problem_lost())
        else:
            from tracker.jobs.tasks import run_job

            run_job.delay(job.pk)
        touched += 1
    return touched


def job_result_path(job: Job) -> str | None:
    """The stored result file, or None when there is none or it expired (expired files are deleted)."""
    if not job.result_file:
        return None
    if job.result_expires_at is not None and job.result_expires_at < timezone.now():
        job.result_file.delete(save=False)
        Job.objects.filter(pk=job.pk).update(result_file="")
        return None
    return job.result_file.path


def temp_result_path(suffix: str) -> str:
    """A file for a runner to write its result into (moved to storage when the job finishes)."""
    handle = tempfile.NamedTemporaryFile(delete=False, suffix=suffix)
    handle.close()
    return handle.name


__all__ = [
    "JobCancelled",
    "job_cancel",
    "job_enqueue",
    "job_result_path",
    "job_run",
    "jobs_reap",
    "problem_for",
    "temp_result_path",
]
