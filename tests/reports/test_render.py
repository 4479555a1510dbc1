"""Rendering of any registered section: every column kind in JSON, CSV and XLSX (typed cells)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest

from programs.reports import render
from programs.reports.selectors import report_data
from tracker import reporting
from tracker.reporting import Column, register_report_section

pytestmark = pytest.mark.django_db


@pytest.fixture
def kinds_section() -> Any:
    def rows(scope: Any) -> list[dict[str, Any]]:
        child = scope.children[0][0]
        return [
            {
                "subregion": None,
                "kind": "a",
                "day": dt.date(2021, 5, 31),
                "month": dt.date(2021, 5, 1),
                "note": "=cmd",
                "n": 3,
                "done": 1,
                "money": Decimal("12.5"),
            },
            {
                "subregion": child,
                "kind": "b",
                "day": dt.date(2021, 6, 1),
                "month": dt.date(2021, 6, 1),
                "note": "x",
                "n": 1,
                "done": 1,
                "money": Decimal("0.25"),
            },
        ]

    register_report_section(
        "test_kinds",
        "kinds",
        "Kinds",
        columns=(
            Column("kind", "Kind", "code", labels=lambda: {"a": "Alpha", "b": "Beta"}),
            Column("day", "Day", "date"),
            Column("month", "Month", "month"),
            Column("note", "Note", "text"),
            Column("n", "N"),
            Column("done", "Done"),
            Column("rate", "Rate", "rate", rate_of=("done", "n")),
            Column("money", "Money", "money"),
        ),
        rows=rows,
    )
    yield
    reporting._sections.pop(("test_kinds", "kinds"))


def test_every_kind(kinds_section, clerk) -> None:
    import openpyxl

    result = report_data("test_kinds", user=clerk)
    body = render.as_json(result)
    [section] = body["sections"]
    first = section["breakdown"][0]
    assert first["day"] == "2021-05-31" and first["month"] == "2021-05" and first["money"] == "12.50"
    assert [t["rate"] for t in section["totals"]] == ["0.3333", "1.0000"]  # recomputed from done and n
    assert next(c for c in section["columns"] if c["key"] == "kind")["labels"] == {"a": "Alpha", "b": "Beta"}

    text = b"".join(render.csv_bytes(result)).decode("utf-8-sig")
    assert "Alpha" in text and ",a," not in text and "'=cmd" in text  # labels; formulas neutralised

    book = openpyxl.load_workbook(io.BytesIO(render.xlsx_bytes(result)))
    sheet = book.worksheets[0]
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["A"].width > 0
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    alpha = rows[0]  # the region's total for kind a comes first
    assert alpha[1] == "Alpha" and len(rows) == 4
    assert isinstance(alpha[2], dt.datetime) and alpha[2].date() == dt.date(2021, 5, 31)
    assert alpha[3] == "2021-05" and isinstance(alpha[5], int) and isinstance(alpha[8], float)
    assert alpha[4] == "'=cmd"
