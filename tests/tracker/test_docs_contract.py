"""A stable contract for generated clients: the schema generates without warnings, component names
read well, ids are integers, and every list also answers its cursors as bare values."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command

from beneficiaries.models import Beneficiary
from seeds.factories.beneficiaries import BeneficiaryFactory
from tracker.api.pagination import CURSOR_PATTERN, cursor_of
from tracker.api.schema import component_renames

JSON = "application/vnd.oai.openapi+json"


@pytest.fixture
def schema(api: Any, db: Any) -> dict[str, Any]:
    return api(None).get("/api/v1/schema/", HTTP_ACCEPT=JSON).json()


def test_the_schema_generates_without_a_warning(db: Any, tmp_path: Any) -> None:
    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))


def test_component_names_read_well(schema: dict[str, Any]) -> None:
    names = set(schema["components"]["schemas"])
    for name in names:
        assert not re.search(r"RequestRequest|WriteRequest|^Patched|Type\d+$", name), name
    assert {"RevealRequest", "BeneficiaryRequest", "BeneficiaryPatchRequest", "ProgramPatchRequest"} <= names
    assert {"PaymentCause", "ProgramKindEnum", "EmployerSizeEnum", "RegionLevelEnum"} <= names
    # every reference points at a component that exists
    text = str(schema)
    for ref in re.findall(r"#/components/schemas/([A-Za-z0-9_]+)", text):
        assert ref in names, ref
    # no serializer mixin's docstring passes for a component's description
    for name, component in schema["components"]["schemas"].items():
        assert "JSON body whose values" not in component.get("description", ""), name


def test_a_rename_never_takes_a_name_that_is_taken() -> None:
    assert component_renames(["RevealRequestRequest", "PatchedBeneficiaryWriteRequest", "XWriteRequest"]) == {
        "RevealRequestRequest": "RevealRequest",
        "PatchedBeneficiaryWriteRequest": "BeneficiaryPatchRequest",
        "XWriteRequest": "XRequest",
    }
    assert component_renames(["PostWriteRequest", "PostRequest"]) == {}


def test_id_filters_are_integers(schema: dict[str, Any]) -> None:
    """A filter that takes a record's id is an integer (a generated client's `int`), never a number."""
    ids = 0
    for item in schema["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                target = parameter["schema"].get("items", parameter["schema"])
                assert target.get("type") != "number", parameter
                if parameter["in"] == "query" and parameter["name"] in {
                    "beneficiary",
                    "employer",
                    "institution",
                }:
                    assert (target["type"], target["minimum"]) == ("integer", 1), parameter
                    ids += 1
    assert ids >= 4


def test_filters_with_shared_choices_use_the_shared_enum(schema: dict[str, Any]) -> None:
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/payments/"]["get"]["parameters"]}
    assert parameters["status"]["schema"]["items"] == {"$ref": "#/components/schemas/PaymentStatusEnum"}
    assert parameters["payee_kind"]["schema"] == {"$ref": "#/components/schemas/PayeeKindEnum"}
    people = {p["name"]: p for p in schema["paths"]["/api/v1/beneficiaries/"]["get"]["parameters"]}
    assert people["status"]["schema"] == {"$ref": "#/components/schemas/EmploymentStatusEnum"}
    assert people["status"]["description"]


def test_the_envelope_documents_bare_cursors(schema: dict[str, Any]) -> None:
    page = schema["components"]["schemas"]["PaginatedBeneficiaryList"]
    assert page["required"] == ["next", "previous", "next_cursor", "previous_cursor", "results"]
    assert list(page["properties"]) == ["next", "previous", "next_cursor", "previous_cursor", "results"]
    for key in ("next_cursor", "previous_cursor"):
        assert page["properties"][key]["pattern"] == CURSOR_PATTERN and page["properties"][key]["nullable"]
        assert re.fullmatch(CURSOR_PATTERN, page["properties"][key]["example"])


def test_lists_answer_the_cursors_of_their_links(api: Any, clerk: Any, regions: Any) -> None:
    BeneficiaryFactory.create_batch(5, region=regions["360300"])
    client = api(clerk)
    first = client.get("/api/v1/beneficiaries/", {"page_size": 2})
    body = first.json()
    # the members DRF answers, unchanged and in their order, with the bare cursors between
    assert list(body) == ["next", "previous", "next_cursor", "previous_cursor", "results"]
    assert body["previous"] is None and body["previous_cursor"] is None
    assert body["next_cursor"] == parse_qs(urlsplit(body["next"]).query)["cursor"][0]
    assert re.fullmatch(CURSOR_PATTERN, body["next_cursor"])
    # the bare cursor as a parameter gives the same page as the link
    by_link = client.get(body["next"]).json()
    by_cursor = client.get("/api/v1/beneficiaries/", {"page_size": 2, "cursor": body["next_cursor"]}).json()
    assert by_link == by_cursor
    assert by_cursor["previous_cursor"] == parse_qs(urlsplit(by_cursor["previous"]).query)["cursor"][0]
    back = client.get("/api/v1/beneficiaries/", {"page_size": 2, "cursor": by_cursor["previous_cursor"]})
    assert back.json()["results"] == body["results"]
    ids = {row["id"] for row in body["results"] + by_cursor["results"]}
    assert len(ids) == 4 and Beneficiary.objects.filter(pk__in=ids).count() == 4


def test_every_list_has_the_bare_cursors(api: Any, superuser: Any) -> None:
    client = api(superuser)
    for url in (
        "/api/v1/regions/",
        "/api/v1/audit/changes/",
        "/api/v1/beneficiary-groups/",
        "/api/v1/payments/",
    ):
        body = client.get(url, {"page_size": 1}).json()
        assert list(body)[:4] == ["next", "previous", "next_cursor", "previous_cursor"], url
        assert body["next_cursor"] == cursor_of(body["next"]), url


def test_a_link_back_to_the_start_is_a_cursor_too(api: Any, clerk: Any) -> None:
    """An empty page read backwards from an offset (`o1r`) links forward to the start: DRF's cursor
    for it was empty (`cursor=`), a link the API itself refused."""
    client = api(clerk)
    body = client.get("/api/v1/beneficiaries/", {"cursor": "o1r", "within": "360300"}).json()
    assert body["results"] == [] and body["next_cursor"] == "o0"
    assert body["next_cursor"] == cursor_of(body["next"])
    assert client.get(body["next"]).status_code == 200


def test_cursor_of() -> None:
    assert cursor_of(None) is None
    assert cursor_of("http://x/api/v1/payments/?page_size=2&cursor=rp12") == "rp12"
    assert cursor_of("http://x/api/v1/payments/?page_size=2") is None
