"""`python manage.py db_roles [--owner NAME] [--app NAME] [--database NAME]`: print the PostgreSQL SQL
for least privilege (tracker/changelog/privileges.py): the roles, once, as a superuser; the grants, as
the owner after each `migrate`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tracker.changelog.privileges import grant_statements, setup_statements


class Command(BaseCommand):
    help = "Print the PostgreSQL roles and grants that keep the service from rewriting the change log."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--owner", default="tracker_owner")
        parser.add_argument("--app", default="tracker_app")
        parser.add_argument("--database", default="tracker")

    def handle(self, *args: Any, **options: Any) -> None:
        owner, app = options["owner"], options["app"]
        self.stdout.write("-- 1. Once, as a superuser (then set passwords with \\password):")
        for sql in setup_statements(owner=owner, app=app, database=options["database"]):
            self.stdout.write(f"{sql};")
        self.stdout.write(f"-- 2. Run `manage.py migrate` with DATABASE_URL naming {owner}.")
        self.stdout.write(f"-- 3. As {owner}, after every migrate:")
        for sql in grant_statements(app=app):
            self.stdout.write(f"{sql};")
        self.stdout.write(f"-- 4. Serve with DATABASE_URL naming {app}.")
