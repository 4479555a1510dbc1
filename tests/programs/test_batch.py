"""payments_create_batch: every rule for every item, in a constant number of queries per batch, items
counting against each other, all or nothing (or the refusals reported, for subsidy runs)."""

from __future__ import annotations

import decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from programs.funding import services
from programs.funding.choices import PaymentStatus
from programs.funding.models import Payment
from programs.funding.services import PaymentItem
from tests.programs.conftest import make_person, month
from tracker.changelog.models import ChangeEntry
from tracker.regions.models import Region

D = decimal.Decimal


def _items(program, people, number=5):
    return [PaymentItem(program=program, beneficiary=p, **month(number)) for p in people]


def _queries(program, clerk, people, number):
    with CaptureQueriesContext(connection) as ctx:
        result = services.payments_create_batch(
            items=_items(program, people, number), actor=clerk, submit=True
        )
    assert len(result.created) == len(people)
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_the_batch(program, clerk, regions):
    # Read once per request or process, not part of the comparison: the user's roles, region paths.
    assert clerk.roles
    Region.cache_paths([regions["360300"].pk])
    few = [make_person(regions["360300"]) for _ in range(3)]
    # 20: within one INSERT on SQLite too (Django splits a bulk insert at 999 parameters there).
    many = [make_person(regions["360300"]) for _ in range(20)]
    assert _queries(program, clerk, few, 5) == _queries(program, clerk, many, 6)
    assert Payment.objects.filter(status=PaymentStatus.SUBMITTED).count() == 23
    assert ChangeEntry.objects.filter(model="funding.payment").count() == 23  # one entry each


def test_all_or_nothing_names_the_item(program, clerk, regions):
    people = [make_person(regions["360300"]) for _ in range(3)]
    outsider_group = make_person(regions["360300"], groups=("veteran",))
    items = [*_items(program, people), *_items(program, [outsider_group])]
    with pytest.raises(ValidationError) as excinfo:
        services.payments_create_batch(items=items, actor=clerk)
    assert set(excinfo.value.message_dict) == {"items.3.beneficiary"}
    assert excinfo.value.message_dict["items.3.beneficiary"][0].startswith("NOT_ELIGIBLE")
    assert not Payment.objects.exists()


def test_skip_refused_reports_codes_and_writes_the_rest(program, clerk, regions):
    ok = make_person(regions["360300"])
    veteran = make_person(regions["360300"], groups=("veteran",))
    result = services.payments_create_batch(
        items=_items(program, [veteran, ok]), actor=clerk, skip_refused=True
    )
    assert [p.beneficiary_id for p in result.created] == [ok.pk]
    assert result.refusal_codes(0) == ["NOT_ELIGIBLE"]
    assert Payment.objects.count() == 1


def test_items_of_one_batch_count_against_each_other(make_program, clerk, person):
    program = make_program(max_units=2)
    overlap = [
        PaymentItem(program=program, beneficiary=person, **month(5)),
        PaymentItem(program=program, beneficiary=person, **month(5)),
    ]
    with pytest.raises(ValidationError) as excinfo:
        services.payments_create_batch(items=overlap, actor=clerk)
    assert excinfo.value.message_dict["items.1.period_start"][0].startswith("PERIOD_OVERLAP")
    three = [PaymentItem(program=program, beneficiary=person, **month(n)) for n in (5, 6, 7)]
    with pytest.raises(ValidationError) as excinfo:
        services.payments_create_batch(items=three, actor=clerk)
    assert excinfo.value.message_dict["items.2.quantity"][0].startswith("MAX_UNITS")
    assert not Payment.objects.exists()


def test_the_budget_covers_the_whole_batch(make_program, clerk, regions):
    program = make_program(annual_budget=D("1000.00"))
    people = [make_person(regions["360300"]) for _ in range(3)]
    with pytest.raises(ValidationError) as excinfo:
        services.payments_create_batch(items=_items(program, people), actor=clerk, submit=True)
    assert list(excinfo.value.message_dict) == ["items.2.amount"]
    assert excinfo.value.message_dict["items.2.amount"][0].startswith("BUDGET_EXCEEDED")
    # Drafts do not commit the budget.
    assert len(services.payments_create_batch(items=_items(program, people), actor=clerk).created) == 3


def test_dry_run_writes_nothing(program, clerk, person):
    entries = ChangeEntry.objects.count()
    result = services.payments_create_batch(items=_items(program, [person]), actor=clerk, dry_run=True)
    assert result.created[0].pk is None and result.created[0].amount == D("500.00")
    assert not Payment.objects.exists() and ChangeEntry.objects.count() == entries


def test_a_batch_outside_the_region_is_refused_before_any_rule(program, clerk, regions):
    from django.core.exceptions import PermissionDenied

    wuzhou = make_person(regions["450400"])
    with pytest.raises(PermissionDenied):
        services.payments_create_batch(items=_items(program, [wuzhou]), actor=clerk)


def test_approve_batch_is_set_based(program, clerk, reviewer, regions):
    assert reviewer.roles  # read once per request; not part of the comparison

    def approve(count):
        people = [make_person(regions["360300"]) for _ in range(count)]
        payments = services.payments_create_batch(
            items=_items(program, people), actor=clerk, submit=True
        ).created
        with CaptureQueriesContext(connection) as ctx:
            services.payments_approve_batch(payments=payments, actor=reviewer)
        return len(ctx.captured_queries)

    assert approve(2) == approve(40)
    assert Payment.objects.filter(status=PaymentStatus.APPROVED).count() == 42
