"""Least privilege on PostgreSQL: the application role may add to the change log but neither rewrite
it nor switch its triggers off."""

from __future__ import annotations

import io
import uuid

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from tests.conftest import postgres_only
from tracker.changelog.privileges import grant_statements


def test_the_command_prints_roles_and_grants():
    out = io.StringIO()
    call_command("db_roles", "--owner", "own", "--app", "svc", "--database", "db1", stdout=out)
    text = out.getvalue()
    assert "CREATE ROLE svc LOGIN NOSUPERUSER" in text
    assert "REVOKE UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES ON changelog_changeentry" in text
    with pytest.raises(ValueError):
        grant_statements(app="svc; DROP TABLE x")


@postgres_only
@pytest.mark.django_db
def test_the_app_role_cannot_rewrite_the_log_or_disable_its_triggers(regions):
    role = f"tracker_app_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
        for sql in grant_statements(app=role):
            cursor.execute(sql)
    try:
        allowed = [
            "SELECT count(*) FROM changelog_changeentry",
            "UPDATE regions_region SET name_en = name_en WHERE code = '360300'",
        ]
        refused = [
            "UPDATE changelog_changeentry SET reason = 'forged'",
            "DELETE FROM changelog_changeentry",
            "TRUNCATE changelog_changeentry",
            "DELETE FROM changelog_changecheckpoint",
            "ALTER TABLE changelog_changeentry DISABLE TRIGGER ALL",
            "DROP TRIGGER changeentry_no_update_delete ON changelog_changeentry",
            "SET session_replication_role = replica",
        ]
        for sql in allowed:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL ROLE {role}")
                cursor.execute(sql)
                cursor.execute("RESET ROLE")  # a released savepoint keeps SET LOCAL
        for sql in refused:
            with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL ROLE {role}")
                cursor.execute(sql)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP OWNED BY {role}")
            cursor.execute(f"DROP ROLE {role}")
