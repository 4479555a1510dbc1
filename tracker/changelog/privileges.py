"""Least privilege on PostgreSQL: an owner role that runs migrations, and an application role the
service connects as, which may only INSERT and SELECT the change log and cannot switch its triggers
off (altering or dropping a trigger needs the table's owner; `session_replication_role`, which would
skip triggers, needs a superuser).

`python manage.py db_roles` prints the SQL; README's Configuration section says how to use it.
"""

from __future__ import annotations

from tracker.changelog.triggers import TABLES


def _ident(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a plain role name: {name!r}")
    return name


def setup_statements(*, owner: str, app: str, database: str) -> list[str]:
    """Run once as a superuser, before the first `migrate` (which then runs as the owner)."""
    owner, app, database = _ident(owner), _ident(app), _ident(database)
    return [
        f"CREATE ROLE {owner} LOGIN",
        f"CREATE ROLE {app} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE",
        f"ALTER DATABASE {database} OWNER TO {owner}",
        f"ALTER SCHEMA public OWNER TO {owner}",
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        # Tables the owner creates later (new migrations) are usable by the app role at once...
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {app}",
    ]


def grant_statements(*, app: str) -> list[str]:
    """Run as the owner after every `migrate`: the app role reads and writes the domain tables, and
    may only add to the change log."""
    app = _ident(app)
    log_tables = ", ".join(TABLES)
    return [
        f"GRANT USAGE ON SCHEMA public TO {app}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {app}",
        f"REVOKE UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES ON {log_tables} FROM {app}",
    ]
