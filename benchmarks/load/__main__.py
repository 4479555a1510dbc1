"""`make load`: a bureau's day against gunicorn on PostgreSQL, then the same with PostgreSQL restarted
in the middle; afterwards nothing acknowledged may be missing and the change log must verify.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mydb make load [LOAD_ARGS="--duration 60 ..."]

1. A fresh database `<name>_load` beside DATABASE_URL's `<name>` (dropped at the end unless --keep),
   migrated, seeded (`manage.py seed`) and given the load's people and accounts
   (benchmarks/load/population.py).
2. For each phase (`steady`, then `restart`): gunicorn with --workers processes on a free loopback
   port, production settings (DEBUG off, keys made up for the run, Redis for the request-rate counts
   when it answers, jobs inline); locust headless with --users simulated clerks for --duration
   seconds (benchmarks/load/locustfile.py); /healthz probed every 100 ms. In `restart`, at a third of
   the duration, `pg_ctlcluster --skip-systemctl-redirect <version> <cluster> restart` (the cluster
   that listens on DATABASE_URL's port, or LOAD_PG_CLUSTER=15/main), or with --outage-seconds N a
   stop, N seconds down and a start; gunicorn is not touched. On a server others use, point
   DATABASE_URL at a cluster of your own (`pg_createcluster 15 load -p 5439 --start -- --auth=trust`):
   the restart cuts every connection to the cluster.
3. After each phase, with gunicorn stopped: benchmarks/load/check.py (every acknowledged write in the
   database and the change log; `changes_verify` passes).
4. The figures: requests per second, p50/p95/p99 per category, statuses, errors, and for `restart`
   the outage as the probe and the API saw it; printed and written to
   benchmarks/results/load-<time>.json.

Errors are 5xx answers other than a 503 while the database is down, lost connections and answers
that break the rules of the API (a 500 is always an error). A rule's refusal (400, 409) is not an
error: it is counted apart ("refused"). Loopback only: the run binds and targets 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from benchmarks.harness import RESULTS, ROOT, drop_database, fresh_database, machine

BIN = Path(sys.executable).parent
OUT = ROOT / "var" / "load"


def load_database_url(url: str) -> str:
    """`<name>_load` beside DATABASE_URL's database `<name>`, so engineers sharing a server never
    collide (as `make bench` does with `_bench`)."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "postgres"
    return urlunsplit(parts._replace(path=f"/{name}_load"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_url() -> str | None:
    url = os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/13")
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception:
        return None
    return url


def service_env(database_url: str) -> dict[str, str]:
    """Production settings for the run: DEBUG off, keys made up for this run only."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tracker.settings",
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_hex(32),
        "CHANGELOG_HMAC_KEY": secrets.token_hex(32),
        "PII_ENCRYPTION_KEY": secrets.token_hex(32),
        "PII_HASH_KEY": secrets.token_hex(32),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Plain HTTP on loopback (production sits behind a TLS proxy).
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_HSTS_SECONDS": "0",
        "CELERY_BROKER_URL": "",  # jobs inline: the exports here stay under the job threshold
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DATABASE_REPLICA_URL", None)
    redis = redis_url()
    if redis:
        env["REDIS_URL"] = redis
    else:
        env.pop("REDIS_URL", None)
    return env


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(BIN / "python"), "manage.py", *args], cwd=ROOT, env=env, check=True)


def pg_cluster(database_url: str) -> tuple[str, str]:
    """(version, cluster) of the PostgreSQL cluster to restart: LOAD_PG_CLUSTER ("15/main"), else the
    one pg_lsclusters shows on DATABASE_URL's port."""
    configured = os.environ.get("LOAD_PG_CLUSTER")
    if configured:
        version, _, name = configured.partition("/")
        return version, name
    port = str(urlsplit(database_url).port or 5432)
    listing = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=True)
    for line in listing.stdout.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[2] == port:
            return fields[0], fields[1]
    raise SystemExit(f"no PostgreSQL cluster on port {port} (set LOAD_PG_CLUSTER=<version>/<cluster>)")


def restart_postgres(version: str, cluster: str, outage_seconds: float = 0) -> tuple[float, float]:
    """Restart the cluster as root (pg_ctlcluster's fast shutdown: every connection is cut); with
    `outage_seconds`, stop it, wait that long, start it (a longer outage, as a failover takes).
    Returns the (start, end) times."""
    prefix = ["pg_ctlcluster", "--skip-systemctl-redirect", version, cluster]
    if os.geteuid() != 0:
        prefix = ["sudo", "-n", *prefix]
    start = time.time()
    if outage_seconds > 0:
        subprocess.run([*prefix, "stop"], check=True)
        time.sleep(outage_seconds)
        subprocess.run([*prefix, "start"], check=True)
    else:
        subprocess.run([*prefix, "restart"], check=True)
    return start, time.time()


class HealthProbe(threading.Thread):
    """GET /healthz every 100 ms: (sent, answered, status) triples; status 0 when no answer came."""

    def __init__(self, base: str) -> None:
        super().__init__(daemon=True)
        self.base = base
        self.samples: list[tuple[float, float, int]] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            sent = time.time()
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=5) as answer:
                    status = answer.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            except OSError:
                status = 0
            self.samples.append((sent, time.time(), status))
            self.stopped.wait(0.1)


