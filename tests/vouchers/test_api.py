"""The voucher API: types, plans with progress, institutions (suspension), courses (search), sessions,
vouchers by code through their whole lifecycle, check-ins, certificates, the training record and
profile; the outsider for each; idempotency; the claim lock-out across requests; query counts."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from programs.funding.models import Payment, TrainingInstitution
from programs.vouchers import services
from programs.vouchers.choices import VoucherStatus
from programs.vouchers.codes import format_code
from programs.vouchers.models import CheckIn, Course, Voucher, VoucherPlan, VoucherType
from seeds.factories.funding import make_uscc
from tests.vouchers.conftest import SITE, holder_last6, near_site, sessions
from tracker.changelog.models import ChangeEntry
from tracker.geo import distance_m, wgs84_to_gcj02

D = decimal.Decimal
S = VoucherStatus
pytestmark = pytest.mark.django_db
VOUCHERS = "/api/v1/vouchers/"


def url(voucher: Voucher, action: str = "") -> str:
    return f"{VOUCHERS}{voucher.code}/{action + '/' if action else ''}"


# -- types and plans ----------------------------------------------------------------------------------------


def test_voucher_types_are_set_up_by_reviewers(api, reviewer, clerk, outsider, voucher_program):
    body = {
        "code": "PX_CHECK_IN_ONLY",
        "name_zh": "打卡签到专用培训券",
        "name_en": "Check-in-only voucher",
        "region": "360300",
        "payee": "none",
        "face_value_rule": "none",
        "validity_days": 120,
    }
    assert api(clerk).post("/api/v1/voucher-types/", body, format="json").status_code == 403
    response = api(reviewer).post("/api/v1/voucher-types/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["program"] is None
    bad = {**body, "code": "PX_BAD", "payee": "institution", "face_value_rule": "course_standard"}
    problem = api(reviewer).post("/api/v1/voucher-types/", bad, format="json").json()
    assert "program" in problem["errors"]
    mismatched = {**bad, "payee": "employer", "program": voucher_program.code}
    assert (
        "program" in api(reviewer).post("/api/v1/voucher-types/", mismatched, format="json").json()["errors"]
    )
    created = VoucherType.objects.get(code="PX_CHECK_IN_ONLY")
    assert api(outsider).get(f"/api/v1/voucher-types/{created.pk}/").status_code == 404
    assert (
        api(clerk).get("/api/v1/voucher-types/", {"payee": "none"}).json()["results"][0]["code"]
        == "PX_CHECK_IN_ONLY"
    )


def test_plans_with_progress(api, reviewer, clerk, outsider, make_type, issue, walk):
    voucher_type = make_type()
    body = {
        "region": "360300",
        "year": timezone.localdate().year,
        "type": voucher_type.code,
        "planned_count": 100,
        "cap": 5,
    }
    response = api(reviewer).post("/api/v1/voucher-plans/", body, format="json")
    assert response.status_code == 201, response.json()
    plan = VoucherPlan.objects.get(pk=response.json()["id"])
    walk(issue(plan=plan), S.REDEEMED)
    walk(issue(plan=plan), S.CLAIMED)
    services.voucher_cancel(voucher=issue(plan=plan), actor=clerk, reason="mistake")
    progress = api(clerk).get(f"/api/v1/voucher-plans/{plan.pk}/").json()["progress"]
    assert progress == {
        "issued": 2,
        "claimed": 2,
        "completed": 1,
        "redeemed": 1,
        "expired": 0,
        "cancelled": 1,
        "remaining": 3,
    }
    listed = api(clerk).get("/api/v1/voucher-plans/", {"type": voucher_type.code}).json()["results"]
    assert [row["progress"]["issued"] for row in listed] == [2]
    assert (
        api(reviewer).post("/api/v1/voucher-plans/", body, format="json").status_code == 400
    )  # one per region, year, type
    assert api(outsider).get(f"/api/v1/voucher-plans/{plan.pk}/").status_code == 404
    assert api(outsider).get("/api/v1/voucher-plans/").json()["results"] == []


# -- institutions ---------------------------------------------------------------------------------------------


def test_institutions_registered_suspended_and_reinstated(
    api, clerk, reviewer, outsider, walk, issue, institution
):
    body = {
        "name": "萍乡市示例烹饪学校",
        "uscc": make_uscc("360302", 777, kind="52"),
        "region": "360300",
        "licence": "人社民3603021000777号",
    }
    response = api(clerk).post("/api/v1/training-institutions/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "active" and response.json()["licence"] == body["licence"]
    bad = {**body, "uscc": body["uscc"][:-1] + ("0" if body["uscc"][-1] != "0" else "1")}
    assert "uscc" in api(clerk).post("/api/v1/training-institutions/", bad, format="json").json()["errors"]
    created = TrainingInstitution.objects.get(uscc=body["uscc"])
    patched = api(clerk).patch(
        f"/api/v1/training-institutions/{created.pk}/", {"licence": "人社民新号"}, format="json"
    )
    assert patched.status_code == 200 and patched.json()["licence"] == "人社民新号"
    assert (
        api(clerk)
        .patch(f"/api/v1/training-institutions/{created.pk}/", {"status": "suspended"}, format="json")
        .json()["status"]
        == "active"
    )

    enrolled = walk(issue(), S.ENROLLED)
    suspend = f"/api/v1/training-institutions/{institution.pk}/suspend/"
    assert api(clerk).post(suspend, {"reason": "x"}, format="json").status_code == 403
    assert api(outsider).post(suspend, {"reason": "x"}, format="json").status_code == 403
    assert api(reviewer).post(suspend, {}, format="json").status_code == 400
    response = api(reviewer).post(suspend, {"reason": "违规招生"}, format="json")
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["institution"]["status"] == "suspended"
    assert [v["code"] for v in data["enrolled_vouchers"]] == [enrolled.code]
    listed = api(clerk).get(f"/api/v1/training-institutions/{institution.pk}/vouchers/").json()["results"]
    assert [v["code"] for v in listed] == [enrolled.code]
    assert api(reviewer).post(suspend, {"reason": "again"}, format="json").status_code == 409
    assert (
        api(clerk).get("/api/v1/training-institutions/", {"status": "suspended"}).json()["results"][0]["id"]
        == institution.pk
    )
    reinstate = api(reviewer).post(
        f"/api/v1/training-institutions/{institution.pk}/reinstate/", {"reason": "整改完成"}, format="json"
    )
    assert reinstate.status_code == 200 and reinstate.json()["status"] == "active"
    assert api(outsider).get(f"/api/v1/training-institutions/{institution.pk}/").status_code == 404


# -- courses and sessions ----------------------------------------------------------------------------------------


def test_course_created_with_a_gcj02_site_is_stored_in_wgs84(api, clerk, institution):
    gcj = wgs84_to_gcj02(SITE)
    today = timezone.localdate()
    body = {
        "institution": institution.pk,
        "title": "养老护理员（五级）",
        "occupation_code": "4-10-01-05",
        "occupation_name": "养老护理员",
        "level": "level_5",
        "hours": 60,
        "fee": "1800.00",
        "subsidy_standard": "1500.00",
        "starts_on": today.isoformat(),
        "ends_on": (today + dt.timedelta(days=30)).isoformat(),
        "site_latitude": gcj.latitude,
        "site_longitude": gcj.longitude,
        "site_datum": "gcj02",
    }
    response = api(clerk).post("/api/v1/courses/", body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["min_attendance_rate"] == "80.00" and data["site_radius_m"] == 500
    stored = Course.objects.get(pk=data["id"])
    from tracker.geo import Point

    assert distance_m(Point(float(stored.site_latitude), float(stored.site_longitude)), SITE) < 0.05
    nan = {**body, "site_latitude": "NaN", "site_datum": "wgs84"}
    assert "site_latitude" in api(clerk).post("/api/v1/courses/", nan, format="json").json()["errors"]


def test_course_search(api, clerk, outsider, make_course, institution):
    nanny = make_course()
    cook = make_course(
        title="中式烹调师培训",
        occupation_code="4-03-02-01",
        occupation_name="中式烹调师",
        starts_on=timezone.localdate() + dt.timedelta(days=5),
        ends_on=timezone.localdate() + dt.timedelta(days=40),
        sessions=[],
    )
    client = api(clerk)

    def ids(**params):
        response = client.get("/api/v1/courses/", params)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids(occupation="4-03-02-01") == [cook.pk]
    assert ids(occupation="育婴") == [nanny.pk]
    assert ids(q="烹调") == [cook.pk]
    assert ids(q=institution.name[:4]) == sorted([nanny.pk, cook.pk], reverse=True)
    assert ids(starts_after=(timezone.localdate() + dt.timedelta(days=1)).isoformat()) == [cook.pk]
    assert ids(within="360300", occupation="4-10-01-02") == [nanny.pk]
    assert ids(within="450400") == []
    assert ids(open_for_enrolment="true") == sorted([nanny.pk, cook.pk], reverse=True)
    row = client.get(f"/api/v1/courses/{nanny.pk}/").json()
    assert row["institution"] == {"id": institution.pk, "name": institution.name, "status": "active"}
    assert row["region"] == "360300"
    assert api(outsider).get("/api/v1/courses/").json()["results"] == []


def test_sessions_within_their_course(api, clerk, outsider, course, now):
    start = now + dt.timedelta(days=1)
    body = {
        "course": course.pk,
        "starts_at": start.isoformat(),
        "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
    }
    assert api(clerk).post("/api/v1/course-sessions/", body, format="json").status_code == 201
    late = now + dt.timedelta(days=60)
    outside = {**body, "starts_at": late.isoformat(), "ends_at": (late + dt.timedelta(hours=2)).isoformat()}
    assert "starts_at" in api(clerk).post("/api/v1/course-sessions/", outside, format="json").json()["errors"]
    backwards = {**body, "ends_at": body["starts_at"]}
    assert api(clerk).post("/api/v1/course-sessions/", backwards, format="json").status_code == 400
    assert (
        api(outsider).post("/api/v1/course-sessions/", body, format="json").status_code == 400
    )  # course not visible
    listed = api(clerk).get("/api/v1/course-sessions/", {"course": course.pk}).json()["results"]
    assert len(listed) == 6


# -- vouchers ---------------------------------------------------------------------------------------------------


def test_issue_by_api_with_idempotency_and_look_up_by_code(api, clerk, outsider, plan, holder):
    body = {"plan": plan.pk, "holder": holder.pk}
    first = api(clerk).post(VOUCHERS, body, format="json", HTTP_IDEMPOTENCY_KEY="issue-1")
    assert first.status_code == 201, first.json()
    again = api(clerk).post(VOUCHERS, body, format="json", HTTP_IDEMPOTENCY_KEY="issue-1")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json()["code"] == first.json()["code"]
    assert Voucher.objects.count() == 1
    voucher = Voucher.objects.get()
    data = first.json()
    assert data["status"] == "issued" and data["type"] == plan.type.code and data["region"] == "360300"
    assert data["holder"] == {"id": holder.pk, "name": holder.name, "id_number": holder.id_number_masked}
    assert data["code_display"] == format_code(voucher.code)
    assert (data["course"], data["certificate"], data["attendance"], data["payments"]) == (
        None,
        None,
        None,
        [],
    )
    # Look-up by code, as typed by hand: lower case, with the separators.
    typed = format_code(voucher.code).lower()
    response = api(clerk).get(f"{VOUCHERS}{typed}/")
    assert response.status_code == 200 and response.json()["id"] == voucher.pk
    assert response["ETag"]
    broken = voucher.code[:-1] + ("2" if voucher.code[-1] != "2" else "3")
    problem = api(clerk).get(f"{VOUCHERS}{broken}/")
    assert problem.status_code == 404 and "INVALID_CODE" in problem.json()["detail"]
    assert api(outsider).get(url(voucher)).status_code == 404
    assert api(outsider).post(VOUCHERS, body, format="json").status_code == 400  # plan and holder not visible
    history = api(clerk).get(url(voucher, "history")).json()["results"]
    assert [entry["action"] for entry in history] == ["issue"]


def test_voucher_list_filters(api, clerk, analyst, outsider, issue, walk, plan, holder, course):
    enrolled = walk(issue(holder), S.ENROLLED)
    issued = issue()
    client = api(clerk)

    def codes(**params):
        response = client.get(VOUCHERS, params)
        assert response.status_code == 200, response.json()
        return {row["code"] for row in response.json()["results"]}

    assert codes() == {enrolled.code, issued.code}
    assert codes(status="enrolled") == {enrolled.code}
    assert codes(status=["issued", "enrolled"]) == {enrolled.code, issued.code}
    assert codes(holder=holder.pk) == {enrolled.code}
    assert codes(course=course.pk) == {enrolled.code}
    assert codes(institution=course.institution_id) == {enrolled.code}
    assert codes(type=plan.type.code, within="360300") == {enrolled.code, issued.code}
    assert codes(
        issued_from=timezone.localdate().isoformat(), issued_to=timezone.localdate().isoformat()
    ) == {enrolled.code, issued.code}
    assert codes(issued_to=(timezone.localdate() - dt.timedelta(days=1)).isoformat()) == set()
    assert client.get(VOUCHERS, {"status": "nonsense"}).status_code == 400
    assert len(api(analyst).get(VOUCHERS).json()["results"]) == 2
    assert api(outsider).get(VOUCHERS).json()["results"] == []


def test_batch_issue_to_listed_people_or_a_filter(api, clerk, plan, holder_in, make_plan, voucher_type):
    people = [holder_in() for _ in range(3)]
    veteran = holder_in(groups=("veteran",))
    body = {"plan": plan.pk, "holders": [p.pk for p in [*people, veteran]]}
    refused = api(clerk).post(f"{VOUCHERS}issue-batch/", body, format="json")
    assert refused.status_code == 400
    assert "NOT_ELIGIBLE" in refused.json()["errors"]["holders.3.holder"][0]
    dry = api(clerk).post(
        f"{VOUCHERS}issue-batch/", {**body, "skip_refused": True, "dry_run": True}, format="json"
    )
    assert dry.status_code == 200 and dry.json()["issued_count"] == 3 and not Voucher.objects.exists()
    done = api(clerk).post(
        f"{VOUCHERS}issue-batch/", {**body, "skip_refused": True}, format="json", HTTP_IDEMPOTENCY_KEY="b1"
    )
    assert done.status_code == 201, done.json()
    data = done.json()
    assert data["issued_count"] == 3 and data["remaining"] is None
    assert data["refused"] == [
        {
            "index": 3,
            "holder": veteran.pk,
            "codes": ["NOT_ELIGIBLE"],
            "errors": {"holder": [data["refused"][0]["errors"]["holder"][0]]},
        }
    ]
    # Everyone matching a filter of the beneficiary list: here the veterans, under a plan with a cap.
    veterans_type = type(voucher_type)(
        code="PX_VETERANS",
        name_zh="退役军人培训券",
        name_en="Veterans",
        region=voucher_type.region,
        payee="institution",
        program=voucher_type.program,
        eligible_groups=["veteran"],
        face_value_rule="course_standard",
        validity_days=365,
    )
    veterans_type.save()
    capped = make_plan(veterans_type, cap=1)
    holder_in(groups=("veteran",))
    over = api(clerk).post(
        f"{VOUCHERS}issue-batch/", {"plan": capped.pk, "filter": {"group": "veteran"}}, format="json"
    )
    assert over.status_code == 400 and "PLAN_CAP" in over.json()["errors"]["plan"][0]
    bad = api(clerk).post(
        f"{VOUCHERS}issue-batch/", {"plan": capped.pk, "filter": {"status": "nonsense"}}, format="json"
    )
    assert bad.status_code == 400 and "filter.status" in bad.json()["errors"]
    both = api(clerk).post(
        f"{VOUCHERS}issue-batch/", {"plan": capped.pk, "holders": [1], "filter": {}}, format="json"
    )
    assert both.status_code == 400


def test_claim_lock_out_survives_the_refusals(api, clerk, issue):
    voucher = issue()
    client = api(clerk)
    for _ in range(4):
        response = client.post(
            url(voucher, "claim"), {"channel": "counter", "proof": "000000"}, format="json"
        )
        assert response.status_code == 400 and "WRONG_PROOF" in response.json()["errors"]["proof"][0]
    voucher.refresh_from_db()
    assert voucher.claim_failures == 4  # each 400 kept its count
    assert (
        client.post(
            url(voucher, "claim"), {"channel": "counter", "proof": "000000"}, format="json"
        ).status_code
        == 400
    )
    locked = client.post(
        url(voucher, "claim"), {"channel": "counter", "proof": holder_last6(voucher.holder)}, format="json"
    )
    assert locked.status_code == 429 and 3500 < int(locked["Retry-After"]) <= 3600
    voucher.refresh_from_db()
    assert voucher.status == S.ISSUED and voucher.claim_locked_until is not None


def test_the_whole_lifecycle_through_the_api(api, clerk, reviewer, outsider, issue, course, now):
    voucher = issue()
    client = api(clerk)
    claim = client.post(
        url(voucher, "claim"),
        {"channel": "e_ssc", "proof": voucher.holder.social_security_card.lower()},
        format="json",
    )
    assert claim.status_code == 200, claim.json()
    assert claim.json()["status"] == "claimed" and claim.json()["claim_channel"] == "e_ssc"
    assert api(outsider).post(url(voucher, "enroll"), {"course": course.pk}, format="json").status_code == 404
    enroll = client.post(
        url(voucher, "enroll"), {"course": course.pk}, format="json", HTTP_IF_MATCH=claim["ETag"]
    )
    assert enroll.status_code == 200, enroll.json()
    assert enroll.json()["voucher"]["course"]["id"] == course.pk and enroll.json()["payments"] == []
    stale = client.post(url(voucher, "cancel"), {"reason": "x"}, format="json", HTTP_IF_MATCH=claim["ETag"])
    assert stale.status_code == 412

    # Check in to the three sessions held so far; a GCJ-02 report, a rejected one, bad positions.
    first, second, running = sessions(course)[:3]
    point = near_site()
    ok = client.post(
        url(voucher, "check-ins"),
        {
            "session": first.pk,
            "latitude": point.latitude,
            "longitude": point.longitude,
            "at": first.starts_at.isoformat(),
            "accuracy_m": 12,
        },
        format="json",
    )
    assert ok.status_code == 201, ok.json()
    assert ok.json()["accepted"] is True and ok.json()["voucher"] == voucher.code
    far = near_site(900)
    rejected = client.post(
        url(voucher, "check-ins"),
        {
            "session": second.pk,
            "latitude": far.latitude,
            "longitude": far.longitude,
            "at": second.starts_at.isoformat(),
        },
        format="json",
    )
    assert rejected.status_code == 201
    assert (rejected.json()["accepted"], rejected.json()["rejection"]) == (False, "outside_geofence")
    assert float(rejected.json()["distance_m"]) == pytest.approx(900, abs=0.1)
    gcj = wgs84_to_gcj02(point)
    for session in (second, running):
        response = client.post(
            url(voucher, "check-ins"),
            {
                "session": session.pk,
                "latitude": gcj.latitude,
                "longitude": gcj.longitude,
                "datum": "gcj02",
                "at": min(session.starts_at, now).isoformat(),
            },
            format="json",
        )
        assert response.json()["accepted"] is True, response.json()
    for bad in ({"latitude": "NaN"}, {"latitude": 91}, {"longitude": "Infinity"}, {"datum": "bd09"}):
        body = {"session": first.pk, "latitude": 27.6, "longitude": 113.8, "at": now.isoformat(), **bad}
        assert client.post(url(voucher, "check-ins"), body, format="json").status_code == 400
    raw_nan = client.post(
        url(voucher, "check-ins"),
        b'{"session": 1, "latitude": NaN, "longitude": 1, "at": "2021-01-01T00:00:00Z"}',
        content_type="application/json",
    )
    assert raw_nan.status_code == 400
    future = client.post(
        url(voucher, "check-ins"),
        {
            "session": first.pk,
            "latitude": 27.6,
            "longitude": 113.8,
            "at": (now + dt.timedelta(hours=1)).isoformat(),
        },
        format="json",
    )
    assert "at" in future.json()["errors"]
    assert CheckIn.objects.count() == 4
    listed = client.get(url(voucher, "check-ins"), {"accepted": "false"}).json()["results"]
    assert [row["rejection"] for row in listed] == ["outside_geofence"]
    assert api(outsider).get(url(voucher, "check-ins")).status_code == 404
    detail = client.get(url(voucher)).json()
    assert detail["attendance"] == {"sessions_held": 3, "accepted_check_ins": 3, "rate": "100.00"}

    done = client.post(
        url(voucher, "complete"),
        {"certificate_number": "PX-2021-001", "certificate_level": "level_4"},
        format="json",
    )
    assert done.status_code == 200, done.json()
    assert done.json()["certificate"]["number"] == "PX-2021-001"
    again = client.post(url(voucher, "complete"), {}, format="json")
    assert again.status_code == 409 and again.json()["status_now"] == "completed"
    rating = client.post(
        url(voucher, "evaluate"),
        {"course_rating": 5, "institution_rating": 4, "comment": "好"},
        format="json",
    )
    assert rating.status_code == 201 and rating.json()["voucher"] == voucher.code
    assert (
        client.post(
            url(voucher, "evaluate"), {"course_rating": 5, "institution_rating": 4}, format="json"
        ).status_code
        == 409
    )

    redeem = client.post(url(voucher, "redeem"), format="json", HTTP_IDEMPOTENCY_KEY="redeem-1")
    assert redeem.status_code == 200, redeem.json()
    data = redeem.json()
    assert data["voucher"]["status"] == "redeemed"
    assert data["payments"][0]["amount"] == "1800.00" and data["payments"][0]["status"] == "submitted"
    assert data["voucher"]["payments"][0]["id"] == data["payments"][0]["id"]
    replay = client.post(url(voucher, "redeem"), format="json", HTTP_IDEMPOTENCY_KEY="redeem-1")
    assert replay.status_code == 200 and replay["Idempotent-Replayed"] == "true"
    assert client.post(url(voucher, "redeem"), format="json").status_code == 409
    assert Payment.objects.count() == 1
    assert api(reviewer).post(url(voucher, "cancel"), {"reason": "x"}, format="json").status_code == 409

    # The certificate, looked up by number, with the holder masked.
    cert = client.get("/api/v1/certificates/PX-2021-001/")
    assert cert.status_code == 200
    assert cert.json() == {
        "id": cert.json()["id"],
        "number": "PX-2021-001",
        "level": "level_4",
        "issued_on": timezone.localdate().isoformat(),
        "course": course.title,
        "occupation_code": course.occupation_code,
        "occupation_name": course.occupation_name,
        "institution": course.institution.name,
        "voucher": voucher.code,
        "holder_name": voucher.holder.name[0] + "*" * (len(voucher.holder.name) - 1),
        "holder_id_number": voucher.holder.id_number_masked,
    }
    assert api(outsider).get("/api/v1/certificates/PX-2021-001/").status_code == 404
    assert client.get("/api/v1/certificates/NO-SUCH/").status_code == 404

    actions = list(
        ChangeEntry.objects.filter(model="vouchers.voucher", object_id=str(voucher.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["issue", "claim", "enroll", "complete", "redeem"]


def test_cancel_needs_a_reason_and_the_right_role(api, clerk, analyst, issue):
    voucher = issue()
    assert api(analyst).post(url(voucher, "cancel"), {"reason": "x"}, format="json").status_code == 403
    assert api(clerk).post(url(voucher, "cancel"), {}, format="json").status_code == 400
    response = api(clerk).post(url(voucher, "cancel"), {"reason": "本人放弃"}, format="json")
    assert response.status_code == 200 and response.json()["cancel_reason"] == "本人放弃"


def test_move_a_voucher_to_another_course(api, clerk, walk, issue, make_course):
    voucher = walk(issue(), S.ENROLLED)
    other = make_course(title="另一期")
    assert api(clerk).post(url(voucher, "move"), {"course": other.pk}, format="json").status_code == 400
    response = api(clerk).post(url(voucher, "move"), {"course": other.pk, "reason": "调班"}, format="json")
    assert response.status_code == 200 and response.json()["course"]["id"] == other.pk


# -- the person's record and profile ----------------------------------------------------------------------------


def test_training_record_and_the_file_section(api, clerk, outsider, walk, issue, holder, course):
    walk(issue(holder), S.REDEEMED)
    response = api(clerk).get(f"/api/v1/beneficiaries/{holder.pk}/training-record/")
    assert response.status_code == 200
    record = response.json()["vouchers"]
    assert len(record) == 1
    entry = record[0]
    assert entry["status"] == "redeemed" and entry["course"]["title"] == course.title
    assert entry["institution"]["name"] == course.institution.name
    # As of now: three of the five sessions have started (the walk completed it a week ahead).
    assert entry["attendance"] == {"sessions_held": 3, "accepted_check_ins": 3, "rate": "100.00"}
    assert entry["certificate"]["number"].startswith("CERT-") and entry["evaluation"] is None
    assert entry["payments"][0]["program"] == "PX_VOUCHER_TRAINING"
    file = api(clerk).get(f"/api/v1/beneficiaries/{holder.pk}/file/").json()
    section = next(s for s in file["sections"] if s["key"] == "training_record")
    assert section["data"] == record
    assert api(outsider).get(f"/api/v1/beneficiaries/{holder.pk}/training-record/").status_code == 404
    assert api(clerk).get("/api/v1/beneficiaries/999999/training-record/").status_code == 404


def test_training_record_query_count_does_not_grow(api, clerk, walk, issue, holder, make_type, make_plan):
    clerk.roles  # noqa: B018
    walk(issue(holder), S.COMPLETED)
    client = api(clerk)
    client.get(f"/api/v1/beneficiaries/{holder.pk}/training-record/")
    with CaptureQueriesContext(connection) as one:
        client.get(f"/api/v1/beneficiaries/{holder.pk}/training-record/")
    for target in (S.COMPLETED, S.ENROLLED):
        walk(services.voucher_issue(plan=make_plan(make_type()), holder=holder, actor=clerk), target)
    with CaptureQueriesContext(connection) as three:
        client.get(f"/api/v1/beneficiaries/{holder.pk}/training-record/")
    assert len(three) == len(one)


def test_training_profile(api, clerk, analyst, outsider, holder):
    path = f"/api/v1/beneficiaries/{holder.pk}/training-profile/"
    assert api(clerk).get(path).status_code == 404
    assert api(analyst).put(path, {"ui_contribution_months": 12}, format="json").status_code == 403
    assert api(outsider).put(path, {"ui_contribution_months": 12}, format="json").status_code == 404
    response = api(clerk).put(path, {"ui_contribution_months": 14}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["ui_contribution_months"] == 14
    assert response.json()["ui_months_as_of"] == timezone.localdate().isoformat()
    etag = response["ETag"]
    assert (
        api(clerk).put(path, {"ui_contribution_months": 15}, format="json", HTTP_IF_MATCH='"x"').status_code
        == 412
    )
    assert (
        api(clerk).put(path, {"ui_contribution_months": 15}, format="json", HTTP_IF_MATCH=etag).status_code
        == 200
    )
    assert api(analyst).get(path).json()["ui_contribution_months"] == 15
    assert api(clerk).put(path, {"ui_contribution_months": -1}, format="json").status_code == 400


# -- query counts ------------------------------------------------------------------------------------------------


def test_voucher_list_query_count_is_constant(api, clerk, issue, walk):
    clerk.roles  # noqa: B018
    for target in (S.REDEEMED, S.ENROLLED, S.ISSUED):
        walk(issue(), target)
    client = api(clerk)

    def count(size):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(VOUCHERS, {"page_size": size})
        assert response.status_code == 200
        return len(ctx.captured_queries)

    few = count(10)
    for target in (S.REDEEMED, S.COMPLETED, S.CLAIMED, S.ENROLLED):
        walk(issue(), target)
    assert count(500) == few


def test_the_outsider_neither_sees_nor_changes_courses_sessions_or_types(
    api, outsider, clerk, course, voucher_type, institution
):
    session = sessions(course)[0]
    client = api(outsider)
    for path in (
        f"/api/v1/courses/{course.pk}/",
        f"/api/v1/course-sessions/{session.pk}/",
        f"/api/v1/voucher-types/{voucher_type.pk}/",
        f"/api/v1/training-institutions/{institution.pk}/",
        f"/api/v1/training-institutions/{institution.pk}/vouchers/",
    ):
        assert client.get(path).status_code == 404, path
    assert client.patch(f"/api/v1/courses/{course.pk}/", {"title": "x"}, format="json").status_code == 404
    assert (
        client.patch(f"/api/v1/course-sessions/{session.pk}/", {"title": "x"}, format="json").status_code
        == 404
    )
    body = {
        "institution": institution.pk,
        "title": "x",
        "occupation_code": "1",
        "occupation_name": "x",
        "level": "none",
        "hours": 1,
        "fee": "1.00",
        "subsidy_standard": "1.00",
        "starts_on": "2030-01-01",
        "ends_on": "2030-01-02",
        "site_latitude": 27.6,
        "site_longitude": 113.8,
    }
    assert "institution" in client.post("/api/v1/courses/", body, format="json").json()["errors"]
    # Writing into another region with a visible reference is refused by the service's scope door.
    wuzhou_body = {"name": "梧州示例学校", "uscc": make_uscc("450403", 901, kind="52"), "region": "360300"}
    assert client.post("/api/v1/training-institutions/", wuzhou_body, format="json").status_code == 403
    assert not Course.objects.exclude(pk=course.pk).exists()


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/voucher-types/",
        "/api/v1/voucher-plans/",
        "/api/v1/courses/",
        "/api/v1/course-sessions/",
        "/api/v1/training-institutions/",
        "/api/v1/certificates/",
    ],
)
def test_list_query_counts_do_not_grow(path, api, clerk, make_type, make_plan, make_course, issue, walk):
    clerk.roles  # noqa: B018
    client = api(clerk)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(path, {"page_size": 500})
        assert response.status_code == 200, response.json()
        return len(ctx.captured_queries)

    def add() -> None:
        voucher_type = make_type()
        make_plan(voucher_type)
        make_course(title=f"课程{voucher_type.pk}")
        walk(issue(), S.COMPLETED)

    add()
    few = count()
    for _ in range(3):
        add()
    assert count() == few
