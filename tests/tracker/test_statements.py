"""Compiled read statements (tracker.statements): a list page or a detail reuses the SQL of its shape,
and must answer exactly what the ORM would, for every caller, page and record. The suite runs with
READ_STATEMENTS_CHECK on, so every reuse anywhere is also compared with the ORM's SQL; these tests
hold the cache's own edges: scope, the variable, the cursor, what is not reused, and the check."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from beneficiaries.models import GroupMembership
from seeds.factories.beneficiaries import BeneficiaryFactory, BeneficiaryGroupFactory
from tracker.statements import INT_SENTINEL, Statement, statements

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_statement_cache")]

URL = "/api/v1/beneficiaries/"
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)


def _ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_a_shape_is_compiled_once_and_reused(api, clerk, people):
    client = api(clerk)
    first = _ids(client.get(URL))
    size = len(statements._items)
    assert size == 1
    assert _ids(client.get(URL)) == first
    assert len(statements._items) == size


def test_each_scope_has_its_own_statement_and_sees_only_its_rows(api, clerk, outsider, people):
    home, away = people
    assert sorted(_ids(api(clerk).get(URL))) == sorted(p.pk for p in home)
    assert sorted(_ids(api(outsider).get(URL))) == sorted(p.pk for p in away)
    # Again, now that both shapes are compiled: still each its own.
    assert sorted(_ids(api(clerk).get(URL))) == sorted(p.pk for p in home)
    assert sorted(_ids(api(outsider).get(URL))) == sorted(p.pk for p in away)
    assert len(statements._items) == 2


def test_cursor_pages_walk_the_list_as_the_orm_does(api, clerk, people):
    home, _ = people
    client = api(clerk)
    seen, url, pages = [], f"{URL}?page_size=2", 0
    while url:
        body = client.get(url).json()
        seen.extend(row["id"] for row in body["results"])
        url, pages = body["next"], pages + 1
    assert seen == sorted((p.pk for p in home), reverse=True)
    assert pages == 3
    # ... and back: the previous links of the last page lead to the first.
    body = client.get(f"{URL}?page_size=2&cursor=rp{min(seen)}").json()
    assert [row["id"] for row in body["results"]] == seen[-3:-1]


def test_details_substitute_their_own_key(api, clerk, outsider, people):
    home, away = people
    client = api(clerk)
    for person in home:
        response = client.get(f"{URL}{person.pk}/")
        assert response.status_code == 200
        assert response.json()["id"] == person.pk
        assert response["ETag"] == f'"beneficiaries.beneficiary:{person.pk}:{person.version}"'
    assert len(statements._items) == 1
    # Outside the caller's region: 404, through the same compiled shape.
    assert client.get(f"{URL}{away[0].pk}/").status_code == 404
    assert api(outsider).get(f"{URL}{home[0].pk}/").status_code == 404


@pytest.mark.parametrize("value", ["abc", "99999999999999999999", "-1", "0", "1.5", str(INT_SENTINEL)])
def test_a_detail_key_no_record_can_have_is_404(api, clerk, people, value):
    assert api(clerk).get(f"{URL}{value}/").status_code == 404


def test_region_codes_are_text_keys(api, clerk, regions):
    client = api(clerk)
    for code in ("360323", "360300", "360000"):
        response = client.get(f"/api/v1/regions/{code}/")
        assert response.status_code == 200
        assert response.json()["code"] == code
    assert client.get("/api/v1/regions/999999/").status_code == 404


def test_filtered_lists_are_not_reused(api, clerk, people):
    home, _ = people
    client = api(clerk)
    response = client.get(f"{URL}?within=360323")
    assert sorted(_ids(response)) == sorted(p.pk for p in home)
    assert client.get(f"{URL}?within=360323&page_size=2").status_code == 200
    assert len(statements._items) == 0


def test_the_day_is_part_of_the_shape(api, clerk, regions, monkeypatch):
    """A person's groups are those held today (a date in the statement's parameters): tomorrow's
    page must not reuse today's."""
    person = BeneficiaryFactory(region=regions["360323"])
    group = BeneficiaryGroupFactory(code="test_day_group")
    today = timezone.localdate()
    GroupMembership.objects.create(
        beneficiary=person, group=group, valid_from=today - dt.timedelta(days=30), valid_to=today
    )
    client = api(clerk)
    assert client.get(f"{URL}{person.pk}/").json()["groups"] == ["test_day_group"]
    tomorrow = today + dt.timedelta(days=1)
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: tomorrow)
    assert client.get(f"{URL}{person.pk}/").json()["groups"] == []


