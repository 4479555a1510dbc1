"""`python manage.py seed`: regions, roles, demo accounts and the example records of every app.

Idempotent: running it again changes nothing that is already there. Every record goes through the
services that enforce its rules, and the change log shows source `seed`. A progress bar (on standard
error, like `import_beneficiaries`) advances step by step and names the step running; messages follow
LANGUAGE_CODE (Chinese by default).
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from tqdm import tqdm

from seeds.accounts import DEMO_PASSWORD, seed_demo_accounts, seed_roles
from seeds.beneficiaries import seed_beneficiaries
from seeds.figures import seed_figures
from seeds.funding import seed_funding
from seeds.inspections import seed_inspections
from seeds.posts import seed_posts
from seeds.reference import seed_regions
from seeds.vouchers import seed_vouchers
from tracker.changelog.context import Source, command_context
from tracker.planner import analyze


class BarSafeOutput:
    """The steps' own messages, printed above the progress bar instead of through it."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def write(self, text: str) -> None:
        text = str(text).rstrip("\n")
        if text:
            tqdm.write(text, file=self.stream)

    def flush(self) -> None:
        self.stream.flush()


class Command(BaseCommand):
    help = gettext_lazy("Load regions, roles, demo accounts and example records (idempotent).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--password", default=DEMO_PASSWORD, help="Password of the demo accounts.")
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when the database is already seeded."
        )
        parser.add_argument(
            "--scale",
            type=decimal.Decimal,
            default=None,
            help="Seed round(S × figure) records for the source's figures (1.0 = full; default small: "
            "each data file's own factor, 0.001 for the figures).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override(settings.LANGUAGE_CODE):
            self.seed(options)

    def seed(self, options: dict[str, Any]) -> None:
        from tracker.regions.models import Region

        if options["if_empty"] and Region.objects.exists():
            self.stdout.write(_("Database already seeded; nothing to do."))
            return
        out = BarSafeOutput(self.stdout._out)
        found: dict[str, Any] = {}
        # One scale for every count of the source (posts' holders and the figures step); the vouchers
        # step walks its example vouchers at its own small scale and the figures step issues the rest
        # of Zhangjiakou's person-times in bulk (walking 55,274 vouchers one by one takes hours).
        scale = options.get("scale")
        # Each app's example records, in dependency order.
        steps: list[tuple[str, Callable[[], Any]]] = [
            (_("regions"), lambda: found.__setitem__("regions", seed_regions())),
            (_("roles"), seed_roles),
            (
                _("demo accounts"),
                lambda: found.__setitem__("created", seed_demo_accounts(options["password"])),
            ),
            (_("beneficiaries"), lambda: seed_beneficiaries(out)),
            (_("programs and payments"), lambda: seed_funding(out)),
            (_("public-welfare posts"), lambda: seed_posts(out, factor=scale)),
            (_("training vouchers"), lambda: seed_vouchers(out)),
            (_("published figures"), lambda: seed_figures(out, scale=scale, progress=self.stderr._out)),
            (_("inspections and findings"), lambda: seed_inspections(out)),
        ]
        with command_context("seed", source=Source.SEED):
            bar = tqdm(total=len(steps), desc=_("Seeding"), unit=_("step"), file=self.stderr._out)
            try:
                for name, step in steps:
                    bar.set_postfix_str(name, refresh=True)
                    step()
                    bar.update(1)
            finally:
                bar.close()
        analyze()  # PostgreSQL: plan the first requests for the seeded tables, not for empty ones
        created = found.get("created") or []
        self.stdout.write(
            self.style.SUCCESS(
                _("Seeded %(regions)d regions; demo accounts created: %(created)s")
                % {"regions": found["regions"], "created": ", ".join(created) if created else _("none new")}
            )
        )
