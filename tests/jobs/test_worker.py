"""A real Celery worker on Redis: a job runs there, and a worker killed in the middle of a job leaves
nothing half-written; the job runs again and succeeds, never staying "running"."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery
from django.db import connection

from tests.conftest import postgres_only
from tracker.jobs.models import Job, JobStatus
from tracker.regions.models import Designation

ROOT = Path(__file__).resolve().parents[2]
BROKER = os.environ.get("TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(BROKER, socket_connect_timeout=1).ping())
    except Exception:
        return False


def _start_worker(queue: str) -> subprocess.Popen:
    settings = connection.settings_dict
    url = f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tracker.test_settings",
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": BROKER,
        "CELERY_QUEUE": queue,
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tracker",
            "worker",
            "-l",
            "warning",
            "-c",
            "1",
            "-P",
            "prefork",
            "-Q",
            queue,
            "-n",
            f"{queue}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _send(job: Job, queue: str) -> None:
    # Not the current app: tasks queued later in this process (inline, no broker) must stay inline.
    Celery(broker=BROKER, set_as_current=False).send_task("tracker.jobs.run_job", args=[job.pk], queue=queue)


def _wait(predicate, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting for the worker")


@postgres_only  # a worker process must reach the test database, which SQLite keeps in memory
@pytest.mark.skipif(not _redis_up(), reason=f"Redis is not answering at {BROKER}")
@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_leaves_nothing_half_written(regions, superuser):
    queue = f"test-{uuid.uuid4().hex[:8]}"
    codes = [f"t_{uuid.uuid4().hex[:6]}", f"t_{uuid.uuid4().hex[:6]}"]
    worker = _start_worker(queue)
    try:
        # The row as job_enqueue writes it, sent to the real worker's queue (this process has no broker
        # configured, so job_enqueue would run it inline).
        job = Job.objects.create(
            kind="test_slow_writes",
            requested_by=superuser,
            region=superuser.region,
            region_path=superuser.region.path,
            parameters={"seconds": 6, "codes": codes},
        )
        _send(job, queue)
        _wait(
            lambda: (
                Job.objects.get(pk=job.pk).status == JobStatus.RUNNING and Job.objects.get(pk=job.pk).worker
            )
        )
        time.sleep(1.5)  # inside the job's transaction, after its first write
        pid = int(Job.objects.get(pk=job.pk).worker.rsplit(":", 1)[1])
        os.kill(pid, signal.SIGKILL)
        # The first write was never committed...
        assert not Designation.objects.filter(code__in=codes).exists()
        # ...the message comes back, the job runs again and finishes.
        _wait(
            lambda: Job.objects.get(pk=job.pk).status in (JobStatus.SUCCEEDED, JobStatus.FAILED), timeout=90
        )
        job.refresh_from_db()
        assert job.status == JobStatus.SUCCEEDED, job.error
        assert job.attempts == 2
        assert Designation.objects.filter(code__in=codes).count() == 2
    except AssertionError:
        worker.terminate()
        print(worker.communicate(timeout=20)[0].decode(errors="replace")[-4000:])
        raise
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
