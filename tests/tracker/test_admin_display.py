"""What a clerk reads in the admin: the change log and history pages in the page's language (field
names, records and people by name, choice labels, local times), bookkeeping hidden from the
change-log list by default, one site name, the language switch in each language's own name, the
user's real name in the welcome line, and the registry's list columns and filters."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from beneficiaries import services
from beneficiaries.choices import EmploymentStatus, Gender, StatusSource
from seeds.factories.beneficiaries import BeneficiaryFactory, make_id_number
from tracker.changelog.display import bookkeeping_q, describe_entries
from tracker.changelog.models import ChangeEntry

pytestmark = pytest.mark.django_db

CHANGELOG = "/admin/changelog/changeentry/"


def login(user: Any, language: str = "zh-hans") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def named(user: Any, family: str, given: str) -> Any:
    user.last_name, user.first_name = family, given
    user.save()
    return user


@pytest.fixture
def person(clerk: Any, regions: Any) -> Any:
    named(clerk, "刘", "晓燕")
    return services.beneficiary_create(
        actor=clerk,
        name="周示例",
        id_number=make_id_number("360300", dt.date(1985, 4, 2), 31, Gender.FEMALE),
        region=regions["360300"],
    )


def test_an_entry_reads_in_the_pages_language(person: Any, clerk: Any) -> None:
    entry = ChangeEntry.objects.get(model="beneficiaries.beneficiary", object_id=str(person.pk))
    assert entry.changes["region"][1] == person.region_id  # what is stored: the id
    with translation.override("zh-hans"):
        view = describe_entries([entry])[0]
    shown = {c.label: c.new for c in view.changes}
    assert shown["户籍地区"] == "萍乡市 (360300)"
    assert shown["性别"] == "女"
    assert shown["姓名"] == "周示例"
    assert shown["有就业意愿"] == "是"
    # Times in settings.TIME_ZONE (Asia/Shanghai), not the UTC ISO text the entry stores.
    registered = timezone.localtime(person.registered_at).strftime("%Y-%m-%d %H:%M:%S")
    assert shown["登记时间"] == registered and "+00:00" not in shown["登记时间"]
    assert (view.actor, view.actor_username, view.action, view.model) == (
        "刘晓燕",
        "clerk_pingxiang",
        "新增",
        "人员",
    )
    with translation.override("en"):
        view = describe_entries([entry])[0]
    shown = {c.label: c.new for c in view.changes}
    assert shown["household region"] == "萍乡市 (360300)" and shown["gender"] == "Female"
    assert view.action == "Create"


def test_the_history_page_names_fields_records_people_and_labels(person: Any, clerk: Any) -> None:
    services.status_change_record(
        beneficiary=person,
        actor=clerk,
        status=EmploymentStatus.EMPLOYED_LOCAL,
        effective_on=dt.date(2021, 3, 1),
        source=StatusSource.VISIT,
    )
    text = login(clerk).get(f"/admin/beneficiaries/beneficiary/{person.pk}/history/").content.decode()
    for shown in ("户籍地区", "萍乡市 (360300)", "性别", "女", "刘晓燕", "新增", "本地就业"):
        assert shown in text, shown
    for raw in ("female", "employed_local", "region:", "+00:00"):
        assert raw not in text, raw


def test_bookkeeping_is_hidden_from_the_change_log_list_by_default(person: Any, clerk: Any) -> None:
    # A save that changed nothing, and the status mirror the status change's own entry records.
    services.beneficiary_update(beneficiary=person, actor=clerk)
    services.status_change_record(
        beneficiary=person,
        actor=clerk,
        status=EmploymentStatus.UNEMPLOYED,
        effective_on=dt.date(2021, 3, 1),
        source=StatusSource.PHONE,
    )
    person.refresh_from_db()
    ours = ChangeEntry.objects.filter(model="beneficiaries.beneficiary", object_id=str(person.pk))
    bookkeeping = set(ours.filter(bookkeeping_q()).values_list("id", flat=True))
    assert len(bookkeeping) == 2
    facts = set(ours.exclude(bookkeeping_q()).values_list("id", flat=True))
    assert len(facts) == 1  # the registration

    client = login(clerk)
    shown = {e.pk for e in client.get(CHANGELOG).context["cl"].result_list}
    assert not shown & bookkeeping and facts <= shown
    shown_all = {e.pk for e in client.get(CHANGELOG, {"entries": "all"}).context["cl"].result_list}
    assert bookkeeping | facts <= shown_all
    only = {e.pk for e in client.get(CHANGELOG, {"entries": "bookkeeping"}).context["cl"].result_list}
    assert only & (bookkeeping | facts) == bookkeeping
    # The status change itself is a fact and is listed.
    assert ChangeEntry.objects.filter(model="beneficiaries.statuschange", pk__in=shown).exists()


def test_an_event_without_changed_fields_is_a_fact(person: Any, superuser: Any) -> None:
    from tracker.changelog.context import acting
    from tracker.changelog.services import record_event

    with acting(superuser):
        record_event(person, action="pii_reveal", reason="核对身份")
    entry = ChangeEntry.objects.get(action="pii_reveal")
    assert not ChangeEntry.objects.filter(bookkeeping_q(), pk=entry.pk).exists()
    page = login(superuser).get(CHANGELOG).content.decode()
    assert "查看完整个人信息" in page  # the verb's label, not `pii_reveal`


def test_the_change_log_list_reads_for_people_in_constant_queries(clerk: Any, regions: Any) -> None:
    named(clerk, "刘", "晓燕")

    def page_queries() -> tuple[int, str]:
        client = login(clerk)
        client.get(CHANGELOG)  # warm per-request caches (roles, region paths)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(CHANGELOG)
        return len(queries), response.content.decode()

    for n in range(3):
        BeneficiaryFactory(region=regions["360300"], name=f"少量{n}")
    few, _ = page_queries()
    for n in range(20):
        BeneficiaryFactory(region=regions["360300"], name=f"更多{n}")
    many, text = page_queries()
    assert many == few, (few, many)
    assert "姓名" in text and "少量0" in text and "人员" in text
    assert ">beneficiaries.beneficiary<" not in text  # the type by its name (the filter links use codes)


def test_one_site_name_the_language_switch_and_the_real_name(clerk: Any) -> None:
    named(clerk, "刘", "晓燕")
    text = login(clerk).get("/admin/").content.decode()
    assert "<title>站点管理 | 就业帮扶项目管理系统</title>" in text
    assert '<a href="/admin/">就业帮扶项目管理系统</a>' in text
    assert ">简体中文</option>" in text and ">English</option>" in text and "英语" not in text
    assert '<strong id="user-display-name">刘晓燕</strong>' in text
    english = login(clerk, "en").get("/admin/").content.decode()
    assert "Employment assistance program management system" in english
    assert ">简体中文</option>" in english and ">English</option>" in english
    assert "刘晓燕" in english
