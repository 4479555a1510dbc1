"""`python manage.py checkpoint_changes`: seal the change log up to its newest entry (the next link of
the checkpoint chain) and print the link, to be kept outside the database — e.g. appended daily to a
file on another machine, or sent to another organisation. `verify_changes --checkpoints FILE` checks
the log against such a file."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from tracker.changelog.selectors import checkpoint_create


class Command(BaseCommand):
    help = "Seal the change log up to now with a chained digest, and print it to keep outside the database."

    def handle(self, *args: Any, **options: Any) -> None:
        checkpoint = checkpoint_create()
        if checkpoint is None:
            self.stderr.write("No new entries since the last checkpoint.")
            return
        # One line per checkpoint: last entry id, digest, time. `verify_changes --checkpoints` reads it.
        self.stdout.write(f"{checkpoint.last_entry_id} {checkpoint.digest} {checkpoint.at.isoformat()}")
