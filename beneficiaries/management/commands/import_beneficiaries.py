"""`python manage.py import_beneficiaries FILE [--dry-run] [--upsert] [--region-scope CODE]`:
the same import as the API (beneficiaries.imports.beneficiaries_import), with a progress bar."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from beneficiaries.imports import ImportRejected, beneficiaries_import
from tracker.changelog.context import Source, command_context
from tracker.regions.models import Region


class Command(BaseCommand):
    help = "Import beneficiaries from a CSV (UTF-8 or GB18030) or XLSX file; all rows or none."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="Validate only; write nothing.")
        parser.add_argument("--upsert", action="store_true", help="Update people already registered.")
        parser.add_argument(
            "--region-scope",
            default="000000",
            help="Only accept rows within this region (code); default the whole country.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        scope = Region.path_for_code(options["region_scope"])
        if scope is None:
            raise CommandError(f"Unknown region code: {options['region_scope']}")
        bars: dict[str, tqdm] = {}

        def progress(stage: str, done: int, total: int) -> None:
            bar = bars.get(stage)
            if bar is None:
                bar = bars[stage] = tqdm(total=total, desc=stage, unit="rows", file=sys.stderr)
            bar.update(done - bar.n)

        try:
            with command_context("import_beneficiaries", source=Source.IMPORT), path.open("rb") as handle:
                result = beneficiaries_import(
                    file=handle,
                    filename=path.name,
                    scope_path=scope,
                    dry_run=options["dry_run"],
                    upsert=options["upsert"],
                    progress=progress,
                )
        except ImportRejected as exc:
            for bar in bars.values():
                bar.close()
            self.stderr.write(str(exc.detail))
            for error in exc.row_errors:
                where = "file" if error["row"] is None else f"row {error['row']}, {error['column']}"
                self.stderr.write(f"  {where}: {error['message']}")
            sys.exit(1)
        for bar in bars.values():
            bar.close()
        verb = "Would create" if result.dry_run else "Created"
        self.stdout.write(
            self.style.SUCCESS(f"{verb} {result.created}, updated {result.updated} of {result.rows} rows.")
        )
