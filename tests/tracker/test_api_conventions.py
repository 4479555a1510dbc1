"""API conventions shared by every endpoint: auth, /me, request ids, the problem shape, health."""

from __future__ import annotations

from unittest import mock

from django.db import DatabaseError
from rest_framework.authtoken.models import Token

from tracker.changelog.models import ChangeEntry
from tracker.regions.services import region_upsert

PROBLEM_KEYS = {"type", "title", "status", "detail", "errors"}


def test_token_login_and_me(api, clerk):
    res = api(None).post(
        "/api/v1/auth/token/", {"username": "clerk_pingxiang", "password": "pw-for-tests"}, format="json"
    )
    assert res.status_code == 200
    token = res.json()["token"]
    assert Token.objects.get(user=clerk).key == token
    me = api(None)
    me.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    body = me.get("/api/v1/me/").json()
    assert body["username"] == "clerk_pingxiang"
    assert body["roles"] == ["clerk"]
    assert body["region"]["code"] == "360300" and body["region"]["name_zh"] == "萍乡市"


def test_token_with_wrong_password_is_400_problem(api, clerk):
    res = api(None).post(
        "/api/v1/auth/token/", {"username": "clerk_pingxiang", "password": "nope"}, format="json"
    )
    assert res.status_code == 400
    assert PROBLEM_KEYS <= set(res.json())


def test_form_bodies_are_refused(api, clerk):
    res = api(None).post("/api/v1/auth/token/", {"username": "clerk_pingxiang", "password": "pw-for-tests"})
    assert res.status_code == 415
    assert res.json()["status"] == 415


def test_malformed_json_is_400_problem(api, clerk):
    res = api(None).post("/api/v1/auth/token/", data="{not json", content_type="application/json")
    assert res.status_code == 400
    assert PROBLEM_KEYS <= set(res.json())


def test_unknown_detail_is_404_problem(api, analyst):
    res = api(analyst).get("/api/v1/regions/999999/")
    assert res.status_code == 404
    assert res.json()["status"] == 404 and res["Content-Type"].startswith("application/problem+json")


