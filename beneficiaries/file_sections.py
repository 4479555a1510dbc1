"""Sections of the one-person-one-file view (一人一档), contributed by the apps that know them.

The registry lives here, in the lower app; higher apps (posts, vouchers, payments, findings) register
a provider in their AppConfig.ready(), so adding a section never edits this app's view:

    from beneficiaries.file_sections import register_file_section
    register_file_section("payments", _("Subsidies received"), payments_for_file)

A provider takes (beneficiary, user) and returns JSON-serialisable data (masked where personal). Each
provider must run a constant number of queries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Provider = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class FileSection:
    key: str
    title: Any
    provider: Provider
    order: int


_sections: dict[str, FileSection] = {}


def register_file_section(key: str, title: Any, provider: Provider, *, order: int = 100) -> None:
    _sections[key] = FileSection(key=key, title=title, provider=provider, order=order)


def file_sections() -> list[FileSection]:
    return sorted(_sections.values(), key=lambda s: (s.order, s.key))
