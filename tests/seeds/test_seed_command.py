"""`python manage.py seed`: everything the README promises, idempotent, and all of it in the log."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.core.management import call_command

from seeds.data_files import load
from tracker.accounts.models import User
from tracker.changelog.models import ChangeEntry
from tracker.changelog.selectors import changes_verify
from tracker.regions.models import Region


def test_seed_is_complete_idempotent_and_verifiable(db, regions):
    first_new_entry = (ChangeEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    call_command("seed", password="pw-demo-test")
    counts = {m: m.objects.count() for m in (Region, User, ChangeEntry)}
    call_command("seed", password="pw-demo-test")
    # The second run changes nothing (users' passwords are reset but users are not change-logged).
    assert Region.objects.count() == counts[Region] == len(load("regions.yaml")["regions"])
    assert User.objects.count() == counts[User]
    assert ChangeEntry.objects.count() == counts[ChangeEntry]

    expected = {
        "admin": (set(), "000000", True),
        "analyst_national": ({"analyst"}, "000000", False),
        "clerk_pingxiang": ({"clerk"}, "360300", False),
        "reviewer_pingxiang": ({"reviewer"}, "360300", False),
        "inspector_jiangxi": ({"inspector"}, "360000", False),
        "clerk_wuzhou": ({"clerk"}, "450400", False),
    }
    for username, (roles, region, superuser) in expected.items():
        user = authenticate(username=username, password="pw-demo-test")
        assert user is not None, username
        assert set(user.roles) == roles and user.region.code == region and user.is_superuser is superuser

    # Every record the seed wrote is in the log with source `seed` (payments act as the demo clerk
    # and reviewer, since maker-checker needs two people).
    seeded = ChangeEntry.objects.filter(id__gte=first_new_entry)
    assert seeded.count() > 100
    assert set(seeded.values_list("source", flat=True)) == {"seed"}
    result = changes_verify()
    assert (result["ok"], result["checked"], result["problems"]) == (True, ChangeEntry.objects.count(), [])
    assert result["rows_checked"] > 0


def test_seed_if_empty_does_nothing_on_a_seeded_database(db, regions, capsys):
    call_command("seed", "--if-empty")
    assert "already seeded" in capsys.readouterr().out


def test_seed_speaks_the_configured_language_with_a_progress_bar(db, regions, settings):
    import io

    settings.LANGUAGE_CODE = "zh-hans"
    out, err = io.StringIO(), io.StringIO()
    call_command("seed", password="pw-demo-test", stdout=out, stderr=err)
    assert "已载入" in out.getvalue() and "新建演示账户" in out.getvalue()
    assert "人员：新增示例人员" in out.getvalue()
    bar = err.getvalue()
    assert "载入初始数据" in bar and "9/9" in bar and "政策项目与资金发放" in bar
    # Demo users carry fictional real names, which the admin greets them with.
    clerk = User.objects.get(username="clerk_pingxiang")
    assert (clerk.last_name, clerk.first_name) == ("刘", "晓燕")
    settings.LANGUAGE_CODE = "en"
    out = io.StringIO()
    call_command("seed", "--if-empty", stdout=out)
    assert "already seeded" in out.getvalue()


def test_seed_leaves_postgresql_planner_statistics_of_the_seeded_tables(db, regions):
    """The first requests after a seed are planned for the seeded tables, not for empty ones."""
    import pytest
    from django.db import connection

    from beneficiaries.models import Beneficiary

    if connection.vendor != "postgresql":
        pytest.skip("planner statistics are PostgreSQL's")
    call_command("seed", password="pw-demo-test")
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [Beneficiary._meta.db_table])
        (estimated,) = cursor.fetchone()
    assert estimated == Beneficiary.objects.count() > 0
