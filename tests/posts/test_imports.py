"""Attendance import: CSV (UTF-8 or GB18030) and XLSX under the beneficiary import's rules, all or
nothing, every error as {row, column, message}."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest

from beneficiaries.imports import ImportRejected
from beneficiaries.models import GroupMembership
from programs.posts import services
from programs.posts.imports import attendance_import
from programs.posts.models import Attendance
from seeds.factories.beneficiaries import BeneficiaryFactory, make_id_number
from tests.posts.conftest import JAN, VILLAGE, make_group

pytestmark = pytest.mark.django_db


@pytest.fixture
def holders(make_post, regions, hire):
    """Two holders of a post of 示例东村, with known identity numbers."""
    post = make_post(headcount=2)
    people = []
    for seq, name in ((21, "许一"), (22, "韩二")):
        number = make_id_number("360323", dt.date(1978, 6, seq), seq, "female")
        person = BeneficiaryFactory(region=regions[VILLAGE], id_number=number, name=name)
        GroupMembership(beneficiary=person, group=make_group("lifted_out_of_poverty"), valid_from=JAN).save()
        hire(post, person)
        people.append((number, person))
    return post, people


def csv_bytes(rows: list[list[object]], *, encoding: str = "utf-8") -> bytes:
    lines = [",".join(str(c) for c in row) for row in rows]
    return ("\n".join(lines) + "\n").encode(encoding)


HEADER = ["月份", "身份证号码", "姓名", "应出勤天数", "实际出勤天数", "带薪假天数"]


def test_a_valid_sheet_is_written(holders, clerk):
    _post, people = holders
    content = csv_bytes(
        [HEADER, ["2021-03", people[0][0], "许一", 23, 23, 0], ["2021-03", people[1][0], "韩二", 23, 20, 3]]
    )
    result = attendance_import(file=content, filename="march.csv", actor=clerk)
    assert (result.rows, result.created, result.updated) == (2, 2, 0)
    assert sorted(Attendance.objects.values_list("days_present", "paid_leave_days")) == [(20, 3), (23, 0)]
    assert set(Attendance.objects.values_list("source", flat=True)) == {"import"}
    # The same sheet again changes nothing; a corrected one updates.
    assert attendance_import(file=content, filename="march.csv", actor=clerk).unchanged == 2


def test_gb18030_and_english_headers(holders, clerk):
    _post, people = holders
    content = csv_bytes(
        [
            ["month", "id_number", "name", "days_required", "days_present"],
            ["2021-04", people[0][0], "许一", 22, 22],
        ],
        encoding="gb18030",
    )
    assert attendance_import(file=content, filename="april.csv", actor=clerk).created == 1


def test_every_error_is_listed_and_nothing_is_written(holders, clerk):
    _post, people = holders
    stranger = make_id_number("360323", dt.date(1970, 1, 1), 33, "male")
    content = csv_bytes(
        [
            HEADER,
            ["2021-03", people[0][0], "许一", 23, 23, 0],
            ["2021-03", people[1][0], "韩二", 23, 24, 0],
            ["2021-03", stranger, "", 23, 23, 0],
            ["2021-3x", people[0][0], "", 23, 23, 0],
            ["2021-03", people[1][0], "别人", 23, "=SUM(A1)", 0],
            ["2020-12", people[0][0], "", 23, 1.5, 0],
        ]
    )
    with pytest.raises(ImportRejected) as excinfo:
        attendance_import(file=content, filename="bad.csv", actor=clerk)
    errors = [(e["row"], e["column"], e["message"].split(":")[0]) for e in excinfo.value.row_errors]
    assert (3, "实际出勤天数", "ATTENDANCE_DAYS") in errors
    assert (4, "身份证号码", "No one with this identity number is registered in your region.") in errors
    assert any(row == 5 and column == "月份" for row, column, _m in errors)
    assert any(row == 6 and column == "实际出勤天数" for row, column, _m in errors)  # a formula
    assert any(row == 6 and column == "姓名" for row, column, _m in errors)
    assert any(row == 7 and column == "实际出勤天数" for row, column, _m in errors)  # not a whole number
    assert not Attendance.objects.exists()


def test_a_missing_column_is_a_header_error(holders, clerk):
    with pytest.raises(ImportRejected) as excinfo:
        attendance_import(
            file=csv_bytes([["月份", "身份证号码"], ["2021-03", "x"]]), filename="x.csv", actor=clerk
        )
    assert {e["column"] for e in excinfo.value.row_errors} == {"days_required", "days_present"}


def test_xlsx_with_dates_as_cells(holders, clerk):
    _post, people = holders
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append([dt.datetime(2021, 5, 1), people[0][0], "许一", 21, 21, 0])
    sheet.append([dt.datetime(2021, 5, 1), people[1][0], "韩二", 21, 19, 2])
    buffer = io.BytesIO()
    book.save(buffer)
    result = attendance_import(file=buffer.getvalue(), filename="may.xlsx", actor=clerk)
    assert result.created == 2
    assert set(Attendance.objects.values_list("month", flat=True)) == {"2021-05"}


def test_two_posts_in_a_month_need_the_post(make_post, holders, clerk):
    post, people = holders
    number, person = people[0]
    held = post.assignments.get(beneficiary=person)
    services.assignment_end(
        assignment=held, actor=clerk, end_date=dt.date(2021, 3, 10), end_reason="resigned"
    )
    other = make_post()
    services.assignment_hire(actor=clerk, post=other, beneficiary=person, start_date=dt.date(2021, 3, 11))
    content = csv_bytes([HEADER, ["2021-03", number, "", 23, 5, 0]])
    with pytest.raises(ImportRejected) as excinfo:
        attendance_import(file=content, filename="x.csv", actor=clerk)
    assert excinfo.value.row_errors[0]["column"] == "post"
    content = csv_bytes([[*HEADER, "岗位编号"], ["2021-03", number, "", 23, 5, 0, other.pk]])
    assert attendance_import(file=content, filename="x.csv", actor=clerk).created == 1


def test_the_outsider_finds_no_one(holders, outsider):
    _post, people = holders
    content = csv_bytes([HEADER, ["2021-03", people[0][0], "", 23, 23, 0]])
    with pytest.raises(ImportRejected) as excinfo:
        attendance_import(file=content, filename="x.csv", actor=outsider)
    assert (
        excinfo.value.row_errors[0]["message"]
        == "No one with this identity number is registered in your region."
    )


def test_a_dry_run_writes_nothing(holders, clerk):
    _post, people = holders
    content = csv_bytes([HEADER, ["2021-03", people[0][0], "许一", 23, 23, 0]])
    assert attendance_import(file=content, filename="x.csv", actor=clerk, dry_run=True).created == 1
    assert not Attendance.objects.exists()
