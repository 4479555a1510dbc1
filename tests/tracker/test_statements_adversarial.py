"""Adversarial edges of compiled read statements (tracker.statements, ScopedViewSetMixin.shape_key).

A compiled read must answer exactly what the ORM path answers for the same request. The ORM path is
reachable from a test by adding any unknown query parameter (`?zz=1`): `shape_key()` is then None and
the view builds its queryset as before the cache existed. Most tests here compare the two.

Holes this found, now closed: JSON integers beyond 64 bits (orjson reads them as floats) decode as
the ORM decodes them; a values queryset whose SQL selects extra columns (DISTINCT ordered by an
unselected column) is not compiled.

Edges pinned: the caller's scope follows a change of their region between two requests,
languages get their own shapes, odd detail keys and cursors answer as the ORM path does (never a 500),
the browsable API lists through a PageQuery, and every viewset that overrides how its queryset is
built is either opted out or reviewed.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest
from django.db import connection, models

from seeds.factories.beneficiaries import BeneficiaryGroupFactory
from tests.tracker.test_reads import VIEWSETS
from tracker.api.viewsets import ScopedViewSetMixin
from tracker.regions.models import Region
from tracker.statements import _json_from_db, compile_statement, statements

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_statement_cache")]

URL = "/api/v1/beneficiaries/"


def _same(cached, orm):
    """The compiled read and the ORM's read of the same request answer alike (links aside: the ORM
    request's links carry its extra parameter)."""
    assert cached.status_code == orm.status_code, (cached.status_code, orm.status_code, cached.content[:300])
    if cached.status_code != 200:
        return
    a, b = cached.json(), orm.json()
    if isinstance(a, dict) and "results" in a:
        a, b = a["results"], b["results"]
    assert a == b


# -- holes ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "18446744073709551616",
        "-9223372036854775809",
        "123456789012345678901234567890",
        "[1, 99999999999999999999]",
        '{"名称": "张三", "n": 12345678901234567890}',
        '{"at": "2026-11-02T03:04:05.123456+00:00", "n": 1234567890123456789}',
        '{"at": "2026-11-02T03:04:05.123456+00:00", "n": 12345}',
    ],
)
def test_json_columns_decode_big_integers_as_the_orm_does(text):
    """tracker/statements.py `_json_from_db`: its docstring says what orjson refuses (integers beyond
    64 bits) is decoded as before; orjson does not refuse them, it answers a float."""
    orm = models.JSONField().from_db_value(text, None, None)
    fast = _json_from_db(text, None, None)
    assert json.dumps(fast) == json.dumps(orm)


