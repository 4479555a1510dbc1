"""Database triggers that make the change log's tables append-only on SQLite and PostgreSQL: any UPDATE
or DELETE (and TRUNCATE on PostgreSQL) is refused by the database itself, whatever the client."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

TABLE = "changelog_changeentry"
CHECKPOINTS = "changelog_changecheckpoint"
TABLES = (TABLE, CHECKPOINTS)

_PG_FUNCTION = """CREATE OR REPLACE FUNCTION changeentry_refuse() RETURNS trigger AS $$
       BEGIN
         RAISE EXCEPTION 'change log is append-only: % refused', TG_OP;
       END;
       $$ LANGUAGE plpgsql"""


def _prefix(table: str) -> str:
    return table.removeprefix("changelog_")


def _statements(vendor: str, table: str, create: bool) -> list[str]:
    name = _prefix(table)
    if vendor == "sqlite":
        if not create:
            return [f"DROP TRIGGER IF EXISTS {name}_no_update", f"DROP TRIGGER IF EXISTS {name}_no_delete"]
        return [
            f"""CREATE TRIGGER IF NOT EXISTS {name}_no_update BEFORE UPDATE ON {table}
                BEGIN SELECT RAISE(ABORT, 'change log is append-only: UPDATE refused'); END""",
            f"""CREATE TRIGGER IF NOT EXISTS {name}_no_delete BEFORE DELETE ON {table}
                BEGIN SELECT RAISE(ABORT, 'change log is append-only: DELETE refused'); END""",
        ]
    if vendor == "postgresql":
        if not create:
            return [
                f"DROP TRIGGER IF EXISTS {name}_no_update_delete ON {table}",
                f"DROP TRIGGER IF EXISTS {name}_no_truncate ON {table}",
            ]
        return [
            _PG_FUNCTION,
            f"DROP TRIGGER IF EXISTS {name}_no_update_delete ON {table}",
            f"DROP TRIGGER IF EXISTS {name}_no_truncate ON {table}",
            f"""CREATE TRIGGER {name}_no_update_delete BEFORE UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION changeentry_refuse()""",
            f"""CREATE TRIGGER {name}_no_truncate BEFORE TRUNCATE ON {table}
                FOR EACH STATEMENT EXECUTE FUNCTION changeentry_refuse()""",
        ]
    raise NotImplementedError(f"no append-only triggers for {vendor}")


def install(connection: Any, tables: Iterable[str] = TABLES) -> None:
    with connection.cursor() as cursor:
        for table in tables:
            for sql in _statements(connection.vendor, table, True):
                cursor.execute(sql)


def remove(connection: Any, tables: Iterable[str] = TABLES) -> None:
    with connection.cursor() as cursor:
        for table in tables:
            for sql in _statements(connection.vendor, table, False):
                cursor.execute(sql)


def installed(connection: Any) -> set[str]:
    """The trigger names present on the change log's tables (tests check none was lost)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN (%s, %s)", list(TABLES)
            )
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid IN (%s::regclass, %s::regclass)", list(TABLES)
            )
        return {row[0] for row in cursor.fetchall()}


# NOTE for future migrations: on SQLite, Django alters a table by re-creating it (CREATE new, copy,
# DROP old, RENAME), which drops its triggers. Any migration that alters these tables must call
# `install()` again afterwards (tests/tracker/test_changelog.py fails if a trigger is gone).
