"""OpenAPI: one schema whatever language the client reads (generated with English active), every
operation documenting the error responses it can give in the problem-details shape, and constraints
stated as exactly as the server applies them, so a contract-testing client meets no surprise."""

from __future__ import annotations

import decimal
import re
from typing import Any

from django.utils import translation
from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerFieldExtension
from drf_spectacular.generators import SchemaGenerator

from tracker.api.filters import MAX_ID
from tracker.api.query import TRIMMED_PATTERN
from tracker.api.serializers import decimal_pattern

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {
            "type": "string",
            "description": (
                "A URI reference, `/problems/<status>`, to a page describing the problem and what to "
                "do about it (HTML, or JSON with `Accept: application/json`); `/problems/` lists them."
            ),
        },
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
RETRY_AFTER = {
    "description": "Seconds to wait before retrying.",
    "required": True,
    "schema": {"type": "integer", "minimum": 0},
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
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter.get("in") == "path" and schema.get("type") == "integer":
                    # Record ids: positive, within the database's bigint (see tracker.api.filters).
                    schema.setdefault("minimum", 1)
                    schema.setdefault("maximum", MAX_ID)
            # Without `security` an operation inherits the document's; say "none" explicitly where
            # the view needs no credentials (the token login).
            operation.setdefault("security", [])
            errors = READ_ERRORS if method == "get" else WRITE_ERRORS
            responses = operation.setdefault("responses", {})
            for code, description in errors.items():
                responses.setdefault(
                    code,
                    {"description": description, "content": {"application/problem+json": {"schema": ref}}},
                )
            responses.setdefault(
                "503",
                {
                    "description": UNAVAILABLE,
                    "headers": {"Retry-After": RETRY_AFTER},
                    "content": {"application/problem+json": {"schema": ref}},
                },
            )
    return result


def strict_query_parameters(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular post-processing hook: every free-text query parameter states the rule that
    tracker.api.query applies to all of them: a value, with no blanks around it."""
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                target = schema.get("items", schema)
                if parameter.get("in") != "query" or target.get("type") != "string":
                    continue
                if "enum" not in target and "format" not in target and "pattern" not in target:
                    target.setdefault("minLength", 1)
                    target["pattern"] = TRIMMED_PATTERN
    return result


class EnglishSchemaGenerator(SchemaGenerator):
    """The schema is generated with English active, whatever the request's Accept-Language (or
    `?lang=`): generated clients take names and docs from it, and it must not change with the reader.
    The view and `manage.py spectacular` both use this generator."""

    def get_schema(self, request: Any = None, public: bool = False) -> dict[str, Any]:
        with translation.override("en"):
            return super().get_schema(request=request, public=public)


class DecimalFieldExtension(OpenApiSerializerFieldExtension):
    """Decimals (money, quantities, percents) are answered as strings. drf-spectacular's pattern for
    them accepted "" and "-" and said nothing of the field's limits; this one is the pattern the
    server applies (tracker.api.serializers.decimal_pattern). A request may also give a JSON number,
    which the schema states with the field's minimum and maximum."""

    target_class = "rest_framework.fields.DecimalField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        field = self.target
        schema = auto_schema._map_serializer_field(field, direction, bypass_extensions=True)
        pattern = decimal_pattern(field)
        if schema.get("type") != "string" or pattern is None:
            return schema
        string = {"type": "string", "format": "decimal", "pattern": pattern}
        if direction != "request":
            return {**schema, **string}
        places = field.decimal_places or 0
        largest = 10 ** (field.max_digits - places) - decimal.Decimal(1).scaleb(-places)
        number: dict[str, Any] = {"type": "number"}
        number["minimum"] = float(field.min_value if field.min_value is not None else -largest)
        number["maximum"] = float(min(largest, field.max_value) if field.max_value is not None else largest)
        meta = {key: value for key, value in schema.items() if key not in ("type", "format", "pattern")}
        return {"oneOf": [string, number], **meta}


_IDENTIFIER_RUN = re.compile(r"[^0-9A-Za-z]+")
# An English phrase glossed with its Chinese term, "Employed locally (本地就业)": the gloss goes.
_CHINESE_GLOSS = re.compile(r"\s*[(（][^()（）]*[\u3400-\u9fff][^()（）]*[)）]")


def enum_varname(value: str) -> str:
    """`employed_local` -> `EMPLOYED_LOCAL`; `-id` (an ordering) -> `DESC_ID`; "" -> `BLANK`; a
    leading digit gets a `V_` prefix."""
    if value.startswith("-") and len(value) > 1:
        return f"DESC_{enum_varname(value[1:])}"
    name = _IDENTIFIER_RUN.sub("_", value).strip("_").upper() or "BLANK"
    return f"V_{name}" if name[0].isdigit() else name


def enum_varnames(values: list[str]) -> list[str]:
    names: list[str] = []
    for value in values:
        name = enum_varname(value)
        while name in names:
            name += "_"
        names.append(name)
    return names


def english_names(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular post-processing hook, after enum post-processing: every string enum gets
    `x-enum-varnames` (English identifiers generated clients use for the members), and Chinese
    glosses in parentheses are dropped from titles and descriptions. Literal Chinese that a client
    must send or will receive (the import file's column headers) stays."""

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            values = node.get("enum")
            if isinstance(values, list) and values and all(isinstance(v, str) for v in values):
                node["x-enum-varnames"] = enum_varnames(values)
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


# -- how clients authenticate ----------------------------------------------------------------------
TOKEN_HOW_TO = (
    'Log in with `POST /api/v1/auth/token/` (JSON `{"username": ..., "password": ...}`); the '
    "answer's `token` is your key. Send it on every call in the `Authorization` header as "
    "`Token <key>`: the word `Token`, one space, then the key, e.g. "
    "`Authorization: Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b`. In these docs press "
    "**Authorize** and paste the whole value, `Token ` prefix included: the key alone is answered 401. "
    "A token unused for eight hours (`TOKEN_IDLE_SECONDS`) expires; `DELETE /api/v1/auth/token/` "
    "logs out."
)
SESSION_HOW_TO = (
    "The admin's session cookie: in a browser signed in to `/admin/`, these docs call the API as that "
    "user (writes also send the CSRF token). Programs use the token."
)


class TokenScheme(OpenApiAuthenticationExtension):
    """The API's token (tracker.accounts.api.authentication): the `Token ` prefix explained where a
    person reads it, in the Authorize dialog and at the top of the docs."""

    target_class = "tracker.accounts.api.authentication.ExpiringTokenAuthentication"
    name = "tokenAuth"
    match_subclasses = True
    priority = 1  # before drf-spectacular's own scheme for DRF's TokenAuthentication

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "apiKey", "in": "header", "name": "Authorization", "description": TOKEN_HOW_TO}


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "rest_framework.authentication.SessionAuthentication"
    name = "cookieAuth"
    priority = 1

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        from django.conf import settings

        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": SESSION_HOW_TO,
        }


def token_first(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular post-processing hook: the token scheme comes first (components are sorted by
    name, which put the cookie first), in the Authorize dialog and in every operation."""
    schemes = result.get("components", {}).get("securitySchemes")
    if schemes and "tokenAuth" in schemes:
        result["components"]["securitySchemes"] = {
            "tokenAuth": schemes["tokenAuth"],
            **{name: scheme for name, scheme in schemes.items() if name != "tokenAuth"},
        }
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if isinstance(operation, dict) and operation.get("security"):
                operation["security"].sort(key=lambda requirement: "tokenAuth" not in requirement)
    return result


# -- names generated clients read ------------------------------------------------------------------
# Request bodies are `<Thing>Request`, partial updates `<Thing>PatchRequest`, answers `<Thing>`.
# drf-spectacular appends `Request` to a request serializer's name (so `RevealRequestSerializer`
# became `RevealRequestRequest`), prefixes partial ones with `Patched`, and keeps a write
# serializer's `Write` (`BeneficiaryWriteRequest`, though it is simply the beneficiary's request body).
COMPONENT_RENAMES = (
    (re.compile(r"^Patched(?P<thing>.+?)(?:Write)?Request$"), r"\g<thing>PatchRequest"),
    (re.compile(r"^(?P<thing>.+?)(?:Request|Write)Request$"), r"\g<thing>Request"),
)
_REF_PREFIX = "#/components/schemas/"


def component_renames(names: list[str]) -> dict[str, str]:
    """Old -> new for every component whose name a rule rewrites, unless the new name is taken (the
    schema test then names it, so that the serializer is renamed instead)."""
    taken = set(names)
    renames: dict[str, str] = {}
    for name in names:
        for pattern, replacement in COMPONENT_RENAMES:
            if pattern.match(name):
                new = pattern.sub(replacement, name)
                if new not in taken:
                    renames[name] = new
                    taken.add(new)
                break
    return renames


def _rewrite_refs(node: Any, renames: dict[str, str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_REF_PREFIX) and ref[len(_REF_PREFIX) :] in renames:
            node["$ref"] = _REF_PREFIX + renames[ref[len(_REF_PREFIX) :]]
        for child in node.values():
            _rewrite_refs(child, renames)
    elif isinstance(node, list):
        for child in node:
            _rewrite_refs(child, renames)


def _hoist_nullable_objects(schemas: dict[str, Any]) -> None:
    """A nullable object written inline in a property (`Payment.cause`, a dict or null) becomes a
    component of its own, `PaymentCause`: generated clients otherwise name its class after the
    union's first member (`PaymentCauseType0`)."""
    for owner, schema in list(schemas.items()):
        for field, prop in (schema.get("properties") or {}).items():
            if prop.get("type") != "object" or not prop.get("nullable"):
                continue
            name = owner + "".join(part.capitalize() for part in field.split("_"))
            if name in schemas:
                continue
            meta = {
                key: prop.pop(key)
                for key in ("nullable", "readOnly", "writeOnly", "description")
                if key in prop
            }
            schemas[name] = prop
            schema["properties"][field] = {"allOf": [{"$ref": _REF_PREFIX + name}], **meta}


def readable_component_names(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular post-processing hook: rename components by COMPONENT_RENAMES, references
    included, give inline nullable objects a name, and keep the components sorted by name."""
    schemas = result.get("components", {}).get("schemas", {})
    if not schemas:
        return result
    renames = component_renames(list(schemas))
    renamed = {renames.get(name, name): schema for name, schema in schemas.items()}
    _rewrite_refs(result.get("paths", {}), renames)
    _rewrite_refs(renamed, renames)
    _hoist_nullable_objects(renamed)
    result["components"]["schemas"] = dict(sorted(renamed.items()))
    return result


def _mixin_docs() -> set[str]:
    """Docstrings of serializer mixins: they explain the server's code, and drf-spectacular would
    take them as the description of every serializer that has no docstring of its own."""
    import inspect

    from tracker.api.serializers import StrictTypesMixin

    return {inspect.cleandoc(cls.__doc__ or "") for cls in (StrictTypesMixin,)}


def shared_enums_for_parameters(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular post-processing hook: a query parameter whose choices are exactly those of a
    component enum refers to it (`?status=` of payments is a `PaymentStatusEnum`), so a generated
    client has one type for the field and its filter instead of one per list; and component
    descriptions inherited from the server's mixins go."""
    schemas = result.get("components", {}).get("schemas", {})
    mixin_docs = _mixin_docs()
    for schema in schemas.values():
        if schema.get("description") in mixin_docs:
            del schema["description"]
    enums: dict[frozenset[str], str] = {}
    for name, schema in schemas.items():
        values = schema.get("enum")
        if schema.get("type") == "string" and values and all(isinstance(v, str) for v in values):
            enums.setdefault(frozenset(values), name)
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") != "query":
                    continue
                schema = parameter.get("schema", {})
                holder, key = (schema, "items") if schema.get("type") == "array" else (parameter, "schema")
                target = holder.get(key, {})
                values = target.get("enum")
                name = enums.get(frozenset(values)) if isinstance(values, list) else None
                if name is None or len(set(values)) != len(values):
                    continue
                if "description" not in parameter and target.get("title"):
                    parameter["description"] = target["title"]
                holder[key] = {"$ref": _REF_PREFIX + name}
    return result
