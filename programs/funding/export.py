"""Streaming export of payments (CSV or XLSX) with masked personal data.

CSV streams row by row from a server-side cursor (`.iterator(chunk_size=2000)`), so a million-row
export never holds more than one chunk in memory. XLSX uses openpyxl's write-only workbook, which
streams rows to a temporary file on disk; the file is then streamed to the client.

Cells are neutralised against formula injection (CSV/XLSX cells starting with = + - @, tab or
carriage return get a leading apostrophe), since exports are opened in spreadsheet programs. Money
is written as plain decimal text in CSV and as numbers in XLSX.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from programs.funding.models import Payment

CHUNK = 2000
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def mask_name(name: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***: the family name's first character and one star per other."""
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1)


def neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def headers() -> list[str]:
    return [
        _("ID"),
        _("Program"),
        _("Program name"),
        _("Payee kind"),
        _("Payee"),
        _("Payee identifier"),
        _("Person"),
        _("Identity number"),
        _("Region"),
        _("Period from"),
        _("Period to"),
        _("Quantity"),
        _("Unit amount"),
        _("Amount"),
        _("Fund source"),
        _("Status"),
        _("Paid at"),
        _("External reference"),
        _("Reverses"),
        _("Reason"),
    ]


def row(payment: Payment) -> list[Any]:
    person = payment.beneficiary
    if payment.employer_id:
        payee_name, payee_id = payment.employer.name, payment.employer.uscc
    elif payment.institution_id:
        payee_name, payee_id = payment.institution.name, payment.institution.uscc
    else:
        payee_name, payee_id = mask_name(person.name), person.id_number_masked
    return [
        payment.pk,
        payment.program.code,
        payment.program.name_zh,
        payment.payee_kind,
        payee_name,
        payee_id,
        mask_name(person.name) if person else "",
        person.id_number_masked if person else "",
        payment.region.code,
        payment.period_start.isoformat(),
        payment.period_end.isoformat(),
        payment.quantity,
        payment.unit_amount,
        payment.amount,
        payment.fund_source.code if payment.fund_source_id else "",
        payment.status,
        timezone.localtime(payment.paid_at).isoformat() if payment.paid_at else "",
        payment.external_reference,
        payment.reverses_id or "",
        payment.reason,
    ]


def export_rows(queryset: QuerySet[Payment]) -> Iterator[list[Any]]:
    for payment in queryset.iterator(chunk_size=CHUNK):
        yield [neutralise(value) for value in row(payment)]


class _Echo:
    """A file-like object whose write() returns what it was given, for csv.writer."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(queryset: QuerySet[Payment]) -> Iterable[str]:
    writer = csv.writer(_Echo())
    # A byte-order mark, so spreadsheet programs read the Chinese text as UTF-8.
    yield "\ufeff" + writer.writerow([neutralise(h) for h in headers()])
    for values in export_rows(queryset):
        yield writer.writerow(["" if v is None else str(v) for v in values])


def csv_response(queryset: QuerySet[Payment], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(_csv_lines(queryset), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def xlsx_response(queryset: QuerySet[Payment], filename: str) -> FileResponse:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="payments")
    sheet.append(headers())
    for values in export_rows(queryset):
        sheet.append(values)
    handle = tempfile.TemporaryFile()
    workbook.save(handle)
    handle.seek(0)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"{filename}.xlsx",
        content_type=XLSX_MEDIA_TYPE,
    )
