"""The posts API: every endpoint's status, database effect and change entry, its filters, and the
outsider (404 reading outside the region, 403 writing into it); lists cost the same queries
whatever the page size."""

from __future__ import annotations

import datetime as dt
import decimal
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from programs.funding.models import Payment
from programs.posts import services
from programs.posts.models import Assignment, Attendance, PersonnelChange, Post, PostStandard, SubsidyRun
from seeds.factories.beneficiaries import BeneficiaryFactory
from tests.posts.conftest import JAN, OTHER_VILLAGE, VILLAGE, make_group
from tracker.changelog.models import ChangeEntry

D = decimal.Decimal
pytestmark = pytest.mark.django_db


def post_body(program, **fields):
    body = {
        "region": VILLAGE,
        "employing_unit": "village_committee",
        "category": "cleaning",
        "urban_rural": "rural",
        "title": "村道保洁员",
        "duties": "村道和公共场所保洁",
        "headcount": 2,
        "monthly_standard": "500.00",
        "program": program.code,
        "opened_on": "2021-01-01",
        "justification": "村内主干道需要日常保洁（因事设岗）",
    }
    body.update(fields)
    return body


# -- posts --------------------------------------------------------------------------------------------


def test_create_read_patch_and_history_of_a_post(api, clerk, post_program):
    client = api(clerk)
    response = client.post("/api/v1/posts/", post_body(post_program), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["region"], body["program"], body["status"], body["filled"]) == (
        VILLAGE,
        post_program.code,
        "open",
        0,
    )
    post = Post.objects.get(pk=body["id"])
    detail = client.get(f"/api/v1/posts/{post.pk}/")
    assert detail.status_code == 200 and detail["ETag"]
    response = client.patch(
        f"/api/v1/posts/{post.pk}/", {"headcount": 3}, format="json", HTTP_IF_MATCH=detail["ETag"]
    )
    assert response.status_code == 200 and response.json()["headcount"] == 3
    stale = client.patch(
        f"/api/v1/posts/{post.pk}/", {"headcount": 4}, format="json", HTTP_IF_MATCH=detail["ETag"]
    )
    assert stale.status_code == 412
    history = client.get(f"/api/v1/posts/{post.pk}/history/").json()["results"]
    assert [e["action"] for e in history] == ["update", "create"]


