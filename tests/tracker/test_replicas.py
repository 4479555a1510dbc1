"""Read replicas (tracker/db_routers.py): exports and reports read from the replica inside
`read_from_replica()`; writes, reads in a write transaction and every other read go to the primary.

The integration tests run with two real databases, the primary (`default`) and `replica` (on
PostgreSQL two databases of the server, on SQLite two in-memory databases). The tests keep the
replica in step themselves, as streaming replication would (every table copied row for row), and then
change one value on the replica on purpose, so each answer shows by its data which database it came
from.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from programs.funding import services
from programs.funding.choices import PaymentStatus
from programs.funding.models import Payment
from tests.programs.conftest import fund, make_program, pay, person, person_in, program  # noqa: F401
from tracker.changelog.entries import ChangeEntry
from tracker.db_routers import PrimaryReplicaRouter, read_from_replica, reads_go_to_replica
from tracker.jobs.models import Job, JobStatus

PRIMARY_REASON = "written on the primary"
REPLICA_REASON = "as the replica holds it"


# -- the router on its own ------------------------------------------------------------------------


def test_without_a_replica_every_read_goes_to_the_primary(settings):
    settings.READ_REPLICA_DATABASE = None
    with read_from_replica():
        assert reads_go_to_replica() is None
        assert PrimaryReplicaRouter().db_for_read(Payment) is None  # Django's default: the primary


def test_only_reads_inside_the_block_go_to_the_replica(settings):
    settings.READ_REPLICA_DATABASE = "replica"
    router = PrimaryReplicaRouter()
    assert router.db_for_read(Payment) is None
    with read_from_replica():
        assert router.db_for_read(Payment) == "replica"
        with read_from_replica():
            assert router.db_for_read(Payment) == "replica"
        assert router.db_for_read(Payment) == "replica"  # the inner block ends, the outer goes on
    assert router.db_for_read(Payment) is None

    @read_from_replica()
    def report() -> str | None:
        return router.db_for_read(Payment)

    assert report() == "replica"
    assert router.db_for_read(Payment) is None


def test_a_read_inside_a_transaction_on_the_primary_goes_to_the_primary(settings, monkeypatch):
    settings.READ_REPLICA_DATABASE = "replica"
    monkeypatch.setattr(connections[DEFAULT_DB_ALIAS], "in_atomic_block", True)
    with read_from_replica():
        assert PrimaryReplicaRouter().db_for_read(Payment) is None


def test_writes_never_go_to_the_replica(settings):
    settings.READ_REPLICA_DATABASE = "replica"
    router = PrimaryReplicaRouter()
    from_replica = Payment()
    from_replica._state.db = "replica"
    with read_from_replica():
        assert router.db_for_write(Payment, instance=from_replica) == DEFAULT_DB_ALIAS
        assert router.db_for_write(Payment) is None  # Django's default: the primary


# -- two databases ----------------------------------------------------------------------------------


def replicate() -> None:
    """Make the replica an exact copy of the primary, table by table (what streaming replication
    keeps it): emptied, then every row copied. PostgreSQL copies with COPY; SQLite row by row."""
    call_command("flush", database="replica", interactive=False, inhibit_post_migrate=True, verbosity=0)
    source, target = connections[DEFAULT_DB_ALIAS], connections["replica"]
    tables = source.introspection.django_table_names(only_existing=True, include_views=False)
    with transaction.atomic(using="replica"), source.cursor() as read, target.cursor() as write:
        for table in sorted(tables):
            name = source.ops.quote_name(table)
            if source.vendor == "postgresql":
                with (
                    read.cursor.copy(f"COPY {name} TO STDOUT") as out,
                    write.cursor.copy(f"COPY {name} FROM STDIN") as into,
                ):
                    for data in out:
                        into.write(data)
            else:
                read.execute(f"SELECT * FROM {name}")
                columns = ", ".join(source.ops.quote_name(c[0]) for c in read.description)
                marks = ", ".join(["%s"] * len(read.description))
                rows = read.fetchall()
                if rows:
                    write.executemany(f"INSERT INTO {name} ({columns}) VALUES ({marks})", rows)


def set_reason_on_replica(payment: Payment, reason: str) -> None:
    with connections["replica"].cursor() as cursor:
        table = connections["replica"].ops.quote_name(Payment._meta.db_table)
        cursor.execute(f"UPDATE {table} SET reason = %s WHERE id = %s", [reason, payment.pk])


def export_reasons(body: bytes) -> dict[int, str]:
    rows = csv.DictReader(io.StringIO(body.decode("utf-8-sig")))
    return {int(row["id"]): row["reason"] for row in rows}


@pytest.fixture
def two_copies(settings, program, person, pay, clerk) -> Payment:  # noqa: F811
    """A draft payment on the primary; the replica a copy of the primary in which the payment's reason
    differs."""
    settings.READ_REPLICA_DATABASE = "replica"
    payment = pay(program, beneficiary=person, reason=PRIMARY_REASON)
    replicate()
    set_reason_on_replica(payment, REPLICA_REASON)
    return payment


replica_databases = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


@replica_databases
def test_the_export_reads_the_replica_and_the_detail_the_primary(two_copies, api, clerk):
    payment = two_copies
    client = api(clerk)
    export = client.get("/api/v1/payments/export/", {"format": "csv", "labels": "codes"})
    assert export.status_code == 200
    assert export_reasons(b"".join(export.streaming_content)) == {payment.pk: REPLICA_REASON}
    # An ordinary read (the clerk reading back what they wrote) is the primary's.
    detail = client.get(f"/api/v1/payments/{payment.pk}/")
    assert detail.status_code == 200 and detail.json()["reason"] == PRIMARY_REASON


@replica_databases
def test_the_background_export_reads_the_replica(two_copies, api, clerk, settings, tmp_path: Path):
    settings.MEDIA_ROOT = tmp_path
    answer = api(clerk).get(
        "/api/v1/payments/export/", {"format": "csv", "labels": "codes", "background": "true"}
    )
    assert answer.status_code == 202
    job = Job.objects.get(pk=answer.json()["id"])
    assert job.status == JobStatus.SUCCEEDED, job.error  # inline: no broker in the test settings
    assert export_reasons(Path(job.result_file.path).read_bytes()) == {two_copies.pk: REPLICA_REASON}


@replica_databases
def test_writes_and_reads_in_a_write_transaction_go_to_the_primary(two_copies, api, clerk):
    payment = two_copies
    with read_from_replica():
        assert Payment.objects.get(pk=payment.pk).reason == REPLICA_REASON
        with transaction.atomic():
            # The lock and the rule checks of a write read what the write will change.
            locked = Payment.objects.select_for_update().get(pk=payment.pk)
            assert locked.reason == PRIMARY_REASON
        # An instance read from the replica is saved to the primary.
        from_replica = Payment.objects.get(pk=payment.pk)
        assert from_replica._state.db == "replica"
        services.payment_submit(payment=from_replica, actor=clerk)
    primary = Payment.objects.using("default").get(pk=payment.pk)
    replica = Payment.objects.using("replica").get(pk=payment.pk)
    assert (primary.status, primary.reason) == (PaymentStatus.SUBMITTED, PRIMARY_REASON)
    assert (replica.status, replica.reason) == (PaymentStatus.DRAFT, REPLICA_REASON)
    entries = {"model": "funding.payment", "object_id": str(payment.pk), "action": "submit"}
    assert ChangeEntry.objects.using("default").filter(**entries).count() == 1
    assert not ChangeEntry.objects.using("replica").filter(**entries).exists()


@replica_databases
def test_without_a_replica_configured_the_export_reads_the_primary(two_copies, api, clerk, settings):
    settings.READ_REPLICA_DATABASE = None
    export = api(clerk).get("/api/v1/payments/export/", {"format": "csv", "labels": "codes"})
    assert export_reasons(b"".join(export.streaming_content)) == {two_copies.pk: PRIMARY_REASON}