def start_gunicorn(env: dict[str, str], port: int, workers: int, log: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "tracker.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "60",
            "--graceful-timeout",
            "10",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return process
        except OSError:
            pass
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited; see {log}")
        time.sleep(0.3)
    process.terminate()
    raise SystemExit(f"gunicorn did not answer /healthz within 60 s; see {log}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def summarise(requests: list[dict[str, Any]], duration: float, outage: tuple[float, float] | None) -> dict:
    """Figures per category and overall. `outage` (epoch seconds, as the requests' times): 503s
    inside it are the expected answer, not errors."""

    def figures(rows: list[dict[str, Any]]) -> dict[str, Any]:
        times = [r["ms"] for r in rows if r["status"] and r["status"] < 500]
        return {
            "requests": len(rows),
            "rps": round(len(rows) / duration, 1),
            "p50_ms": percentile(times, 50),
            "p95_ms": percentile(times, 95),
            "p99_ms": percentile(times, 99),
            "mean_ms": round(statistics.fmean(times), 1) if times else None,
        }

    def is_error(r: dict[str, Any]) -> bool:
        if r["status"] == 503 and outage and outage[0] <= r["at"] <= outage[1]:
            return False
        return r["status"] == 0 or r["status"] >= 500 or r["status"] in (401, 403, 404, 405, 413, 429)

    statuses: dict[str, int] = {}
    for r in requests:
        statuses[str(r["status"])] = statuses.get(str(r["status"]), 0) + 1
    per_name: dict[str, dict[str, int]] = {}
    for r in requests:
        per_name.setdefault(r["name"], {}).setdefault(str(r["status"]), 0)
        per_name[r["name"]][str(r["status"])] += 1
    return {
        "overall": figures(requests),
        "by_category": {
            c: figures([r for r in requests if r["category"] == c]) for c in ("read", "write", "report")
        },
        "statuses": dict(sorted(statuses.items())),
        "by_request": per_name,
        "refused_4xx": sum(1 for r in requests if r["status"] in (400, 409, 412)),
        "unavailable_503": sum(1 for r in requests if r["status"] == 503),
        "errors": sum(1 for r in requests if is_error(r)),
        "error_samples": [r for r in requests if is_error(r)][:10],
    }


def outage_seen(samples: list[tuple[float, float, int]], restart: tuple[float, float]) -> dict[str, Any]:
    """What /healthz answered around the restart (times in seconds from the restart command's start):
    the first and last probe sent that was not answered 200, and when the first 200 after them came."""
    down = [(sent, status) for sent, _, status in samples if status != 200 and sent >= restart[0] - 1]
    statuses = sorted({status for _, _, status in samples if status != 200})
    if not down:
        return {"healthz_non_200": 0, "statuses": statuses}
    last = down[-1][0]
    back = next((answered for sent, answered, status in samples if sent > last and status == 200), None)
    return {
        "healthz_non_200": len(down),
        "statuses": statuses,
        "healthz_first_non_200_s": round(down[0][0] - restart[0], 2),
        "healthz_last_non_200_s": round(last - restart[0], 2),
        "healthz_200_again_s": round(back - restart[0], 2) if back else None,
        "restart_command_s": round(restart[1] - restart[0], 2),
    }


def run_phase(
    number: int,
    phase: str,
    env: dict[str, str],
    plan: Path,
    args: argparse.Namespace,
    cluster: tuple[str, str] | None,
) -> dict[str, Any]:
    out = OUT / phase
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    gunicorn = start_gunicorn(env, port, args.workers, out / "gunicorn.log")
    probe = HealthProbe(base)
    restart: tuple[float, float] | None = None
    try:
        probe.start()
        locust = subprocess.Popen(
            [
                str(BIN / "locust"),
                "-f",
                str(ROOT / "benchmarks" / "load" / "locustfile.py"),
                "--headless",
                "--users",
                str(args.users),
                "--spawn-rate",
                str(args.users),
                "--run-time",
                f"{args.duration}s",
                "--stop-timeout",
                "15",
                "--host",
                base,
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env={
                **os.environ,
                "LOAD_PLAN": str(plan),
                "LOAD_OUT": str(out),
                "LOAD_PHASE": str(number),
                "LOAD_THINK": args.think,
            },
            stdout=(out / "locust.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        if cluster is not None:
            time.sleep(args.duration / 3)
            restart = restart_postgres(*cluster, outage_seconds=args.outage_seconds)
        locust.wait(timeout=args.duration + 120)
        probe.stopped.set()
        probe.join()
    finally:
        stop(gunicorn)
    requests = [json.loads(line) for line in (out / "requests.jsonl").read_text().splitlines()]
    # The restart's window, padded: a request is logged when its answer arrives, and each worker's
    # connection notices the restart on its next use.
    window = (restart[0] - 1, restart[1] + 5) if restart is not None else None
    result: dict[str, Any] = {"phase": phase, **summarise(requests, args.duration, window)}
    acks = [json.loads(line) for line in (out / "acks.jsonl").read_text().splitlines()]
    result["acknowledged"] = {
        kind: sum(1 for a in acks if a["kind"] == kind)
        for kind in ("status_change", "follow_up_service", "payment_submission")
    }
    result["payments_acknowledged_after_a_retry"] = sum(1 for a in acks if a.get("attempt", 1) > 1)
    result["payments_answered_by_replay"] = sum(1 for a in acks if a.get("replayed"))
    if restart is not None:
        result["outage"] = outage_seen(probe.samples, restart)
        result["outage"]["api_503"] = sum(1 for r in requests if r["status"] == 503)
        result["outage"]["api_500"] = sum(1 for r in requests if r["status"] == 500)
        result["outage"]["api_503_s"] = (
            [
                round(min(r["at"] for r in requests if r["status"] == 503) - restart[0], 2),
                round(max(r["at"] for r in requests if r["status"] == 503) - restart[0], 2),
            ]
            if result["outage"]["api_503"]
            else None
        )
        (out / "healthz.jsonl").write_text("".join(json.dumps(x) + "\n" for x in probe.samples))
        after = [r for r in requests if r["at"] > restart[1] + 5]
        result["outage"]["answered_2xx_after_recovery"] = sum(1 for r in after if 200 <= r["status"] < 300)
    check = subprocess.run(
        [str(BIN / "python"), "-m", "benchmarks.load.check", str(out / "acks.jsonl")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    result["check"] = json.loads(check.stdout.strip().splitlines()[-1]) if check.stdout.strip() else {}
    result["check_passed"] = check.returncode == 0
    if check.returncode != 0:
        print(check.stdout[-4000:], check.stderr[-4000:], file=sys.stderr)
    return result


def print_phase(result: dict[str, Any]) -> None:
    print(f"\n== {result['phase']} ==")
    print(f"{'category':10} {'requests':>8} {'rps':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for name, f in [("all", result["overall"]), *result["by_category"].items()]:
        print(
            f"{name:10} {f['requests']:>8} {f['rps']:>6} {f['p50_ms'] or '-':>8} "
            f"{f['p95_ms'] or '-':>8} {f['p99_ms'] or '-':>8}"
        )
    print(f"statuses: {result['statuses']}")
    print(f"errors: {result['errors']}  refused by rules (400/409/412): {result['refused_4xx']}")
    print(
        f"acknowledged writes: {result['acknowledged']}; payments acknowledged after a retry: "
        f"{result['payments_acknowledged_after_a_retry']} (answered by replay: {result['payments_answered_by_replay']})"
    )
    if "outage" in result:
        print(f"outage: {result['outage']}")
    check = result["check"]
    print(
        f"no-loss check: {'PASS' if result['check_passed'] else 'FAIL'} — "
        f"{check.get('acknowledged_writes')} acknowledged writes, {check.get('problems')} problems, "
        f"verify ok: {check.get('verify_ok')} ({check.get('verify', {}).get('checked')} entries)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="make load")
    parser.add_argument("--duration", type=int, default=60, help="seconds of load per phase")
    parser.add_argument("--users", type=int, default=16, help="simulated clerks (one account each)")
    parser.add_argument(
        "--think",
        default="0.2,1.0",
        help="min,max seconds each simulated clerk waits between requests (0,0 saturates the service)",
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--people", type=int, default=600, help="people added to the seed for the load")
    parser.add_argument("--phases", default="steady,restart", help="steady, restart or both")
    parser.add_argument(
        "--outage-seconds",
        type=float,
        default=0,
        help="restart phase: 0 restarts PostgreSQL (pg_ctlcluster restart); N stops it for N seconds",
    )
    parser.add_argument("--keep", action="store_true", help="keep the load database afterwards")
    args = parser.parse_args(argv)

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit(
            "make load needs DATABASE_URL=postgres://... (a server of yours: the run restarts it)"
        )
    host = urlsplit(url).hostname or "127.0.0.1"
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("make load runs on loopback only: DATABASE_URL must point at 127.0.0.1")
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    cluster = pg_cluster(url) if "restart" in phases else None
    database = load_database_url(url)
    env = service_env(database)
    OUT.mkdir(parents=True, exist_ok=True)
    plan = OUT / "plan.json"
    fresh_database("postgresql", database)
    results: list[dict[str, Any]] = []
    try:
        print(
            f"load database {urlsplit(database).path.lstrip('/')}: migrate, seed, {args.people} more people"
        )
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "seed", "--password", secrets.token_urlsafe(12))
        subprocess.run(
            [
                str(BIN / "python"),
                "-m",
                "benchmarks.load.population",
                str(plan),
                "--people",
                str(args.people),
                "--clerks",
                str(args.users),
            ],
            cwd=ROOT,
            env=env,
            check=True,
        )
        for number, phase in enumerate(phases):
            result = run_phase(number, phase, env, plan, args, cluster if phase == "restart" else None)
            results.append(result)
            print_phase(result)
    finally:
        if not args.keep:
            drop_database("postgresql", database)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"load-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(
        json.dumps(
            {
                "when": time.strftime("%Y-%m-%d %H:%M:%S %z"),
                "machine": machine(),
                "settings": {k: v for k, v in vars(args).items()},
                "postgresql_cluster": "/".join(cluster) if cluster else None,
                "redis": bool(env.get("REDIS_URL")),
                "phases": results,
            },
            indent=2,
            ensure_ascii=False,
        )
    )
    print(f"\nresults: {path.relative_to(ROOT)}")
    ok = all(r["check_passed"] and r["errors"] == 0 for r in results)
    # The outage must have been seen (by the probe or the clerks), answered 503 and nothing else, and
    # followed by answers again from the same gunicorn.
    ok = ok and all(
        r["outage"]["healthz_non_200"] + r["outage"]["api_503"] > 0
        and set(r["outage"]["statuses"]) <= {503}
        and r["outage"]["api_500"] == 0
        and r["outage"]["answered_2xx_after_recovery"] > 0
        for r in results
        if "outage" in r
    )
    print("make load: PASS" if ok else "make load: FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
