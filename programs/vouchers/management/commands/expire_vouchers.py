"""`python manage.py expire_vouchers [--today YYYY-MM-DD]`: mark issued and claimed vouchers past their
last valid day expired (one `expire` change entry each). Run daily (later a scheduled job); the steps
refuse an expired voucher by its date whether or not this has run."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from programs.vouchers.services import vouchers_expire
from tracker.changelog.context import Source, command_context


class Command(BaseCommand):
    help = "Mark issued and claimed training vouchers past their last valid day expired."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--today", help="The day to expire as of (default: today).")

    def handle(self, *args: Any, **options: Any) -> None:
        today = None
        if options.get("today"):
            try:
                today = dt.date.fromisoformat(options["today"])
            except ValueError as exc:
                raise CommandError(_("--today is a date such as 2021-12-31.")) from exc
        with command_context("expire_vouchers", source=Source.COMMAND):
            count = vouchers_expire(today=today)
        self.stdout.write(_("%(n)d voucher(s) marked expired.") % {"n": count})
