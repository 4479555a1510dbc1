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
