"""The inspections seed: the Wugongshan inspection of August 2021 with its villages, items and
rectification opinions (findings = the gaps the posts seed planted), complaints, a confirmation
sample with one discrepancy, and a check run whose findings are the planted violations and nothing
else; idempotent and in the change log."""

from __future__ import annotations

import io

import pytest

from programs.inspections.models import CheckRun, Complaint, ConfirmationSample, Finding, Inspection
from seeds.accounts import seed_demo_accounts
from tracker.changelog.context import Source, command_context
from tracker.changelog.models import ChangeEntry
from tracker.changelog.selectors import changes_verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(regions):
    from seeds.beneficiaries import seed_beneficiaries
    from seeds.funding import seed_funding
    from seeds.inspections import seed_inspections
    from seeds.posts import seed_posts

    seed_demo_accounts("pw-for-tests-123")
    out = io.StringIO()
    with command_context("seed", source=Source.SEED):
        seed_beneficiaries(io.StringIO())
        seed_funding(io.StringIO())
        seed_posts(io.StringIO())
        seed_inspections(out)
    return out.getvalue()


def test_the_wugongshan_inspection(seeded):
    inspection = Inspection.objects.get()
    assert inspection.status == "closed" and inspection.inspectors == ["inspector_jiangxi"]
    assert not inspection.items.filter(result="pending").exists()
    failed = dict(inspection.items.filter(result="failed").values_list("code", "rectification_opinion"))
    assert set(failed) == {
        "labor_contract_signing",
        "attendance_assessment",
        "subsidy_payment",
        "personnel_changes",
    }
    assert all(failed.values())
    findings = Finding.objects.filter(inspection=inspection)
    assert findings.count() == inspection.items.filter(result="failed").count()
    assert findings.filter(status="verified", rule="labor_contract_signing").count() == 1
    villages = set(inspection.items.filter(level="village").values_list("region__code", flat=True))
    assert {"3603X1901001", "3603X1901002", "3603X1902001"} <= villages
    print(seeded)


def test_complaints_and_the_confirmation_sample(seeded):
    assert Complaint.objects.count() == 3
    assert set(Complaint.objects.values_list("status", flat=True)) == {
        "unfounded",
        "resolved",
        "investigating",
    }
    assert Complaint.objects.get(status="resolved").finding.severity == "high"
    sample = ConfirmationSample.objects.get()
    assert (sample.size, sample.confirmed, sample.discrepancies) == (5, 5, 1)
    assert Finding.objects.filter(source="confirmation", severity="high").count() == 1


def test_the_check_run_finds_the_planted_violations_and_nothing_else(seeded):
    run = CheckRun.objects.get()
    found = {
        (f.rule, f.evidence.get("left_on") or f.evidence.get("kind") or "")
        for f in Finding.objects.filter(check_run=run)
    }
    assert found == {
        ("POST_NO_CONTRACT", ""),
        ("SUBSIDY_AFTER_EXIT", "2021-05-31"),
        ("PERSONNEL_CHANGE_LATE", "end"),
    }, found


def test_idempotent_and_verifiable(seeded):
    from seeds.inspections import seed_inspections

    entries = ChangeEntry.objects.count()
    with command_context("seed", source=Source.SEED):
        seed_inspections(io.StringIO())
    assert ChangeEntry.objects.count() == entries
    result = changes_verify()
    assert result["ok"], result["problems"][:5]