def test_a_stale_statement_fails_loudly_under_the_check(api, clerk, people, caplog):
    """READ_STATEMENTS_CHECK compares each reuse with the ORM: a statement whose parameters no longer
    match (as if a queryset depended on something its key does not hold) is an error, not a page."""
    client = api(clerk)
    client.get(URL)
    ((key, statement),) = statements._items.items()
    forged = Statement(
        statement.model,
        statement.sql,
        tuple("/forged/" if isinstance(p, str) else p for p in statement.params),
        statement.slots,
        statement.names,
        statement.converters,
    )
    statements.put(key, forged)
    with override_settings(READ_STATEMENTS_CHECK=True):
        response = client.get(URL)
    assert response.status_code == 500
    assert "differs from the ORM" in caplog.text
    with override_settings(READ_STATEMENTS_CHECK=False):
        assert client.get(URL).status_code == 200  # the forged scope matches nothing: no error


def test_the_cache_is_bounded(api, clerk, regions):
    client = api(clerk)
    old = statements.size
    statements.size = 3
    try:
        for size in range(1, 8):
            client.get(f"{URL}?page_size={size}")
        assert len(statements._items) == 3
    finally:
        statements.size = old


def _prepared_reads(cursor) -> list[str]:
    cursor.execute("SELECT statement FROM pg_prepared_statements WHERE NOT from_sql")
    return [row[0] for row in cursor.fetchall()]


@on_postgresql
def test_on_postgresql_a_compiled_read_is_prepared_once_and_still_counted(
    api, clerk, people, django_assert_num_queries
):
    home, _ = people
    client = api(clerk)
    assert sorted(_ids(client.get(URL))) == sorted(p.pk for p in home)
    with connection.cursor() as cursor:
        prepared = _prepared_reads(cursor)
    page = [sql for sql in prepared if "beneficiaries_beneficiary" in sql]
    # The server holds the page's statement, with its parameters apart ($1, ...), not inlined.
    assert len(page) == 1 and "$1" in page[0]
    # Read again: the same prepared statement answers, and the query log still counts it.
    with django_assert_num_queries(2):  # the token, the page
        assert sorted(_ids(client.get(URL))) == sorted(p.pk for p in home)
    with connection.cursor() as cursor:
        assert [sql for sql in _prepared_reads(cursor) if "beneficiaries_beneficiary" in sql] == page


@on_postgresql
def test_on_postgresql_reads_are_not_prepared_where_the_connection_forbids_it(api, clerk, people):
    home, _ = people
    connection.ensure_connection()
    threshold = connection.connection.prepare_threshold
    connection.connection.prepare_threshold = None  # as with READ_STATEMENTS_PREPARED=false
    try:
        assert sorted(_ids(api(clerk).get(URL))) == sorted(p.pk for p in home)
        assert sorted(_ids(api(clerk).get(URL))) == sorted(p.pk for p in home)
        with connection.cursor() as cursor:
            assert not [sql for sql in _prepared_reads(cursor) if "beneficiaries_beneficiary" in sql]
    finally:
        connection.connection.prepare_threshold = threshold


@on_postgresql
def test_on_postgresql_each_scope_is_its_own_prepared_statement(api, clerk, outsider, people):
    """A county's page and another region's compile to the same SQL with another path; each is its
    own prepared statement, so the plan PostgreSQL settles on for one is never the other's."""
    for _ in range(2):
        _ids(api(clerk).get(URL))
        _ids(api(outsider).get(URL))
    with connection.cursor() as cursor:
        page = [sql for sql in _prepared_reads(cursor) if "beneficiaries_beneficiary" in sql]
    assert len(page) == 2
    assert len({sql.split("*/", 1)[1] for sql in page}) == 1  # the same SQL, two shapes' names


def test_a_page_that_joins_reads_its_ids_first_and_one_of_its_own_columns_does_not(api, clerk, people):
    """A joining page (people: their region's code, their groups) chooses its ids before it joins, so
    a county's page does not join the whole county; the change log's page, its own columns only, is
    one plain query. Both answer the newest first, as the ORM does."""
    client = api(clerk)
    people_ids = _ids(client.get(f"{URL}?page_size=2"))
    entries = _ids(client.get("/api/v1/audit/changes/?page_size=2"))
    compiled = {
        key[0][0].__name__: statement.sql for key, statement in statements._items.items() if statement
    }
    assert "IN (SELECT" in compiled["BeneficiaryViewSet"] and "JOIN" in compiled["BeneficiaryViewSet"]
    assert "IN (SELECT" not in compiled["ChangeEntryViewSet"] and "JOIN" not in compiled["ChangeEntryViewSet"]
    assert people_ids == sorted(people_ids, reverse=True) and entries == sorted(entries, reverse=True)