def test_a_big_json_integer_reads_the_same_through_the_statement_and_the_orm(api, clerk, regions):
    """Through the API: a region whose designations hold an integer beyond 64 bits (a row written
    behind the change log: a tracked save refuses such a value, the row hash cannot encode it). The ORM
    path fails to render it (500); the compiled path answers 200 with a different number
    (18446744073709551617 -> 1.8446744073709552e+19)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Region._meta.db_table} SET designations = %s WHERE code = %s",
            ["[18446744073709551617]", "360300"],
        )
    client = api(clerk)
    client.raise_request_exception = False
    orm = client.get("/api/v1/regions/360300/?zz=1")
    cached = client.get("/api/v1/regions/360300/")
    assert (cached.status_code, cached.content) == (orm.status_code, orm.content)


def test_a_statement_whose_sql_selects_extra_columns_reads_as_values_does(regions):
    """tracker/statements.py `compile_statement`: the ORM adds the ordering's columns to the SELECT of
    a DISTINCT query (compiler.has_extra_select) and drops them per row (col_count); the statement
    keeps them and `run()` zips more columns than names (ValueError). It should not be reused (None)
    or answer what `values()` answers."""
    queryset = Region.objects.order_by("name_en").distinct().values("level")
    statement = compile_statement(queryset)
    assert statement is None or statement.run() == list(queryset)


# -- edges that hold ----------------------------------------------------------------------------------


def test_the_scope_follows_the_callers_region_from_one_request_to_the_next(api, clerk, people, regions):
    home, away = people
    client = api(clerk)
    assert sorted(r["id"] for r in client.get(URL).json()["results"]) == sorted(p.pk for p in home)
    assert client.get(f"{URL}{home[0].pk}/").status_code == 200
    clerk.region = regions["450400"]
    clerk.save()
    Region._path_cache.clear()
    assert sorted(r["id"] for r in client.get(URL).json()["results"]) == sorted(p.pk for p in away)
    assert client.get(f"{URL}{home[0].pk}/").status_code == 404
    assert client.get(f"{URL}{away[0].pk}/").status_code == 200


def test_each_language_has_its_own_shape_and_the_same_rows(api, clerk, people):
    client = api(clerk)
    zh = client.get(URL, HTTP_ACCEPT_LANGUAGE="zh-hans")
    en = client.get(URL, HTTP_ACCEPT_LANGUAGE="en")
    assert zh.json()["results"] == en.json()["results"]
    assert len(statements._items) == 2


@pytest.mark.parametrize(
    "value",
    [
        "{pk}",
        " {pk}",
        "{pk} ",
        "+{pk}",
        "0{pk}",
        "\u0661",  # ARABIC-INDIC DIGIT ONE: int() reads it, the ORM too
        "\uff11",  # FULLWIDTH DIGIT ONE
        "\U0001d7cf",  # MATHEMATICAL BOLD DIGIT ONE
        "\u00b9",  # SUPERSCRIPT ONE: not a decimal digit
        "1_0",
        "-0",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "-9223372036854775809",
        "9" * 5000,
        "-2000000017",
        "\x1fstatement-sentinel\x1f",
        "1.0",
        "nan",
    ],
)
def test_odd_detail_keys_answer_as_the_orm_path(api, clerk, people, value):
    home, _ = people
    client = api(clerk)
    client.raise_request_exception = False
    path = f"{URL}{quote(value.format(pk=home[0].pk), safe='')}/"
    for _ in range(2):  # the shape's first read compiles it, the second reuses it
        _same(client.get(path), client.get(f"{path}?zz=1"))


@pytest.mark.parametrize(
    "cursor",
    [
        "p999999999999999999",
        "rp999999999999999999",
        "p000000000000000001",
        "p0",
        "rp0",
        "r",
        "o0",
        "o9999",
        "o1000rp1",
        "o2p{pk}",
        "o1r",
        "rp{pk}",
        "p{pk}",
        "p-1",
        "p\u0661",
        "pp1",
        "p9999999999999999999",
    ],
)
@pytest.mark.parametrize("size", ["", "&page_size=1", "&page_size=500"])
def test_odd_cursors_answer_as_the_orm_path(api, clerk, people, cursor, size):
    home, _ = people
    client = api(clerk)
    client.raise_request_exception = False
    path = f"{URL}?cursor={quote(cursor.format(pk=home[2].pk), safe='')}{size}"
    for _ in range(2):
        response = client.get(path)
        assert response.status_code in (200, 400)
        _same(response, client.get(f"{path}&zz=1"))


def test_a_text_key_that_is_the_sentinel_is_a_404_and_leaves_the_shape_sound(api, clerk, regions):
    """The shape of a text-keyed detail is compiled with the text sentinel in the key's place; a URL
    carrying the sentinel itself (or LIKE wildcards) compiles and runs the same shape."""
    BeneficiaryGroupFactory(code="test_sentinel_group")
    client = api(clerk)
    client.raise_request_exception = False
    base = "/api/v1/beneficiary-groups/"
    for code in ("\x1fstatement-sentinel\x1f", "_____", "test_sentinel_group", "TEST_SENTINEL_GROUP"):
        path = f"{base}{quote(code, safe='')}/"
        _same(client.get(path), client.get(f"{path}?zz=1"))
    assert client.get(f"{base}test_sentinel_group/").json()["code"] == "test_sentinel_group"
    assert client.get(f"{base}_____/").status_code == 404


def test_the_browsable_api_lists_through_a_page_query(api, clerk, people):
    client = api(clerk)
    for _ in range(2):
        response = client.get(f"{URL}?page_size=2", HTTP_ACCEPT="text/html")
        assert response.status_code == 200


# Viewsets whose queryset is built by code of their own, reviewed: what that code reads is in the key.
REVIEWED = {
    # get_queryset(): every group, whoever asks (reference data); reads nothing from the request.
    ("BeneficiaryGroupViewSet", "get_queryset"),
    # filter_queryset(): depends on self.action only, which is in the key.
    ("ChangeEntryViewSet", "filter_queryset"),
}
QUERYSET_HOOKS = ("get_queryset", "filter_queryset", "get_serializer_class", "paginate_queryset", "read_plan")


def test_every_viewset_that_builds_its_own_queryset_is_opted_out_or_reviewed():
    """`compiled_reads` is opt-out: a viewset whose get_queryset()/filter_queryset() reads the request
    (a role, a header, the user) would be served another caller's statement silently. Hold each such
    override to a decision."""
    unreviewed = []
    for cls in VIEWSETS:
        if not cls.compiled_reads:
            continue
        for hook in QUERYSET_HOOKS:
            owner = next(k for k in cls.__mro__ if hook in k.__dict__)
            project = owner.__module__.split(".")[0] in {"tracker", "beneficiaries", "programs"}
            if project and owner is not ScopedViewSetMixin and (cls.__name__, hook) not in REVIEWED:
                unreviewed.append(f"{cls.__name__}.{hook} (in {owner.__name__})")
        if "filter_backends" in cls.__dict__ or "pagination_class" in cls.__dict__:
            unreviewed.append(f"{cls.__name__}: own filter backends / paginator")
    assert not unreviewed, unreviewed


# Every list resource, for callers of four scopes: each page and each detail on it, compiled and then
# reused, answers what the ORM path answers.
LISTS = {
    "regions": "code",
    "audit/changes": "id",
    "beneficiaries": "id",
    "beneficiary-groups": "code",
    "follow-ups": "id",
    "households": "id",
    "employment-registrations": "id",
    "fund-sources": "id",
    "programs": "id",
    "employers": "id",
    "payments": "id",
    "posts/subsidy-runs": "id",
    "posts": "id",
    "post-standards": "id",
    "post-assignments": "id",
    "post-personnel-changes": "id",
    "attendance": "id",
    "assessments": "id",
    "assessment-standards": "id",
    "voucher-types": "id",
    "voucher-plans": "id",
    "training-institutions": "id",
    "courses": "id",
    "course-sessions": "id",
    "vouchers": "code",
    "certificates": "number",
    "entrepreneurs": "id",
    "guaranteed-loans": "id",
    "audit/inspections": "id",
    "audit/findings": "id",
    "audit/complaints": "id",
    "audit/confirmation-samples": "id",
    "audit/confirmations": "id",
    "audit/check-runs": "id",
}


def test_every_resource_reads_the_same_compiled_as_through_the_orm(api, regions):
    import io

    from seeds.management.commands.seed import Command as SeedCommand
    from tracker.accounts.models import User

    SeedCommand(stdout=io.StringIO()).handle(password="pw-for-tests", if_empty=False)
    statements.clear()
    for username in ("admin", "clerk_pingxiang", "inspector_jiangxi", "clerk_wuzhou"):
        client = api(User.objects.get(username=username))
        for name, lookup in LISTS.items():
            for _ in range(2):
                path, pages = f"/api/v1/{name}/?page_size=4", 0
                while path and pages < 2:
                    response = client.get(path)
                    _same(response, client.get(f"{path}&zz=1"))
                    body = response.json()
                    for row in body["results"][:2]:
                        detail = f"/api/v1/{name}/{quote(str(row[lookup]), safe='')}/"
                        _same(client.get(detail), client.get(f"{detail}?zz=1"))
                    path, pages = body["next"], pages + 1
    assert statements._items


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1" * 18,
        "1" * 19,
        "a" + "1" * 19 + "b",
        "1" * 18 + "x" + "1" * 18,
        "张三1234567890123456789",
        "１" * 19,
        "\ud800" + "1" * 19,
    ],
)
def test_the_long_number_check_finds_exactly_a_run_of_nineteen_ascii_digits(text):
    from tracker.statements import _has_long_number

    assert _has_long_number(text) == bool(re.search(r"[0-9]{19}", text))
