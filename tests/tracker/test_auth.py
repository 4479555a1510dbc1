"""Log-in and tokens: throttles per client address and per username, the lock-out after repeated
failures, idle token expiry, revocation, log-out, per-role API throttles, the admin's log-in.

No test sleeps: limits are set low with override_settings (the `settings` fixture), and times are set
explicitly on the rows that hold them."""

from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
import sys
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tracker.accounts.models import LoginLockout, TokenActivity
from tracker.env import env_int, env_rate

TOKEN_URL = "/api/v1/auth/token/"
ADMIN_LOGIN = "/admin/login/"
PASSWORD = "pw-for-tests"  # tests/conftest.py's make_user
PROBLEM_KEYS = {"type", "title", "status", "detail", "errors"}


@pytest.fixture
def rates(settings):
    """rates(clerk="2/minute", ...) sets real throttle limits for one test."""

    def set_rates(**scopes: str) -> None:
        table = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **scopes}
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": table}

    return set_rates


@pytest.fixture
def lockout(settings):
    settings.LOGIN_LOCKOUT_FAILURES = 5
    settings.LOGIN_LOCKOUT_SECONDS = 900
    return settings


def log_in(username: str, password: str, *, ip: str = "127.0.0.1", **headers: str):
    return APIClient().post(
        TOKEN_URL, {"username": username, "password": password}, format="json", REMOTE_ADDR=ip, **headers
    )


def assert_429_problem(res) -> int:
    assert res.status_code == 429, res.content
    assert res["Content-Type"].startswith("application/problem+json")
    body = res.json()
    assert PROBLEM_KEYS <= set(body) and body["status"] == 429 and body["type"] == "/problems/429"
    retry_after = int(res["Retry-After"])
    assert retry_after >= 1
    return retry_after


def token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


# -- lock-out --------------------------------------------------------------------------------------


def test_four_failures_do_not_lock_and_a_success_clears_them(clerk, lockout):
    for _ in range(4):
        res = log_in("clerk_pingxiang", "wrong")
        assert res.status_code == 400 and PROBLEM_KEYS <= set(res.json())
    assert LoginLockout.objects.get(username="clerk_pingxiang").failures == 4
    assert log_in("clerk_pingxiang", PASSWORD).status_code == 200
    assert not LoginLockout.objects.filter(username="clerk_pingxiang").exists()


def test_fifth_failure_locks_even_the_right_password_and_is_logged(clerk, lockout, caplog):
    for _ in range(4):
        assert log_in("clerk_pingxiang", "wrong", ip="10.1.2.3").status_code == 400
    with caplog.at_level(logging.WARNING, logger="tracker.security"):
        fifth = log_in("clerk_pingxiang", "wrong", ip="10.1.2.3")
    assert 890 <= assert_429_problem(fifth) <= 900
    row = LoginLockout.objects.get(username="clerk_pingxiang")
    assert row.locked_until is not None and str(row.last_ip) == "10.1.2.3"
    [record] = [r for r in caplog.records if r.name == "tracker.security"]
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert "username=clerk_pingxiang" in message and "ip=10.1.2.3" in message
    assert f"until={row.locked_until.isoformat()}" in message

    right = log_in("clerk_pingxiang", PASSWORD)
    assert_429_problem(right)
    assert "token" not in right.json()
    assert not Token.objects.filter(user=clerk).exists()
    # the backend itself refuses, so every door that calls authenticate() honours the lock
    assert authenticate(username="clerk_pingxiang", password=PASSWORD) is None


def test_lock_expires(clerk, lockout):
    for _ in range(5):
        log_in("clerk_pingxiang", "wrong")
    row = LoginLockout.objects.get(username="clerk_pingxiang")
    row.locked_until = timezone.now() + dt.timedelta(seconds=30)
    row.save()
    assert 1 <= assert_429_problem(log_in("clerk_pingxiang", PASSWORD)) <= 30
    row.locked_until = timezone.now() - dt.timedelta(seconds=1)
    row.save()
    assert log_in("clerk_pingxiang", PASSWORD).status_code == 200


def test_a_failure_after_the_lock_expired_starts_a_new_count(clerk, lockout):
    for _ in range(5):
        log_in("clerk_pingxiang", "wrong")
    LoginLockout.objects.filter(username="clerk_pingxiang").update(
        locked_until=timezone.now() - dt.timedelta(seconds=1)
    )
    assert log_in("clerk_pingxiang", "wrong").status_code == 400
    assert LoginLockout.objects.get(username="clerk_pingxiang").failures == 1


