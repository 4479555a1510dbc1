from django.db import connection
from django.test.utils import CaptureQueriesContext

from tracker.regions.models import Region


def test_seeded_tree_has_every_region_with_its_parent(regions):
    assert regions["360300"].parent.code == "360000"
    assert regions["360000"].parent.code == "000000"
    assert regions["3603X1"].local_code is True
    assert regions["3603X1"].path == "000000/360000/360300/3603X1/"
    # 39 regions from the source document plus the country root (and a few towns and villages)
    assert len(regions) >= 40


def test_subtree_is_one_query(regions):
    with CaptureQueriesContext(connection) as queries:
        codes = set(Region.objects.within(regions["360300"].path).values_list("code", flat=True))
    assert len(queries) == 1
    # The city, 芦溪县, the scenic area and its (made-up) townships and villages of the posts seed.
    assert codes == {
        "360300",
        "360323",
        "3603X1",
        "3603X1901",
        "3603X1901001",
        "3603X1901002",
        "3603X1902",
        "3603X1902001",
    }


def test_api_filters(api, analyst):
    client = api(analyst)
    res = client.get("/api/v1/regions/", {"within": "320000", "page_size": 500})
    assert res.status_code == 200
    codes = {r["code"] for r in res.json()["results"]}
    assert {"320000", "320200", "320211", "320400", "321300"} <= codes
    assert "360000" not in codes
    res = client.get("/api/v1/regions/", {"parent": "320200"})
    assert [r["code"] for r in res.json()["results"]] == ["320211"]
    res = client.get("/api/v1/regions/", {"level": "province", "page_size": 500})
    assert all(r["level"] == "province" for r in res.json()["results"])
    res = client.get("/api/v1/regions/", {"q": "萍乡"})
    assert {r["code"] for r in res.json()["results"]} == {"360300"}
    res = client.get("/api/v1/regions/360300/")
    assert res.status_code == 200 and res.json()["name_zh"] == "萍乡市"


def test_region_outside_scope_is_404(api, outsider):
    client = api(outsider)
    assert client.get("/api/v1/regions/360300/").status_code == 404
    assert client.get("/api/v1/regions/450400/").status_code == 200
    # ancestors are visible so the client can show the path
    assert client.get("/api/v1/regions/450000/").status_code == 200


def test_regions_are_read_only_in_the_api(api, clerk):
    assert api(clerk).post("/api/v1/regions/", {"code": "360399"}, format="json").status_code == 405


def test_anonymous_gets_401_problem(api, regions):
    res = api(None).get("/api/v1/regions/")
    assert res.status_code == 401
    body = res.json()
    assert body["status"] == 401 and {"type", "title", "detail", "errors"} <= set(body)
