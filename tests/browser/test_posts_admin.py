"""The posts admin in a real browser (Debian's chromium through Selenium), as a village clerk works:
log in, hire a holder into a post by picking the person with the autocomplete, then copy a month's
sign-in sheet for the whole roster with one invalid row, see the error beside that row with nothing
saved, fix it and save.

Uses the browser fixtures of tests/browser/conftest.py: `browser` (a session WebDriver; skipped with
the reason shown where chromium or chromedriver is missing) and `admin_session(user)` (logs the
browser into the admin on pytest-django's live_server and returns the base URL). The same pages are
tested through Django's test client in tests/posts/test_admin.py."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import pytest

pytest.importorskip("selenium", reason="selenium is not installed (the browser tests need it)")

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from beneficiaries.models import GroupMembership
from programs.posts import services
from programs.posts.choices import EmployingUnit, PostCategory, UrbanRural
from programs.posts.models import Assignment, Attendance
from seeds.factories.beneficiaries import BeneficiaryFactory
from seeds.factories.funding import FundSourceFactory, ProgramFactory
from tests.browser.conftest import pick
from tests.posts.conftest import JAN, VILLAGE, make_group

D = decimal.Decimal
WAIT = 15
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _eligible(region: Any, name: str) -> Any:
    person = BeneficiaryFactory(region=region, name=name)
    GroupMembership(
        beneficiary=person, group=make_group("lifted_out_of_poverty"), valid_from=dt.date(2020, 1, 1)
    ).save()
    return person


@pytest.fixture
def village_post(regions: dict[str, Any], clerk: Any) -> Any:
    """A two-position cleaning post of 示例东村 (paid by a 萍乡 post program) with one holder already
    in it."""
    make_group("lifted_out_of_poverty")
    post_program = ProgramFactory(
        region=regions["360300"],
        fund_source=FundSourceFactory(code="employment_subsidy_fund"),
        kind="public_welfare_post",
        payee_kind="person",
        unit="person_month",
        standard_amount=D("500.00"),
        eligible_groups=["lifted_out_of_poverty"],
        required_employment_statuses=["public_welfare_post"],
    )
    post = services.post_create(
        actor=clerk,
        fields={
            "region": regions[VILLAGE],
            "employing_unit": EmployingUnit.VILLAGE_COMMITTEE,
            "category": PostCategory.CLEANING,
            "urban_rural": UrbanRural.RURAL,
            "title": "示例东村保洁员",
            "duties": "村道保洁",
            "headcount": 2,
            "monthly_standard": D("500.00"),
            "program": post_program,
            "opened_on": JAN,
            "justification": "村道需要日常保洁（因事设岗）",
        },
    )
    services.assignment_hire(
        actor=clerk,
        post=post,
        beneficiary=_eligible(regions[VILLAGE], "蒋甲"),
        start_date=JAN,
        contract_kind="labour_contract",
        contract_signed_on=JAN,
    )
    return post


def _wait(browser: Any) -> WebDriverWait:
    return WebDriverWait(browser, WAIT)


def _fill(browser: Any, name: str, value: str) -> None:
    element = browser.find_element(By.NAME, name)
    element.clear()
    element.send_keys(value)


def test_a_clerk_hires_then_enters_a_month_fixing_the_one_invalid_row(
    browser: Any, admin_session: Any, clerk: Any, regions: dict[str, Any], village_post: Any
) -> None:
    newcomer = _eligible(regions[VILLAGE], "沈乙")
    base = admin_session(clerk)

    # Hire: the post's page, the empty holder row, the person picked by name.
    browser.get(f"{base}/admin/posts/post/{village_post.pk}/change/")
    _wait(browser).until(ec.presence_of_element_located((By.ID, "id_assignments-1-beneficiary")))
    pick(browser, "id_assignments-1-beneficiary", "沈", "沈乙")
    _fill(browser, "assignments-1-start_date", "2021-02-01")
    Select(browser.find_element(By.NAME, "assignments-1-contract_kind")).select_by_value("labour_contract")
    _fill(browser, "assignments-1-contract_signed_on", "2021-02-01")
    browser.find_element(By.NAME, "_continue").click()
    _wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".messagelist .success")))
    holding = Assignment.objects.get(beneficiary=newcomer)
    assert (holding.post_id, holding.start_date) == (village_post.pk, dt.date(2021, 2, 1))
    assert "沈乙" in browser.page_source

    # The month's roster: one row per holder, the days required pre-filled (23 weekdays in March 2021).
    browser.get(f"{base}/admin/posts/post/{village_post.pk}/attendance/?month=2021-03")
    rows = _wait(browser).until(ec.presence_of_all_elements_located((By.CSS_SELECTOR, "tr.attendance-row")))
    assert [row.get_attribute("data-holder") for row in rows] == ["蒋甲", "沈乙"]
    assert browser.find_element(By.NAME, "rows-0-days_required").get_attribute("value") == "23"
    _fill(browser, "rows-0-days_present", "23")
    _fill(browser, "rows-1-days_present", "24")  # more than required: refused
    browser.find_element(By.NAME, "_save").click()
    bad = _wait(browser).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "tr.attendance-row.has-errors"))
    )
    assert bad.get_attribute("data-holder") == "沈乙"
    assert "ATTENDANCE_DAYS" in bad.find_element(By.CSS_SELECTOR, "td.errors").text
    assert len(browser.find_elements(By.CSS_SELECTOR, "tr.attendance-row.has-errors")) == 1
    assert not Attendance.objects.exists()  # nothing saved until every row is valid

    # Fix the row and save: both rows are written.
    assert browser.find_element(By.NAME, "rows-0-days_present").get_attribute("value") == "23"
    _fill(browser, "rows-1-days_present", "22")
    browser.find_element(By.NAME, "_save").click()
    _wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".messagelist .success")))
    assert sorted(Attendance.objects.filter(month="2021-03").values_list("days_present", flat=True)) == [
        22,
        23,
    ]
    assert not browser.find_elements(By.CSS_SELECTOR, "tr.attendance-row.has-errors")
