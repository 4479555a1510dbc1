"""Streaming exports as CSV or XLSX, for every list that people open in a spreadsheet (payments now;
vouchers and reports as they arrive).

Both formats stream from the first row: the caller passes an iterator of rows (tuples, best read with
`.values_list(...).iterator()` from a server-side cursor), and the response yields bytes as rows are
produced, so memory stays constant and the first byte leaves at once whatever the number of rows.

- CSV: UTF-8 with a byte-order mark (so Excel reads the Chinese text), one header row.
- XLSX: written here as a minimal SpreadsheetML package into a streaming ZIP (Python's zipfile writes
  to a non-seekable stream with data descriptors). openpyxl's write-only mode cannot stream: it
  finishes the whole file on disk before the first byte. The sheet has a bold, frozen header row,
  column widths, numbers and money as numbers, dates and times as typed date cells, text as inline
  strings.

Cells that a spreadsheet would read as a formula (= + - @, tab, carriage return at the start) get a
leading apostrophe in both formats (formula injection), since exports are opened in Excel.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import decimal
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from django.http import StreamingHttpResponse
from django.utils import timezone

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 cannot carry (a spreadsheet would refuse to open the file).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EPOCH = dt.datetime(1899, 12, 30)
ROWS_PER_CHUNK = 2000


@dataclass(frozen=True)
class Column:
    """One column: its header (translated title, or the machine `key` with labels off), the kind of
    value (text, int, decimal, money, date, datetime) and its width in the XLSX sheet."""

    key: str
    title: Any
    kind: str = "text"
    width: int = 14


def neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _csv_value(value: Any, labels: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        local = timezone.localtime(value) if timezone.is_aware(value) else value
        if labels:
            # For people: `2021-05-31 14:03:00` in settings.TIME_ZONE, which Excel reads as a
            # date and time (it leaves ISO 8601's `T` and offset as text).
            return local.strftime("%Y-%m-%d %H:%M:%S")
        return local.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return neutralise(value)
    return str(value)


class _Buffer:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> None:
        self.parts.append(text)

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts.clear()
        return text


def _csv_converter(kind: str, labels: bool) -> Callable[[Any], Any] | None:
    """The one conversion a column's cells need, chosen once per export (the per-cell `isinstance`
    chain of `_csv_value` was most of the export's time): None where `csv.writer` writes the value
    as it is (numbers as `str()`, None as empty). A cell of another type than its column's kind
    falls back to `_csv_value`, so nothing is written unconverted or unneutralised."""
    if kind in ("int", "decimal", "money"):
        numbers = (int, decimal.Decimal)
        return lambda value: (
            value if value is None or value.__class__ in numbers else _csv_value(value, labels)
        )
    if kind == "date":
        return lambda value: value.isoformat() if value.__class__ is dt.date else _csv_value(value, labels)
    if kind == "datetime":
        return lambda value: _csv_value(value, labels)

    def text(value: Any) -> Any:
        if value.__class__ is str:
            return "'" + value if value.startswith(FORMULA_PREFIXES) else value
        return _csv_value(value, labels)

    return text


def csv_stream(
    columns: Sequence[Column], rows: Iterable[Sequence[Any]], *, labels: bool = True
) -> Iterator[bytes]:
    buffer = _Buffer()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(str(c.title)) if labels else c.key for c in columns])
    yield codecs.BOM_UTF8 + buffer.take().encode()
    converters = [(i, f) for i, c in enumerate(columns) if (f := _csv_converter(c.kind, labels))]
    count = 0
    for row in rows:
        cells = list(row)
        for i, convert in converters:
            if cells[i] is not None:
                cells[i] = convert(cells[i])
        writer.writerow(cells)
        count += 1
        if count % ROWS_PER_CHUNK == 0:
            yield buffer.take().encode()
    yield buffer.take().encode()


# -- XLSX ---------------------------------------------------------------------------------------------

_SHEET_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"


def _content_types(sheets: int) -> str:
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{_SHEET_CONTENT_TYPE}"/>'
        for n in range(1, sheets + 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        f"{overrides}"
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        "</Types>"
    )


_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)


def _workbook_rels(sheets: int) -> str:
    worksheet = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + "".join(
            f'<Relationship Id="rId{n}" Type="{worksheet}" Target="worksheets/sheet{n}.xml"/>'
            for n in range(1, sheets + 1)
        )
        + f'<Relationship Id="rId{sheets + 1}" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
        'Target="styles.xml"/></Relationships>'
    )


# Cell styles: 0 plain, 1 bold header, 2 money 0.00, 3 date, 4 date-time, 5 integer, 6 decimal.
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="3"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm:ss"/>'
    '<numFmt numFmtId="166" formatCode="0.##########"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="7">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="2" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="1" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def _workbook(sheet_titles: Sequence[str]) -> str:
    quote = {'"': "&quot;"}
    sheets = "".join(
        f'<sheet name="{escape(title[:31], quote)}" sheetId="{n}" r:id="rId{n}"/>'
        for n, title in enumerate(sheet_titles, 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f"<sheets>{sheets}</sheets></workbook>"
    )


def _sheet_head(columns: Sequence[Column], labels: bool) -> str:
    """A worksheet up to its first data row: the frozen, bold header and the column widths."""
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{c.width}" customWidth="1"/>' for i, c in enumerate(columns, 1)
    )
    header = "".join(_text_cell(str(c.title) if labels else c.key, 1) for c in columns)
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        "</sheetView></sheetViews>"
        f"<cols>{cols}</cols><sheetData>"
        f'<row r="1">{header}</row>'
    )


_SHEET_TAIL = "</sheetData></worksheet>"


def _text_cell(value: str, style: int = 0) -> str:
    text = escape(_XML_ILLEGAL.sub("", neutralise(value)))
    style_attr = f' s="{style}"' if style else ""
    return f'<c t="inlineStr"{style_attr}><is><t xml:space="preserve">{text}</t></is></c>'


def _serial(value: dt.date | dt.datetime) -> str:
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.make_naive(timezone.localtime(value))
        delta = value - _EPOCH
        return repr(delta.days + delta.seconds / 86400 + delta.microseconds / 86_400_000_000)
    return str((value - _EPOCH.date()).days)


def _cell_writers(columns: Sequence[Column]) -> list[Callable[[Any], str]]:
    def for_kind(kind: str) -> Callable[[Any], str]:
        style = {"money": 2, "date": 3, "datetime": 4, "int": 5, "decimal": 6}.get(kind, 0)

        def write(value: Any) -> str:
            if value is None or value == "":
                return "<c/>"
            if isinstance(value, bool):
                return _text_cell(str(value))
            if isinstance(value, (int, float, decimal.Decimal)) and kind in ("money", "int", "decimal"):
                return f'<c s="{style}"><v>{value}</v></c>'
            if isinstance(value, (dt.date, dt.datetime)) and kind in ("date", "datetime"):
                return f'<c s="{style}"><v>{_serial(value)}</v></c>'
            return _text_cell(str(value))

        return write

    return [for_kind(c.kind) for c in columns]


class _Sink(io.RawIOBase):
    """A write-only, non-seekable stream whose bytes are taken out as the ZIP is written."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def xlsx_stream(
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    *,
    labels: bool = True,
    sheet_title: str = "data",
) -> Iterator[bytes]:
    sink = _Sink()
    archive = zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED, compresslevel=1)
    for name, text in _package([sheet_title]):
        archive.writestr(name, text)
    yield sink.take()
    writers = _cell_writers(columns)
    with archive.open("xl/worksheets/sheet1.xml", mode="w", force_zip64=True) as sheet:
        sheet.write(_sheet_head(columns, labels).encode())
        parts: list[str] = []
        number = 1
        for row in rows:
            number += 1
            parts.append(f'<row r="{number}">')
            parts.extend(write(value) for write, value in zip(writers, row, strict=False))
            parts.append("</row>")
            if number % ROWS_PER_CHUNK == 0:
                sheet.write("".join(parts).encode())
                parts.clear()
                chunk = sink.take()
                if chunk:
                    yield chunk
        parts.append(_SHEET_TAIL)
        sheet.write("".join(parts).encode())
    archive.close()
    yield sink.take()


