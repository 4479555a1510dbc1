"""`python manage.py import_beneficiaries FILE --user USERNAME [--dry-run] [--upsert] [--region-scope CODE]`:
the same import as the API (beneficiaries.imports.beneficiaries_import), with a progress bar.

The import runs as a named user: their region is the scope, and every change entry (and any
duplicate probe) carries them as the actor, as an upload through the API or the admin would. A script
uses an account of its own. `--region-scope` narrows the user's scope to a region within it (it can
never widen it). Messages follow LANGUAGE_CODE (Chinese by default).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _
from tqdm import tqdm

from beneficiaries.imports import ImportRejected, ProbeLimitExceeded, beneficiaries_import
from tracker.changelog.context import Source, command_context
from tracker.regions.models import Region
from tracker.scope import path_within, user_scope


class Command(BaseCommand):
    help = "Import beneficiaries from a CSV (UTF-8 or GB18030) or XLSX file; all rows or none."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--user",
            required=True,
            help="Username the import runs as: their region is the scope and the change log's actor.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Validate only; write nothing.")
        parser.add_argument("--upsert", action="store_true", help="Update people already registered.")
        parser.add_argument(
            "--region-scope",
            default=None,
            help="Only accept rows within this region (code), which must lie within the user's region.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override(settings.LANGUAGE_CODE):
            self._handle(**options)

    def _handle(self, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        user = get_user_model().objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(_("No active user %(name)s.") % {"name": options["user"]})
        if user.scope_path is None:
            raise CommandError(_("User %(name)s has no region to import into.") % {"name": user.username})
        scope = None
        if options["region_scope"]:
            scope = Region.path_for_code(options["region_scope"])
            if scope is None:
                raise CommandError(_("Unknown region code: %(code)s") % {"code": options["region_scope"]})
            if not path_within(scope, user_scope(user)):
                raise CommandError(
                    _("Region %(code)s lies outside the region of user %(name)s.")
                    % {"code": options["region_scope"], "name": user.username}
                )
        stages = {"validate": _("validate"), "write": _("write")}
        bars: dict[str, tqdm] = {}

        def progress(stage: str, done: int, total: int | None) -> None:
            bar = bars.get(stage)
            if bar is None:
                bar = bars[stage] = tqdm(total=total, desc=stages[stage], unit="rows", file=sys.stderr)
            bar.update(done - bar.n)

        try:
            with command_context("import_beneficiaries", source=Source.IMPORT), path.open("rb") as handle:
                result = beneficiaries_import(
                    file=handle,
                    filename=path.name,
                    actor=user,
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
                if error["row"] is None:
                    where = _("file")
                else:
                    where = _("row %(row)s, %(column)s") % error
                self.stderr.write(f"  {where}: {error['message']}")
            sys.exit(1)
        except ProbeLimitExceeded as exc:
            for bar in bars.values():
                bar.close()
            self.stderr.write(str(exc.detail))
            sys.exit(1)
        for bar in bars.values():
            bar.close()
        text = (
            _("Would create %(created)d, update %(updated)d of %(rows)d rows.")
            if result.dry_run
            else _("Created %(created)d, updated %(updated)d of %(rows)d rows.")
        )
        self.stdout.write(
            self.style.SUCCESS(
                text % {"created": result.created, "updated": result.updated, "rows": result.rows}
            )
        )
