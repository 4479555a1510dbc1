# ruff: noqa: F811 (the voucher fixtures are imported, then requested by name)
"""The voucher rules: a voucher redeemed without a certificate, and check-ins of several vouchers from
one device or one place within seconds (代打卡); clean data raises neither."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from programs.inspections.checks import check_run_create
from programs.inspections.models import Finding
from programs.vouchers import services as vouchers
from programs.vouchers.models import Certificate
from tests.vouchers.conftest import (  # noqa: F401 (fixtures)
    check_in_at_site,
    course,
    fund,
    holder,
    holder_in,
    institution,
    issue,
    make_course,
    make_plan,
    make_type,
    make_voucher_program,
    near_site,
    now,
    plan,
    sessions,
    voucher_program,
    voucher_type,
    walk,
)

pytestmark = pytest.mark.django_db


def run(inspector, regions, rule):
    today = timezone.localdate()
    check_run_create(
        actor=inspector,
        region=regions["360300"],
        period_start=today - dt.timedelta(days=60),
        period_end=today + dt.timedelta(days=60),
        rules=[rule],
        today=today + dt.timedelta(days=60),
    )
    return set(Finding.objects.filter(rule=rule).values_list("concerns_id", flat=True))


def test_voucher_redeemed_without_certificate(issue, walk, holder_in, inspector, regions):
    with_certificate = walk(issue(holder_in(card="PX0000000001")), "redeemed")
    assert run(inspector, regions, "VOUCHER_REDEEMED_WITHOUT_CERTIFICATE") == set()
    Certificate.objects.get(voucher=with_certificate).delete()
    assert run(inspector, regions, "VOUCHER_REDEEMED_WITHOUT_CERTIFICATE") == {str(with_certificate.pk)}


def test_checkin_proxy(issue, walk, holder_in, course, clerk, inspector, regions):
    first = walk(issue(holder_in(card="PX0000000011")), "enrolled")
    second = walk(issue(holder_in(card="PX0000000012")), "enrolled")
    session = sessions(course)[0]
    check_in_at_site(first, session, clerk)
    # Ten minutes later from the same spot: a queue at the door, not a proxy.
    check_in_at_site(second, session, clerk, at=session.starts_at + dt.timedelta(minutes=10))
    assert run(inspector, regions, "CHECKIN_PROXY") == set()
    # The next session: both within seconds at the same spot.
    later = sessions(course)[1]
    a = check_in_at_site(first, later, clerk)
    b = check_in_at_site(second, later, clerk, at=later.starts_at + dt.timedelta(seconds=20))
    found = run(inspector, regions, "CHECKIN_PROXY")
    assert found == {
        str(a.pk if hasattr(a, "pk") else a.check_in.pk),
        str(b.pk if hasattr(b, "pk") else b.check_in.pk),
    }


def test_checkin_proxy_by_device(issue, walk, holder_in, course, clerk, inspector, regions):
    first = walk(issue(holder_in(card="PX0000000021")), "enrolled")
    second = walk(issue(holder_in(card="PX0000000022")), "enrolled")
    session = sessions(course)[0]
    made = []
    for voucher, minutes, meters in ((first, 0, 50), (second, 30, 120)):
        point = near_site(meters)
        made.append(
            vouchers.voucher_check_in(
                voucher=voucher,
                session=session,
                actor=clerk,
                latitude=point.latitude,
                longitude=point.longitude,
                at=session.starts_at + dt.timedelta(minutes=minutes),
                now=session.starts_at + dt.timedelta(minutes=minutes),
                device_id="phone-1",
            )
        )
    ids = {str(getattr(m, "pk", None) or m.check_in.pk) for m in made}
    assert run(inspector, regions, "CHECKIN_PROXY") == ids
