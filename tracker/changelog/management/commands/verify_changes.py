"""`python manage.py verify_changes [--within CODE] [--since-checkpoint] [--checkpoints FILE]`: the
change log's verification from the command line (constant memory, any size of log), with the
checkpoints kept outside the database checked against the chain. Exit status 1 when a problem is found."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tracker.changelog.selectors import changes_verify
from tracker.regions.models import Region


def read_checkpoints(path: Path) -> list[tuple[int, str]]:
    links = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        parts = line.split()
        if not parts or line.startswith("#"):
            continue
        if len(parts) < 2 or not parts[0].isdigit() or len(parts[1]) != 64:
            raise CommandError(f"{path}:{number}: expected '<last entry id> <digest>'")
        links.append((int(parts[0]), parts[1]))
    return links


class Command(BaseCommand):
    help = "Verify the change log: entry HMACs, unbroken histories, live rows, the checkpoint chain."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--within", help="Region code: verify only what lies in that subtree.")
        parser.add_argument(
            "--since-checkpoint",
            action="store_true",
            help="Skip the HMACs of entries the last checkpoint sealed (rows and chain are still checked).",
        )
        parser.add_argument("--checkpoints", type=Path, help="File of checkpoints kept outside the database.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = None
        if options["within"]:
            path = Region.path_for_code(options["within"])
            if path is None:
                raise CommandError(f"unknown region {options['within']}")
        external = read_checkpoints(options["checkpoints"]) if options["checkpoints"] else None
        result = changes_verify(
            within_path=path, since_checkpoint=options["since_checkpoint"], external_checkpoints=external
        )
        self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
        if not result["ok"]:
            raise SystemExit(1)