def test_failures_older_than_the_window_do_not_count(clerk, lockout):
    for _ in range(4):
        log_in("clerk_pingxiang", "wrong")
    LoginLockout.objects.filter(username="clerk_pingxiang").update(
        first_failure_at=timezone.now() - dt.timedelta(seconds=901)
    )
    assert log_in("clerk_pingxiang", "wrong").status_code == 400  # the fifth, but a new run
    assert LoginLockout.objects.get(username="clerk_pingxiang").locked_until is None


def test_unknown_username_gets_the_same_answers(clerk, lockout):
    def answers(username: str) -> list[tuple[int, str, bool]]:
        out = []
        for password in ["wrong"] * 5 + [PASSWORD]:
            res = log_in(username, password)
            out.append((res.status_code, res.json()["detail"], "Retry-After" in res))
        return out

    known, unknown = answers("clerk_pingxiang"), answers("nobody_at_all")
    assert known == unknown
    assert [status for status, *_ in known] == [400, 400, 400, 400, 429, 429]


def test_lock_message_in_chinese_by_accept_language(clerk, lockout):
    for _ in range(5):
        log_in("clerk_pingxiang", "wrong")
    zh = log_in("clerk_pingxiang", PASSWORD, HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert zh["title"] == "请求过于频繁" and "登录失败次数过多" in zh["detail"]
    en = log_in("clerk_pingxiang", PASSWORD, HTTP_ACCEPT_LANGUAGE="en").json()
    assert "Too many failed log-in attempts" in en["detail"]


# -- log-in throttles ------------------------------------------------------------------------------


def test_log_in_is_throttled_per_client_address(clerk, rates):
    rates(login_ip="3/minute")
    for name in ("a", "b", "c"):
        assert log_in(name, "wrong", ip="10.0.0.1").status_code == 400
    res = log_in("d", "wrong", ip="10.0.0.1")
    assert 1 <= assert_429_problem(res) <= 60
    # even the right password waits; a forged X-Forwarded-For does not make another client of it
    assert_429_problem(log_in("clerk_pingxiang", PASSWORD, ip="10.0.0.1", HTTP_X_FORWARDED_FOR="10.9.9.9"))
    assert log_in("clerk_pingxiang", PASSWORD, ip="10.0.0.2").status_code == 200


def test_behind_a_proxy_the_forwarded_address_counts(clerk, rates, settings):
    rates(login_ip="1/minute")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxy = "10.0.0.254"
    assert log_in("a", "wrong", ip=proxy, HTTP_X_FORWARDED_FOR="192.0.2.1").status_code == 400
    assert_429_problem(log_in("a", "wrong", ip=proxy, HTTP_X_FORWARDED_FOR="192.0.2.1"))
    assert log_in("a", "wrong", ip=proxy, HTTP_X_FORWARDED_FOR="192.0.2.2").status_code == 400


def test_log_in_is_throttled_per_username(clerk, rates):
    rates(login_username="2/minute")
    assert log_in("clerk_pingxiang", "wrong", ip="10.0.0.1").status_code == 400
    assert log_in("clerk_pingxiang", PASSWORD, ip="10.0.0.2").status_code == 200
    assert_429_problem(log_in("clerk_pingxiang", PASSWORD, ip="10.0.0.3"))
    assert log_in("someone_else", "wrong", ip="10.0.0.3").status_code == 400


# -- tokens ----------------------------------------------------------------------------------------


def test_token_idle_expiry_at_its_boundary(clerk, settings):
    settings.TOKEN_IDLE_SECONDS = 3600
    key = log_in("clerk_pingxiang", PASSWORD).json()["token"]
    activity = TokenActivity.objects.get(token_id=key)

    activity.last_used_at = timezone.now() - dt.timedelta(seconds=3600 - 30)
    activity.save()
    assert token_client(key).get("/api/v1/me/").status_code == 200

    activity.last_used_at = timezone.now() - dt.timedelta(seconds=3600 + 30)
    activity.save()
    res = token_client(key).get("/api/v1/me/")
    assert res.status_code == 401 and PROBLEM_KEYS <= set(res.json())
    assert res["WWW-Authenticate"] == "Token"
    assert "inactivity" in res.json()["detail"]
    assert not Token.objects.filter(key=key).exists()

    fresh = log_in("clerk_pingxiang", PASSWORD).json()["token"]
    assert fresh != key and token_client(fresh).get("/api/v1/me/").status_code == 200


def test_a_token_never_touched_counts_from_its_creation(clerk, settings):
    settings.TOKEN_IDLE_SECONDS = 3600
    token = Token.objects.create(user=clerk)
    Token.objects.filter(pk=token.pk).update(created=timezone.now() - dt.timedelta(seconds=3601))
    assert token_client(token.key).get("/api/v1/me/").status_code == 401


def test_last_use_is_written_at_most_once_a_minute(clerk):
    key = log_in("clerk_pingxiang", PASSWORD).json()["token"]
    activity = TokenActivity.objects.get(token_id=key)

    recent = timezone.now() - dt.timedelta(seconds=50)
    TokenActivity.objects.filter(pk=key).update(last_used_at=recent)
    assert token_client(key).get("/api/v1/me/").status_code == 200
    activity.refresh_from_db()
    assert activity.last_used_at == recent  # not rewritten

    stale = timezone.now() - dt.timedelta(seconds=70)
    TokenActivity.objects.filter(pk=key).update(last_used_at=stale)
    before = timezone.now()
    assert token_client(key).get("/api/v1/me/").status_code == 200
    activity.refresh_from_db()
    assert activity.last_used_at >= before


def test_log_in_returns_the_live_token(clerk):
    first = log_in("clerk_pingxiang", PASSWORD).json()["token"]
    assert log_in("clerk_pingxiang", PASSWORD).json()["token"] == first


def test_a_stale_token_header_does_not_block_log_in(clerk):
    res = APIClient().post(
        TOKEN_URL,
        {"username": "clerk_pingxiang", "password": PASSWORD},
        format="json",
        HTTP_AUTHORIZATION="Token not-a-real-token",
    )
    assert res.status_code == 200


def test_set_password_and_save_revokes_tokens(api, clerk, analyst):
    client, other = api(clerk), api(analyst)
    clerk.set_password("another-password-2026")
    clerk.save()
    assert not Token.objects.filter(user=clerk).exists()
    assert client.get("/api/v1/me/").status_code == 401
    assert other.get("/api/v1/me/").status_code == 200  # nobody else's


def test_saving_a_user_without_a_password_change_keeps_tokens(api, clerk):
    client = api(clerk)
    clerk.first_name = "新名"
    clerk.save()
    assert client.get("/api/v1/me/").status_code == 200
    assert log_in("clerk_pingxiang", PASSWORD).status_code == 200  # a log-in does not revoke either
    assert client.get("/api/v1/me/").status_code == 200


def test_admin_password_change_revokes_tokens(api, clerk, superuser):
    client = api(clerk)
    admin = Client()
    admin.force_login(superuser)
    res = admin.post(
        f"/admin/accounts/user/{clerk.pk}/password/",
        {"password1": "Another-pass-2026", "password2": "Another-pass-2026", "usable_password": "true"},
    )
    assert res.status_code == 302, res.content[:2000]
    assert client.get("/api/v1/me/").status_code == 401


def test_changepassword_command_revokes_tokens(api, clerk):
    client = api(clerk)
    with mock.patch(
        "django.contrib.auth.management.commands.changepassword.Command._get_pass",
        return_value="Another-pass-2026",
    ):
        call_command("changepassword", "clerk_pingxiang", stdout=open(os.devnull, "w"))
    assert client.get("/api/v1/me/").status_code == 401


def test_deactivation_revokes_tokens(api, clerk):
    client = api(clerk)
    clerk.is_active = False
    clerk.save()
    assert not Token.objects.filter(user=clerk).exists()
    assert client.get("/api/v1/me/").status_code == 401


def test_delete_logs_out(api, clerk, analyst):
    other = api(analyst)
    key = log_in("clerk_pingxiang", PASSWORD).json()["token"]
    res = token_client(key).delete(TOKEN_URL)
    assert res.status_code == 204
    assert not Token.objects.filter(key=key).exists()
    assert token_client(key).get("/api/v1/me/").status_code == 401
    assert other.get("/api/v1/me/").status_code == 200  # only the caller's token
    assert api(None).delete(TOKEN_URL).status_code == 401


# -- API throttles by role -------------------------------------------------------------------------


def test_role_throttles(api, clerk, analyst, superuser, rates):
    rates(clerk="2/minute", analyst="3/minute", inspector="4/minute", reviewer="5/minute")
    client = api(clerk)
    assert [client.get("/api/v1/me/").status_code for _ in range(2)] == [200, 200]
    res = client.get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert 1 <= assert_429_problem(res) <= 60
    assert res.json()["title"] == "请求过于频繁"
    assert api(analyst).get("/api/v1/me/").status_code == 200  # counted per user
    analyst_client = api(analyst)
    assert [analyst_client.get("/api/v1/me/").status_code for _ in range(3)] == [200, 200, 429]
    # a superuser gets the most generous role rate (here the reviewer's five)
    admin_client = api(superuser)
    assert [admin_client.get("/api/v1/me/").status_code for _ in range(6)] == [200] * 5 + [429]


def test_the_throttle_history_is_an_array_and_an_earlier_list_still_counts(api, clerk, rates):
    """The history is stored as an array of doubles (cheap to pickle at any limit); a list left in
    the cache by an earlier release still counts its requests."""
    import time
    from array import array

    from django.core.cache import cache

    rates(clerk="3/minute")
    key = f"throttle_user_{clerk.pk}"
    cache.set(key, [time.time()], 60)  # one request counted by an earlier release
    client = api(clerk)
    assert [client.get("/api/v1/me/").status_code for _ in range(3)] == [200, 200, 429]
    history = cache.get(key)
    assert isinstance(history, array) and history.typecode == "d" and len(history) == 3


def test_a_user_with_several_roles_gets_the_most_generous_rate(api, regions, rates):
    from tests.conftest import make_user

    both = make_user("clerk_and_analyst", regions["360300"], "clerk", "analyst")
    rates(clerk="1/minute", analyst="2/minute")
    client = api(both)
    assert [client.get("/api/v1/me/").status_code for _ in range(3)] == [200, 200, 429]


def test_anonymous_callers_are_throttled_per_address(db, rates):
    rates(anon="1/minute")
    client = APIClient(HTTP_ACCEPT="application/json")
    assert client.get("/api/v1/schema/", REMOTE_ADDR="10.0.0.5").status_code == 200
    assert_429_problem(client.get("/api/v1/schema/", REMOTE_ADDR="10.0.0.5"))
    assert client.get("/api/v1/schema/", REMOTE_ADDR="10.0.0.6").status_code == 200


# -- the admin's log-in ----------------------------------------------------------------------------


def admin_log_in(username: str, password: str, *, ip: str = "127.0.0.1", language: str = "en"):
    return Client().post(
        ADMIN_LOGIN,
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=ip,
        HTTP_ACCEPT_LANGUAGE=language,
    )


def test_admin_log_in_is_throttled_with_a_message(clerk, rates):
    rates(login_ip="2/minute")
    assert admin_log_in("clerk_pingxiang", "wrong").status_code == 200  # the form, with its error
    assert admin_log_in("clerk_pingxiang", PASSWORD).status_code == 302  # logged in
    zh = admin_log_in("clerk_pingxiang", PASSWORD, language="zh-hans")
    assert zh.status_code == 429 and 1 <= int(zh["Retry-After"]) <= 60
    assert "登录尝试次数过多，请 1 分钟后再试。" in zh.content.decode()
    assert "_auth_user_id" not in zh.client.session
    en = admin_log_in("clerk_pingxiang", PASSWORD, language="en")
    assert en.status_code == 429 and "Too many log-in attempts. Try again in 1 minute." in en.content.decode()
    assert admin_log_in("clerk_pingxiang", PASSWORD, ip="10.0.0.9").status_code == 302


def test_admin_log_in_honours_the_lock_out(clerk, lockout):
    for _ in range(4):
        assert admin_log_in("clerk_pingxiang", "wrong").status_code == 200
    fifth = admin_log_in("clerk_pingxiang", "wrong")
    assert fifth.status_code == 429 and int(fifth["Retry-After"]) >= 890
    assert "Try again in 15 minutes." in fifth.content.decode()
    assert admin_log_in("clerk_pingxiang", PASSWORD).status_code == 429
    # the lock is shared with the API: one username, one count
    assert_429_problem(log_in("clerk_pingxiang", PASSWORD))


def test_admin_log_in_page_still_shows(db):
    assert Client().get(ADMIN_LOGIN).status_code == 200


# -- configuration ---------------------------------------------------------------------------------


def test_bad_rates_and_numbers_fail_loudly(monkeypatch):
    monkeypatch.setenv("THROTTLE_RATE_X", "5/mango")
    with pytest.raises(ImproperlyConfigured):
        env_rate("THROTTLE_RATE_X", "1/minute")
    monkeypatch.setenv("THROTTLE_RATE_X", "20/minute")
    assert env_rate("THROTTLE_RATE_X", "1/minute") == "20/minute"
    monkeypatch.setenv("LOGIN_LOCKOUT_FAILURES", "0")
    with pytest.raises(ImproperlyConfigured):
        env_int("LOGIN_LOCKOUT_FAILURES", 5, minimum=1)


def test_without_redis_counts_stay_in_memory_never_the_database(db):
    assert django_settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    cache.set("tracker-test-key", [1.5, 2.5], 60)
    assert cache.get("tracker-test-key") == [1.5, 2.5]


def test_redis_url_selects_the_redis_cache():
    env = {**os.environ, "REDIS_URL": "redis://127.0.0.1:6379/3", "DEBUG": "true"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    code = (
        "import tracker.settings as s; print(s.CACHES['default']['BACKEND'], s.CACHES['default']['LOCATION'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=django_settings.BASE_DIR,
    ).stdout.split()
    assert out == ["django.core.cache.backends.redis.RedisCache", "redis://127.0.0.1:6379/3"]
