"""Bulk import: formats, encodings, all-or-nothing validation, upsert and the limits."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from beneficiaries import imports as importing
from beneficiaries.choices import Gender
from beneficiaries.imports import ImportRejected, beneficiaries_import
from beneficiaries.models import Beneficiary, GroupMembership
from beneficiaries.names import make_name
from seeds.factories.beneficiaries import make_id_number
from tracker.changelog.models import ChangeEntry

URL = "/api/v1/beneficiaries/import/"
ZH = [
    "姓名",
    "身份证号码",
    "性别",
    "出生日期",
    "联系电话",
    "社保卡号",
    "户籍地区代码",
    "现住址",
    "就业意愿",
    "人员类别",
    "备注",
]
EN = [
    "name",
    "id_number",
    "gender",
    "birth_date",
    "phone",
    "social_security_card",
    "region",
    "address",
    "willing_to_work",
    "groups",
    "notes",
]


def row(seq: int, region: str = "360300", **overrides) -> dict:
    birth = dt.date(1970, 1, 1) + dt.timedelta(days=seq)
    gender = Gender.MALE if seq % 2 else Gender.FEMALE
    values = {
        "name": make_name("导入", seq),
        "id_number": make_id_number(region, birth, seq, gender),
        "gender": "男" if gender == Gender.MALE else "女",
        "birth_date": birth.isoformat(),
        "phone": f"139{seq:08d}",
        "social_security_card": "",
        "region": region,
        "address": "",
        "willing_to_work": "是",
        "groups": "脱贫人口、rural_labour",
        "notes": "",
    }
    values.update(overrides)
    return values


def csv_bytes(rows: list[dict], headers=ZH, encoding="utf-8", bom=False) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for r in rows:
        writer.writerow([r[f] for f in EN])
    data = buffer.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(rows: list[dict], headers=ZH, formula_at: tuple[int, int] | None = None) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for r in rows:
        sheet.append([r[f] for f in EN])
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text that looks like a formula (typed as '=... in Excel)
    if formula_at:
        sheet.cell(row=formula_at[0], column=formula_at[1]).value = "=1+1"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def upload(client, content: bytes, name="people.csv", **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return client.post(f"{URL}?{query}", {"file": SimpleUploadedFile(name, content)}, format="multipart")


def test_dry_run_validates_and_writes_nothing(api, clerk, groups):
    res = upload(api(clerk), csv_bytes([row(1), row(2)]), dry_run="true")
    assert res.status_code == 200, res.json()
    assert res.json() == {"dry_run": True, "rows": 2, "created": 2, "updated": 0}
    assert not Beneficiary.objects.exists()


def test_import_utf8_with_bom_writes_people_groups_and_bulk_entries(api, clerk, groups):
    res = upload(api(clerk), csv_bytes([row(1), row(2, region="3603X1")], bom=True))
    assert res.status_code == 201, res.json()
    assert res.json() == {"dry_run": False, "rows": 2, "created": 2, "updated": 0}
    people = Beneficiary.objects.order_by("id")
    assert [p.name for p in people] == ["导入一", "导入二"]
    assert people[0].phone_masked == "139****0001" and people[0].gender == Gender.MALE
    assert (
        GroupMembership.objects.filter(group__code__in=["lifted_out_of_poverty", "rural_labour"]).count() == 4
    )
    entries = ChangeEntry.objects.filter(model="beneficiaries.beneficiary")
    assert entries.count() == 2
    assert {(e.source, e.action, e.actor_name) for e in entries} == {("import", "create", "clerk_pingxiang")}
    assert all(row(1)["id_number"] not in str(e.changes) for e in entries)
    assert ChangeEntry.objects.filter(model="beneficiaries.groupmembership", source="import").count() == 4


def test_gb18030_csv_with_english_headers(api, clerk, groups):
    content = csv_bytes([row(3, name="欧阳示例")], headers=EN, encoding="gb18030")
    content.decode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    res = upload(api(clerk), content)
    assert res.status_code == 201, res.json()
    assert Beneficiary.objects.get().name == "欧阳示例"


def test_undecodable_text_is_refused(api, clerk, groups):
    res = upload(api(clerk), "姓名,身份证号码\n".encode() + b"\x81\x20\xff\xfe,1\n")
    assert res.status_code == 400
    assert "decoded" in res.json()["detail"]


def test_xlsx(api, clerk, groups):
    res = upload(api(clerk), xlsx_bytes([row(4), row(5)]), name="people.xlsx")
    assert res.status_code == 201, res.json()
    assert Beneficiary.objects.count() == 2


def test_xlsx_formula_cell_is_refused(api, clerk, groups):
    res = upload(api(clerk), xlsx_bytes([row(4), row(5)], formula_at=(3, 8)), name="people.xlsx")
    assert res.status_code == 400
    assert res.json()["row_errors"] == [
        {"row": 3, "column": "现住址", "message": "Formula cells are not accepted; paste values."}
    ]
    assert not Beneficiary.objects.exists()


def test_xlsx_numeric_id_number_is_refused(api, clerk, groups):
    numeric = row(6)
    numeric["id_number"] = 360300197001070123
    res = upload(api(clerk), xlsx_bytes([numeric]), name="people.xlsx")
    assert res.status_code == 400 and "text cell" in res.json()["row_errors"][0]["message"]


def test_fake_workbook_and_unknown_format_are_refused(api, clerk, groups):
    res = upload(api(clerk), b"this is not a zip", name="people.xlsx")
    assert res.status_code == 400 and "XLSX" in res.json()["detail"]
    res = upload(api(clerk), b"PK\x03\x04garbage", name="people.xlsx")
    assert res.status_code == 400 and "XLSX" in res.json()["detail"]
    assert upload(api(clerk), b"\xd0\xcf\x11\xe0old", name="people.xls").status_code == 400
    res = upload(api(clerk), b"%PDF-1.4", name="people.pdf")
    assert res.status_code == 400 and "Unknown file format" in res.json()["detail"]
    assert upload(api(clerk), b"\x00\x01\x02binary", name="people.csv").status_code == 400


def test_oversized_file_is_refused(api, clerk, groups, settings):
    content = csv_bytes([row(1), row(2)])
    settings.IMPORT_MAX_BYTES = len(content)
    assert upload(api(clerk), content, dry_run="true").status_code == 200  # at the limit
    settings.IMPORT_MAX_BYTES = len(content) - 1
    res = upload(api(clerk), content)
    assert res.status_code == 400 and "larger than the limit" in res.json()["detail"]
    assert not Beneficiary.objects.exists()


def test_duplicate_in_file_is_refused(api, clerk, groups):
    res = upload(api(clerk), csv_bytes([row(1), row(2), row(1, name="又一个")]))
    assert res.status_code == 400
    errors = res.json()["row_errors"]
    assert errors == [
        {
            "row": 4,
            "column": "身份证号码",
            "message": "This identity number is duplicated in the file (also row 2).",
        }
    ]


def test_every_error_listed_with_row_and_column(api, clerk, groups):
    bad = [
        row(1, id_number="360300197001021230"),  # wrong check digit (most likely)
        row(2, gender="男"),  # seq 2 is female
        row(3, region="450400"),  # outside scope
        row(4, groups="no_such_group"),
        row(5, willing_to_work="也许"),
    ]
    res = upload(api(clerk), csv_bytes(bad))
    assert res.status_code == 400
    body = res.json()
    assert {"type", "title", "status", "detail", "errors", "row_errors"} <= set(body)
    got = {(e["row"], e["column"]) for e in body["row_errors"]}
    assert {(2, "身份证号码"), (3, "性别"), (4, "户籍地区代码"), (5, "人员类别"), (6, "就业意愿")} <= got
    assert "rows.2.身份证号码" in body["errors"]
    assert not Beneficiary.objects.exists()


def test_header_problems(api, clerk, groups):
    res = upload(api(clerk), "姓名,性别,shoe_size\n张三,男,42\n".encode())
    assert res.status_code == 400
    messages = {(e["column"], e["message"].split(" ")[0]) for e in res.json()["row_errors"]}
    assert ("shoe_size", "Unknown") in messages
    assert any(e["column"] == "id_number" for e in res.json()["row_errors"])


def test_already_registered_is_an_error_unless_upsert(api, clerk, groups):
    client = api(clerk)
    assert upload(client, csv_bytes([row(1)])).status_code == 201
    res = upload(client, csv_bytes([row(1, name="改名"), row(2)]))
    assert res.status_code == 400 and "mode=upsert" in res.json()["row_errors"][0]["message"]
    assert Beneficiary.objects.count() == 1
    res = upload(client, csv_bytes([row(1, name="改名", phone="", groups="veteran"), row(2)]), mode="upsert")
    assert res.status_code == 201, res.json()
    assert res.json() == {"dry_run": False, "rows": 2, "created": 1, "updated": 1}
    person = Beneficiary.objects.get(name="改名")
    assert person.phone_masked == "139****0001"  # blank cell: unchanged
    codes = set(GroupMembership.objects.filter(beneficiary=person).values_list("group__code", flat=True))
    assert codes == {"lifted_out_of_poverty", "rural_labour", "veteran"}
    entry = (
        ChangeEntry.objects.filter(model="beneficiaries.beneficiary", object_id=str(person.pk))
        .order_by("id")
        .last()
    )
    assert (
        entry.source == "import"
        and entry.action == "update"
        and entry.changes == {"name": ["导入一", "改名"]}
    )
    assert upload(client, csv_bytes([row(1)]), mode="sideways").status_code == 400


def test_upsert_cannot_touch_a_person_outside_scope(api, clerk, outsider, groups):
    assert upload(api(outsider), csv_bytes([row(1, region="450400")])).status_code == 201
    res = upload(api(clerk), csv_bytes([row(1, region="450400")]), mode="upsert")
    assert res.status_code == 400
    messages = " ".join(e["message"] for e in res.json()["row_errors"])
    assert "elsewhere" in messages
    moved_in = row(1, region="360300", id_number=row(1, region="450400")["id_number"])
    res = upload(api(clerk), csv_bytes([moved_in]), mode="upsert")
    assert res.status_code == 400 and "elsewhere" in res.json()["row_errors"][0]["message"]


def test_outsider_and_read_only_roles_cannot_import(api, analyst, groups):
    assert upload(api(analyst), csv_bytes([row(1)])).status_code == 403
    assert api(None).post(URL, {}, format="multipart").status_code == 401


def test_json_body_is_415_and_missing_file_400(api, clerk, groups):
    assert api(clerk).post(URL, {"file": "x"}, format="json").status_code == 415
    assert api(clerk).post(URL, {}, format="multipart").status_code == 400


def test_all_or_nothing_with_a_bad_row_at_the_end_of_10000(api, clerk, groups):
    rows = [row(i) for i in range(1, 10_001)]
    rows[-1] = row(10_000, birth_date="1900-01-01")
    res = upload(api(clerk), csv_bytes(rows))
    assert res.status_code == 400
    assert res.json()["row_errors"] == [
        {
            "row": 10_001,
            "column": "出生日期",
            "message": "The date of birth does not match the identity number (digits 7 to 14).",
        }
    ]
    assert not Beneficiary.objects.exists()
    assert not ChangeEntry.objects.filter(source="import").exists()
    rows[-1] = row(10_000)
    res = upload(api(clerk), csv_bytes(rows))
    assert res.status_code == 201
    assert Beneficiary.objects.count() == 10_000
    assert ChangeEntry.objects.filter(model="beneficiaries.beneficiary", source="import").count() == 10_000


def test_service_takes_rows_for_benchmarks(clerk, groups):
    result = beneficiaries_import(rows=[row(1), row(2)], actor=clerk, dry_run=False)
    assert (result.created, result.updated) == (2, 0)
    with pytest.raises(ImportRejected):
        beneficiaries_import(rows=[row(3, region="450400")], actor=clerk)


def test_csv_template_as_downloaded_imports_cleanly(api, clerk, groups):
    res = api(clerk).get(f"{URL}template/", {"format": "csv"})
    assert res.status_code == 200 and res["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(res.content.decode("utf-8-sig"))))
    assert lines[0] == ZH and len(lines) == 2
    assert lines[1][0].startswith("# 示例 example")  # the example row, marked, is a comment
    for params in ({}, {"dry_run": "true"}):
        res = upload(
            api(clerk), res.content if not params else api(clerk).get(f"{URL}template/").content, **params
        )
        assert res.status_code in (200, 201), res.json()
        assert res.json()["rows"] == 0 and res.json()["created"] == 0
    assert not Beneficiary.objects.exists()


def test_csv_template_example_row_becomes_data_without_its_mark(api, clerk, groups):
    """The example is a valid row apart from its mark: it shows what the importer accepts."""
    content = api(clerk).get(f"{URL}template/", {"format": "csv"}).content.decode("utf-8-sig")
    unmarked = content.replace("# 示例 example 张三", "张三")
    res = upload(api(clerk), unmarked.encode(), dry_run="true")
    assert res.status_code == 200, res.json()["row_errors"]
    assert res.json()["rows"] == 1


def test_xlsx_template_cells_are_text_and_the_notes_are_bilingual(api, clerk, groups):
    res = api(clerk).get(f"{URL}template/", {"format": "xlsx"})
    assert res.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(res.content))
    sheet, notes = workbook.worksheets
    assert [c.value for c in sheet[1]] == ZH
    for column in ("B", "E", "F", "G"):  # identity number, phone, card, region
        assert sheet.column_dimensions[column].number_format == "@"
        for r in (2, 3, 1000, 5001):
            assert sheet[f"{column}{r}"].number_format == "@", (column, r)
    assert sheet["A2"].number_format == "General"
    text = " ".join(str(c.value) for r in notes.iter_rows() for c in r if c.value)
    assert "身份证号码" in text and "identity number" in text
    assert "以#开头的行不导入" in text and "Rows starting with # are skipped" in text
    english = api(clerk).get(f"{URL}template/", {"format": "xlsx", "headers": "en"})
    first = openpyxl.load_workbook(io.BytesIO(english.content)).worksheets[0]
    assert [c.value for c in first[1]] == EN
    assert api(clerk).get(f"{URL}template/", {"format": "pdf"}).status_code == 400
    empty = upload(api(clerk), res.content, name="template.xlsx")
    assert empty.status_code == 201 and empty.json()["rows"] == 0


def _number_ending_in_x(start: int) -> tuple[int, str]:
    seq = start
    while True:
        birth = dt.date(1970, 1, 1) + dt.timedelta(days=seq)
        number = make_id_number("360300", birth, seq, Gender.MALE if seq % 2 else Gender.FEMALE)
        if number.endswith("X"):
            return seq, number
        seq += 1


def test_filled_in_xlsx_template_keeps_18_digit_numbers_with_x(api, clerk, groups):
    """Fill the downloaded template as a clerk would (typed into the pre-formatted text cells) and
    import it: the numbers come back unchanged, final X included, and so do phone numbers."""
    res = api(clerk).get(f"{URL}template/", {"format": "xlsx"})
    workbook = openpyxl.load_workbook(io.BytesIO(res.content))
    sheet = workbook.worksheets[0]
    wanted = {}
    seq = 1
    for r in (2, 3, 4):
        seq, number = _number_ending_in_x(seq + 1)
        person = row(seq, id_number=number)
        for index, name in enumerate(EN, start=1):
            if person[name]:
                sheet.cell(row=r, column=index).value = person[name]
        assert sheet.cell(row=r, column=2).data_type == "s"  # stored as text
        wanted[number] = person["phone"]
    out = io.BytesIO()
    workbook.save(out)
    res = upload(api(clerk), out.getvalue(), name="filled.xlsx")
    assert res.status_code == 201, res.json()
    from beneficiaries.models import ID_NUMBER_PURPOSE, PHONE_PURPOSE
    from tracker.pii import decrypt

    stored = {
        decrypt(b.id_number_encrypted, purpose=ID_NUMBER_PURPOSE): decrypt(
            b.phone_encrypted, purpose=PHONE_PURPOSE
        )
        for b in Beneficiary.objects.all()
    }
    assert stored == wanted and all(n.endswith("X") and len(n) == 18 for n in stored)


def test_management_command(tmp_path, clerk, groups, capsys, settings):
    path = tmp_path / "people.csv"
    path.write_bytes(csv_bytes([row(1), row(2, region="3603X1")]))
    call_command("import_beneficiaries", str(path), "--user", "clerk_pingxiang", "--dry-run")
    assert not Beneficiary.objects.exists()
    with pytest.raises(SystemExit):
        call_command(
            "import_beneficiaries", str(path), "--user", "clerk_pingxiang", "--region-scope", "3603X1"
        )
    assert not Beneficiary.objects.exists()
    call_command("import_beneficiaries", str(path), "--user", "clerk_pingxiang")
    assert Beneficiary.objects.count() == 2
    entries = ChangeEntry.objects.filter(model="beneficiaries.beneficiary")
    assert {(e.source, e.actor_name, e.actor_id) for e in entries} == {
        ("import", "clerk_pingxiang", clerk.pk)
    }
    call_command("import_beneficiaries", str(path), "--user", "clerk_pingxiang", "--upsert")
    assert Beneficiary.objects.count() == 2


def test_management_command_needs_a_user_and_cannot_widen_their_scope(tmp_path, clerk, groups):
    path = tmp_path / "people.csv"
    path.write_bytes(csv_bytes([row(1)]))
    with pytest.raises(CommandError, match="--user"):
        call_command("import_beneficiaries", str(path))
    with pytest.raises(CommandError, match="nobody"):
        call_command("import_beneficiaries", str(path), "--user", "nobody")
    with pytest.raises(CommandError, match="outside"):
        call_command(
            "import_beneficiaries", str(path), "--user", "clerk_pingxiang", "--region-scope", "360000"
        )
    with pytest.raises(CommandError, match=r"450400|outside"):
        call_command(
            "import_beneficiaries", str(path), "--user", "clerk_pingxiang", "--region-scope", "450400"
        )
    assert not Beneficiary.objects.exists()


@pytest.mark.parametrize(
    ("language", "done", "refused"),
    [("zh-hans", "将新建 1 人", "共 1 处错误"), ("en", "Would create 1", "1 errors")],
)
def test_management_command_speaks_the_configured_language(
    tmp_path, clerk, groups, capsys, settings, language, done, refused
):
    settings.LANGUAGE_CODE = language
    path = tmp_path / "people.csv"
    path.write_bytes(csv_bytes([row(1)]))
    call_command("import_beneficiaries", str(path), "--user", "clerk_pingxiang", "--dry-run")
    assert done in capsys.readouterr().out
    path.write_bytes(csv_bytes([row(1, region="450400")]))
    with pytest.raises(SystemExit):
        call_command("import_beneficiaries", str(path), "--user", "clerk_pingxiang", "--dry-run")
    assert refused in capsys.readouterr().err


# -- one set of cell rules for both formats --------------------------------------------------------------

FORMULA = "A value starting with =, +, - or @ would run as a formula in a spreadsheet"


def _errors(client, people, fmt):
    content = csv_bytes(people) if fmt == "csv" else xlsx_bytes(people)
    res = upload(client, content, name=f"people.{fmt}", dry_run="true")
    return res.status_code, res.json().get("row_errors")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("address", '=HYPERLINK("http://x","y")'),
        ("address", "+1"),
        ("notes", "-"),
        ("notes", "@SUM(A1)"),
        ("notes", "  =1+1"),  # blanks before it do not hide it
        ("social_security_card", "=A1"),
        ("groups", "-veteran"),
        ("phone", "+852 1234 5678"),  # only China's +86 is a country code here
        ("name", "=张三"),
        ("id_number", '="360300197001020039"'),
    ],
)
def test_text_that_looks_like_a_formula_is_refused_in_every_column_of_both_formats(
    api, clerk, groups, fmt, column, value
):
    status, errors = _errors(api(clerk), [row(1), row(2, **{column: value})], fmt)
    assert status == 400
    assert errors == [{"row": 3, "column": ZH[EN.index(column)], "message": errors[0]["message"]}]
    assert errors[0]["message"].startswith(FORMULA)  # one message for the cell, not two


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_formula_lookalike_boundaries(api, clerk, groups, fmt):
    people = [
        row(1, address="a=b", notes="备注-1 + @ok"),  # not at the start
        row(2, phone="+86 139 0000 0002"),  # a phone with China's country code
        row(3, phone="+8613900000003"),
    ]
    assert _errors(api(clerk), people, fmt) == (200, None)


def test_csv_and_xlsx_refuse_exactly_the_same_rows(api, clerk, groups):
    people = [
        row(1, name="张\u202e三"),
        row(2, notes="=cmd|' /C calc'!A0"),
        row(3, region="450400"),
        row(4, id_number="360300197001051234"),
        row(5, willing_to_work="也许"),
        row(6),
        row(7, groups="-"),
        row(8, address="@x"),
    ]
    csv_status, csv_errors = _errors(api(clerk), people, "csv")
    xlsx_status, xlsx_errors = _errors(api(clerk), people, "xlsx")
    assert csv_status == xlsx_status == 400
    assert csv_errors == xlsx_errors and len(csv_errors) == 7


def test_xlsx_formula_and_error_cells_are_refused(api, clerk, groups):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(ZH)
    for seq in (1, 2):
        sheet.append([row(seq)[f] for f in EN])
    sheet["H2"] = "=1+1"  # a formula cell
    sheet["K3"].value = "#N/A"
    sheet["K3"].data_type = "e"  # an error cell
    out = io.BytesIO()
    workbook.save(out)
    res = upload(api(clerk), out.getvalue(), name="people.xlsx")
    assert res.status_code == 400
    assert res.json()["row_errors"] == [
        {"row": 2, "column": "现住址", "message": "Formula cells are not accepted; paste values."},
        {"row": 3, "column": "备注", "message": "The cell holds a spreadsheet error (#N/A); enter a value."},
    ]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_comment_rows_are_skipped_in_both_formats(api, clerk, groups, fmt):
    people = [row(1, name="# 这一行不导入", id_number="x"), row(2), row(3, name="  #也是注释")]
    status, errors = _errors(api(clerk), people, fmt)
    assert (status, errors) == (200, None)
    res = upload(api(clerk), csv_bytes(people) if fmt == "csv" else xlsx_bytes(people), name=f"p.{fmt}")
    assert res.json()["rows"] == 1 and Beneficiary.objects.get().name == row(2)["name"]


def test_csv_empty_rows_count_against_the_row_limit(api, clerk, groups, settings):
    settings.IMPORT_MAX_ROWS = 3
    content = csv_bytes([row(1)]) + b"\r\n,,,\r\n\r\n"  # one person and three empty rows
    res = upload(api(clerk), content, dry_run="true")
    assert res.status_code == 400
    assert res.json()["row_errors"] == [
        {"row": 5, "column": None, "message": "The file has more than 3 rows (empty rows count too)."}
    ]
    assert upload(api(clerk), csv_bytes([row(1)]) + b",,\r\n\r\n", dry_run="true").status_code == 200


# -- chunks: memory stays bounded, the rules do not change --------------------------------------------------


def test_every_error_is_reported_across_chunks_and_duplicates_are_found_across_them(
    api, clerk, groups, monkeypatch
):
    monkeypatch.setattr(importing, "CHUNK_ROWS", 3)
    people = [row(i) for i in range(1, 11)]
    people[1] = row(2, gender="男")  # chunk 1
    people[7] = row(1)  # chunk 3: duplicates row 2 of the file
    people[9] = row(10, region="450400")  # chunk 4 (of one row)
    res = upload(api(clerk), csv_bytes(people))
    assert res.status_code == 400
    assert [(e["row"], e["column"]) for e in res.json()["row_errors"]] == [
        (3, "性别"),
        (9, "身份证号码"),
        (11, "户籍地区代码"),
    ]
    assert "also row 2" in res.json()["row_errors"][1]["message"]
    assert not Beneficiary.objects.exists()


def test_writing_in_chunks_is_still_all_or_nothing(api, clerk, groups, monkeypatch):
    monkeypatch.setattr(importing, "CHUNK_ROWS", 2)
    written = importing._write_creates
    calls = []

    def fail_on_the_third_chunk(rows, today):
        calls.append(len(rows))
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return written(rows, today)

    monkeypatch.setattr(importing, "_write_creates", fail_on_the_third_chunk)
    with pytest.raises(RuntimeError):
        importing.beneficiaries_import(rows=[row(i) for i in range(1, 8)], actor=clerk)
    assert calls == [2, 2, 2] and not Beneficiary.objects.exists()
    assert not ChangeEntry.objects.filter(source="import").exists()
    monkeypatch.setattr(importing, "_write_creates", written)
    result = importing.beneficiaries_import(rows=[row(i) for i in range(1, 8)], actor=clerk)
    assert result.created == 7 and sorted(result.ids) == list(
        Beneficiary.objects.order_by("id").values_list("id", flat=True)
    )


def test_a_bulk_import_analyses_the_tables_it_wrote_on_postgresql(
    clerk, groups, monkeypatch, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(importing, "ANALYZE_MIN_ROWS", 3)
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        importing.beneficiaries_import(rows=[row(1), row(2)], actor=clerk)
    assert not [q for q in queries if q["sql"].startswith("ANALYZE")]  # under the threshold
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        importing.beneficiaries_import(rows=[row(3), row(4), row(5)], actor=clerk)
    analysed = [q["sql"] for q in queries if q["sql"].startswith("ANALYZE")]
    if connection.vendor == "postgresql":
        assert analysed == [
            'ANALYZE "beneficiaries_beneficiary"',
            'ANALYZE "beneficiaries_groupmembership"',
            'ANALYZE "changelog_changeentry"',
        ]
    else:
        assert analysed == []
