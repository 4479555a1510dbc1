"""The house's import rules, checked on the source so a wrong arrow fails the build (ARCHITECTURE.md,
"Arrows point down only"): the core imports no app, the registry imports no program, and inside the
core each floor imports only the floors below it. Doors (the admin, the API, management commands,
URLs, settings, app configs) stand on top of everything and may import any floor of the core."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS_ABOVE = {
    "tracker": {"beneficiaries", "programs", "seeds", "benchmarks", "tests"},
    "beneficiaries": {"programs", "seeds", "benchmarks", "tests"},
    "programs": {"seeds", "benchmarks", "tests"},
}
# tracker's floors: a module may import its own floor and the ones below.
FLOORS = {
    **dict.fromkeys(
        (
            "scope",
            "errors",
            "pii",
            "periods",
            "geo",
            "transactions",
            "integrity",
            "env",
            "planner",
            "db_routers",
            "statements",
        ),
        0,
    ),
    "changelog": 1,
    "regions": 2,
    "accounts": 3,
    **dict.fromkeys(("jobs", "transitions", "exports", "reporting"), 4),
}
DOOR_MODULES = {
    "admin",
    "admin_site",
    "apps",
    "urls",
    "wsgi",
    "settings",
    "test_settings",
    "celery",
    "health",
}


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def _sources(package: str) -> Iterator[tuple[str, Path]]:
    for path in sorted((ROOT / package).rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if "/migrations/" not in rel:
            yield rel, path


def _is_door(rel: str) -> bool:
    parts = rel.removesuffix(".py").split("/")
    return "api" in parts or "management" in parts or parts[-1] in DOOR_MODULES or parts[1] == "__init__"


def test_apps_import_only_downwards() -> None:
    wrong = [
        f"{rel} imports {module}"
        for package, above in APPS_ABOVE.items()
        for rel, path in _sources(package)
        for module in _imports(path)
        if module.split(".")[0] in above
    ]
    assert wrong == []


def test_the_cores_floors_import_only_downwards() -> None:
    wrong = []
    for rel, path in _sources("tracker"):
        if _is_door(rel):
            continue
        floor = FLOORS.get(rel.split("/")[1].removesuffix(".py"))
        assert floor is not None, f"{rel}: give its floor in FLOORS (and in ARCHITECTURE.md)"
        for module in _imports(path):
            parts = module.split(".")
            if parts[0] != "tracker" or len(parts) < 2:
                continue
            target = FLOORS.get(parts[1])
            if target is None or target > floor:
                wrong.append(f"{rel} imports {module}")
    assert wrong == []
