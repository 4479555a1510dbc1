"""A Python client generated from the live schema by openapi-python-client (pinned in the dev
requirements), imported and driven against a live server as a developer would: log in for a token,
list people with a filter, register a person, fetch page 2 by its cursor, and meet a 400 problem.

Generation must be clean: no warning from the generator (a warning means part of the API is missing
from the client)."""

from __future__ import annotations

import datetime as dt
import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from beneficiaries.choices import Gender
from beneficiaries.identity import make_id_number
from beneficiaries.models import Beneficiary
from seeds.factories.beneficiaries import BeneficiaryFactory

pytestmark = pytest.mark.django_db(transaction=True)

PACKAGE = "tracker_client"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")
NUMBER = make_id_number("360302", dt.date(1991, 7, 9), 31, Gender.MALE)
WRONG_CHECK_DIGIT = NUMBER[:-1] + ("1" if NUMBER[-1] != "1" else "2")


def generate(schema_url: str, into: Path) -> str:
    """Run the generator on the schema the server answers, as the README says; returns what it
    printed."""
    # The generator formats its output with ruff (a dev requirement), found on PATH beside it.
    env = {**os.environ, "PATH": f"{GENERATOR.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    config = into / "config.yaml"
    config.write_text("http_timeout: 120\n", encoding="utf-8")  # the default 5 s is short for a slow CI
    command = [str(GENERATOR), "generate", "--url", schema_url, "--config", str(config), "--meta", "none"]
    command.append("--fail-on-warning")
    result = subprocess.run(
        [*command, "--output-path", str(into / PACKAGE)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


@pytest.fixture
def client_package(live_server: Any, tmp_path: Path) -> Iterator[Any]:
    output = generate(f"{live_server.url}/api/v1/schema/", tmp_path)
    assert "Warning" not in output and "Error" not in output, output
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def test_a_generated_python_client_drives_the_api(
    client_package: Any, live_server: Any, clerk: Any, regions: Any
) -> None:
    from tracker_client import AuthenticatedClient, Client
    from tracker_client.api.auth import auth_token_create
    from tracker_client.api.beneficiaries import beneficiaries_create, beneficiaries_list
    from tracker_client.models import (
        AuthTokenRequest,
        BeneficiaryRequest,
        PaginatedBeneficiaryList,
        Problem,
        TokenResponse,
    )
    from tracker_client.models import (
        Beneficiary as BeneficiaryModel,
    )

    BeneficiaryFactory.create_batch(3, region=regions["360300"], willing_to_work=True)
    BeneficiaryFactory.create(region=regions["360300"], willing_to_work=False)

    # 1. a token, by logging in
    anonymous = Client(base_url=live_server.url, raise_on_unexpected_status=True)
    login = auth_token_create.sync(
        client=anonymous, body=AuthTokenRequest(username=clerk.username, password="pw-for-tests")
    )
    assert isinstance(login, TokenResponse) and login.token
    api = AuthenticatedClient(base_url=live_server.url, token=login.token, prefix="Token")

    # 2. a list with a filter: page 1 of the people willing to work
    page = beneficiaries_list.sync(client=api, within="360300", willing_to_work=True, page_size=2)
    assert isinstance(page, PaginatedBeneficiaryList)
    assert len(page.results) == 2 and all(person.willing_to_work for person in page.results)
    assert page.previous_cursor is None and isinstance(page.next_cursor, str)

    # 3. register a person
    created = beneficiaries_create.sync(
        client=api,
        body=BeneficiaryRequest(
            name="周测试", id_number=NUMBER, region="360300", phone="13912345678", willing_to_work=True
        ),
    )
    assert isinstance(created, BeneficiaryModel), created
    assert created.region == "360300" and created.id_number.endswith(NUMBER[-4:])
    assert Beneficiary.objects.get(pk=created.id).name == "周测试"

    # 4. page 2, by the bare cursor of page 1: the rest of the list as it was read (newest first, so
    # the person registered since is on a new first page, not here)
    second = beneficiaries_list.sync(
        client=api, within="360300", willing_to_work=True, page_size=2, cursor=page.next_cursor
    )
    assert isinstance(second, PaginatedBeneficiaryList)
    assert len(second.results) == 1 and second.results[0].id not in {person.id for person in page.results}
    assert second.next_cursor is None and second.next_ is None and isinstance(second.previous_cursor, str)
    fresh = beneficiaries_list.sync(client=api, within="360300", willing_to_work=True, page_size=2)
    assert isinstance(fresh, PaginatedBeneficiaryList) and fresh.results[0].id == created.id

    # 5. a 400 problem: a wrong check digit, refused field by field
    refused = beneficiaries_create.sync_detailed(
        client=api, body=BeneficiaryRequest(name="吴测试", id_number=WRONG_CHECK_DIGIT, region="360300")
    )
    assert refused.status_code == 400
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.parsed
    assert isinstance(problem, Problem)
    assert (problem.type_, problem.status) == ("/problems/400", 400)
    assert "id_number" in problem.errors.additional_properties
    assert not Beneficiary.objects.filter(name="吴测试").exists()
