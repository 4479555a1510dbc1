"""Run benchmark suites in a fresh database per engine and suite, in a child process each, and report
each case against a baseline measured in the same run (absolute times drift on a shared machine)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


@dataclass
class Row:
    case: str
    engine: str
    measured: float
    baseline: float | None
    unit: str
    ratio: float | None
    target: str
    ok: bool
    detail: dict[str, Any] = field(default_factory=dict)
    # What limits the case when it misses its target (from a profile), else "".
    note: str = ""


@contextmanager
def stopwatch() -> Iterator[Callable[[], float]]:
    start = time.perf_counter()
    elapsed: list[float] = []
    try:
        yield lambda: elapsed[0] if elapsed else time.perf_counter() - start
    finally:
        elapsed.append(time.perf_counter() - start)


def bench_database_name(url: str) -> str:
    """`<name>_bench` for DATABASE_URL's database, so engineers sharing one server never collide."""
    name = urlsplit(url).path.lstrip("/") or "postgres"
    return f"{name}_bench"


def engine_urls() -> dict[str, str]:
    """SQLite always; PostgreSQL too when DATABASE_URL points at one (a separate bench database
    beside DATABASE_URL's, named after it)."""
    urls = {"sqlite": f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}"}
    configured = os.environ.get("DATABASE_URL", "")
    if configured.startswith(("postgres://", "postgresql://")):
        parts = urlsplit(configured)
        urls["postgresql"] = urlunsplit(parts._replace(path=f"/{bench_database_name(configured)}"))
    return urls


def fresh_database(engine: str, url: str) -> None:
    if engine == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(engine: str, url: str) -> None:
    if engine == "sqlite":
        return
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(parts.path.lstrip("/")))
        )


def run_engine(engine: str, url: str, args: list[str]) -> list[Row]:
    """One suite (a set of cases) on one engine, in a fresh database and a child process."""
    fresh_database(engine, url)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "tracker.test_settings",
        "BENCH_ENGINE": engine,
        "READ_STATEMENTS_CHECK": "false",
    }
    env.pop("DEBUG", None)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.worker", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        out, _ = proc.communicate()
    finally:
        drop_database(engine, url)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark worker failed on {engine} (exit {proc.returncode})")
    last = out.strip().splitlines()[-1]
    return [Row(**row) for row in json.loads(last)]


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "ms":
        return f"{value:,.2f}"
    if unit in ("s", "MiB"):
        return f"{value:,.2f}"
    return f"{value:,.0f}"


def print_table(rows: list[Row]) -> None:
    header = (
        f"{'case':52} {'engine':10} {'measured':>12} {'baseline':>12} {'unit':7} {'ratio':>6}  "
        f"{'target':14} result"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        ratio = "–" if r.ratio is None else f"{r.ratio:.2f}"
        print(
            f"{r.case:52} {r.engine:10} {_number(r.measured, r.unit):>12} {_number(r.baseline, r.unit):>12} "
            f"{r.unit:7} {ratio:>6}  {r.target:14} {'PASS' if r.ok else 'MISS'}"
        )
        if not r.ok and r.note:
            print(f"    what limits it: {r.note}")


def machine() -> dict[str, Any]:
    try:
        load = os.getloadavg()
    except OSError:
        load = (0.0, 0.0, 0.0)
    return {
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "load_average": [round(x, 2) for x in load],
    }


def engine_versions() -> dict[str, str]:
    import sqlite3

    versions = {"sqlite": sqlite3.sqlite_version}
    configured = os.environ.get("DATABASE_URL", "")
    if configured.startswith(("postgres://", "postgresql://")):
        import psycopg

        admin_url = urlunsplit(urlsplit(configured)._replace(path="/postgres"))
        with psycopg.connect(admin_url) as conn:
            versions["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
    return versions


def write_results(rows: list[Row], extra: dict[str, Any] | None = None) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    path = RESULTS / f"bench-{stamp}.json"
    payload = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "machine": machine(),
        **(extra or {}),
        "rows": [asdict(r) for r in rows],
    }
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False))
    return path
