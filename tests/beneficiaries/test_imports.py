"""Bulk import: formats, encodings, all-or-nothing validation, upsert and the limits."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from beneficiaries.choices import Gender
from beneficiaries.imports import ImportRejected, beneficiaries_import
from beneficiaries.models import Beneficiary, GroupMembership
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
        "name": f"导入{seq}",
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
    assert [p.name for p in people] == ["导入1", "导入2"]
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
        entry.source == "import" and entry.action == "update" and entry.changes == {"name": ["导入1", "改名"]}
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


def test_template_has_headers_only(api, clerk, groups):
    res = api(clerk).get(f"{URL}template/", {"format": "csv"})
    assert res.status_code == 200 and res["Content-Type"].startswith("text/csv")
    text = res.content.decode("utf-8-sig")
    assert text.strip().split(",") == ZH
    res = api(clerk).get(f"{URL}template/", {"format": "xlsx", "headers": "en"})
    assert res.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(res.content))
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert list(rows[0]) == EN and len(rows) == 1
    assert api(clerk).get(f"{URL}template/", {"format": "pdf"}).status_code == 400


def test_management_command(tmp_path, groups, capsys):
    path = tmp_path / "people.csv"
    path.write_bytes(csv_bytes([row(1), row(2, region="450400")]))
    call_command("import_beneficiaries", str(path), "--dry-run")
    assert not Beneficiary.objects.exists()
    with pytest.raises(SystemExit):
        call_command("import_beneficiaries", str(path), "--region-scope", "360300")
    assert not Beneficiary.objects.exists()
    call_command("import_beneficiaries", str(path))
    assert Beneficiary.objects.count() == 2
    entry = ChangeEntry.objects.filter(model="beneficiaries.beneficiary").first()
    assert entry.source == "import" and entry.actor_name == "import_beneficiaries"
    call_command("import_beneficiaries", str(path), "--upsert")
    assert Beneficiary.objects.count() == 2
