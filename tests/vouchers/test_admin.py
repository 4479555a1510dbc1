"""The voucher admin: courses with sessions inline through the services, a voucher's page with its
check-ins and payments read-only, batch issue from the beneficiary list showing the plan's remaining
cap, institution suspension, plans with what their cap leaves."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from programs.funding.choices import InstitutionStatus
from programs.vouchers.choices import VoucherStatus
from programs.vouchers.models import Course, CourseSession, Voucher
from tests.vouchers.conftest import check_in_at_site, sessions
from tracker.changelog.models import ChangeEntry

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_voucher_page_shows_its_check_ins_and_payments(clerk, outsider, issue, walk, course):
    voucher = walk(issue(), VoucherStatus.ENROLLED)
    check_in_at_site(voucher, sessions(course)[0], clerk, meters=2000)
    page = login(clerk).get(f"/admin/vouchers/voucher/{voucher.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Too far from the training site" in text
    assert 'name="status"' not in text  # read-only
    assert login(outsider).get(f"/admin/vouchers/voucher/{voucher.pk}/change/").status_code == 302
    listing = login(clerk).get("/admin/vouchers/voucher/", {"q": voucher.code.lower()})
    assert voucher.code[:4] in listing.content.decode()


def test_voucher_payments_show_on_its_page(clerk, issue, walk):
    voucher = walk(issue(), VoucherStatus.REDEEMED)
    page = login(clerk).get(f"/admin/vouchers/voucher/{voucher.pk}/change/")
    assert "1800.00" in page.content.decode() or "1,800.00" in page.content.decode()


def test_course_with_sessions_inline_through_the_services(clerk, institution):
    today = timezone.localdate()
    start = today + dt.timedelta(days=3)
    data = {
        "institution": institution.pk,
        "title": "家政服务员培训",
        "occupation_code": "4-10-01-06",
        "occupation_name": "家政服务员",
        "level": "level_5",
        "hours": "40",
        "fee": "1000.00",
        "subsidy_standard": "900.00",
        "min_attendance_rate": "80.00",
        "starts_on": start.isoformat(),
        "ends_on": (start + dt.timedelta(days=10)).isoformat(),
        "site_name": "示例点",
        "site_latitude": "27.6229",
        "site_longitude": "113.8543",
        "site_radius_m": "500",
        "sessions-TOTAL_FORMS": "1",
        "sessions-INITIAL_FORMS": "0",
        "sessions-MIN_NUM_FORMS": "0",
        "sessions-MAX_NUM_FORMS": "1000",
        "sessions-0-title": "第一次课",
        "sessions-0-starts_at_0": (start + dt.timedelta(days=30)).isoformat(),
        "sessions-0-starts_at_1": "09:00:00",
        "sessions-0-ends_at_0": (start + dt.timedelta(days=30)).isoformat(),
        "sessions-0-ends_at_1": "12:00:00",
    }
    client = login(clerk)
    refused = client.post("/admin/vouchers/course/add/", data)
    assert refused.status_code == 200  # the session lies outside the course: shown on the form
    assert not Course.objects.exists()
    data["sessions-0-starts_at_0"] = data["sessions-0-ends_at_0"] = start.isoformat()
    response = client.post("/admin/vouchers/course/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    course = Course.objects.get()
    assert CourseSession.objects.filter(course=course).count() == 1
    sources = set(
        ChangeEntry.objects.filter(model__in=["vouchers.course", "vouchers.coursesession"]).values_list(
            "source", "actor_name"
        )
    )
    assert sources == {("admin", "clerk_pingxiang")}


def test_batch_issue_from_the_beneficiary_list(clerk, make_plan, make_type, holder_in):
    plan = make_plan(make_type(), cap=5, planned_count=5)
    people = [holder_in() for _ in range(3)]
    client = login(clerk)
    selected = {"action": "issue_training_vouchers", "_selected_action": [p.pk for p in people]}
    page = client.post("/admin/beneficiaries/beneficiary/", selected)
    assert page.status_code == 200
    text = page.content.decode()
    assert str(plan) in text and "Remaining under the cap" in text
    assert "<td>5</td><td>0</td>" in text.replace("\n", "")  # cap 5, none issued yet
    done = client.post("/admin/beneficiaries/beneficiary/", {**selected, "apply": "1", "plan": plan.pk})
    assert done.status_code == 302
    assert set(Voucher.objects.values_list("holder_id", flat=True)) == {p.pk for p in people}
    entry = ChangeEntry.objects.filter(model="vouchers.voucher").first()
    assert (entry.source, entry.action) == ("admin", "issue")
    page = client.post("/admin/beneficiaries/beneficiary/", selected)
    assert "<td>3</td>" in page.content.decode()  # issued, and 2 remain
    # Over the cap: refused with a message, nothing issued.
    more = [holder_in() for _ in range(3)]
    client.post(
        "/admin/beneficiaries/beneficiary/",
        {
            "action": "issue_training_vouchers",
            "_selected_action": [p.pk for p in more],
            "apply": "1",
            "plan": plan.pk,
        },
    )
    assert Voucher.objects.count() == 3


def test_institutions_are_suspended_from_their_list(reviewer, clerk, institution, walk, issue):
    enrolled = walk(issue(), VoucherStatus.ENROLLED)
    changelist = "/admin/funding/traininginstitution/"
    response = login(reviewer).post(
        changelist, {"action": "suspend_institutions", "_selected_action": [institution.pk]}, follow=True
    )
    assert response.status_code == 200
    institution.refresh_from_db()
    assert institution.status == InstitutionStatus.SUSPENDED
    assert enrolled.code[:4] in response.content.decode()
    login(reviewer).post(
        changelist, {"action": "reinstate_institutions", "_selected_action": [institution.pk]}
    )
    institution.refresh_from_db()
    assert institution.status == InstitutionStatus.ACTIVE


def test_plan_list_and_voucher_add_form(clerk, reviewer, plan, holder):
    assert login(reviewer).get("/admin/vouchers/voucherplan/").status_code == 200
    response = login(clerk).post("/admin/vouchers/voucher/add/", {"plan": plan.pk, "holder": holder.pk})
    assert response.status_code == 302, response.content.decode()[:2000]
    voucher = Voucher.objects.get()
    assert voucher.holder == holder
    again = login(clerk).post("/admin/vouchers/voucher/add/", {"plan": plan.pk, "holder": holder.pk})
    assert again.status_code == 200 and "ONE_LIVE_PER_TYPE" in again.content.decode()
    for page in (
        "voucher",
        "course",
        "checkin",
        "certificate",
        "evaluation",
        "vouchertype",
        "workertrainingprofile",
        "trainingallowance",
    ):
        assert login(reviewer).get(f"/admin/vouchers/{page}/").status_code == 200, page
