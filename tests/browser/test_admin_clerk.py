"""The admin as a township clerk uses it, in a real browser (issue 9): register a person with their
groups, see a wrong check digit refused on the form, pay them by picking program and person from
autocomplete, read the history with names and labels; a clerk of another region gets nothing from an
add page's pre-fill parameters; the English switch; no console errors on any page visited; the list
fits a 1366-pixel screen."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from beneficiaries.choices import Gender
from beneficiaries.identity import make_id_number
from beneficiaries.models import Beneficiary, BeneficiaryGroup, GroupMembership
from programs.funding.models import Payment
from seeds.factories.beneficiaries import BeneficiaryFactory
from seeds.factories.funding import FundSourceFactory, ProgramFactory
from tests.browser.conftest import console_errors, pick
from tracker.changelog.models import ChangeEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WAIT = 20
NUMBER = make_id_number("360302", dt.date(1988, 3, 14), 12, Gender.FEMALE)
WRONG_CHECK_DIGIT = NUMBER[:-1] + ("1" if NUMBER[-1] != "1" else "2")


def named(user: Any, family: str, given: str) -> Any:
    user.last_name, user.first_name = family, given
    user.save()
    return user


def make_groups() -> dict[str, BeneficiaryGroup]:
    groups = {}
    for code, zh, en in (
        ("lifted_out_of_poverty", "脱贫人口", "People lifted out of poverty"),
        ("employment_difficulty", "就业困难人员", "People with employment difficulties"),
    ):
        group = BeneficiaryGroup(code=code, name_zh=zh, name_en=en)
        group.save()
        groups[code] = group
    return groups


def wait_for(browser: Any, css: str) -> Any:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, WAIT).until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))


def find(browser: Any, css: str) -> Any:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.CSS_SELECTOR, css)


def type_into(browser: Any, css: str, text: str) -> None:
    field = find(browser, css)
    field.clear()
    field.send_keys(text)


def save(browser: Any) -> None:
    old = find(browser, "html")
    find(browser, "input[name=_save]").click()
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, WAIT).until(ec.staleness_of(old))


def no_console_errors(browser: Any) -> None:
    errors = console_errors(browser)
    assert not errors, errors


@pytest.fixture
def pingxiang_program(regions: Any) -> Any:
    fund = FundSourceFactory(
        code="employment_subsidy_fund", name_zh="就业补助资金", name_en="Employment subsidy fund"
    )
    return ProgramFactory(
        region=regions["360300"],
        fund_source=fund,
        name_zh="萍乡市公益性岗位补贴",
        name_en="Pingxiang public-welfare post subsidy",
        eligible_groups=["lifted_out_of_poverty"],
        valid_from=dt.date(2021, 1, 1),
        valid_to=dt.date(2021, 12, 31),
    )


def test_clerk_registers_pays_and_reads_the_history(browser, admin_session, clerk, pingxiang_program):
    make_groups()
    named(clerk, "张", "敏")
    base = admin_session(clerk)

    # Register: the wrong check digit is refused beside the field, the rest of the input kept.
    browser.get(f"{base}/admin/beneficiaries/beneficiary/add/")
    wait_for(browser, "#beneficiary_form")
    assert "就业帮扶项目管理系统" in browser.title
    type_into(browser, "#id_name", "周晓梅")
    type_into(browser, "#id_id_number", WRONG_CHECK_DIGIT)
    pick(browser, "id_region", "萍乡", "萍乡市")
    from selenium.webdriver.support.ui import Select

    Select(find(browser, "#id_memberships-0-group")).select_by_visible_text("脱贫人口")
    type_into(browser, "#id_memberships-0-valid_from", "2021-01-01")
    no_console_errors(browser)
    save(browser)
    assert "校验码错误" in find(browser, ".field-id_number .errorlist").text
    assert not Beneficiary.objects.exists()
    assert find(browser, "#id_name").get_attribute("value") == "周晓梅"
    no_console_errors(browser)

    type_into(browser, "#id_id_number", NUMBER)
    save(browser)
    assert "/admin/beneficiaries/beneficiary/" in browser.current_url, browser.page_source[:3000]
    person = Beneficiary.objects.get()
    membership = GroupMembership.objects.get(beneficiary=person)
    assert (membership.group.code, membership.valid_from, membership.valid_to) == (
        "lifted_out_of_poverty",
        dt.date(2021, 1, 1),
        None,
    )
    listing = find(browser, "#result_list").text
    assert "周晓梅" in listing and "脱贫人口" in listing and "萍乡市" in listing
    no_console_errors(browser)

    # Pay: program and person picked by autocomplete, never by an id.
    browser.get(f"{base}/admin/funding/payment/add/")
    wait_for(browser, "#payment_form")
    pick(browser, "id_program", "公益性岗位", "萍乡市公益性岗位补贴")
    pick(browser, "id_beneficiary", "周晓", "周晓梅")
    type_into(browser, "#id_period_start", "2021-05-01")
    type_into(browser, "#id_period_end", "2021-05-31")
    save(browser)
    payment = Payment.objects.get()
    assert (payment.beneficiary_id, payment.amount) == (person.pk, 500)
    assert "萍乡市公益性岗位补贴 · 周晓梅 · 2021-05 · 草稿" in find(browser, "#result_list").text
    no_console_errors(browser)

    # History: field names, related records by name, choice labels, people by name, local times.
    browser.get(f"{base}/admin/beneficiaries/beneficiary/{person.pk}/history/")
    table = wait_for(browser, ".tracker-history table").text
    entry = ChangeEntry.objects.get(model="beneficiaries.beneficiary", object_id=str(person.pk))
    for text in ("姓名", "户籍地区", "萍乡市", "性别", "女", "张敏", "管理后台", "新增"):
        assert text in table, (text, table)
    assert timezone.localtime(entry.at).strftime("%Y-%m-%d %H:%M") in table
    assert "female" not in table and "clerk_pingxiang" not in table
    no_console_errors(browser)


def test_the_list_fits_1366_pixels_with_names_on_one_line(browser, admin_session, clerk, regions):
    groups = make_groups()
    for index, name in enumerate(("欧阳娜娜", "司马相如", "阿依古丽·买买提", "诸葛孔明")):
        person = BeneficiaryFactory(
            region=regions["360302"] if "360302" in regions else regions["360300"], name=name
        )
        for group in groups.values():
            GroupMembership(beneficiary=person, group=group, valid_from=dt.date(2020, 1, 1 + index)).save()
    base = admin_session(clerk)
    browser.get(f"{base}/admin/beneficiaries/beneficiary/")
    wait_for(browser, "#result_list")
    headers = find(browser, "#result_list thead").text
    for column in ("姓名", "身份证号码", "地区", "人员类别", "就业状态", "核实日期"):
        assert column in headers, (column, headers)
    assert browser.execute_script("return window.innerWidth") <= 1366
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the list scrolls sideways by {overflow}px at 1366px"
    lines = browser.execute_script(
        "return [...document.querySelectorAll('#result_list .field-name a')]"
        ".map(a => a.getClientRects().length)"
    )
    assert lines and all(n == 1 for n in lines), lines
    no_console_errors(browser)


def test_another_regions_clerk_gets_nothing_from_prefill(
    browser, admin_session, outsider, pingxiang_program, regions
):
    person = BeneficiaryFactory(region=regions["360300"], name="萍乡甲某")
    base = admin_session(outsider)
    browser.get(
        f"{base}/admin/funding/payment/add/?beneficiary={person.pk}&program={pingxiang_program.pk}"
        f"&region={person.region_id}"
    )
    wait_for(browser, "#payment_form")
    page = browser.page_source
    for secret in (person.name, person.id_number_masked, pingxiang_program.name_zh):
        assert secret not in page, secret
    assert find(browser, "#id_beneficiary + .select2 .select2-selection__rendered").text.strip() == ""
    no_console_errors(browser)


def test_the_language_switch_names_each_language_in_itself(browser, admin_session, clerk):
    named(clerk, "张", "敏")
    base = admin_session(clerk)
    browser.get(f"{base}/admin/")
    wait_for(browser, "#language-switch")
    assert find(browser, "#site-name").text == "就业帮扶项目管理系统"
    assert find(browser, "#user-display-name").text == "张敏"
    assert find(browser, "#user-tools").value_of_css_property("text-transform") == "none"
    from selenium.webdriver.support.ui import Select

    switch = Select(find(browser, "#language-switch select"))
    assert [o.text for o in switch.options] == ["简体中文", "English"]
    old = find(browser, "html")
    switch.select_by_value("en")
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, WAIT).until(ec.staleness_of(old))
    wait_for(browser, "#language-switch")
    assert find(browser, "#site-name").text == "Employment assistance program management system"
    assert "Welcome" in find(browser, "#user-tools").text and "张敏" in find(browser, "#user-tools").text
    assert [o.text for o in Select(find(browser, "#language-switch select")).options] == [
        "简体中文",
        "English",
    ]
    no_console_errors(browser)
