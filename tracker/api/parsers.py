"""JSON bodies with a nesting limit. Python's json module recurses once per level of nesting, so a
body of a few thousand `[` answered 500 (RecursionError) and a few hundred already cost the
serializers a deep walk. No body of this API nests more than a handful of levels."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding
from rest_framework.utils import json

# A JSON string literal (with its escapes): brackets inside strings do not nest.
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")


def json_depth_exceeds(body: bytes, limit: int) -> bool:
    """Whether the arrays and objects of `body` nest deeper than `limit`.

    Free for ordinary bodies: a body with at most `limit` opening brackets cannot nest deeper, and
    two `bytes.count` calls (C speed, no allocation) tell. Only a body with more brackets is scanned,
    bracket by bracket, outside its strings; malformed input is left to the JSON parser to refuse.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for match in _BRACKETS.finditer(_STRING.sub(b'""', body)):
        if match.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


class DepthLimitedJSONParser(JSONParser):
    """DRF's JSON parser, refusing (400) bodies nested deeper than `settings.JSON_MAX_DEPTH`."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = get_encoding(parser_context or {})
        body = stream.read() if stream is not None else b""
        limit = settings.JSON_MAX_DEPTH
        if json_depth_exceeds(body, limit):
            raise ParseError(_("The JSON body nests deeper than %(limit)d levels.") % {"limit": limit})
        try:
            text = body.decode(encoding)
            parse_constant = json.strict_constant if self.strict else None
            return json.loads(text, parse_constant=parse_constant)
        except ValueError as exc:  # includes UnicodeDecodeError and JSONDecodeError
            raise ParseError(_("JSON parse error - %(error)s") % {"error": exc}) from None
        except RecursionError:  # only if JSON_MAX_DEPTH were set above the interpreter's limit
            raise ParseError(_("The JSON body nests too deeply.")) from None
