"""OpenAPI: every operation documents the error responses it can give, in the problem-details shape,
so a contract-testing client meets no undocumented status code."""

from __future__ import annotations

from typing import Any

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
            errors = READ_ERRORS if method == "get" else WRITE_ERRORS
            responses = operation.setdefault("responses", {})
            for code, description in errors.items():
                responses.setdefault(
                    code,
                    {"description": description, "content": {"application/problem+json": {"schema": ref}}},
                )
    return result
