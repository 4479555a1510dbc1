"""The admin pages a village clerk works in, through Django's test client: a post with its holders
(hire, end, contract), a month's attendance for the whole roster on one page (pre-filled, errors by
row, all or nothing), people picked by scoped autocomplete, and the outsider who sees nothing."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
from typing import Any

import pytest
from django.test import Client

from beneficiaries.selectors import beneficiary_status_on
from programs.posts import services
from programs.posts.models import Assignment, Attendance, PersonnelChange, Post
from programs.posts.rules import working_days
from seeds.factories.beneficiaries import BeneficiaryFactory
from tests.posts.conftest import VILLAGE, make_group
from tracker.periods import Month

D = decimal.Decimal
pytestmark = pytest.mark.django_db


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form_data(response: Any) -> dict[str, Any]:
    """The POST body the admin change page would send as rendered: the main form's values and every
    inline formset's management form and rows."""
    data: dict[str, Any] = {}
    form = response.context["adminform"].form
    for name, _field in form.fields.items():
        value = form[name].value()
        if value is None or value is False:
            continue
        data[name] = value
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name, _field in formset.management_form.fields.items():
            data[f"{formset.prefix}-{name}"] = formset.management_form[name].value()
        for row in formset.forms:
            for name in row.fields:
                value = row[name].value()
                if value is None or value is False or value == "":
                    continue
                data[row.add_prefix(name)] = value.isoformat() if isinstance(value, dt.date) else value
    return data


def eligible(region: Any, name: str = "赵六") -> Any:
    person = BeneficiaryFactory(region=region, name=name)
    from beneficiaries.models import GroupMembership

    GroupMembership(
        beneficiary=person, group=make_group("lifted_out_of_poverty"), valid_from=dt.date(2020, 1, 1)
    ).save()
    return person


@pytest.fixture
def page(post: Post) -> str:
    return f"/admin/posts/post/{post.pk}/change/"


def test_the_post_page_lists_its_holders_by_name(post, person, hire, clerk, page):
    hire(post, person, payee_account_kind="bank_card", payee_account="6217000010001234567")
    text = login(clerk).get(page).content.decode()
    assert person.name in text and "6217***********4567" in text
    assert "6217000010001234567" not in text
    assert "vForeignKeyRawIdAdminField" not in text and "admin-autocomplete" in text
    assert "/attendance/?month=" in text


