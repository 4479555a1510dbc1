"""Database triggers that make the change table append-only on SQLite and PostgreSQL: any UPDATE or
DELETE (and TRUNCATE on PostgreSQL) is refused by the database itself, whatever the client."""

from __future__ import annotations

from typing import Any

TABLE = "changelog_changeentry"

SQLITE_CREATE = [
    f"""CREATE TRIGGER IF NOT EXISTS changeentry_no_update BEFORE UPDATE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'change log is append-only: UPDATE refused'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS changeentry_no_delete BEFORE DELETE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'change log is append-only: DELETE refused'); END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS changeentry_no_update",
    "DROP TRIGGER IF EXISTS changeentry_no_delete",
]

POSTGRES_CREATE = [
    """CREATE OR REPLACE FUNCTION changeentry_refuse() RETURNS trigger AS $$
       BEGIN
         RAISE EXCEPTION 'change log is append-only: % refused', TG_OP;
       END;
       $$ LANGUAGE plpgsql""",
    f"""CREATE TRIGGER changeentry_no_update_delete BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION changeentry_refuse()""",
    f"""CREATE TRIGGER changeentry_no_truncate BEFORE TRUNCATE ON {TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION changeentry_refuse()""",
]
POSTGRES_DROP = [
    f"DROP TRIGGER IF EXISTS changeentry_no_update_delete ON {TABLE}",
    f"DROP TRIGGER IF EXISTS changeentry_no_truncate ON {TABLE}",
]


def _statements(vendor: str, create: bool) -> list[str]:
    if vendor == "sqlite":
        return SQLITE_CREATE if create else SQLITE_DROP
    if vendor == "postgresql":
        return POSTGRES_CREATE if create else POSTGRES_DROP
    raise NotImplementedError(f"no append-only triggers for {vendor}")


def install(connection: Any) -> None:
    with connection.cursor() as cursor:
        for sql in _statements(connection.vendor, True):
            cursor.execute(sql)


def remove(connection: Any) -> None:
    with connection.cursor() as cursor:
        for sql in _statements(connection.vendor, False):
            cursor.execute(sql)


# NOTE for future migrations: on SQLite, Django alters a table by re-creating it (CREATE new, copy,
# DROP old, RENAME), which drops its triggers. Any migration that alters changelog_changeentry must
# call `install()` again afterwards (tests/tracker/test_changelog.py fails if the triggers are gone).
