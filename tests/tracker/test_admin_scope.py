"""The admin is a door like the API: its lists, change and add pages, the values pre-filled from an
add page's query string, every choice in a form and the autocomplete look-ups show nothing outside
the user's region (the scope matrix, extended to the admin)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from seeds.factories.beneficiaries import BeneficiaryFactory
from seeds.factories.funding import EmployerFactory, FundSourceFactory, ProgramFactory


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def pingxiang(regions):
    person = BeneficiaryFactory(region=regions["360300"], name="萍乡甲某")
    employer = EmployerFactory(region=regions["360300"], name="萍乡示例企业")
    program = ProgramFactory(
        region=regions["360300"], fund_source=FundSourceFactory(), name_zh="萍乡专项补贴"
    )
    return {"person": person, "employer": employer, "program": program}


def _secrets(objs) -> list[str]:
    person, employer, program = objs["person"], objs["employer"], objs["program"]
    return [person.name, person.id_number_masked, employer.name, employer.uscc, program.name_zh]


@pytest.mark.parametrize("path", ["/admin/funding/payment/add/", "/admin/funding/employer/add/"])
def test_prefill_parameters_reveal_nothing_outside_the_region(outsider, pingxiang, path):
    person, employer, program = pingxiang["person"], pingxiang["employer"], pingxiang["program"]
    query = f"?beneficiary={person.pk}&employer={employer.pk}&program={program.pk}&region={person.region_id}"
    page = login(outsider).get(path + query)
    assert page.status_code == 200
    text = page.content.decode()
    for secret in _secrets(pingxiang):
        assert secret not in text, secret


def test_prefill_inside_the_region_shows_the_record(clerk, pingxiang):
    person = pingxiang["person"]
    page = login(clerk).get(f"/admin/funding/payment/add/?beneficiary={person.pk}")
    assert person.name in page.content.decode()


def test_no_raw_id_boxes_in_forms(clerk):
    text = login(clerk).get("/admin/funding/payment/add/").content.decode()
    assert "vForeignKeyRawIdAdminField" not in text
    assert "admin-autocomplete" in text


@pytest.mark.parametrize(
    ("field", "term_key"), [("beneficiary", "person"), ("employer", "employer"), ("program", "program")]
)
def test_autocomplete_is_scoped(clerk, outsider, pingxiang, field, term_key):
    record = pingxiang[term_key]
    term = getattr(record, "name", None) or record.name_zh
    url = f"/admin/autocomplete/?app_label=funding&model_name=payment&field_name={field}&term={term[:2]}"
    inside = json.loads(login(clerk).get(url).content)["results"]
    outside = json.loads(login(outsider).get(url).content)["results"]
    assert str(record.pk) in {r["id"] for r in inside}
    assert str(record.pk) not in {r["id"] for r in outside}


def test_beneficiary_autocomplete_by_identity_number(clerk, outsider, regions):
    from seeds.factories.beneficiaries import make_id_number

    number = make_id_number("360300", __import__("datetime").date(1985, 3, 3), 7, "female")
    person = BeneficiaryFactory(region=regions["360300"], id_number=number)
    url = f"/admin/autocomplete/?app_label=funding&model_name=payment&field_name=beneficiary&term={number}"
    assert [r["id"] for r in json.loads(login(clerk).get(url).content)["results"]] == [str(person.pk)]
    assert json.loads(login(outsider).get(url).content)["results"] == []


def test_region_autocomplete_offers_only_the_writable_subtree(clerk):
    url = "/admin/autocomplete/?app_label=beneficiaries&model_name=beneficiary&field_name=region&term="
    codes = {r["text"] for r in json.loads(login(clerk).get(url).content)["results"]}
    assert any("360300" in text for text in codes)
    assert not any("360000" in text or "450400" in text or "000000" in text for text in codes)


def test_change_pages_and_lists_outside_the_region(outsider, clerk, pingxiang):
    person = pingxiang["person"]
    assert login(outsider).get(f"/admin/beneficiaries/beneficiary/{person.pk}/change/").status_code == 302
    assert login(clerk).get(f"/admin/beneficiaries/beneficiary/{person.pk}/change/").status_code == 200
    listing = login(outsider).get("/admin/beneficiaries/beneficiary/").content.decode()
    assert person.name not in listing
    history = login(outsider).get(f"/admin/beneficiaries/beneficiary/{person.pk}/history/")
    assert person.name not in history.content.decode()


def test_a_forged_choice_outside_the_region_is_refused_on_the_form(outsider, pingxiang):
    person, program = pingxiang["person"], pingxiang["program"]
    page = login(outsider).post(
        "/admin/funding/payment/add/",
        {
            "program": program.pk,
            "payee_kind": "person",
            "beneficiary": person.pk,
            "period_start": "2021-05-01",
            "period_end": "2021-05-31",
            "quantity": "1",
        },
    )
    assert page.status_code == 200  # the form again, with errors
    assert "Select a valid choice" in page.content.decode()
