"""A background job: work that outgrows a request (large imports and exports, verify over the whole
log, subsidy and check runs, the scaled seed), queued on Celery and followed here.

Jobs are plain rows, not change-logged records: they are bookkeeping of the work, updated many times
with progress; what a job *writes* is logged, with the requesting user as the actor. They are scoped
like every record (by the requester's region, or the region the job works on)."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tracker.scope import ScopedQuerySet


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class Job(models.Model):
    kind = models.CharField(_("kind"), max_length=64)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    region_path = models.CharField(_("region path"), max_length=255, editable=False)
    status = models.CharField(_("status"), max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress_done = models.BigIntegerField(_("done"), default=0)
    progress_total = models.BigIntegerField(_("total"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # host:pid of the worker process running it, so a redelivered job whose worker died is taken over.
    worker = models.CharField(_("worker"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    cancel_requested = models.BooleanField(_("cancellation requested"), default=False)
    result = models.JSONField(_("result summary"), default=dict, blank=True)
    result_file = models.FileField(_("result file"), upload_to="jobs/%Y/%m/", blank=True)
    result_name = models.CharField(_("result file name"), max_length=200, blank=True)
    result_expires_at = models.DateTimeField(_("result expires at"), null=True, blank=True)
    error = models.JSONField(_("error"), default=dict, blank=True)
    # The uploaded input of an import job, removed when the job finishes.
    input_file = models.FileField(_("input file"), upload_to="job-inputs/%Y/%m/", blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_field: ClassVar[str] = "region_path"

    class Meta:
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["region_path", "id"],
                name="job_scope_idx",
                opclasses=["varchar_pattern_ops", "int8_ops"],
            ),
            models.Index(fields=["status", "heartbeat_at"], name="job_status_heartbeat_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.get_status_display()})"
