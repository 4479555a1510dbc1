"""The import as an existence oracle (issue 7): a number registered outside the importer's region is
answered as a single registration answers it, each answer is a `duplicate_probe` change entry that
survives the import's rejection, and a user is throttled on them (429 with Retry-After)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from beneficiaries import probes
from beneficiaries.models import Beneficiary
from tests.beneficiaries.test_imports import URL, csv_bytes, row
from tracker.changelog.models import ChangeEntry


@pytest.fixture
def registered(api, clerk, groups):
    """Five people registered in 萍乡市 by its clerk."""
    res = api(clerk).post(
        URL, {"file": SimpleUploadedFile("a.csv", csv_bytes([row(i) for i in range(1, 6)]))}
    )
    assert res.status_code == 201
    return list(Beneficiary.objects.order_by("id"))


def theirs(seq: int) -> dict:
    """Person `seq` of 萍乡市 as the outsider (梧州市) would submit them: same number, their region."""
    return row(seq, region="450400", id_number=row(seq)["id_number"])


def probe(client, seqs, **params):
    content = csv_bytes([theirs(i) for i in seqs])
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return client.post(f"{URL}?{query}", {"file": SimpleUploadedFile("a.csv", content)}, format="multipart")


def probe_entries():
    return ChangeEntry.objects.filter(action="duplicate_probe").order_by("id")


@pytest.mark.parametrize("params", [{"dry_run": "true"}, {}, {"mode": "upsert"}])
def test_an_import_says_no_more_than_a_single_registration(api, outsider, registered, params):
    client = api(outsider)
    single = theirs(1)
    created = client.post(
        "/api/v1/beneficiaries/",
        {"name": single["name"], "id_number": single["id_number"], "region": "450400"},
        format="json",
    )
    assert created.status_code == 409
    res = probe(client, [1], **params)
    assert res.status_code == 400
    (error,) = res.json()["row_errors"]
    assert error["message"] == created.json()["detail"]  # the same words, nothing more
    assert f"beneficiary {registered[0].pk}" not in res.content.decode()
    assert set(res.json()) == {"type", "title", "status", "detail", "errors", "row_errors"}


def test_each_answer_is_a_probe_entry_that_the_rejection_does_not_undo(api, outsider, registered):
    versions = {p.pk: p.version for p in registered}
    res = probe(api(outsider), [1, 2, 9], dry_run="true")
    assert res.status_code == 400
    entries = list(probe_entries())
    assert [int(e.object_id) for e in entries] == [registered[0].pk, registered[1].pk]
    for entry in entries:
        assert (entry.model, entry.source, entry.actor_name) == (
            "beneficiaries.beneficiary",
            "import",
            "clerk_wuzhou",
        )
        assert entry.region_path.startswith("000000/360000/360300/")  # the person's region sees it
        assert entry.changes == {} and "outside" in entry.reason
    # The probe is an event on the person's record: its version moves on, nothing else changes.
    assert Beneficiary.objects.get(pk=registered[0].pk).version == versions[registered[0].pk] + 1
    assert Beneficiary.objects.get(pk=registered[2].pk).version == versions[registered[2].pk]
    from tracker.changelog.selectors import changes_verify

    result = changes_verify()
    assert not result["problems"], result


def test_people_in_scope_are_not_probes(api, clerk, registered):
    res = api(clerk).post(URL, {"file": SimpleUploadedFile("a.csv", csv_bytes([row(1)]))}, format="multipart")
    assert res.status_code == 400 and f"beneficiary {registered[0].pk}" in res.content.decode()
    assert not probe_entries().exists()


def test_the_limit_is_per_user_per_hour_and_refuses_without_answers(api, outsider, registered, settings):
    settings.DUPLICATE_PROBE_LIMIT = 3
    client = api(outsider)
    res = probe(client, [1, 2, 3], dry_run="true")  # exactly the limit: answered
    assert res.status_code == 400 and len(res.json()["row_errors"]) == 3
    res = probe(client, [9], dry_run="true")  # at the limit: refused before the file is read
    assert res.status_code == 429
    assert int(res["Retry-After"]) > 3500
    body = res.json()
    assert body["status"] == 429 and "limit 3" in body["detail"] and "row_errors" not in body
    assert probe_entries().count() == 3


def test_a_file_that_would_pass_the_limit_is_refused_whole(api, outsider, registered, settings):
    settings.DUPLICATE_PROBE_LIMIT = 3
    client = api(outsider)
    assert probe(client, [1], dry_run="true").status_code == 400
    res = probe(client, [2, 3, 4, 5, 9])  # four more hits, two allowed
    assert res.status_code == 429 and "Retry-After" in res
    assert "row_errors" not in res.json() and "registered elsewhere" not in res.content.decode()
    # Recorded up to one past the allowance: enough to keep the user out, no more writes than that.
    assert probe_entries().count() == 4
    assert not Beneficiary.objects.filter(region__code="450400").exists()


def test_the_window_rolls(api, outsider, registered, settings, monkeypatch):
    settings.DUPLICATE_PROBE_LIMIT = 1
    client = api(outsider)
    assert probe(client, [1], dry_run="true").status_code == 400
    assert probe(client, [9], dry_run="true").status_code == 429
    later = timezone.now() + probes.WINDOW + dt.timedelta(seconds=1)
    monkeypatch.setattr(probes.timezone, "now", lambda: later)
    assert probe(client, [9], dry_run="true").status_code == 200


def test_other_users_are_not_throttled_by_someone_elses_probes(api, outsider, clerk, registered, settings):
    settings.DUPLICATE_PROBE_LIMIT = 1
    assert probe(api(outsider), [1, 2], dry_run="true").status_code == 429
    res = api(clerk).post(
        f"{URL}?dry_run=true", {"file": SimpleUploadedFile("a.csv", csv_bytes([row(9)]))}, format="multipart"
    )
    assert res.status_code == 200


def test_the_admin_page_is_throttled_too(outsider, registered, settings):
    from django.contrib.auth.models import Permission

    outsider.user_permissions.add(Permission.objects.get(codename="add_beneficiary"))
    settings.DUPLICATE_PROBE_LIMIT = 1
    client = Client()
    client.force_login(outsider)
    page = "/admin/beneficiaries/beneficiary/import/"
    content = csv_bytes([theirs(1), theirs(2)])
    res = client.post(page, {"file": SimpleUploadedFile("a.csv", content), "dry_run": "on"})
    assert res.status_code == 429 and int(res["Retry-After"]) > 0
    assert "Too many identity numbers" in res.content.decode()
    assert probe_entries().filter(actor_name="clerk_wuzhou").count() == 2


@pytest.mark.django_db(transaction=True)
def test_probe_entries_are_committed_although_the_import_is_rejected(api, clerk, outsider, groups):
    """Without the test's own transaction around it: the rejected import leaves its probe entries
    committed, visible to another connection."""
    from django.db import connections

    assert api(clerk).post(URL, {"file": SimpleUploadedFile("a.csv", csv_bytes([row(1)]))}).status_code == 201
    assert probe(api(outsider), [1]).status_code == 400
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute(
                f"SELECT COUNT(*) FROM {ChangeEntry._meta.db_table} WHERE action = %s", ["duplicate_probe"]
            )
            assert cursor.fetchone()[0] == 1
    finally:
        other.close()


def test_a_single_create_of_another_regions_person_is_a_logged_probe(api, regions, outsider, settings):
    """One-at-a-time creates count like the import's rows: 409 saying only "registered elsewhere",
    a duplicate_probe entry on the person (kept although the create failed), 429 past the limit."""
    from seeds.factories.beneficiaries import BeneficiaryFactory, person_data
    from tracker.changelog.models import ChangeEntry

    settings.DUPLICATE_PROBE_LIMIT = 2
    people = []
    for seq in (601, 602, 603):
        data = person_data(seq=seq)
        people.append((BeneficiaryFactory(region=regions["360300"], id_number=data["id_number"]), data))
    client = api(outsider)
    for person, data in people[:2]:
        res = client.post("/api/v1/beneficiaries/", {**data, "region": "450400"}, format="json")
        assert res.status_code == 409, res.json()
        assert "existing_id" not in res.json() and str(person.pk) not in res.json()["detail"]
        probe = ChangeEntry.objects.filter(object_id=str(person.pk), action="duplicate_probe").get()
        assert probe.actor_name == "clerk_wuzhou" and probe.region_path == person.region_path
    person, data = people[2]
    res = client.post("/api/v1/beneficiaries/", {**data, "region": "450400"}, format="json")
    assert res.status_code == 429 and int(res["Retry-After"]) >= 1
    assert not ChangeEntry.objects.filter(object_id=str(person.pk), action="duplicate_probe").exists()
