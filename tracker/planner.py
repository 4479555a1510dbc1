"""Keeping PostgreSQL's planner informed: table statistics refreshed right after bulk writes.

PostgreSQL plans from statistics that autovacuum refreshes only later; after a bulk import or the
seed a table can be many times its analysed size (or analysed empty), and the queries right after
it would be planned for the old size. SQLite has no such statistics to refresh (its planner reads
the indexes), so this does nothing there."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connections


def analyze(*, using: str = "default", tables: Iterable[str] | None = None) -> bool:
    """ANALYZE the given tables (all of the database's when None); False on an engine without
    planner statistics."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        if tables is None:
            cursor.execute("ANALYZE")
        else:
            for table in tables:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    return True
