"""The API docs in a real browser, as on a bureau's network without the internet (issue 9): Swagger UI
and ReDoc load with no console error and no request to another host (every resource the page
loaded, read from the browser's resource timing), and Swagger UI executes a call with a token
(Authorize with `Token <key>`, then "Try it out" on GET /api/v1/me/: 200)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from rest_framework.authtoken.models import Token

from tests.browser.conftest import console_errors

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WAIT = 30


def wait_for(browser: Any, css: str, *, visible: bool = False) -> Any:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    condition = ec.visibility_of_element_located if visible else ec.presence_of_element_located
    return WebDriverWait(browser, WAIT).until(condition((By.CSS_SELECTOR, css)))


def click(browser: Any, css: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, WAIT).until(ec.element_to_be_clickable((By.CSS_SELECTOR, css))).click()


def resources(browser: Any) -> list[str]:
    """The page's own URL and every resource it has requested so far (scripts, styles, icons,
    fonts, the schema, API calls)."""
    names = browser.execute_script(
        "return performance.getEntriesByType('resource').map(function (e) { return e.name; });"
    )
    return [browser.current_url, *names]


def other_hosts(browser: Any, base: str) -> list[str]:
    origin = urlsplit(base).netloc
    return [
        url
        for url in resources(browser)
        if urlsplit(url).scheme in {"http", "https"} and urlsplit(url).netloc != origin
    ]


def fresh_page(browser: Any, base: str) -> None:
    """No cookie left from another test (cookies ignore the port): the docs must call the API with
    the token alone."""
    browser.get(f"{base}/problems/")
    browser.delete_all_cookies()
    console_errors(browser)


def test_swagger_ui_loads_offline_and_calls_the_api_with_a_token(
    browser: Any, live_server: Any, clerk: Any
) -> None:
    from selenium.webdriver.common.by import By

    key = Token.objects.create(user=clerk).key
    base = live_server.url
    fresh_page(browser, base)

    browser.get(f"{base}/api/v1/docs/")
    click(browser, "#operations-tag-me")  # tags are folded (docExpansion none)
    wait_for(browser, "#operations-me-me_retrieve")
    assert console_errors(browser) == []
    assert other_hosts(browser, base) == []
    loaded = resources(browser)
    assert any(url.endswith("/swagger-ui-bundle.js") for url in loaded), loaded
    assert any("/api/v1/schema/" in url for url in loaded), loaded

    # Authorize: the token scheme is the first, and says how to paste the token
    click(browser, ".auth-wrapper .authorize")
    containers = wait_for(browser, ".dialog-ux .modal-ux", visible=True).find_elements(
        By.CSS_SELECTOR, ".auth-container"
    )
    token_form = containers[0]
    assert "tokenAuth" in token_form.text and "Token <key>" in token_form.text
    token_form.find_element(By.CSS_SELECTOR, "input").send_keys(f"Token {key}")
    token_form.find_element(By.CSS_SELECTOR, "button.authorize").click()
    wait_for(browser, ".dialog-ux .auth-container button[aria-label='Remove authorization']")
    assert "Authorized" in containers[0].text
    click(browser, ".dialog-ux .close-modal")

    # Try it out on GET /api/v1/me/: open it, execute, read the answer
    click(browser, "#operations-me-me_retrieve .opblock-summary-control")
    operation = wait_for(browser, "#operations-me-me_retrieve.is-open")
    click(browser, "#operations-me-me_retrieve .try-out__btn")
    click(browser, "#operations-me-me_retrieve .execute")
    status = wait_for(
        browser, "#operations-me-me_retrieve .live-responses-table .response .response-col_status"
    )
    assert status.text.strip().startswith("200"), status.text
    answer = operation.find_element(
        By.CSS_SELECTOR, ".live-responses-table .response .response-col_description"
    ).text
    assert '"username": "clerk_pingxiang"' in answer, answer
    curl = operation.find_element(By.CSS_SELECTOR, ".curl-command").text
    assert f"Authorization: Token {key}" in curl, curl

    assert console_errors(browser) == []
    assert other_hosts(browser, base) == []


def test_redoc_loads_offline(browser: Any, live_server: Any, db: Any) -> None:
    base = live_server.url
    fresh_page(browser, base)
    browser.get(f"{base}/api/v1/redoc/")
    heading = wait_for(browser, ".api-info h1", visible=True)
    assert heading.text.startswith("tracker API")
    wait_for(browser, "[data-section-id='tag/beneficiaries']")
    assert console_errors(browser) == []
    assert other_hosts(browser, base) == []
    assert any(url.endswith("/redoc.standalone.js") for url in resources(browser))


def test_a_problem_type_opens_as_a_page(browser: Any, live_server: Any, db: Any) -> None:
    """A browser following a problem's `type` gets the page, in the browser's language first."""
    base = live_server.url
    fresh_page(browser, base)
    browser.get(f"{base}/problems/412")
    heading = wait_for(browser, "h1", visible=True).text
    assert heading.startswith("412") and heading.index("前提条件不满足") < heading.index(
        "Precondition failed"
    )
    assert console_errors(browser) == []
    assert other_hosts(browser, base) == []