def test_problem_titles_follow_accept_language(api, regions):
    zh = api(None).get("/api/v1/regions/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    en = api(None).get("/api/v1/regions/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert en["title"] == "Authentication required"
    assert zh["title"] != en["title"]


def test_user_without_role_cannot_read(api, regions):
    from tests.conftest import make_user

    nobody = make_user("nobody", regions["360300"])
    assert api(nobody).get("/api/v1/regions/").status_code == 403


def test_request_id_is_returned_and_can_be_supplied(api, analyst):
    res = api(analyst).get("/api/v1/regions/")
    assert len(res["X-Request-ID"]) == 32
    res = api(analyst).get("/api/v1/regions/", HTTP_X_REQUEST_ID="client-trace-12345")
    assert res["X-Request-ID"] == "client-trace-12345"
    res = api(analyst).get("/api/v1/regions/", HTTP_X_REQUEST_ID="bad id with spaces")
    assert res["X-Request-ID"] != "bad id with spaces"


def test_etag_on_detail(api, analyst, regions):
    res = api(analyst).get("/api/v1/regions/360300/")
    assert res["ETag"] == f'"regions.region:{regions["360300"].pk}:{regions["360300"].version}"'


def test_healthz(client, db):
    assert client.get("/healthz").status_code == 200
    with mock.patch("tracker.health.connection.cursor", side_effect=DatabaseError("down")):
        res = client.get("/healthz")
    assert res.status_code == 503 and res.json()["database"] == "unreachable"


def test_schema_documents_error_responses(api, analyst):
    res = api(analyst).get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert res.status_code == 200
    schema = res.json()
    op = schema["paths"]["/api/v1/regions/{code}/"]["get"]
    assert {"401", "403", "404"} <= set(op["responses"])
    assert "Problem" in schema["components"]["schemas"]


# -- the change log API --------------------------------------------------------------------------


def test_changes_list_is_scoped_and_filtered(api, clerk, outsider, analyst):
    region_upsert(code="360302001", name_zh="测试镇", name_en="Test", level="township", parent_code="360300")
    mine = (
        api(clerk)
        .get("/api/v1/audit/changes/", {"model": "regions.region", "page_size": 500})
        .json()["results"]
    )
    assert any(e["label"].startswith("测试镇") for e in mine)
    assert all(e["region_path"].startswith("000000/360000/360300/") for e in mine)
    theirs = api(outsider).get("/api/v1/audit/changes/", {"page_size": 500}).json()["results"]
    assert not any(e["label"].startswith("测试镇") for e in theirs)
    entry = ChangeEntry.objects.get(label__startswith="测试镇")
    assert api(outsider).get(f"/api/v1/audit/changes/{entry.pk}/").status_code == 404
    assert api(clerk).get(f"/api/v1/audit/changes/{entry.pk}/").status_code == 200
    within = (
        api(analyst).get("/api/v1/audit/changes/", {"within": "450000", "page_size": 500}).json()["results"]
    )
    assert within and all(e["region_path"].startswith("000000/450000/") for e in within)
    by_source = api(analyst).get("/api/v1/audit/changes/", {"source": "seed"}).json()["results"]
    assert by_source and all(e["source"] == "seed" for e in by_source)
    assert api(analyst).get("/api/v1/audit/changes/", {"since": "not-a-date"}).status_code == 400


def test_changes_are_read_only(api, superuser):
    entry = ChangeEntry.objects.first()
    client = api(superuser)
    assert client.delete(f"/api/v1/audit/changes/{entry.pk}/").status_code == 405
    assert (
        client.patch(f"/api/v1/audit/changes/{entry.pk}/", {"reason": "x"}, format="json").status_code == 405
    )


def test_verify_endpoint(api, analyst, outsider):
    body = api(analyst).get("/api/v1/audit/changes/verify/").json()
    assert body["ok"] is True and body["checked"] > 0 and body["problems"] == []
    scoped = api(analyst).get("/api/v1/audit/changes/verify/", {"within": "360300"}).json()
    assert 0 < scoped["checked"] < body["checked"]
    # outside the caller's scope: nothing is checked, nothing is revealed
    assert api(outsider).get("/api/v1/audit/changes/verify/", {"within": "360300"}).json()["checked"] == 0


# -- the admin -----------------------------------------------------------------------------------


def test_admin_write_is_logged_with_source_admin_and_history_is_shown(client, superuser, regions):
    client.force_login(superuser)
    town = region_upsert(
        code="360302001", name_zh="测试镇", name_en="Test", level="township", parent_code="360300"
    )
    res = client.post(
        f"/admin/regions/region/{town.pk}/change/",
        {
            "code": town.code,
            "name_zh": "新名镇",
            "name_en": "Test",
            "level": "township",
            "parent": regions["360300"].pk,
            "designations": "[]",
        },
    )
    assert res.status_code == 302, res.content[:2000]
    entry = ChangeEntry.objects.filter(model="regions.region", object_id=str(town.pk)).order_by("-id").first()
    assert (
        entry.source == "admin"
        and entry.actor_name == "admin"
        and entry.changes["name_zh"] == ["测试镇", "新名镇"]
    )
    assert len(entry.request_id) == 32
    history = client.get(f"/admin/regions/region/{town.pk}/history/")
    assert history.status_code == 200 and "新名镇" in history.content.decode()


def test_admin_change_log_is_read_only(client, superuser):
    client.force_login(superuser)
    entry = ChangeEntry.objects.first()
    assert client.get("/admin/changelog/changeentry/").status_code == 200
    assert client.post(f"/admin/changelog/changeentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403


def test_unmatched_api_url_is_a_404_problem(api, analyst):
    res = api(analyst).get("/api/v1/regions/not a code!/")
    assert res.status_code == 404
    assert res["Content-Type"].startswith("application/problem+json")
    assert res.json()["status"] == 404


def test_country_has_null_parent(api, analyst):
    assert api(analyst).get("/api/v1/regions/000000/").json()["parent"] is None


def test_oversized_body_is_413_problem(api, analyst, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    res = api(None).post(
        "/api/v1/auth/token/", data='{"username": "' + "x" * 5000 + '"}', content_type="application/json"
    )
    assert res.status_code == 413
    assert res.json()["status"] == 413


def test_admin_shows_a_refused_rule_on_the_form_and_writes_nothing(client, superuser, regions):
    """The service refuses moving a region to another parent; the admin shows it on the form."""
    client.force_login(superuser)
    town = region_upsert(
        code="360302001", name_zh="测试镇", name_en="Test", level="township", parent_code="360300"
    )
    entries = ChangeEntry.objects.count()
    res = client.post(
        f"/admin/regions/region/{town.pk}/change/",
        {
            "code": town.code,
            "name_zh": "搬家镇",
            "name_en": "Test",
            "level": "township",
            "parent": regions["450400"].pk,
            "designations": "[]",
        },
    )
    assert res.status_code == 200  # the form again, with the error and the input kept
    body = res.content.decode()
    assert "cannot move to another parent" in body and "搬家镇" in body
    town.refresh_from_db()
    assert town.name_zh == "测试镇" and town.parent_id == regions["360300"].pk
    assert ChangeEntry.objects.count() == entries


def test_nul_in_the_url_is_400_not_a_database_error(api, analyst, client, superuser):
    res = api(analyst).get("/api/v1/audit/changes/", {"actor": "a\x00b"})
    assert res.status_code == 400 and res.json()["status"] == 400
    client.force_login(superuser)
    assert client.get("/admin/regions/region/?q=%00").status_code == 400


def test_page_size_is_at_most_500_and_pages_follow_the_cursor(api, analyst, regions):
    from tracker.changelog.context import command_context
    from tracker.changelog.services import tracked_bulk_create
    from tracker.regions.models import Region

    parent = regions["360300"]
    towns = [
        Region(
            code=f"360300{n:03d}",
            name_zh=f"镇{n}",
            level="township",
            parent=parent,
            path=f"{parent.path}360300{n:03d}/",
        )
        for n in range(600)
    ]
    with command_context("bulk-towns"):
        tracked_bulk_create(Region, towns)
    client = api(analyst)
    too_many = client.get("/api/v1/audit/changes/", {"page_size": 1000})
    assert too_many.status_code == 400 and "page_size" in too_many.json()["errors"]
    first = client.get("/api/v1/audit/changes/", {"page_size": 500}).json()
    assert len(first["results"]) == 500
    assert first["next"] and "count" not in first
    second = client.get(first["next"]).json()
    assert len(second["results"]) >= 100
    assert not {e["id"] for e in first["results"]} & {e["id"] for e in second["results"]}
    assert max(e["id"] for e in second["results"]) < min(e["id"] for e in first["results"])


def test_me_for_a_superuser_without_region(api, regions):
    from tests.conftest import make_user

    root = make_user("root", None, superuser=True)
    body = api(root).get("/api/v1/me/").json()
    assert body["region"] is None and body["is_superuser"] is True