def test_a_refused_rule_is_a_400_naming_it(api, clerk, post_program):
    response = api(clerk).post(
        "/api/v1/posts/", post_body(post_program, monthly_standard="500.01"), format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"]["monthly_standard"][0].startswith("POST_STANDARD_ABOVE_PROGRAM")


def test_post_filters(api, clerk, make_post, person, hire, regions, make_post_program):
    full = make_post(headcount=1, title="已满")
    hire(full, person)
    vacant = make_post(headcount=2, title="有空缺", category="security")
    closed = make_post(title="已关闭")
    services.post_close(post=closed, actor=clerk, closed_on=dt.date(2021, 6, 30))
    client = api(clerk)

    def ids(**params):
        return {row["id"] for row in client.get("/api/v1/posts/", params).json()["results"]}

    assert ids(has_vacancy="true") == {vacant.pk}
    assert ids(has_vacancy="false") == {full.pk, closed.pk}
    assert ids(category="security") == {vacant.pk}
    assert ids(status="closed") == {closed.pk}
    assert ids(urban_rural="urban") == set()
    assert ids(within="3603X1") == {full.pk, vacant.pk, closed.pk}
    assert ids(within="450400") == set()
    assert ids(program=full.program.code) == {full.pk, vacant.pk, closed.pk}
    assert client.get("/api/v1/posts/", {"has_vacancy": "maybe"}).status_code == 400
    filled = {row["id"]: row["filled"] for row in client.get("/api/v1/posts/").json()["results"]}
    assert filled[full.pk] == 1 and filled[vacant.pk] == 0


def test_roster_on_a_date(api, clerk, make_post, person_in, hire):
    post = make_post(headcount=3)
    first = hire(post, person_in(name="甲"), JAN)
    services.assignment_end(
        assignment=first, actor=clerk, end_date=dt.date(2021, 3, 31), end_reason="resigned"
    )
    second = hire(post, person_in(name="乙"), dt.date(2021, 2, 1))
    client = api(clerk)

    def roster(on):
        response = client.get(f"/api/v1/posts/{post.pk}/roster/", {"on": on})
        assert response.status_code == 200
        return [row["id"] for row in response.json()]

    assert roster("2021-01-15") == [first.pk]
    assert roster("2021-03-31") == [first.pk, second.pk]
    assert roster("2021-04-01") == [second.pk]
    assert client.get(f"/api/v1/posts/{post.pk}/roster/", {"on": "2021-13-01"}).status_code == 400
    row = client.get(f"/api/v1/posts/{post.pk}/roster/", {"on": "2021-04-01"}).json()[0]
    assert row["beneficiary"]["name"] == "乙" and "id_number_masked" in row["beneficiary"]


def test_suspend_resume_close(api, clerk, post):
    client = api(clerk)
    assert (
        client.post(f"/api/v1/posts/{post.pk}/suspend/", {"reason": "整改"}, format="json").json()["status"]
        == "suspended"
    )
    assert client.post(f"/api/v1/posts/{post.pk}/suspend/", {}, format="json").status_code == 409
    assert client.post(f"/api/v1/posts/{post.pk}/resume/", {}, format="json").json()["status"] == "open"
    response = client.post(f"/api/v1/posts/{post.pk}/close/", {"closed_on": "2021-06-30"}, format="json")
    assert response.status_code == 200 and response.json()["closed_on"] == "2021-06-30"


def test_the_outsider_reads_nothing_and_writes_nothing(
    api, outsider, analyst, post, person, hire, post_program, clerk
):
    held = hire(post, person)
    client = api(outsider)
    for url in (
        f"/api/v1/posts/{post.pk}/",
        f"/api/v1/posts/{post.pk}/roster/",
        f"/api/v1/posts/{post.pk}/history/",
        f"/api/v1/post-assignments/{held.pk}/",
        f"/api/v1/post-personnel-changes/{PersonnelChange.objects.get().pk}/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.get("/api/v1/posts/").json()["results"] == []
    assert client.get("/api/v1/post-assignments/").json()["results"] == []
    assert client.post("/api/v1/posts/", post_body(post_program), format="json").status_code in (400, 403)
    assert client.patch(f"/api/v1/posts/{post.pk}/", {"headcount": 9}, format="json").status_code == 404
    assert (
        client.post(
            f"/api/v1/post-assignments/{held.pk}/end/",
            {"end_date": "2021-05-31", "end_reason": "resigned"},
            format="json",
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/api/v1/posts/subsidy-runs/", {"region": "3603X1", "month": "2021-03"}, format="json"
        ).status_code
        == 403
    )
    assert client.post(
        "/api/v1/attendance/bulk/",
        {"month": "2021-03", "rows": [{"assignment": held.pk, "days_required": 23, "days_present": 23}]},
        format="json",
    ).json()["errors"] == {"rows.0.assignment": ["Not found."]}
    # An analyst reads but never writes.
    assert api(analyst).get(f"/api/v1/posts/{post.pk}/").status_code == 200
    assert api(analyst).post("/api/v1/posts/", post_body(post_program), format="json").status_code == 403


# -- holdings -----------------------------------------------------------------------------------------


def test_hire_end_and_replace_through_the_api(api, clerk, make_post, regions):
    post = make_post(headcount=1)
    group = make_group("lifted_out_of_poverty")
    from beneficiaries.models import GroupMembership

    people = []
    for name in ("陈一", "林二"):
        person = BeneficiaryFactory(region=regions[VILLAGE], name=name)
        GroupMembership(beneficiary=person, group=group, valid_from=dt.date(2020, 1, 1)).save()
        people.append(person)
    client = api(clerk)
    response = client.post(
        "/api/v1/post-assignments/",
        {
            "post": post.pk,
            "beneficiary": people[0].pk,
            "start_date": "2021-01-01",
            "contract_kind": "labour_contract",
            "contract_signed_on": "2021-01-01",
            "payee_account_kind": "social_security_card",
            "payee_account": "6228480010001234",
            "reported_on": "2021-01-05",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["payee_account"] == "6228********1234" and "payee_account_encrypted" not in body
    held = Assignment.objects.get(pk=body["id"])
    response = client.post(
        f"/api/v1/post-assignments/{held.pk}/replace/",
        {"end_date": "2021-04-30", "end_reason": "resigned", "successor": people[1].pk},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["ended"]["end_date"] == "2021-04-30" and body["successor"]["start_date"] == "2021-05-01"
    successor = Assignment.objects.get(pk=body["successor"]["id"])
    response = client.post(
        f"/api/v1/post-assignments/{successor.pk}/end/",
        {"end_date": "2021-06-30", "end_reason": "found_other_job", "status": "employed_local"},
        format="json",
    )
    assert response.status_code == 200 and response.json()["end_reason"] == "found_other_job"
    kinds = list(PersonnelChange.objects.order_by("id").values_list("kind", flat=True))
    assert kinds == ["hire", "replace", "end"]
    response = client.patch(
        f"/api/v1/post-assignments/{held.pk}/", {"contract_number": "WGS-2021-9"}, format="json"
    )
    assert response.status_code == 200 and response.json()["contract_number"] == "WGS-2021-9"


def test_a_hire_refused_by_the_headcount_is_400(api, clerk, make_post, person_in, hire):
    post = make_post(headcount=1)
    hire(post, person_in())
    other = person_in()
    response = api(clerk).post(
        "/api/v1/post-assignments/",
        {"post": post.pk, "beneficiary": other.pk, "start_date": "2021-02-01"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["post"][0].startswith("HEADCOUNT_EXCEEDED")


def test_assignment_filters(api, clerk, make_post, person_in, hire):
    post = make_post(headcount=3)
    signed = hire(post, person_in(), JAN)
    unsigned = hire(post, person_in(), dt.date(2021, 5, 1), contract=False)
    client = api(clerk)

    def ids(**params):
        return {row["id"] for row in client.get("/api/v1/post-assignments/", params).json()["results"]}

    assert ids(contract_signed="true") == {signed.pk}
    assert ids(contract_signed="false") == {unsigned.pk}
    assert ids(active_on="2021-03-01") == {signed.pk}
    assert ids(post=post.pk) == {signed.pk, unsigned.pk}
    assert ids(beneficiary=unsigned.beneficiary_id) == {unsigned.pk}
    assert ids(within=OTHER_VILLAGE) == set()


# -- personnel changes --------------------------------------------------------------------------------


def test_personnel_changes_filters_and_approval(api, clerk, reviewer, make_post, person_in, hire):
    post = make_post(headcount=3)
    on_time = hire(post, person_in(), JAN, reported_on=dt.date(2021, 1, 10))
    late = hire(post, person_in(), dt.date(2021, 2, 1), reported_on=dt.date(2021, 4, 1))
    services.assignment_end(
        assignment=on_time,
        actor=clerk,
        end_date=dt.date(2021, 6, 30),
        end_reason="resigned",
        reported_on=dt.date(2021, 7, 2),
    )
    client = api(clerk)

    def changes(**params):
        return [
            (r["kind"], r["assignment"])
            for r in client.get("/api/v1/post-personnel-changes/", params).json()["results"]
        ]

    assert changes(late="true") == [("hire", late.pk)]
    assert sorted(changes(late="false")) == sorted([("hire", on_time.pk), ("end", on_time.pk)])
    assert changes(kind="end") == [("end", on_time.pk)]
    assert sorted(changes(**{"from": "2021-02-01", "to": "2021-06-30"})) == sorted(
        [("hire", late.pk), ("end", on_time.pk)]
    )
    assert changes(within="450400") == []
    change = PersonnelChange.objects.get(kind="end")
    assert client.post(f"/api/v1/post-personnel-changes/{change.pk}/approve/").status_code == 403
    response = api(reviewer).post(f"/api/v1/post-personnel-changes/{change.pk}/approve/")
    assert response.status_code == 200 and response.json()["approved_by"] == reviewer.username
    assert api(reviewer).post(f"/api/v1/post-personnel-changes/{change.pk}/approve/").status_code == 409
    assert client.post("/api/v1/post-personnel-changes/", {}, format="json").status_code == 405


# -- attendance, assessments, standards -------------------------------------------------------------------


def test_attendance_one_and_bulk(api, clerk, make_post, person_in, hire):
    post = make_post(headcount=3)
    holders = [hire(post, person_in()) for _ in range(3)]
    client = api(clerk)
    body = {"assignment": holders[0].pk, "month": "2021-03", "days_required": 23, "days_present": 22}
    assert client.post("/api/v1/attendance/", body, format="json").status_code == 201
    body["days_present"] = 23
    assert client.post("/api/v1/attendance/", body, format="json").status_code == 200
    bulk = {
        "month": "2021-04",
        "rows": [
            {"assignment": holders[0].pk, "days_required": 22, "days_present": 22},
            {"assignment": holders[1].pk, "days_required": 22, "days_present": 23},
            {"assignment": holders[2].pk, "days_required": 22, "days_present": 20, "paid_leave_days": 2},
        ],
    }
    response = client.post("/api/v1/attendance/bulk/", bulk, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["rows.1.days_present"]
    assert not Attendance.objects.filter(month="2021-04").exists()
    bulk["rows"][1]["days_present"] = 21
    assert client.post("/api/v1/attendance/bulk/?dry_run=true", bulk, format="json").status_code == 200
    assert not Attendance.objects.filter(month="2021-04").exists()
    response = client.post("/api/v1/attendance/bulk/", bulk, format="json")
    assert (
        response.status_code == 201 and response.json()["created"] == 3 and len(response.json()["rows"]) == 3
    )
    listed = client.get("/api/v1/attendance/", {"month": "2021-04", "post": post.pk}).json()["results"]
    assert len(listed) == 3
    assert ChangeEntry.objects.filter(model="posts.attendance").count() == 5


def test_assessments_and_standards(api, clerk, post, person, hire):
    held = hire(post, person)
    client = api(clerk)
    response = client.post(
        "/api/v1/assessment-standards/",
        {"region": VILLAGE, "effective_from": "2021-01-01", "title": "考核细则", "text": "出勤与履职"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    standard = response.json()["id"]
    response = client.post(
        "/api/v1/assessments/",
        {"assignment": held.pk, "period_kind": "month", "period": "2021-03", "rating": "unqualified"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["standard"] == standard and response.json()["assessor"] == clerk.username
    assert (
        client.get("/api/v1/assessments/", {"rating": "unqualified"}).json()["results"][0]["id"]
        == response.json()["id"]
    )


def test_post_standards_by_reviewers(api, reviewer, clerk):
    body = {"region": "3603X1", "year": 2021, "urban_standard": "450.00"}
    assert api(clerk).post("/api/v1/post-standards/", body, format="json").status_code == 403
    response = api(reviewer).post("/api/v1/post-standards/", body, format="json")
    assert response.status_code == 201, response.json()
    assert (
        api(reviewer).post("/api/v1/post-standards/", body, format="json").status_code == 400
    )  # once a year
    pk = response.json()["id"]
    response = api(reviewer).patch(f"/api/v1/post-standards/{pk}/", {"rural_cap": "400.00"}, format="json")
    assert response.status_code == 200 and response.json()["rural_cap"] == "400.00"
    assert PostStandard.objects.get().rural_cap == D("400.00")


# -- subsidy runs ----------------------------------------------------------------------------------------


def test_a_subsidy_run_through_the_api(api, clerk, post, person, hire):
    held = hire(post, person)
    services.attendance_record(
        actor=clerk, assignment=held, month="2021-03", days_required=23, days_present=23
    )
    client = api(clerk)
    body = {"region": "3603X1", "month": "2021-03", "dry_run": True}
    response = client.post("/api/v1/posts/subsidy-runs/", body, format="json")
    assert (
        response.status_code == 200 and response.json()["dry_run"] is True and response.json()["id"] is None
    )
    assert not Payment.objects.exists()
    body["dry_run"] = False
    response = client.post("/api/v1/posts/subsidy-runs/", body, format="json", HTTP_IDEMPOTENCY_KEY="run-1")
    assert response.status_code == 201, response.json()
    run = response.json()
    assert (run["paid_count"], run["total"], run["dry_run"]) == (1, "500.00", False)
    replay = client.post("/api/v1/posts/subsidy-runs/", body, format="json", HTTP_IDEMPOTENCY_KEY="run-1")
    assert replay["Idempotent-Replayed"] == "true" and SubsidyRun.objects.count() == 1
    detail = client.get(f"/api/v1/posts/subsidy-runs/{run['id']}/").json()
    assert detail["payments"][0]["payment"] == Payment.objects.get().pk
    again = client.post("/api/v1/posts/subsidy-runs/", body, format="json").json()
    assert (again["paid_count"], again["already_paid_count"]) == (0, 1)
    assert [
        r["month"] for r in client.get("/api/v1/posts/subsidy-runs/", {"month": "2021-03"}).json()["results"]
    ] == ["2021-03"] * 2
    assert (
        client.post(
            "/api/v1/posts/subsidy-runs/", {"region": "3603X1", "month": "2021-3"}, format="json"
        ).status_code
        == 400
    )


def test_a_large_subsidy_run_is_a_job_run_as_the_clerk(
    api, clerk, reviewer, outsider, post, person, hire, settings, django_capture_on_commit_callbacks
):
    from tracker.jobs.models import Job, JobStatus

    held = hire(post, person)
    services.attendance_record(
        actor=clerk, assignment=held, month="2021-03", days_required=23, days_present=23
    )
    settings.SUBSIDY_RUN_JOB_THRESHOLD = 0  # one holding is more than the threshold
    body = {"region": "3603X1", "month": "2021-03"}
    assert api(reviewer).post("/api/v1/posts/subsidy-runs/", body, format="json").status_code == 403
    assert api(outsider).post("/api/v1/posts/subsidy-runs/", body, format="json").status_code in (400, 403)
    assert not Job.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = api(clerk).post("/api/v1/posts/subsidy-runs/", body, format="json")
    assert response.status_code == 202, response.json()
    assert response["Location"].endswith(f"/api/v1/jobs/{response.json()['id']}/")
    job = Job.objects.get(pk=response.json()["id"])
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["paid_count"] == 1 and job.result["amount"] == "500.00"
    run = SubsidyRun.objects.get(pk=job.result["subsidy_run"])
    assert run.created_by == clerk and Payment.objects.get().created_by == clerk
    # Below the threshold, background=true asks for a job all the same; a bad month is the request's 400.
    settings.SUBSIDY_RUN_JOB_THRESHOLD = 100
    body.update(background=True)
    with django_capture_on_commit_callbacks(execute=True):
        again = api(clerk).post("/api/v1/posts/subsidy-runs/", body, format="json")
    assert (
        again.status_code == 202 and Job.objects.get(pk=again.json()["id"]).result["already_paid_count"] == 1
    )
    bad = api(clerk).post("/api/v1/posts/subsidy-runs/", {**body, "month": "2021-13"}, format="json")
    assert bad.status_code == 400 and "month" in bad.json()["errors"]


# -- attendance import -----------------------------------------------------------------------------------


def test_attendance_import_through_the_api(api, clerk, post, regions, hire):
    from beneficiaries.models import GroupMembership
    from seeds.factories.beneficiaries import make_id_number

    number = make_id_number("360323", dt.date(1979, 4, 4), 11, "male")
    person = BeneficiaryFactory(region=regions[VILLAGE], id_number=number, name="何十")
    GroupMembership(
        beneficiary=person, group=make_group("lifted_out_of_poverty"), valid_from=dt.date(2020, 1, 1)
    ).save()
    hire(post, person)
    content = f"月份,身份证号码,姓名,应出勤天数,实际出勤天数\n2021-03,{number},何十,23,24\n".encode()
    upload = io.BytesIO(content)
    upload.name = "sheet.csv"
    response = api(clerk).post("/api/v1/attendance/import/", {"file": upload}, format="multipart")
    assert response.status_code == 400
    assert response.json()["row_errors"] == [
        {"row": 2, "column": "实际出勤天数", "message": response.json()["row_errors"][0]["message"]}
    ]
    assert response.json()["row_errors"][0]["message"].startswith("ATTENDANCE_DAYS")
    upload = io.BytesIO(content.replace(b",24\n", b",23\n"))
    upload.name = "sheet.csv"
    response = api(clerk).post("/api/v1/attendance/import/", {"file": upload}, format="multipart")
    assert response.status_code == 201 and response.json()["created"] == 1


# -- query counts -------------------------------------------------------------------------------------------


def _list_queries(client, url: str, size: int) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, {"page_size": size})
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/posts/",
        "/api/v1/post-assignments/",
        "/api/v1/post-personnel-changes/",
        "/api/v1/attendance/",
    ],
)
def test_lists_cost_the_same_queries_at_page_sizes_2_and_50(api, clerk, make_post, person_in, hire, url):
    for _ in range(3):
        post = make_post(headcount=2)
        for _ in range(2):
            held = hire(post, person_in())
            services.attendance_record(
                actor=clerk, assignment=held, month="2021-03", days_required=23, days_present=23
            )
    client = api(clerk)
    client.get(url)  # warm the per-request caches (roles, token)
    assert _list_queries(client, url, 2) == _list_queries(client, url, 50)


def test_the_person_file_shows_their_posts(api, clerk, post, person, hire):
    held = hire(post, person, payee_account_kind="bank_card", payee_account="6217000010001234567")
    sections = {
        s["key"]: s["data"]
        for s in api(clerk).get(f"/api/v1/beneficiaries/{person.pk}/file/").json()["sections"]
    }
    assert sections["posts"] == [
        {
            "assignment": held.pk,
            "post": post.pk,
            "post_title": post.title,
            "region": VILLAGE,
            "region_name": "示例东村",
            "category": "cleaning",
            "start_date": "2021-01-01",
            "end_date": None,
            "end_reason": "",
            "contract_kind": "labour_contract",
            "contract_signed_on": "2021-01-01",
            "payee_account": "6217***********4567",
        }
    ]
