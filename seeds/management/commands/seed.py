"""`python manage.py seed`: regions, roles, demo accounts and the example records of every app.

Idempotent: running it again changes nothing that is already there. Every record goes through the
services that enforce its rules, and the change log shows source `seed`.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from seeds.accounts import DEMO_PASSWORD, seed_demo_accounts, seed_roles
from seeds.beneficiaries import seed_beneficiaries
from seeds.funding import seed_funding
from seeds.reference import seed_regions
from seeds.vouchers import seed_vouchers
from tracker.changelog.context import Source, command_context


class Command(BaseCommand):
    help = "Load regions, roles, demo accounts and example records (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--password", default=DEMO_PASSWORD, help="Password of the demo accounts.")
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when the database is already seeded."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from tracker.regions.models import Region

        if options["if_empty"] and Region.objects.exists():
            self.stdout.write("Database already seeded; nothing to do.")
            return
        with command_context("seed", source=Source.SEED):
            regions = seed_regions()
            seed_roles()
            created = seed_demo_accounts(options["password"])
            # Each app's example records, in dependency order.
            seed_beneficiaries(self.stdout)
            seed_funding(self.stdout)
            seed_vouchers(self.stdout)
        self.stdout.write(
            self.style.SUCCESS(f"Seeded {regions} regions; demo accounts created: {created or 'none new'}")
        )
