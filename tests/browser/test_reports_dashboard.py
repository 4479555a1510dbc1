"""The reports dashboard in the real headless browser: it loads with no console error, draws its
charts and shows the figures of the data behind it."""

from __future__ import annotations

import pytest

from tests.browser.conftest import console_errors

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_dashboard_shows_the_figures_without_console_errors(browser, admin_session, regions) -> None:
    from selenium.webdriver.common.by import By

    from tests.conftest import make_user
    from tests.reports.conftest import LUXI, person
    from tracker.accounts.choices import Role
    from tracker.changelog.context import Source, command_context

    with command_context("test-fixture", source=Source.SEED):
        for status in ("employed_local", "public_welfare_post", "unemployed"):
            person(regions[LUXI], status, "lifted_out_of_poverty")
        analyst = make_user("analyst_px_browser", regions["360300"], Role.ANALYST)
    base = admin_session(analyst)
    browser.get(f"{base}/reports/")
    assert browser.find_element(By.ID, "section-poverty_employment")
    assert browser.find_elements(By.CSS_SELECTOR, "svg.bar-chart rect")
    text = browser.find_element(By.ID, "section-poverty_employment").text
    assert "66.7%" in text  # 2 of 3 employed
    assert console_errors(browser) == []
    browser.find_element(By.CSS_SELECTOR, "a.region-child").click()
    assert browser.find_element(By.ID, "region-picker")
    assert console_errors(browser) == []


def test_dashboard_shows_the_seeded_figures(browser, admin_session, regions) -> None:
    """On the demo seed (`manage.py seed`), a Pingxiang clerk's dashboard shows the figures the
    report computes for Pingxiang: the willing-to-work people lifted out of poverty, their
    employment rate and the money paid, with no console error."""
    from django.core.management import call_command
    from django.utils import translation
    from selenium.webdriver.common.by import By

    from programs.reports.charts import display
    from programs.reports.selectors import report_data
    from tracker.accounts.models import User

    call_command("seed", password="pw-browser")
    clerk = User.objects.get(username="clerk_pingxiang")
    with translation.override("zh-hans"):
        result = report_data("overview", user=clerk)
    sections = {s.section.key: s for s in result.sections}
    [poverty] = sections["poverty_employment"].totals
    paid = sum((row["paid"] for row in sections["payments_by_fund"].totals), start=0)
    assert poverty["willing"] > 0 and paid > 0  # the seed has figures to show

    base = admin_session(clerk)
    browser.get(f"{base}/reports/")
    text = browser.find_element(By.ID, "section-poverty_employment").text
    assert "萍乡市（合计）" in text
    assert display(poverty["employment_rate"], "rate") in text
    assert f"{poverty['employed']} / {poverty['willing']}" in text
    assert display(paid, "money") in browser.find_element(By.ID, "section-payments_by_fund").text
    assert browser.find_elements(By.CSS_SELECTOR, "svg.line-chart polyline")
    assert console_errors(browser) == []
