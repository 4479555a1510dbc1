"""Run benchmark cases in a fresh database per engine, in a child process each, and report ratios
against a baseline measured in the same run (absolute times drift on a shared machine)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
BENCH_DB = "tracker_bench"


@dataclass
class Row:
    case: str
    engine: str
    measured: float
    baseline: float
    unit: str
    ratio: float
    target: str
    ok: bool
    detail: dict[str, Any] = field(default_factory=dict)


@contextmanager
def stopwatch() -> Iterator[Callable[[], float]]:
    start = time.perf_counter()
    elapsed: list[float] = []
    try:
        yield lambda: elapsed[0] if elapsed else time.perf_counter() - start
    finally:
        elapsed.append(time.perf_counter() - start)


def engine_urls() -> dict[str, str]:
    """SQLite always; PostgreSQL too when DATABASE_URL points at one (a separate bench database)."""
    urls = {"sqlite": f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}"}
    configured = os.environ.get("DATABASE_URL", "")
    if configured.startswith(("postgres://", "postgresql://")):
        base = configured.rsplit("/", 1)[0]
        urls["postgresql"] = f"{base}/{BENCH_DB}"
    return urls


def fresh_database(engine: str, url: str) -> None:
    if engine == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DB}")


def run_engine(engine: str, url: str, args: list[str]) -> list[Row]:
    fresh_database(engine, url)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "tracker.test_settings",
        "BENCH_ENGINE": engine,
    }
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.worker", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    sys.stderr.write(proc.stderr)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark worker failed on {engine} (exit {proc.returncode})")
    last = proc.stdout.strip().splitlines()[-1]
    return [Row(**row) for row in json.loads(last)]


def print_table(rows: list[Row]) -> None:
    header = (
        f"{'case':38} {'engine':10} {'measured':>14} {'baseline':>14} {'unit':10} {'ratio':>7}  target   ok"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r.case:38} {r.engine:10} {r.measured:14,.1f} {r.baseline:14,.1f} {r.unit:10} "
            f"{r.ratio:7.2f}  {r.target:8} {'yes' if r.ok else 'NO'}"
        )


def write_results(rows: list[Row]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    path = RESULTS / f"bench-{stamp}.json"
    payload = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "rows": [asdict(r) for r in rows],
    }
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False))
    return path
