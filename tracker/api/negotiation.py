"""Content negotiation that remembers its answers.

DRF's negotiation parses the Accept header and every renderer's media type on every request; for a
short list page that was a tenth of the API's own time. Its answer depends only on the Accept
header, the requested format and the view's renderers, so it is worked out once per such
combination and reused (a bounded table, emptied when full, so odd headers cannot crowd out the common
ones for good)."""

from __future__ import annotations

import threading
from typing import Any

from rest_framework.negotiation import DefaultContentNegotiation

MAX_REMEMBERED = 512


class RememberingContentNegotiation(DefaultContentNegotiation):
    _answers: dict[tuple[Any, ...], tuple[int, str]] = {}
    _lock = threading.Lock()

    def select_renderer(self, request: Any, renderers: list[Any], format_suffix: str | None = None) -> Any:
        key = (
            request.META.get("HTTP_ACCEPT"),
            format_suffix or request.query_params.get(self.settings.URL_FORMAT_OVERRIDE),
            *((type(renderer), renderer.media_type, renderer.format) for renderer in renderers),
        )
        answer = self._answers.get(key)
        if answer is None:
            renderer, media_type = super().select_renderer(request, renderers, format_suffix)
            answer = (next(i for i, each in enumerate(renderers) if each is renderer), media_type)
            with self._lock:
                if len(self._answers) >= MAX_REMEMBERED:  # many odd headers: start again
                    self._answers.clear()
                self._answers[key] = answer
        return renderers[answer[0]], answer[1]
