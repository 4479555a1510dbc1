"""The payments export: the list's filters as CSV or XLSX (tracker.exports), personal data masked.

Headers and values are labels in the caller's language by default (status 已发放, payee kind 个人,
region, program and fund source by name); `labels=False` (`?labels=codes`) gives the codes, for
machines. Rows are read with one `values_list` query on a server-side cursor: no model instances,
constant memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from programs.funding.choices import PayeeKind, PaymentStatus
from programs.funding.models import Payment
from tracker.exports import Column
from tracker.pii import mask_name

CHUNK = 2000

COLUMNS = [
    Column("id", _("ID"), "int", 10),
    Column("program", _("Program"), "text", 30),
    Column("payee_kind", _("Payee kind"), "text", 10),
    Column("payee", _("Payee"), "text", 24),
    Column("payee_identifier", _("Payee identifier"), "text", 22),
    Column("person", _("Person the payment is for"), "text", 12),
    Column("person_id_number", _("Identity number"), "text", 22),
    Column("region", _("Region"), "text", 14),
    Column("period_start", _("Period from"), "date", 12),
    Column("period_end", _("Period to"), "date", 12),
    Column("quantity", _("Quantity"), "decimal", 9),
    Column("unit_amount", _("Unit amount"), "money", 12),
    Column("amount", _("Amount"), "money", 12),
    Column("fund_source", _("Fund source"), "text", 20),
    Column("status", _("Status"), "text", 10),
    Column("paid_at", _("Paid at"), "datetime", 20),
    Column("external_reference", _("External reference"), "text", 18),
    Column("reverses", _("Reverses payment"), "int", 10),
    Column("reason", _("Reason"), "text", 30),
]

_FIELDS = (
    "id",
    "program__code",
    "program__name_zh",
    "program__name_en",
    "payee_kind",
    "beneficiary__name",
    "beneficiary__id_number_masked",
    "employer__name",
    "employer__uscc",
    "institution__name",
    "institution__uscc",
    "region__code",
    "region__name_zh",
    "region__name_en",
    "period_start",
    "period_end",
    "quantity",
    "unit_amount",
    "amount",
    "fund_source__code",
    "fund_source__name_zh",
    "fund_source__name_en",
    "status",
    "paid_at",
    "external_reference",
    "reverses_id",
    "reason",
)


def export_rows(queryset: QuerySet[Payment], *, labels: bool = True) -> Iterator[tuple[Any, ...]]:
    english = (get_language() or "").startswith("en")
    status_labels = {value: str(label) for value, label in PaymentStatus.choices}
    kind_labels = {value: str(label) for value, label in PayeeKind.choices}
    for (
        pk,
        program_code,
        program_zh,
        program_en,
        payee_kind,
        person_name,
        person_id,
        employer_name,
        employer_uscc,
        institution_name,
        institution_uscc,
        region_code,
        region_zh,
        region_en,
        period_start,
        period_end,
        quantity,
        unit_amount,
        amount,
        fund_code,
        fund_zh,
        fund_en,
        status,
        paid_at,
        external_reference,
        reverses_id,
        reason,
    ) in queryset.values_list(*_FIELDS).iterator(chunk_size=CHUNK):
        if payee_kind == PayeeKind.EMPLOYER:
            payee, payee_id = employer_name, employer_uscc
        elif payee_kind == PayeeKind.INSTITUTION:
            payee, payee_id = institution_name, institution_uscc
        else:
            payee, payee_id = mask_name(person_name or ""), person_id
        # The person column names who an organisation's payment is for; a person payee is already
        # in the payee columns (each value once).
        for_person = payee_kind != PayeeKind.PERSON and person_name
        if labels:
            program = (program_en if english and program_en else program_zh) or program_code
            region = (region_en if english and region_en else region_zh) or region_code
            fund = (fund_en if english and fund_en else fund_zh) if fund_code else ""
            kind, state = kind_labels.get(payee_kind, payee_kind), status_labels.get(status, status)
        else:
            program, region, fund, kind, state = (
                program_code,
                region_code,
                fund_code or "",
                payee_kind,
                status,
            )
        yield (
            pk,
            program,
            kind,
            payee,
            payee_id,
            mask_name(person_name) if for_person else "",
            person_id if for_person else "",
            region,
            period_start,
            period_end,
            quantity,
            unit_amount,
            amount,
            fund,
            state,
            paid_at,
            external_reference,
            reverses_id,
            reason,
        )
