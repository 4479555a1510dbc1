"""Background jobs: queued and run inline without a broker, scoped like every record, cancelled,
results served only to those who may see the job and only until they expire; large imports and
exports answer 202 with a job that keeps their guarantees and logs the requester as the actor."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from beneficiaries.models import Beneficiary
from seeds.factories.beneficiaries import person_data
from tracker.changelog.models import ChangeEntry
from tracker.jobs.models import Job, JobStatus
from tracker.jobs.services import job_cancel, job_enqueue, jobs_reap

JOBS = "/api/v1/jobs/"


def test_inline_without_a_broker(clerk, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = job_enqueue(kind="changes_verify", actor=clerk)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.result["ok"] is True
    assert job.region_path == clerk.region.path and job.attempts == 1
    assert job.started_at and job.finished_at and job.error == {}


def test_jobs_are_scoped(api, clerk, outsider, analyst, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = job_enqueue(kind="changes_verify", actor=clerk)
    assert api(clerk).get(f"{JOBS}{job.pk}/").status_code == 200
    assert api(analyst).get(f"{JOBS}{job.pk}/").status_code == 200
    assert api(outsider).get(f"{JOBS}{job.pk}/").status_code == 404
    assert [j["id"] for j in api(outsider).get(JOBS).json()["results"]] == []
    assert api(outsider).post(f"{JOBS}{job.pk}/cancel/").status_code == 404


def test_cancel(api, clerk, reviewer):
    job = job_enqueue(kind="changes_verify", actor=clerk)  # not run: no commit in this test
    assert api(reviewer).post(f"{JOBS}{job.pk}/cancel/").status_code == 403
    res = api(clerk).post(f"{JOBS}{job.pk}/cancel/")
    assert res.status_code == 200 and res.json()["status"] == "cancelled"
    again = api(clerk).post(f"{JOBS}{job.pk}/cancel/")
    assert again.status_code == 409 and again.json()["status_now"] == "cancelled"


@pytest.mark.django_db(transaction=True)
def test_a_running_job_shows_its_progress(api, clerk):
    job = job_enqueue(kind="test_reporting", actor=clerk)  # no surrounding transaction: runs at once
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert job.result == {"seen": [1, 4], "heartbeat": True}
    body = api(clerk).get(f"{JOBS}{job.pk}/").json()
    assert body["status"] == "succeeded"


@pytest.mark.django_db(transaction=True)
def test_a_job_cancelled_while_running_stops_at_its_next_report(superuser):
    from tracker.regions.models import Designation

    job = job_enqueue(kind="test_cancelled_while_running", actor=superuser, parameters={"codes": ["t_a"]})
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and job.cancel_requested and job.finished_at
    assert not Designation.objects.filter(code="t_a").exists()


def test_a_silent_running_job_is_queued_again_then_failed(clerk, settings):
    settings.JOB_MAX_ATTEMPTS = 2
    job = job_enqueue(kind="changes_verify", actor=clerk)
    old = timezone.now() - dt.timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT + 5)
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, heartbeat_at=old, attempts=1, worker="gone:1"
    )
    assert jobs_reap() == 1  # inline: run again at once
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.attempts == 2
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, heartbeat_at=old, attempts=2)
    jobs_reap()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.error["status"] == 500


def test_a_large_import_is_a_job_with_the_import_guarantees(
    api, clerk, settings, groups, django_capture_on_commit_callbacks
):
    settings.IMPORT_JOB_THRESHOLD_BYTES = 10
    rows = [person_data(seq=700 + i) for i in range(3)]
    text = "姓名,身份证号码,户籍地区代码\n" + "".join(f"{r['name']},{r['id_number']},360300\n" for r in rows)
    upload = SimpleUploadedFile("people.csv", text.encode())
    with django_capture_on_commit_callbacks(execute=True):
        res = api(clerk).post("/api/v1/beneficiaries/import/", {"file": upload}, format="multipart")
    assert res.status_code == 202, res.json()
    assert res["Location"].endswith(f"{JOBS}{res.json()['id']}/")
    job = Job.objects.get(pk=res.json()["id"])
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["created"] == 3 and not job.input_file
    person = Beneficiary.objects.get(name=rows[0]["name"])
    entry = ChangeEntry.objects.get(model="beneficiaries.beneficiary", object_id=str(person.pk))
    # The import names its own source; the job supplies the actor and its request id.
    assert (entry.source, entry.actor_id, entry.request_id) == ("import", clerk.pk, f"job-{job.pk}")


def test_a_rejected_import_job_fails_with_every_row_error(
    api, clerk, settings, groups, django_capture_on_commit_callbacks
):
    settings.IMPORT_JOB_THRESHOLD_BYTES = 10
    upload = SimpleUploadedFile("people.csv", "姓名,身份证号码,户籍地区代码\n甲,123,360300\n".encode())
    with django_capture_on_commit_callbacks(execute=True):
        res = api(clerk).post("/api/v1/beneficiaries/import/", {"file": upload}, format="multipart")
    job = Job.objects.get(pk=res.json()["id"])
    assert job.status == JobStatus.FAILED
    assert job.error["status"] == 400 and job.error["row_errors"][0]["row"] == 2
    assert not Beneficiary.objects.filter(name="甲").exists()


def test_a_large_export_is_a_job_whose_file_only_its_viewers_get(
    api, clerk, reviewer, outsider, settings, program, person, django_capture_on_commit_callbacks
):
    from programs.funding import services
    from tests.programs.conftest import month

    services.payment_create(program=program, beneficiary=person, actor=clerk, **month(5))
    settings.EXPORT_JOB_THRESHOLD_ROWS = 0
    with django_capture_on_commit_callbacks(execute=True):
        res = api(reviewer).get("/api/v1/payments/export/?format=csv&labels=codes")
    assert res.status_code == 202, res.content
    job = Job.objects.get(pk=res.json()["id"])
    assert job.status == JobStatus.SUCCEEDED and job.result["rows"] == 1, job.error
    download = api(reviewer).get(f"{JOBS}{job.pk}/result/")
    assert download.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))))
    assert rows[0][0] == "id" and rows[1][1] == program.code
    assert api(outsider).get(f"{JOBS}{job.pk}/result/").status_code == 404
    # Expired: refused, and the file is removed.
    Job.objects.filter(pk=job.pk).update(result_expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert api(reviewer).get(f"{JOBS}{job.pk}/result/").status_code == 404
    job.refresh_from_db()
    assert not job.result_file


def test_job_cancel_service_refuses_finished_jobs(clerk, django_capture_on_commit_callbacks):
    from tracker.errors import Conflict

    with django_capture_on_commit_callbacks(execute=True):
        job = job_enqueue(kind="changes_verify", actor=clerk)
    job.refresh_from_db()
    with pytest.raises(Conflict):
        job_cancel(job=job, actor=clerk)


def test_a_large_verify_is_a_job_and_a_small_one_answers_at_once(
    api, analyst, outsider, superuser, person, settings, django_capture_on_commit_callbacks
):
    """A scope above VERIFY_JOB_THRESHOLD_ENTRIES is verified by a job (202), never in the request;
    the threshold itself still answers inline; `background=true` asks for a job whatever the size."""
    from tracker.regions.models import Region

    url = "/api/v1/audit/changes/verify/"
    within = ChangeEntry.objects.filter(
        region_path__startswith=Region.objects.get(code="360300").path
    ).count()
    settings.VERIFY_JOB_THRESHOLD_ENTRIES = within
    inline = api(analyst).get(url, {"within": "360300"})
    assert inline.status_code == 200 and inline.json()["checked"] >= within
    settings.VERIFY_JOB_THRESHOLD_ENTRIES = within - 1
    with django_capture_on_commit_callbacks(execute=True):
        res = api(analyst).get(url, {"within": "360300"})
    assert res.status_code == 202 and res["Location"].endswith(f"{JOBS}{res.json()['id']}/")
    job = Job.objects.get(pk=res.json()["id"])
    assert job.region.code == "360300" and job.status == JobStatus.SUCCEEDED
    assert job.result["ok"] is True and job.result["checked"] == inline.json()["checked"]
    assert api(outsider).get(f"{JOBS}{job.pk}/").status_code == 404
    # The whole country, for a superuser (who may have no region): a job at the root.
    settings.VERIFY_JOB_THRESHOLD_ENTRIES = 10**9
    with django_capture_on_commit_callbacks(execute=True):
        res = api(superuser).get(url, {"background": "true"})
    job = Job.objects.get(pk=res.json()["id"])
    assert res.status_code == 202 and job.region.parent_id is None and job.result["checkpoints_checked"] >= 0
    assert job.result["checked"] == ChangeEntry.objects.count()
    assert api(analyst).get(url, {"background": "maybe"}).status_code == 400
