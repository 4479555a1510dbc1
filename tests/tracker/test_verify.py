"""Verify sees what the database's administrator could do behind the log's back: values changed in SQL
without touching `version`, rows with no entries, rows gone without a delete entry (in any scope), and
— through the checkpoint chain kept outside the database — a record deleted together with all its
entries. Append-only checkpoints; the commands."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from seeds.factories.beneficiaries import BeneficiaryFactory
from tracker.changelog import triggers
from tracker.changelog.entries import ChangeCheckpoint
from tracker.changelog.models import ChangeEntry, UntrackedWriteError
from tracker.changelog.selectors import changes_verify, checkpoint_create


def _raw(sql: str, params: list) -> None:
    triggers.remove(connection)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
    finally:
        triggers.install(connection)


def _problems(**kwargs) -> list[str]:
    return [p["problem"] for p in changes_verify(**kwargs)["problems"]]


@pytest.fixture
def person(regions):
    return BeneficiaryFactory(region=regions["360300"], name="原名")


def test_clean_log_verifies_in_every_scope(person):
    assert changes_verify()["ok"]
    assert changes_verify(within_path=person.region.path)["ok"]
    result = changes_verify(within_path=person.region.path)
    assert result["rows_checked"] >= 1 and result["checked"] >= 1


@pytest.mark.parametrize(
    ("column", "value"),
    [("name", "改名"), ("region_id", None), ("willing_to_work", False), ("birth_date", "1960-01-01")],
)
def test_a_value_changed_in_sql_without_the_version_is_seen(person, regions, column, value):
    if column == "region_id":
        value = regions["3603X1"].pk  # moved within the scope, so a scoped verify sees it too
    with connection.cursor() as cursor:  # no trigger guards domain tables: a plain UPDATE
        cursor.execute(
            f"UPDATE beneficiaries_beneficiary SET {column} = %s WHERE id = %s", [value, person.pk]
        )
    expected = "record's values differ from those its last entry recorded (changed in SQL)"
    assert expected in _problems()
    assert expected in _problems(within_path=regions["360300"].path)


def test_a_row_without_entries_is_seen(person):
    _raw(
        "DELETE FROM changelog_changeentry WHERE model = %s AND object_id = %s",
        [
            "beneficiaries.beneficiary",
            str(person.pk),
        ],
    )
    assert any("no entry records that version" in p for p in _problems(within_path=person.region.path))


def test_a_row_deleted_in_sql_is_seen_in_a_scoped_verify_too(person):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM beneficiaries_beneficiary WHERE id = %s", [person.pk])
    assert "record is gone without a delete entry" in _problems(within_path=person.region.path)
    assert "record is gone without a delete entry" in _problems()


def test_deleting_a_record_with_all_its_entries_breaks_the_checkpoint_chain(person, regions):
    BeneficiaryFactory(region=regions["360300"])  # a later record, so the chain has entries after it
    checkpoint = checkpoint_create()
    assert checkpoint is not None and changes_verify()["ok"]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM beneficiaries_beneficiary WHERE id = %s", [person.pk])
    _raw(
        "DELETE FROM changelog_changeentry WHERE model = %s AND object_id = %s",
        [
            "beneficiaries.beneficiary",
            str(person.pk),
        ],
    )
    problems = _problems()
    assert problems == [
        "the log up to this checkpoint no longer recomputes to its digest (entries removed or altered)"
    ]


def test_checkpoints_kept_outside_catch_a_rewritten_chain(person, tmp_path):
    first = checkpoint_create()
    outside = [(first.last_entry_id, first.digest)]
    # Someone with database access forges the checkpoint table too (they cannot compute a valid
    # digest without the key, but they can delete the checkpoint row).
    _raw("DELETE FROM changelog_changecheckpoint", [])
    result = changes_verify(external_checkpoints=[(first.last_entry_id, "0" * 64)])
    assert not result["ok"]
    assert changes_verify(external_checkpoints=outside)["ok"]
    path = tmp_path / "checkpoints.txt"
    path.write_text(f"{first.last_entry_id} {'f' * 64}\n")
    with pytest.raises(SystemExit):
        call_command("verify_changes", "--checkpoints", str(path), stdout=io.StringIO())


def test_incremental_verify_skips_sealed_hmacs_but_not_rows(person):
    checkpoint_create()
    entry = ChangeEntry.objects.filter(object_id=str(person.pk), model="beneficiaries.beneficiary").get()
    _raw("UPDATE changelog_changeentry SET label = %s WHERE id = %s", ["forged", entry.id])
    assert "entry does not match its HMAC (altered or forged)" in _problems()
    # Incremental: the sealed entry's HMAC is not recomputed, but the chain... still holds (it seals
    # the stored HMACs); the full verify above is what catches an edit of an old entry's fields.
    assert "entry does not match its HMAC (altered or forged)" not in _problems(since_checkpoint=True)


def test_checkpoints_are_append_only(person):
    checkpoint = checkpoint_create()
    with pytest.raises(UntrackedWriteError):
        checkpoint.save()
    with pytest.raises(UntrackedWriteError):
        ChangeCheckpoint.objects.all().delete()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE changelog_changecheckpoint SET digest = 'x'")
    assert checkpoint_create() is None  # nothing new to seal


def test_every_trigger_is_installed(db):
    names = triggers.installed(connection)
    expected = {
        "changeentry_no_update",
        "changeentry_no_delete",
        "changecheckpoint_no_update",
        "changecheckpoint_no_delete",
    }
    if connection.vendor == "postgresql":
        expected = {
            "changeentry_no_update_delete",
            "changeentry_no_truncate",
            "changecheckpoint_no_update_delete",
            "changecheckpoint_no_truncate",
        }
    assert expected <= names


def test_checkpoint_command_prints_the_link(person):
    out = io.StringIO()
    call_command("checkpoint_changes", stdout=out)
    last_id, digest, _at = out.getvalue().split()
    assert ChangeCheckpoint.objects.get(last_entry_id=int(last_id)).digest == digest


def test_a_county_verify_checks_the_whole_history_of_a_person_who_moved_in(person, regions, superuser):
    """The version written before the move was recorded in the old county; tampering with it is still
    seen by a verify of the new county alone, and a verify of an unrelated county does not read it."""
    from beneficiaries.services import beneficiary_update

    beneficiary_update(beneficiary=person, actor=superuser, region=regions["450400"])
    first = ChangeEntry.objects.get(
        model="beneficiaries.beneficiary", object_id=str(person.pk), object_version=1
    )
    assert first.region_path == regions["360300"].path
    _raw(
        "UPDATE changelog_changeentry SET changes = %s WHERE id = %s", ['{"name": ["x", "forged"]}', first.pk]
    )
    assert "entry does not match its HMAC (altered or forged)" in _problems(
        within_path=regions["450400"].path
    )
    assert changes_verify(within_path=regions["3603X1"].path)["ok"]  # another county: not its history
