"""`flush`, refusing to empty the append-only change log unless settings.CHANGELOG_ALLOW_PURGE is on
(only the test suite turns it on, to reset the database between transactional tests)."""

from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands.flush import Command as FlushCommand
from django.db import connections

from tracker.changelog import triggers


class Command(FlushCommand):
    def handle(self, **options: Any) -> None:
        if not settings.CHANGELOG_ALLOW_PURGE:
            raise CommandError("flush would erase the append-only change log; refused")
        connection = connections[options["database"]]
        triggers.remove(connection)
        try:
            super().handle(**options)
        finally:
            triggers.install(connection)
