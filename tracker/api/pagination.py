"""Cursor pagination on the primary key, strict about its two query parameters: a `page_size` or
`cursor` the server cannot use is a 400 naming it, never silently replaced by the default (DRF's
own answer was the first page for `page_size=abc` and a 404 for a garbled cursor).

Every list answers `{next, previous, next_cursor, previous_cursor, results}`: the links as DRF gives
them, and the same positions as bare cursor values for clients that build their own URLs (a
generated client passes `cursor=` as a parameter)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

# A cursor is an offset (`o`), a reversal flag (`r`) and a position (`p`, an id), e.g. `p4120` or
# `ro1p4120`: DRF's three parts, written plainly instead of base64-encoded, so that the schema can
# state exactly which cursors exist. Clients still use the `next` / `previous` links as given.
CURSOR_PATTERN = "^(?:o[0-9]{1,4})?r?(?:p[0-9]{1,18})?$"
_CURSOR = re.compile(r"(?:o(?P<o>[0-9]{1,4}))?(?P<r>r)?(?:p(?P<p>[0-9]{1,18}))?")


def cursor_of(link: str | None, name: str = "cursor") -> str | None:
    """The bare cursor value of a `next` / `previous` link (None: no such page); for clients and
    tests (the API answers both)."""
    if link is None:
        return None
    values = parse_qs(urlsplit(link).query, keep_blank_values=True).get(name)
    return values[-1] if values else None


class IdCursorPagination(CursorPagination):
    """Cursor pagination on the primary key: stable under inserts, and no COUNT(*) per page."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request: Any) -> int:
        values = request.query_params.getlist(self.page_size_query_param)
        if not values:
            return self.page_size
        raw = values[-1]
        value = int(raw) if len(values) == 1 and raw.isascii() and raw.isdigit() else 0
        if not 1 <= value <= self.max_page_size:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        _("A whole number from 1 to %(max)d.") % {"max": self.max_page_size}
                    ]
                }
            )
        return value

    def decode_cursor(self, request: Any) -> Cursor | None:
        values = request.query_params.getlist(self.cursor_query_param)
        if not values:
            return None
        match = _CURSOR.fullmatch(values[0]) if len(values) == 1 and values[0] else None
        if match is None:
            raise ValidationError(
                {self.cursor_query_param: [_("Invalid cursor: use the `next` or `previous` link as given.")]}
            )
        offset = min(int(match["o"] or 0), self.offset_cutoff)  # DRF's cap on offsets
        return Cursor(offset=offset, reverse=bool(match["r"]), position=match["p"])

    def encode_cursor(self, cursor: Cursor) -> str:
        token = "".join(
            (
                f"o{cursor.offset}" if cursor.offset else "",
                "r" if cursor.reverse else "",
                f"p{cursor.position}" if cursor.position is not None else "",
            )
        )
        # DRF points back to the start with an empty cursor (offset 0, no position: after an empty
        # page read backwards), which no request may send; `o0` says the same and is a cursor.
        self.encoded = token or "o0"
        return replace_query_param(self.base_url, self.cursor_query_param, self.encoded)

    def get_paginated_response(self, data: Any) -> Response:
        """DRF's envelope with the bare cursors added between the links and the results; the other
        members are unchanged, byte for byte."""
        # Each link's bare cursor as encode_cursor wrote it (reading it back from the link cost as
        # much as writing the link).
        self.encoded = None
        following = self.get_next_link()
        next_cursor, self.encoded = self.encoded if following is not None else None, None
        preceding = self.get_previous_link()
        previous_cursor = self.encoded if preceding is not None else None
        return Response(
            {
                "next": following,
                "previous": preceding,
                "next_cursor": next_cursor,
                "previous_cursor": previous_cursor,
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        link = "https://tracker.example.cn/api/v1/payments/?{cursor}={value}"
        cursor = {"type": "string", "nullable": True, "pattern": CURSOR_PATTERN, "minLength": 1}
        return {
            "type": "object",
            # Always present (null when there is no such page): generated clients need no "unset".
            "required": ["next", "previous", "next_cursor", "previous_cursor", "results"],
            "properties": {
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The next page's URL, or null on the last page.",
                    "example": link.format(cursor=self.cursor_query_param, value="p4120"),
                },
                "previous": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The previous page's URL, or null on the first page.",
                    "example": link.format(cursor=self.cursor_query_param, value="rp4071"),
                },
                "next_cursor": {
                    **cursor,
                    "description": f"The `{self.cursor_query_param}` of the `next` link, or null.",
                    "example": "p4120",
                },
                "previous_cursor": {
                    **cursor,
                    "description": f"The `{self.cursor_query_param}` of the `previous` link, or null.",
                    "example": "rp4071",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = f"Number of results per page, 1 to {self.max_page_size}."
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
            elif parameter["name"] == self.cursor_query_param:
                parameter["description"] = (
                    "Where the page starts: a `next_cursor` or `previous_cursor` as answered (the same"
                    " value as in the `next` or `previous` link)."
                )
                parameter["schema"] = {"type": "string", "minLength": 1, "pattern": CURSOR_PATTERN}
        return parameters
