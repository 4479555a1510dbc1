"""The OpenAPI schema (tracker/api/schema.py): the same in every language, English names generated
clients can use, and the constraints the server applies."""

from __future__ import annotations

import re
from typing import Any

import pytest

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
SCHEMA_URL = "/api/v1/schema/"
JSON = "application/vnd.oai.openapi+json"


@pytest.fixture
def schema(api: Any, db: Any) -> dict[str, Any]:
    res = api(None).get(SCHEMA_URL, HTTP_ACCEPT=JSON, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert res.status_code == 200
    return res.json()


def walk(node: Any, path: str = ""):
    """Every (path, dict) in the document."""
    if isinstance(node, dict):
        yield path, node
        for key, child in node.items():
            yield from walk(child, f"{path}/{key}")
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from walk(child, f"{path}/{index}")


def test_the_schema_is_the_same_whatever_the_language(api, db):
    client = api(None)
    bodies = {
        client.get(SCHEMA_URL, HTTP_ACCEPT=JSON, HTTP_ACCEPT_LANGUAGE=language).content
        for language in ("zh-hans", "en", "fr")
    }
    bodies.add(client.get(SCHEMA_URL, {"lang": "zh-hans"}, HTTP_ACCEPT=JSON).content)
    assert len(bodies) == 1


def test_names_are_english_identifiers(schema):
    for name in schema["components"]["schemas"]:
        assert IDENTIFIER.fullmatch(name), name
    for path, item in schema["paths"].items():
        assert not CJK.search(path)
        for operation in item.values():
            assert IDENTIFIER.fullmatch(operation["operationId"]), operation["operationId"]
            for parameter in operation.get("parameters", []):
                assert IDENTIFIER.fullmatch(parameter["name"].replace("-", "_")), parameter["name"]
    for where, node in walk(schema):
        for name in node.get("properties", {}) if isinstance(node.get("properties"), dict) else ():
            assert IDENTIFIER.fullmatch(name), (where, name)


def test_every_string_enum_has_english_varnames(schema):
    enums = [(where, node) for where, node in walk(schema) if isinstance(node.get("enum"), list)]
    assert len(enums) > 20
    for where, node in enums:
        values = [v for v in node["enum"] if v is not None]
        if not values:
            continue  # NullEnum
        names = node["x-enum-varnames"]
        assert len(names) == len(values) == len(set(names)), where
        assert all(re.fullmatch(r"[A-Z][A-Z0-9_]*", name) for name in names), (where, names)
    status = schema["components"]["schemas"]["EmploymentStatusEnum"]
    assert status["x-enum-varnames"][:2] == ["EMPLOYED_LOCAL", "EMPLOYED_OUTSIDE_COUNTY"]
    assert "Employed locally" in status["description"]


def test_no_chinese_in_titles_or_descriptions(schema):
    """English throughout; the one exception is literal data a client must use: an import file's
    Chinese column headers, in the import operations' description."""
    imports = ("/beneficiaries/import/", "/attendance/import/")
    for where, node in walk(schema):
        if where.startswith("/paths/~1api~1v1~1beneficiaries~1import~1") or any(p in where for p in imports):
            continue
        for key in ("title", "description", "summary"):
            value = node.get(key)
            if isinstance(value, str):
                assert not CJK.search(value), (where, key, value)


def test_token_login_needs_no_authentication_and_the_rest_do(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            # logging in, and the index of entry points; logging out needs the token
            if (path, method) in {("/api/v1/auth/token/", "post"), ("/api/v1/", "get")}:
                assert operation["security"] == [], method
            else:
                assert {"tokenAuth": []} in operation["security"], (path, method)


def test_identity_number_and_uscc_state_their_form(schema):
    components = schema["components"]["schemas"]
    for name in ("BeneficiaryRequest", "BeneficiaryPatchRequest"):
        id_number = components[name]["properties"]["id_number"]
        assert (id_number["minLength"], id_number["maxLength"]) == (18, 18)
        assert id_number["pattern"] == "^[0-9]{17}[0-9Xx]$"
    for name in ("EmployerRequest", "Employer"):
        uscc = components[name]["properties"]["uscc"]
        assert (uscc["minLength"], uscc["maxLength"]) == (18, 18)
        pattern = re.compile(uscc["pattern"])
        assert pattern.fullmatch("91360300MA35XXXXOQ") is None  # no letter O in GB 32100's alphabet
        assert pattern.fullmatch("913603000000000013")


def test_money_and_counts_state_their_limits(schema):
    components = schema["components"]["schemas"]
    amount = components["PaymentCreateRequest"]["properties"]["amount"]
    string, number = amount["oneOf"]
    assert number["minimum"] == 0.01 and number["maximum"] == 999999999999.99
    assert re.fullmatch(string["pattern"], "1234.50") and not re.fullmatch(string["pattern"], "-1")
    assert not re.fullmatch(string["pattern"], "") and not re.fullmatch(string["pattern"], "1e3")
    standard = components["ProgramRequest"]["properties"]["standard_amount"]["oneOf"][1]
    assert standard["minimum"] == 0
    # answers give money as strings, negative for reversing entries
    paid = components["Payment"]["properties"]["amount"]
    assert paid["type"] == "string" and re.fullmatch(paid["pattern"], "-500.00")
    max_units = components["ProgramRequest"]["properties"]["max_units"]
    assert (max_units["minimum"], max_units["maximum"]) == (1, 100000)
    ids = components["ApproveBatchRequest"]["properties"]["ids"]
    assert ids["items"]["minimum"] == 1 and (ids["minItems"], ids["maxItems"]) == (1, 500)


def test_page_size_cursor_and_ids_state_their_limits(schema):
    parameters = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/payments/"]["get"]["parameters"]}
    assert parameters["page_size"] == {"type": "integer", "minimum": 1, "maximum": 500}
    assert re.fullmatch(parameters["cursor"]["pattern"], "p120")
    assert (parameters["beneficiary"]["minimum"], parameters["beneficiary"]["maximum"]) == (1, 2**63 - 1)
    assert parameters["ordering"]["enum"] == ["id", "-id"]
    detail = schema["paths"]["/api/v1/payments/{id}/"]["get"]["parameters"][0]["schema"]
    assert (detail["minimum"], detail["maximum"]) == (1, 2**63 - 1)
    budget = schema["paths"]["/api/v1/programs/{id}/budget/"]["get"]["parameters"]
    year = next(p["schema"] for p in budget if p["name"] == "year")
    assert (year["minimum"], year["maximum"]) == (1900, 2999)
    key = next(
        p["schema"]
        for p in schema["paths"]["/api/v1/payments/"]["post"]["parameters"]
        if p["name"] == "Idempotency-Key"
    )
    assert (key["minLength"], key["maxLength"]) == (1, 255)


def test_every_operation_documents_503_with_retry_after(schema):
    for item in schema["paths"].values():
        for operation in item.values():
            assert operation["responses"]["503"]["headers"]["Retry-After"]["required"] is True
