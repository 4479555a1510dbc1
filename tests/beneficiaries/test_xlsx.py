"""XLSX files built to exhaust the server (issue 7): each is a small upload that would unpack to
hundreds of megabytes, or make the reader do work out of proportion to its size. Each must be refused
with a 400 {row, column, message} that names the limit, without being unpacked."""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Iterable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from beneficiaries import xlsx
from beneficiaries.models import Beneficiary
from tests.beneficiaries.test_imports import URL, ZH, row, xlsx_bytes

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
RELS_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WORKBOOK = (
    f'<workbook {NS} xmlns:r="{RELS_NS}"><sheets><sheet name="s" sheetId="1" r:id="rId1"/></sheets></workbook>'
).encode()
RELS = (
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{RELS_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{RELS_NS}/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
).encode()
HEADER_ROW = (
    "<row>" + "".join(f'<c t="inlineStr"><is><t>{h}</t></is></c>' for h in ZH[:3] + ZH[6:7]) + "</row>"
)


def workbook(sheet: Iterable[bytes], shared: Iterable[bytes] | None = None, **extra: bytes) -> bytes:
    """A minimal workbook whose sheet (and shared strings) are streamed into the archive piece by
    piece, so a part of hundreds of megabytes is never held in memory by the test either."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", RELS)
        for name, data in extra.items():
            archive.writestr(name, data)
        with archive.open("xl/worksheets/sheet1.xml", "w") as part:
            for piece in sheet:
                part.write(piece)
        if shared is not None:
            with archive.open("xl/sharedStrings.xml", "w") as part:
                for piece in shared:
                    part.write(piece)
    return out.getvalue()


def sheet(*rows: str, filler: tuple[bytes, int] | None = None, tail: str = "") -> Iterable[bytes]:
    yield f"<worksheet {NS}><sheetData>".encode()
    for r in rows:
        yield r.encode()
    if filler:
        piece, times = filler
        for _ in range(times):
            yield piece
    yield f"{tail}</sheetData></worksheet>".encode()


def upload(api, clerk, content: bytes):
    return api(clerk).post(
        f"{URL}?dry_run=true", {"file": SimpleUploadedFile("bomb.xlsx", content)}, format="multipart"
    )


def only_error(res) -> dict:
    assert res.status_code == 400, res.content[:500]
    errors = res.json()["row_errors"]
    assert len(errors) == 1, errors
    return errors[0]


MB = 1 << 20


def test_a_sheet_unpacking_to_hundreds_of_megabytes_is_refused_unread(api, clerk, groups, settings):
    # 6 bytes per empty row, 48 MiB a piece: 336 MiB unpacked from an upload of about 350 KiB.
    content = workbook(sheet(HEADER_ROW, filler=(b"<row/>" * (8 * MB), 7)))
    assert len(content) < 1 * MB
    error = only_error(upload(api, clerk, content))
    assert error["row"] is None and error["column"] is None
    assert "unpacks to 352,321," in error["message"]  # its size, read from the archive's directory
    assert f"{settings.IMPORT_XLSX_MAX_UNPACKED_BYTES:,}" in error["message"]  # the limit, named


def test_a_giant_shared_string_is_refused_unread(api, clerk, groups, settings):
    shared = [b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>']
    shared += [b"A" * (48 * MB)] * 7 + [b"</t></si></sst>"]
    content = workbook(sheet(HEADER_ROW), shared=shared)
    assert len(content) < 1 * MB
    error = only_error(upload(api, clerk, content))
    assert "shared-strings table" in error["message"]
    assert f"{settings.IMPORT_XLSX_MAX_UNPACKED_BYTES:,}" in error["message"]


def test_empty_rows_count_against_the_row_limit_and_reading_stops_there(api, clerk, groups, settings):
    """Four million empty rows (24 MiB unpacked, under the size limit): refused as soon as the
    row after the limit is reached, naming the limit."""
    settings.IMPORT_MAX_ROWS = 1000
    content = workbook(sheet(HEADER_ROW, filler=(b"<row/>" * MB, 4)))
    error = only_error(upload(api, clerk, content))
    assert error["row"] == 1002  # the header is row 1, then 1,000 rows allowed
    assert "1,000 rows" in error["message"] and "empty rows count" in error["message"]


def test_a_jump_to_the_last_row_is_refused_at_once(api, clerk, groups):
    content = workbook(sheet(HEADER_ROW, '<row r="1048576"><c t="inlineStr"><is><t>x</t></is></c></row>'))
    error = only_error(upload(api, clerk, content))
    assert error["row"] == 1048576 and "200,000 rows" in error["message"]


def test_the_row_limit_itself_is_allowed(api, clerk, groups, settings):
    settings.IMPORT_MAX_ROWS = 3
    people = [row(1), row(2), row(3)]
    assert upload(api, clerk, xlsx_bytes(people)).status_code == 200
    people.append(row(4))
    assert "3 rows" in only_error(upload(api, clerk, xlsx_bytes(people)))["message"]


def test_the_shared_strings_table_has_its_own_limit(api, clerk, groups, settings):
    settings.IMPORT_XLSX_MAX_SHARED_STRINGS_BYTES = 10_000
    strings = [b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">']
    strings += [f"<si><t>string {i}</t></si>".encode() for i in range(2000)] + [b"</sst>"]
    error = only_error(upload(api, clerk, workbook(sheet(HEADER_ROW), shared=strings)))
    assert "10,000 bytes" in error["message"]


def test_a_cell_longer_than_excel_allows_is_refused(api, clerk, groups):
    long_cell = f'<row><c t="inlineStr"><is><t>{"长" * 32_768}</t></is></c></row>'
    error = only_error(upload(api, clerk, workbook(sheet(HEADER_ROW, long_cell))))
    assert error["row"] == 2 and "32,767 characters" in error["message"]


def test_entity_declarations_are_refused(api, clerk, groups):
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
        f'<worksheet {NS}><sheetData><row><c t="inlineStr"><is><t>&lol2;</t></is></c></row></sheetData>'
        "</worksheet>"
    )
    error = only_error(upload(api, clerk, workbook([laughs.encode()])))
    assert "not a valid XLSX" in error["message"]


def test_too_many_archive_members_are_refused_before_they_are_listed(api, clerk, groups):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for i in range(xlsx.MAX_MEMBERS + 1):
            archive.writestr(f"x/{i}", b"")
    error = only_error(upload(api, clerk, out.getvalue()))
    assert f"{xlsx.MAX_MEMBERS:,}" in error["message"]


def test_a_part_bigger_than_its_directory_entry_says_is_refused(api, clerk, groups):
    """zipfile never returns more than the declared size, so a directory that understates a part
    only truncates it (and the checksum then fails): the bound holds while reading too."""
    content = bytearray(workbook(sheet(HEADER_ROW, filler=(b"<row/>" * 1000, 10))))
    entry = content.rfind(b"PK\x01\x02")  # the sheet's central-directory entry (last written)
    while b"xl/worksheets/sheet1.xml" not in bytes(content[entry + 46 : entry + 46 + 24]):
        entry = content.rfind(b"PK\x01\x02", 0, entry)
    content[entry + 24 : entry + 28] = struct.pack("<I", 100)  # uncompressed size
    assert "not a valid XLSX" in only_error(upload(api, clerk, bytes(content)))["message"]


def test_cells_past_the_header_are_dropped_while_parsing(api, clerk, groups):
    person = row(1)
    cells = "".join(
        f'<c r="{col}2" t="inlineStr"><is><t>{person[f]}</t></is></c>'
        for col, f in zip("ABCD", ("name", "id_number", "gender", "region"), strict=True)
    )
    wide = f'<row r="2">{cells}<c r="XFD2"><v>1</v></c></row>'
    res = upload(api, clerk, workbook(sheet(HEADER_ROW, wide)))
    assert res.status_code == 200, res.json()
    assert res.json()["rows"] == 1 and not Beneficiary.objects.exists()


@pytest.mark.parametrize(
    "damage", [b"<worksheet><sheetData><row r='2'/><row r='1'/>", b"<worksheet><row><c r='1A'/>"]
)
def test_malformed_sheets_are_invalid_workbooks(api, clerk, groups, damage):
    assert "not a valid XLSX" in only_error(upload(api, clerk, workbook([damage])))["message"]