def _package(sheet_titles: Sequence[str]) -> list[tuple[str, str]]:
    """The workbook's parts other than its sheets."""
    return [
        ("[Content_Types].xml", _content_types(len(sheet_titles))),
        ("_rels/.rels", _ROOT_RELS),
        ("xl/workbook.xml", _workbook(sheet_titles)),
        ("xl/_rels/workbook.xml.rels", _workbook_rels(len(sheet_titles))),
        ("xl/styles.xml", _STYLES),
    ]


def xlsx_workbook(sheets: Sequence[tuple[str, Sequence[Column], Iterable[Sequence[Any]]]]) -> bytes:
    """A workbook of several sheets (title, columns, rows), built whole: for small, aggregated
    tables such as a report's sections (a table of records streams through xlsx_stream)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in _package([title for title, _columns, _rows in sheets]):
            archive.writestr(name, text)
        for n, (_title, columns, rows) in enumerate(sheets, 1):
            writers = _cell_writers(columns)
            parts = [_sheet_head(columns, True)]
            for number, row in enumerate(rows, 2):
                parts.append(f'<row r="{number}">')
                parts.extend(write(value) for write, value in zip(writers, row, strict=False))
                parts.append("</row>")
            parts.append(_SHEET_TAIL)
            archive.writestr(f"xl/worksheets/sheet{n}.xml", "".join(parts))
    return buffer.getvalue()


def export_response(
    fmt: str,
    filename: str,
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    *,
    labels: bool = True,
    sheet_title: str = "data",
) -> StreamingHttpResponse:
    """A streaming attachment: `fmt` is "csv" or "xlsx"."""
    if fmt == "xlsx":
        stream = xlsx_stream(columns, rows, labels=labels, sheet_title=sheet_title)
        content_type = XLSX_MEDIA_TYPE
    else:
        stream = csv_stream(columns, rows, labels=labels)
        content_type = CSV_MEDIA_TYPE
    response = StreamingHttpResponse(stream, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response
