"""Payments in the admin as a clerk and a reviewer read them: titled by program, payee, period and
status label; program and person picked by (scoped) autocomplete, by name or identity number;
filters by program, period, region, fund source and status; the steps a role may take; and a role
refusal that reads differently from a maker-checker refusal."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import translation

from beneficiaries.choices import Gender
from beneficiaries.services import beneficiary_create
from programs.funding import services
from programs.funding.models import Payment
from seeds.factories.beneficiaries import make_id_number
from tests.programs.conftest import MAY, make_group, month
from tracker.admin import RULE_CODE

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/funding/payment/"


def login(user: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def test_a_payment_is_titled_by_program_payee_period_and_status(clerk, program, person):
    clerk.last_name, clerk.first_name = "刘", "晓燕"
    clerk.save()
    payment = services.payment_create(program=program, beneficiary=person, actor=clerk, **MAY)
    with translation.override("zh-hans"):
        title = str(Payment.objects.get(pk=payment.pk))
    assert title == f"{program.name_zh} · {person.name} · 2021-05 · 草稿"
    with translation.override("en"):
        assert str(payment).endswith("· 2021-05 · Draft")
    page = login(clerk).get(f"{CHANGELIST}{payment.pk}/change/").content.decode()
    assert title in page and f"#{payment.pk} " not in page
    assert '<div class="readonly">刘晓燕</div>' in page  # who entered it, by name
    assert "clerk_pingxiang" not in page
    assert title in login(clerk).get(CHANGELIST).content.decode()
    odd = services.payment_create(
        program=program,
        beneficiary=person,
        actor=clerk,
        period_start=dt.date(2021, 6, 3),
        period_end=dt.date(2021, 6, 20),
    )
    assert "2021-06-03–2021-06-20" in str(odd)


def test_program_and_person_are_picked_by_scoped_autocomplete(clerk, outsider, program, regions):
    make_group("lifted_out_of_poverty")
    number = make_id_number("360300", dt.date(1979, 9, 9), 41, Gender.MALE)
    person = beneficiary_create(actor=clerk, name="欧阳示例", id_number=number, region=regions["360300"])

    def pick(user: Any, field: str, term: str) -> list[str]:
        response = login(user).get(
            "/admin/autocomplete/",
            {"app_label": "funding", "model_name": "payment", "field_name": field, "term": term},
        )
        assert response.status_code == 200
        return [r["text"] for r in json.loads(response.content)["results"]]

    assert pick(clerk, "beneficiary", "欧阳") == [str(person)]
    assert pick(clerk, "beneficiary", number) == [str(person)]  # the exact identity number
    assert pick(clerk, "program", program.name_zh[:3]) == [str(program)]
    assert pick(outsider, "beneficiary", "欧阳") == [] and pick(outsider, "beneficiary", number) == []
    assert pick(outsider, "program", program.name_zh[:3]) == []
    add = login(clerk).get(f"{CHANGELIST}add/").content.decode()
    assert 'name="program"' in add and "admin-autocomplete" in add and "vForeignKeyRawIdAdminField" not in add


def test_filters_by_program_period_region_fund_source_and_status(clerk, make_program, person_in, pay):
    may_program, june_program = make_program(), make_program()
    in_city, in_county = person_in("360300"), person_in("360323")
    a = pay(may_program, beneficiary=in_city)
    b = pay(june_program, beneficiary=in_county, **month(6), submit=True)
    client = login(clerk)

    def listed(**params: str) -> set[int]:
        response = client.get(CHANGELIST, params)
        assert response.status_code == 200, params
        return {p.pk for p in response.context["cl"].result_list}

    assert listed() == {a.pk, b.pk}
    assert listed(program__id__exact=str(june_program.pk)) == {b.pk}
    assert listed(month="2021-05") == {a.pk}
    assert listed(month="2021-06") == {b.pk}
    assert listed(within="360323") == {b.pk}
    assert listed(fund_source__id__exact=str(may_program.fund_source_id)) == {a.pk, b.pk}
    assert listed(status__exact="submitted") == {b.pk}
    text = client.get(CHANGELIST).content.decode()
    for title in ("政策项目", "发放期间", "地区（含下级）", "资金来源", "状态"):
        assert title in text, title


def test_each_role_sees_only_the_steps_it_may_take(clerk, reviewer):
    def actions(user: Any) -> set[str]:
        response = login(user).get(CHANGELIST)
        return {name for name, _label in response.context["action_form"].fields["action"].choices if name}

    assert {"submit_selected"} <= actions(clerk)
    assert not {"approve_selected", "mark_paid_selected", "reverse_selected"} & actions(clerk)
    assert {"approve_selected", "mark_paid_selected", "reverse_selected"} <= actions(reviewer)
    assert "submit_selected" not in actions(reviewer)


def test_a_role_refusal_reads_differently_from_a_maker_checker_refusal(reviewer, superuser, program, person):
    # Role: a reviewer may not enter payments (a clerk does); said on the form, naming the role needed.
    data = {
        "program": program.pk,
        "payee_kind": "person",
        "beneficiary": person.pk,
        "period_start": "2021-05-01",
        "period_end": "2021-05-31",
        "quantity": "1",
        "unit_amount": "",
        "amount": "",
        "reason": "",
    }
    response = login(reviewer).post(f"{CHANGELIST}add/", data)
    assert response.status_code == 200 and not Payment.objects.exists()
    role_refusal = " ".join(response.context["adminform"].form.non_field_errors())
    assert "需要经办员角色" in role_refusal
    # Maker-checker: an administrator who entered and submitted a payment may not approve it.
    payment = services.payment_create(
        program=program, beneficiary=person, actor=superuser, submit=True, **MAY
    )
    response = login(superuser).post(
        CHANGELIST, {"action": "approve_selected", "_selected_action": [payment.pk]}
    )
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert len(texts) == 1
    four_eyes = texts[0]
    assert four_eyes.startswith(
        str(Payment.objects.select_related("program", "beneficiary").get(pk=payment.pk))
    )
    assert "经办与审核分离规则" in four_eyes and "[MAKER_CHECKER]" in four_eyes
    assert "角色" not in four_eyes.split("：未执行。")[1].split("规则")[0]
    assert role_refusal != four_eyes
    payment.refresh_from_db()
    assert payment.status == "submitted"


def test_a_rule_refusal_reads_as_a_sentence_with_its_code_last(clerk, program, person):
    services.payment_create(program=program, beneficiary=person, actor=clerk, **MAY)
    data = {
        "program": program.pk,
        "payee_kind": "person",
        "beneficiary": person.pk,
        "period_start": "2021-05-01",
        "period_end": "2021-05-31",
        "quantity": "1",
        "unit_amount": "",
        "amount": "",
        "reason": "",
    }
    response = login(clerk).post(f"{CHANGELIST}add/", data)
    assert response.status_code == 200
    errors = [str(e) for field in response.context["adminform"].form.errors.values() for e in field]
    # The same period again: refused by a rule, whose sentence comes first and its code last.
    assert errors and not any(RULE_CODE.match(e) for e in errors), errors
    assert any(re.search(r" \[[A-Z_]+\]$", e) for e in errors), errors
