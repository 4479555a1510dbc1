"""The fixed cast every test uses: the seeded regions and one user per role and region.

clerk_pingxiang, reviewer_pingxiang  萍乡市 360300
inspector_jiangxi                    江西省 360000
analyst_national                     the whole country
clerk_wuzhou                         梧州市 450400 (the outsider for anything in Jiangxi)
superuser
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from seeds.accounts import seed_roles
from seeds.reference import seed_regions
from tracker.accounts.choices import Role
from tracker.accounts.models import User
from tracker.changelog.context import Source, command_context
from tracker.regions.models import Region


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> None:
    with django_db_blocker.unblock(), command_context("test-setup", source=Source.SEED):
        seed_regions()
        seed_roles()


@pytest.fixture(scope="session", autouse=True)
def _live_server_one_request_at_a_time() -> Any:
    """On SQLite in memory the live server shares the test database's one connection with its
    request threads; a browser loading a page asks for several things at once, and two requests on
    that connection at once can hang both (seen in CI: two request threads blocked inside SQLite while
    Selenium waited on a click). Serve requests one at a time there: Django's server then closes each
    connection after its response, so the browser never waits on a kept-alive socket."""
    from django.core.servers.basehttp import WSGIServer
    from django.test.testcases import LiveServerThread

    if connection.vendor != "sqlite":
        yield
        return

    class SerialWSGIServer(WSGIServer):
        def __init__(self, *args: Any, connections_override: Any = None, **kwargs: Any) -> None:
            # LiveServerThread.run() already gives its own thread the shared connections.
            super().__init__(*args, **kwargs)

    original = LiveServerThread.server_class
    LiveServerThread.server_class = SerialWSGIServer
    try:
        yield
    finally:
        LiveServerThread.server_class = original


@pytest.fixture(autouse=True)
def _reset_region_cache() -> None:
    from django.core.cache import cache

    Region._path_cache.clear()
    cache.clear()  # request-rate counts (in process memory without REDIS_URL)


@pytest.fixture(autouse=True)
def _fixture_writes_are_a_script() -> Any:
    """Test data that a test builds directly (factories, model saves) is written by a script named
    `test-fixture`, as the seed is; services called with a user still log that user (acting), and
    API and admin requests open their own context, where a write without an actor is refused."""
    with command_context("test-fixture", source=Source.SEED):
        yield


@pytest.fixture
def regions(db: Any) -> dict[str, Region]:
    """Code -> region. Re-seeds when a transactional test has flushed the database."""
    if not Region.objects.exists():
        with command_context("test-setup", source=Source.SEED):
            seed_regions()
            seed_roles()
    return {r.code: r for r in Region.objects.all()}


def make_user(username: str, region: Region | None, *roles: str, superuser: bool = False) -> User:
    from django.contrib.auth.models import Group

    user = User.objects.create_user(
        username=username, password="pw-for-tests", region=region, is_superuser=superuser, is_staff=True
    )
    user.groups.set(Group.objects.filter(name__in=roles))
    return user


@pytest.fixture
def clerk(regions: dict[str, Region]) -> User:
    return make_user("clerk_pingxiang", regions["360300"], Role.CLERK)


@pytest.fixture
def reviewer(regions: dict[str, Region]) -> User:
    return make_user("reviewer_pingxiang", regions["360300"], Role.REVIEWER)


@pytest.fixture
def inspector(regions: dict[str, Region]) -> User:
    return make_user("inspector_jiangxi", regions["360000"], Role.INSPECTOR)


@pytest.fixture
def analyst(regions: dict[str, Region]) -> User:
    return make_user("analyst_national", regions["000000"], Role.ANALYST)


@pytest.fixture
def outsider(regions: dict[str, Region]) -> User:
    return make_user("clerk_wuzhou", regions["450400"], Role.CLERK)


@pytest.fixture
def superuser(regions: dict[str, Region]) -> User:
    return make_user("admin", regions["000000"], superuser=True)


@pytest.fixture
def api() -> Callable[[User | None], APIClient]:
    """api(user) -> a client authenticated with that user's token (None: anonymous)."""

    def client_for(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            from rest_framework.authtoken.models import Token

            token, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return client_for


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


# Concurrency proofs need real row locks and parallel connections; SQLite has neither.
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL (run with DATABASE_URL=postgres://...); SQLite has no row locks",
)
