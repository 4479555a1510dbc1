"""Streaming exports (tracker/exports.py): typed XLSX cells, a frozen header, labels or codes, formula
neutralising, and bytes that leave before the rows are read."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io

import pytest
from openpyxl import load_workbook

from tracker.exports import Column, csv_stream, xlsx_stream

COLUMNS = [
    Column("id", "编号", "int"),
    Column("name", "姓名", "text"),
    Column("amount", "金额", "money"),
    Column("day", "日期", "date"),
    Column("at", "时间", "datetime"),
]
ROWS = [
    (1, "张三", decimal.Decimal("500.00"), dt.date(2021, 5, 31), dt.datetime(2021, 6, 1, 8, 30)),
    (2, "=cmd|'/c calc'!A1", decimal.Decimal("-12.50"), None, None),
]


def _xlsx(rows, **kwargs):
    return load_workbook(io.BytesIO(b"".join(xlsx_stream(COLUMNS, rows, **kwargs))))


def test_xlsx_cells_are_typed_and_the_header_frozen():
    sheet = _xlsx(ROWS).active
    assert [c.value for c in sheet[1]] == ["编号", "姓名", "金额", "日期", "时间"]
    assert all(c.font.b for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    id_, name, amount, day, at = sheet[2]
    assert id_.value == 1 and amount.value == 500 and amount.number_format == "0.00"
    assert day.is_date and day.value == dt.datetime(2021, 5, 31)
    assert at.is_date and at.value == dt.datetime(2021, 6, 1, 8, 30)
    assert name.value == "张三" and name.data_type == "s"
    assert sheet["B3"].value.startswith("'=")  # formula injection neutralised
    assert sheet["C3"].value == -12.5
    assert sheet.column_dimensions["B"].width == 14


def test_codes_mode_uses_field_names():
    sheet = _xlsx(ROWS, labels=False).active
    assert [c.value for c in sheet[1]] == ["id", "name", "amount", "day", "at"]
    text = b"".join(csv_stream(COLUMNS, ROWS, labels=False)).decode("utf-8-sig")
    assert text.splitlines()[0] == "id,name,amount,day,at"


def test_csv_has_a_bom_and_neutralises_formulas():
    raw = b"".join(csv_stream(COLUMNS, ROWS))
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["编号", "姓名", "金额", "日期", "时间"]
    assert rows[1][:4] == ["1", "张三", "500.00", "2021-05-31"]
    assert rows[2][1].startswith("'=") and rows[2][2] == "-12.50"


def test_csv_times_read_as_excel_dates_for_people_and_iso_for_machines():
    from django.utils import timezone

    moment = timezone.make_aware(dt.datetime(2021, 6, 1, 0, 30), dt.UTC)  # 08:30 in Asia/Shanghai
    rows = [(1, "张三", decimal.Decimal("1"), None, moment)]
    people = list(csv.reader(io.StringIO(b"".join(csv_stream(COLUMNS, rows)).decode("utf-8-sig"))))
    assert people[1][4] == "2021-06-01 08:30:00"
    machines = b"".join(csv_stream(COLUMNS, rows, labels=False)).decode("utf-8-sig")
    assert "2021-06-01T08:30:00+08:00" in machines


def test_csv_cells_of_another_type_than_their_column_are_still_converted_and_neutralised():
    """Converters are chosen per column; a cell that does not match its column's kind (a label in a
    number column, a date in a text column) still goes through the full conversion."""
    rows = [("-1+cmd", dt.date(2021, 5, 31), "@sum", "2021-05-31", None)]
    text = b"".join(csv_stream(COLUMNS, rows)).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text)))[1] == ["'-1+cmd", "2021-05-31", "'@sum", "2021-05-31", ""]


@pytest.mark.parametrize("stream", [csv_stream, xlsx_stream])
def test_first_bytes_leave_before_any_row_is_read(stream):
    def rows():
        raise AssertionError("rows were read before the first bytes were sent")
        yield  # pragma: no cover

    first = next(iter(stream(COLUMNS, rows())))
    assert first


def test_many_rows_stream_in_chunks():
    rows = ((i, f"人{i}", decimal.Decimal(i), None, None) for i in range(5000))
    chunks = list(xlsx_stream(COLUMNS, rows))
    assert len(chunks) > 3
    sheet = load_workbook(io.BytesIO(b"".join(chunks)), read_only=True).active
    assert sum(1 for _ in sheet.iter_rows()) == 5001
