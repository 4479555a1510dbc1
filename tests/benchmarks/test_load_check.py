"""The load run's no-loss check (benchmarks/load/check.py), on a few writes made through the API: an
acknowledged write passes; a lost one, one behind its acknowledged version, one whose entry another
request wrote, and one key acknowledged for two records are each reported."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.load.check import check_acknowledged
from tests.programs.conftest import fund, make_program, person, person_in, program  # noqa: F401

pytestmark = pytest.mark.django_db

PAYMENTS = "/api/v1/payments/"


def ack(response: Any, **extra: Any) -> dict[str, Any]:
    """What the load generator records of a 2xx write (benchmarks/load/locustfile.py)."""
    label, pk, version = response["ETag"].strip('"').rsplit(":", 2)
    return {
        "kind": "payment_submission",
        "model": label,
        "id": int(pk),
        "version": int(version),
        "request_id": response["X-Request-ID"],
        "replayed": response.get("Idempotent-Replayed") == "true",
        **extra,
    }


@pytest.fixture
def submitted(api, clerk, program, person):  # noqa: F811
    client = api(clerk)
    body = {"program": program.code, "beneficiary": person.pk, "month": "2021-05", "submit": True}
    first = client.post(PAYMENTS, body, format="json", HTTP_IDEMPOTENCY_KEY="load-1")
    replay = client.post(PAYMENTS, body, format="json", HTTP_IDEMPOTENCY_KEY="load-1")
    assert first.status_code == replay.status_code == 201
    return ack(first, key="load-1"), ack(replay, key="load-1")


def test_acknowledged_writes_and_replays_pass(submitted):
    first, replay = submitted
    assert replay["replayed"] and replay["request_id"] != first["request_id"]
    assert check_acknowledged([first, replay]) == (2, [])


def test_a_lost_write_is_reported(submitted):
    first, _ = submitted
    lost = {**first, "id": first["id"] + 1000}
    checked, problems = check_acknowledged([lost])
    assert checked == 1 and problems == [
        f"payment_submission funding.payment:{lost['id']} v{lost['version']}: "
        "acknowledged, but the record is not in the database"
    ]


def test_a_version_ahead_of_the_database_and_the_log_is_reported(submitted):
    first, _ = submitted
    _, problems = check_acknowledged([{**first, "version": first["version"] + 1}])
    assert len(problems) == 2
    assert "behind what was acknowledged" in problems[0]
    assert "the change log has no entry for that version" in problems[1]


def test_an_entry_written_by_another_request_is_reported(submitted):
    first, _ = submitted
    _, problems = check_acknowledged([{**first, "request_id": "someone-else"}])
    assert len(problems) == 1 and "not by the acknowledged someone-else" in problems[0]


def test_one_key_acknowledged_for_two_records_is_reported(submitted, api, clerk, program, person):  # noqa: F811
    first, _ = submitted
    other = api(clerk).post(
        PAYMENTS,
        {"program": program.code, "beneficiary": person.pk, "month": "2021-06"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="load-2",
    )
    _, problems = check_acknowledged([first, ack(other, key="load-1")])
    assert problems == [
        f"Idempotency-Key load-1 acknowledged for several records: {sorted([first['id'], int(other.json()['id'])])}"
    ]
