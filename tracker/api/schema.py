"""OpenAPI: one schema whatever language the client reads (generated with English active), every
operation documenting the error responses it can give in the problem-details shape, and constraints
stated as exactly as the server applies them, so a contract-testing client meets no surprise."""

from __future__ import annotations

import re
from typing import Any

from django.utils import translation
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.generators import SchemaGenerator

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "object",
            "description": "Field path -> messages.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["type", "title", "status", "detail", "errors"],
    "additionalProperties": True,
}

READ_ERRORS = {
    "400": "Invalid request",
    "401": "Not authenticated",
    "403": "Forbidden",
    "404": "Not found",
    "429": "Too many requests",
}
WRITE_ERRORS = {
    **READ_ERRORS,
    "409": "Conflict",
    "412": "Precondition failed (stale If-Match)",
    "413": "Request too large",
    "415": "Unsupported media type",
}
# Any operation may meet a database that is down or restarting: 503 with Retry-After.
UNAVAILABLE = "Service unavailable (the database); retry after `Retry-After` seconds"


def add_problem_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular post-processing hook."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    ref = {"$ref": "#/components/schemas/Problem"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            # Without `security` an operation inherits the document's; say "none" explicitly where
            # the view needs no credentials (the token login).
            operation.setdefault("security", [])
            errors = READ_ERRORS if method == "get" else WRITE_ERRORS
            responses = operation.setdefault("responses", {})
            for code, description in {**errors, "503": UNAVAILABLE}.items():
                responses.setdefault(
                    code,
                    {"description": description, "content": {"application/problem+json": {"schema": ref}}},
                )
    return result


class EnglishSchemaGenerator(SchemaGenerator):
    """The schema is generated with English active, whatever the request's Accept-Language (or
    `?lang=`): generated clients take names and docs from it, and it must not change with the reader.
    The view and `manage.py spectacular` both use this generator."""

    def get_schema(self, request: Any = None, public: bool = False) -> dict[str, Any]:
        with translation.override("en"):
            return super().get_schema(request=request, public=public)


class DecimalFieldExtension(OpenApiSerializerFieldExtension):
    """Decimals (money, quantities, percents) travel as strings. drf-spectacular's pattern for them
    accepted "" and "-" and said nothing of the field's limits; this one needs a digit, allows a sign
    only where negatives are accepted, and states min_value / max_value as minimum / maximum."""

    target_class = "rest_framework.fields.DecimalField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        field = self.target
        schema = auto_schema._map_serializer_field(field, direction, bypass_extensions=True)
        if schema.get("type") != "string" or field.max_digits is None:
            return schema
        whole = field.max_digits - (field.decimal_places or 0)
        sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
        fraction = rf"(?:\.\d{{1,{field.decimal_places}}})?" if field.decimal_places else ""
        schema["pattern"] = rf"^{sign}\d{{1,{whole}}}{fraction}$"
        if field.min_value is not None:
            schema["minimum"] = float(field.min_value)
        if field.max_value is not None:
            schema["maximum"] = float(field.max_value)
        return schema


_IDENTIFIER_RUN = re.compile(r"[^0-9A-Za-z]+")
# An English phrase glossed with its Chinese term, "Employed locally (本地就业)": the gloss goes.
_CHINESE_GLOSS = re.compile(r"\s*[(（][^()（）]*[\u3400-\u9fff][^()（）]*[)）]")


def enum_varname(value: str) -> str:
    """`employed_local` -> `EMPLOYED_LOCAL`; "" -> `BLANK`; a leading digit gets a `V_` prefix."""
    name = _IDENTIFIER_RUN.sub("_", value).strip("_").upper() or "BLANK"
    return f"V_{name}" if name[0].isdigit() else name


def english_names(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular post-processing hook, after enum post-processing: every string enum gets
    `x-enum-varnames` (English identifiers generated clients use for the members), and Chinese
    glosses in parentheses are dropped from titles and descriptions. Literal Chinese that a client
    must send or will receive (the import file's column headers) stays."""

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            values = node.get("enum")
            if isinstance(values, list) and values and all(isinstance(v, str) for v in values):
                node["x-enum-varnames"] = [enum_varname(v) for v in values]
            for key in ("title", "description"):
                if isinstance(node.get(key), str):
                    node[key] = _CHINESE_GLOSS.sub("", node[key])
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(result)
    return result
