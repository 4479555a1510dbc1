"""The Celery application: background jobs (tracker.jobs) run on workers that take them from Redis.

With no broker configured (the embedded `make run`), tasks run inline, synchronously, in the process
that asks for them (`task_always_eager`), so nothing else needs to be running."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")

app = Celery("tracker")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["tracker.jobs"])
