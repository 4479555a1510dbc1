"""Query budgets of the write paths (issue: "as fast as a hand-written view"). Measured in a real
transaction per request, as in production (no test savepoints), after one warm-up request that fills
the process-level caches (region paths) a running server already holds.

A single tracked save costs its own statement plus one change-entry INSERT; a PATCH of a person at
most 6 queries; a payment POST at most 12, with one change entry."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from seeds.factories.beneficiaries import BeneficiaryFactory
from tests.programs.conftest import make_person
from tracker.changelog.context import acting
from tracker.changelog.models import ChangeEntry

pytestmark = pytest.mark.django_db(transaction=True)


def _counted(ctx: CaptureQueriesContext) -> list[str]:
    """The statements that do work: transaction boundaries (BEGIN, COMMIT) are left out, since SQLite
    logs its BEGIN and PostgreSQL's driver sends one unlogged; savepoints count."""
    bounds = {"BEGIN", "BEGIN IMMEDIATE", "COMMIT"}
    return [q["sql"] for q in ctx.captured_queries if q["sql"].strip().upper() not in bounds]


def test_a_tracked_save_is_its_statement_plus_one_entry(regions, clerk):
    person = BeneficiaryFactory(region=regions["360300"])
    person.refresh_from_db()
    assert clerk.scope_path
    with CaptureQueriesContext(connection) as ctx, acting(clerk):
        person.notes = "一条"
        person.save()
    statements = _counted(ctx)
    assert len(statements) == 2, statements
    assert statements[0].startswith("UPDATE") and "changelog_changeentry" in statements[1]


def test_patch_of_a_person_within_budget(api, clerk, regions):
    person = BeneficiaryFactory(region=regions["360300"])
    client = api(clerk)
    client.get(f"/api/v1/beneficiaries/{person.pk}/")  # warm-up
    with CaptureQueriesContext(connection) as ctx:
        res = client.patch(
            f"/api/v1/beneficiaries/{person.pk}/", {"address": "萍乡市安源区 1 号"}, format="json"
        )
    assert res.status_code == 200, res.json()
    statements = _counted(ctx)
    assert len(statements) <= 6, "\n".join(statements)


def test_payment_post_within_budget_with_one_change_entry(api, clerk, regions):
    from seeds.factories.funding import FundSourceFactory, ProgramFactory

    program = ProgramFactory(
        region=regions["360300"], fund_source=FundSourceFactory(), eligible_groups=["lifted_out_of_poverty"]
    )
    person = make_person(regions["360300"])
    client = api(clerk)
    client.get("/api/v1/payments/")  # warm-up
    entries = ChangeEntry.objects.count()
    with CaptureQueriesContext(connection) as ctx:
        res = client.post(
            "/api/v1/payments/",
            {"program": program.code, "beneficiary": person.pk, "month": "2021-05", "submit": True},
            format="json",
        )
    assert res.status_code == 201, res.json()
    statements = _counted(ctx)
    assert len(statements) <= 12, "\n".join(statements)
    assert ChangeEntry.objects.count() == entries + 1


@pytest.mark.django_db
def test_a_payment_post_with_an_idempotency_key_writes_one_change_entry(api, clerk, regions):
    """The key's record is an untracked row: the create logs the payment and nothing else, and the
    replay writes nothing at all."""
    from seeds.factories.funding import FundSourceFactory, ProgramFactory

    program = ProgramFactory(
        region=regions["360300"], fund_source=FundSourceFactory(), eligible_groups=["lifted_out_of_poverty"]
    )
    person = make_person(regions["360300"])
    client = api(clerk)
    body = {"program": program.code, "beneficiary": person.pk, "month": "2021-05", "submit": True}
    entries = ChangeEntry.objects.count()
    first = client.post("/api/v1/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY="pay-2021-05-a")
    assert first.status_code == 201, first.json()
    assert ChangeEntry.objects.count() == entries + 1
    replay = client.post("/api/v1/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY="pay-2021-05-a")
    assert replay.json()["id"] == first.json()["id"]
    assert ChangeEntry.objects.count() == entries + 1