def test_hire_through_the_holder_table(post, clerk, regions, page):
    client = login(clerk)
    person = eligible(regions[VILLAGE])
    data = form_data(client.get(page))
    data.update(
        {
            "assignments-0-beneficiary": person.pk,
            "assignments-0-start_date": "2021-02-01",
            "assignments-0-contract_kind": "labour_contract",
            "assignments-0-contract_number": "WGS-7",
            "assignments-0-contract_signed_on": "2021-01-30",
            "assignments-0-payee_account_kind": "bank_card",
            "assignments-0-payee_account": "6217000010001234567",
        }
    )
    response = client.post(page, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    held = Assignment.objects.get(beneficiary=person)
    assert (held.start_date, held.contract_number, held.payee_account_masked) == (
        dt.date(2021, 2, 1),
        "WGS-7",
        "6217***********4567",
    )
    assert PersonnelChange.objects.get(assignment=held).kind == "hire"
    assert beneficiary_status_on(beneficiary=person, on=dt.date(2021, 2, 1)) == "public_welfare_post"


def test_a_refused_hire_shows_on_its_row_and_saves_nothing(post, clerk, regions, page):
    client = login(clerk)
    veteran = BeneficiaryFactory(region=regions[VILLAGE], name="钱七")
    data = form_data(client.get(page))
    data.update({"assignments-0-beneficiary": veteran.pk, "assignments-0-start_date": "2021-02-01"})
    response = client.post(page, data)
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert "NOT_ELIGIBLE" in str(formset.forms[0].errors)
    assert not Assignment.objects.exists()


def test_end_and_hire_in_one_save_into_a_full_post(make_post, person, hire, clerk, regions):
    post = make_post(headcount=1)
    held = hire(post, person)
    page = f"/admin/posts/post/{post.pk}/change/"
    client = login(clerk)
    successor = eligible(regions[VILLAGE], "孙八")
    data = form_data(client.get(page))
    data.update(
        {
            "assignments-0-end_date": "2021-05-31",
            "assignments-0-end_reason": "resigned",
            "assignments-0-end_status": "unemployed",
            "assignments-1-beneficiary": successor.pk,
            "assignments-1-start_date": "2021-06-01",
        }
    )
    response = client.post(page, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    held.refresh_from_db()
    assert held.end_date == dt.date(2021, 5, 31)
    assert Assignment.objects.get(beneficiary=successor).start_date == dt.date(2021, 6, 1)
    assert beneficiary_status_on(beneficiary=person, on=dt.date(2021, 6, 1)) == "unemployed"


def test_a_contract_signed_later_is_recorded_on_the_row(post, person, hire, clerk, page):
    held = hire(post, person, contract=False)
    client = login(clerk)
    data = form_data(client.get(page))
    data.update(
        {"assignments-0-contract_kind": "service_agreement", "assignments-0-contract_signed_on": "2021-03-02"}
    )
    response = client.post(page, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    held.refresh_from_db()
    assert (held.contract_kind, held.contract_signed_on) == ("service_agreement", dt.date(2021, 3, 2))


def test_a_post_is_set_through_the_add_form_with_refusals_on_their_fields(clerk, regions, post_program):
    client = login(clerk)
    data = {
        "region": regions[VILLAGE].pk,
        "employing_unit": "village_committee",
        "category": "forest_ranger",
        "urban_rural": "rural",
        "title": "护林员",
        "duties": "巡山护林",
        "headcount": 3,
        "monthly_standard": "600.00",
        "program": post_program.pk,
        "opened_on": "2021-01-01",
        "justification": "集体林地需要巡护（因事设岗）",
    }
    response = client.post("/admin/posts/post/add/", data)
    assert response.status_code == 200
    assert "POST_STANDARD_ABOVE_PROGRAM" in str(response.context["adminform"].form.errors["monthly_standard"])
    assert not Post.objects.exists()
    data["monthly_standard"] = "500.00"
    assert client.post("/admin/posts/post/add/", data).status_code == 302
    assert Post.objects.get().title == "护林员"


# -- the month's attendance page ---------------------------------------------------------------------


@pytest.fixture
def roster(make_post, person_in, hire):
    post = make_post(headcount=3)
    holders = [hire(post, person_in(name=name)) for name in ("周一", "吴二", "郑三")]
    return post, holders


def attendance_url(post: Post, month: str) -> str:
    return f"/admin/posts/post/{post.pk}/attendance/?month={month}"


def rows_data(response: Any, values: list[tuple[int, int, int]]) -> dict[str, Any]:
    formset = response.context["formset"]
    data = {f"rows-{k}": v for k, v in formset.management_form.initial.items()}
    for index, (form, (required, present, leave)) in enumerate(zip(formset.forms, values, strict=True)):
        data[f"rows-{index}-assignment"] = form.initial["assignment"]
        data[f"rows-{index}-days_required"] = required
        data[f"rows-{index}-days_present"] = present
        data[f"rows-{index}-paid_leave_days"] = leave
    return data


def test_the_month_page_has_a_row_per_holder_prefilled_with_the_required_days(roster, clerk):
    post, holders = roster
    response = login(clerk).get(attendance_url(post, "2021-03"))
    assert response.status_code == 200
    text = response.content.decode()
    for holder in holders:
        assert holder.beneficiary.name in text
    forms = response.context["formset"].forms
    assert [f.initial["days_required"] for f in forms] == [working_days(Month(2021, 3))] * 3 == [23] * 3
    assert [f.initial["days_present"] for f in forms] == [None] * 3


def test_one_invalid_row_shows_its_error_and_saves_nothing_then_the_fix_saves_all(roster, clerk):
    post, _holders = roster
    client = login(clerk)
    url = attendance_url(post, "2021-03")
    data = rows_data(client.get(url), [(23, 23, 0), (23, 24, 0), (23, 20, 3)])
    response = client.post(url, data)
    assert response.status_code == 200
    assert not Attendance.objects.exists()
    text = response.content.decode()
    row = re.search(r'<tr class="attendance-row has-errors" data-holder="吴二">(.*?)</tr>', text, re.S)
    assert row and "ATTENDANCE_DAYS" in row.group(1)
    assert text.count("attendance-row has-errors") == 1
    data["rows-1-days_present"] = 22
    response = client.post(url, data)
    assert response.status_code == 302
    assert sorted(Attendance.objects.values_list("days_present", flat=True)) == [20, 22, 23]
    # The page shows the recorded month next time.
    forms = client.get(url).context["formset"].forms
    assert [f.initial["days_present"] for f in forms] == [23, 22, 20]


def test_the_month_page_holds_only_that_month_holders(make_post, person_in, hire, clerk):
    post = make_post(headcount=3)
    early = hire(post, person_in(name="早走"))
    services.assignment_end(
        assignment=early, actor=clerk, end_date=dt.date(2021, 2, 10), end_reason="resigned"
    )
    hire(post, person_in(name="新来"), dt.date(2021, 3, 10))
    response = login(clerk).get(attendance_url(post, "2021-03"))
    names = [row["holder"].beneficiary.name for row in response.context["rows"]]
    assert names == ["新来"]
    assert response.context["rows"][0]["covered"] == 22


# -- scope ---------------------------------------------------------------------------------------


def test_the_outsider_sees_no_post_page_nor_roster(roster, outsider):
    post, _holders = roster
    client = login(outsider)
    assert client.get(f"/admin/posts/post/{post.pk}/change/").status_code == 302
    assert client.get(attendance_url(post, "2021-03")).status_code == 302
    listing = client.get("/admin/posts/post/").content.decode()
    assert post.title not in listing
    assert client.post(attendance_url(post, "2021-03"), {}).status_code == 302
    assert not Attendance.objects.exists()


def test_the_holder_autocomplete_is_scoped_and_finds_by_identity_number(post, clerk, outsider, regions):
    from seeds.factories.beneficiaries import make_id_number

    number = make_id_number("360323", dt.date(1980, 5, 5), 3, "female")
    inside = BeneficiaryFactory(region=regions[VILLAGE], id_number=number, name="冯九")
    base = "/admin/autocomplete/?app_label=posts&model_name=assignment&field_name=beneficiary"
    found = json.loads(login(clerk).get(f"{base}&term={number}").content)["results"]
    assert [r["id"] for r in found] == [str(inside.pk)]
    assert json.loads(login(clerk).get(f"{base}&term=冯").content)["results"]
    assert json.loads(login(outsider).get(f"{base}&term={number}").content)["results"] == []
    assert json.loads(login(outsider).get(f"{base}&term=冯").content)["results"] == []


def test_a_reviewer_approves_changes_from_the_list(post, person, hire, reviewer):
    held = hire(post, person)
    change = PersonnelChange.objects.get(assignment=held)
    response = login(reviewer).post(
        "/admin/posts/personnelchange/", {"action": "approve_selected", "_selected_action": [change.pk]}
    )
    assert response.status_code == 302
    change.refresh_from_db()
    assert change.status == "approved" and change.approved_by == reviewer


def test_the_lists_render(post, person, hire, clerk, reviewer, regions):
    held = hire(post, person, payee_account_kind="bank_card", payee_account="6217000010001234567")
    services.attendance_record(
        actor=clerk, assignment=held, month="2021-03", days_required=23, days_present=23
    )
    services.subsidy_run_create(actor=clerk, region=regions[VILLAGE], month="2021-03")
    client = login(clerk)
    for url in (
        "/admin/posts/post/",
        "/admin/posts/assignment/",
        "/admin/posts/personnelchange/",
        "/admin/posts/attendance/",
        "/admin/posts/subsidyrun/",
        "/admin/posts/assessment/",
        "/admin/posts/assessmentstandard/",
        "/admin/posts/poststandard/",
        f"/admin/posts/assignment/{held.pk}/change/",
        f"/admin/posts/post/{post.pk}/history/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    detail = client.get(f"/admin/posts/assignment/{held.pk}/change/").content.decode()
    assert "6217***********4567" in detail and "6217000010001234567" not in detail
    assert held.payee_account_encrypted not in detail
    assert login(reviewer).get("/admin/posts/poststandard/add/").status_code == 200
