"""The dashboard at /reports/: session login, the same scope as the API, SVG charts drawn on the
server, the region picker, Chinese by default."""

from __future__ import annotations

import pytest

from tests.reports.conftest import LUXI

pytestmark = pytest.mark.django_db


def test_needs_a_session(client, db) -> None:
    res = client.get("/reports/")
    assert res.status_code == 302 and "/admin/login/" in res["Location"]


def test_shows_the_overview_as_charts_in_chinese(client, clerk, dataset) -> None:
    client.force_login(clerk)
    res = client.get("/reports/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert res.status_code == 200
    page = res.content.decode()
    assert "萍乡市" in page and "有劳动意愿的脱贫人口" in page
    assert page.count("<svg") >= 3 and "bar-chart" in page and "line-chart" in page
    assert 'role="progressbar"' in page and "75.0%" in page  # 3 of 4 willing people employed
    assert 'src="http' not in page and 'href="http' not in page  # nothing from another host
    assert "梧州" not in page
    assert f"?within={LUXI}" in page  # drill down
    assert "1,000.00" in page  # paid


def test_drill_down_and_scope(client, clerk, dataset) -> None:
    client.force_login(clerk)
    res = client.get("/reports/", {"within": LUXI})
    assert res.status_code == 200
    assert client.get("/reports/", {"within": "450400"}).status_code == 404
    assert client.get("/reports/", {"within": "360000"}).status_code == 403
    assert client.get("/reports/", {"date_from": "2021-02-30"}).status_code == 400


def test_english_through_the_language_switch(client, clerk, dataset) -> None:
    client.force_login(clerk)
    client.post("/i18n/setlang/", {"language": "en", "next": "/reports/"})
    page = client.get("/reports/").content.decode()
    assert "Willing-to-work people lifted out of poverty" in page and "Pingxiang" in page


def test_linked_from_the_admin_index(client, superuser) -> None:
    client.force_login(superuser)
    assert 'href="/reports/"' in client.get("/admin/").content.decode()


def test_any_report_by_name(client, clerk, dataset) -> None:
    client.force_login(clerk)
    page = client.get("/reports/", {"report": "posts", "as_of": "2021-07-01"}).content.decode()
    assert "Public-welfare posts by category" in page and "60.0%" in page  # vacancy rate
    assert "/api/v1/audit/reports/posts/?within=360300&amp;as_of=2021-07-01&amp;format=csv" in page
    assert client.get("/reports/", {"report": "nonsense"}).status_code == 400


def test_query_count_does_not_grow_with_the_data(client, analyst, dataset, regions) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.reports.conftest import populate

    client.force_login(analyst)
    client.get("/reports/")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/reports/", {"within": "360300"}).status_code == 200
        return len(queries)

    small = count()
    populate(regions, tag="_more")
    assert count() == small
