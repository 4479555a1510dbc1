"""The interactive docs (Swagger UI at /api/v1/docs/, ReDoc at /api/v1/redoc/): every file they load
comes from this service, under `make run` (Django's staticfiles in DEBUG) and under `make serve`
(WhiteNoise after collectstatic); the token scheme comes first and explains the `Token ` prefix.
The browser side (no console error, no request to another host, a call with a token) is
tests/browser/test_docs.py."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client

DOCS = ("/api/v1/docs/", "/api/v1/redoc/")
JSON = "application/vnd.oai.openapi+json"


class Assets(HTMLParser):
    """Every URL a page loads by itself: scripts, stylesheets, icons, images, frames."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in {"script", "img", "iframe"} and values.get("src"):
            self.urls.append(values["src"] or "")
        if tag == "link" and values.get("href"):
            self.urls.append(values["href"] or "")


def page_assets(html: str) -> list[str]:
    parser = Assets()
    parser.feed(html)
    return parser.urls


@pytest.mark.parametrize("url", DOCS)
def test_the_docs_pages_load_their_files_from_this_service_only(db: Any, url: str) -> None:
    res = Client().get(url)
    assert res.status_code == 200
    html = res.content.decode()
    assets = page_assets(html)
    assert assets, "the page loads Swagger UI or ReDoc"
    for asset in assets:
        assert asset.startswith("/static/drf_spectacular_sidecar/"), asset
    # No absolute URL of any kind in the page (a CDN, web fonts, a validator badge).
    assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html, re.IGNORECASE), html


@pytest.mark.parametrize("url", DOCS)
def test_under_make_run_django_finds_every_file_the_docs_load(db: Any, url: str) -> None:
    """`make run` is runserver with DEBUG: django.contrib.staticfiles serves what its finders find."""
    for asset in page_assets(Client().get(url).content.decode()):
        assert finders.find(asset.removeprefix("/static/")), asset


def test_under_make_serve_whitenoise_serves_them_after_collectstatic(
    db: Any, settings: Any, tmp_path: Path
) -> None:
    """`make serve`: collectstatic, then WhiteNoise serves STATIC_ROOT from gunicorn (no finders)."""
    settings.STATIC_ROOT = tmp_path
    settings.WHITENOISE_USE_FINDERS = False
    settings.WHITENOISE_AUTOREFRESH = False
    call_command("collectstatic", interactive=False, verbosity=0)
    client = Client()  # a new handler: WhiteNoise indexes STATIC_ROOT when it starts
    assets = {asset for url in DOCS for asset in page_assets(client.get(url).content.decode())}
    assert len(assets) >= 5
    for asset in sorted(assets):
        res = client.get(asset)
        assert res.status_code == 200, asset
        assert res.has_header("Cache-Control") or res.has_header("Last-Modified"), asset
        body = b"".join(res.streaming_content)
        assert body == (tmp_path / asset.removeprefix("/static/")).read_bytes()


def test_swagger_ui_is_configured_for_a_network_without_the_internet(db: Any) -> None:
    html = Client().get("/api/v1/docs/").content.decode()
    assert '"validatorUrl": null' in html  # no badge fetched from the public validator
    assert 'url: "/api/v1/schema/"' in html


def test_the_token_scheme_comes_first_and_explains_its_prefix(api: Any, db: Any) -> None:
    schema = api(None).get("/api/v1/schema/", HTTP_ACCEPT=JSON).json()
    schemes = schema["components"]["securitySchemes"]
    assert list(schemes) == ["tokenAuth", "cookieAuth"]
    token = schemes["tokenAuth"]
    assert (token["type"], token["in"], token["name"]) == ("apiKey", "header", "Authorization")
    assert "`Token <key>`" in token["description"] and "Authorize" in token["description"]
    assert "prefix included" in token["description"]
    assert "/admin/" in schemes["cookieAuth"]["description"]
    assert "Token <key>" in schema["info"]["description"]
    for item in schema["paths"].values():
        for operation in item.values():
            if operation["security"]:
                assert operation["security"][0] == {"tokenAuth": []}


def test_the_readme_shows_the_token_prefix_and_the_docs_that_exist(api: Any, db: Any) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    headers = re.findall(r"Authorization: ?([^'\"`\n]*)", readme)
    assert len(headers) >= 5
    for value in headers:
        assert value.startswith("Token "), value  # in every example, the prefix and its space
    assert "TOKEN=$(curl" in readme and 'json.load(sys.stdin)["token"]' in readme
    assert "HOST" in readme and "PORT" in readme
    client = api(None)
    for path in (
        "/api/v1/",
        "/api/v1/docs/",
        "/api/v1/redoc/",
        "/api/v1/schema/",
        "/problems/",
        "/problems/404",
    ):
        assert f"`{path}`" in readme, path
        assert client.get(path).status_code == 200, path
