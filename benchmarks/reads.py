"""Read benchmarks: the API's list and detail views against hand-written views (benchmarks.baselines)
that return byte-identical JSON; scope scaling; streaming exports; change-log verification.

Timing is in process, through Django's full request handler (django.test.Client) on both sides,
with API and baseline requests interleaved (A/B, then B/A) and medians taken, so a drift in machine
load touches both. Before a case is timed, the API's and the baseline's bodies must be equal byte for
byte; a mismatch stops the run with a diff. A case that misses its target is profiled (cProfile over
the API's requests) and the row says where the time goes; the full profile is written beside the
JSON results.
"""

from __future__ import annotations

import cProfile
import csv
import difflib
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.cases import Context
from benchmarks.harness import ROOT, Row

RATIO_TARGET = 1.5
CSV_TARGET = 50_000  # rows/s
XLSX_TTFB_TARGET = 1.0  # s
VERIFY_TARGET = 1.0  # s
RSS_TARGET_MIB = 64.0  # a whole-log verify's memory must not grow with the log
SCALING_TARGET = 1.5  # the county user's page at N payments elsewhere / at the first step
# Full profiles of the cases that miss (not kept in git).
PROFILES = ROOT / "var" / "bench-profiles"

LISTS = [
    ("beneficiaries", "beneficiaries/", "beneficiaries.Beneficiary"),
    ("payments", "payments/", "funding.Payment"),
    ("follow-ups", "follow-ups/", "beneficiaries.FollowUp"),
    ("audit/changes", "audit/changes/", "changelog.ChangeEntry"),
    ("regions", "regions/", "regions.Region"),
    ("programs", "programs/", "funding.Program"),
    ("posts", "posts/", "posts.Post"),
    ("post-assignments", "post-assignments/", "posts.Assignment"),
]


def _log(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def ensure_data(ctx: Context) -> Any:
    if ctx.data is None:
        from django.db import connection

        from benchmarks import data

        ctx.data = data.build(ctx.scale)
        if connection.vendor == "postgresql":
            # What autovacuum would have done by the time anyone reads: statistics and visibility map.
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
    return ctx.data


def _client(data: Any, username: str) -> Any:
    from django.test import Client

    return Client(HTTP_AUTHORIZATION=f"Token {data.tokens[username]}")


def _get(client: Any, url: str) -> tuple[float, Any]:
    start = time.perf_counter()
    response = client.get(url)
    body = response.content
    return time.perf_counter() - start, (response.status_code, body)


def _diff(api: bytes, base: bytes) -> str:
    def pretty(body: bytes) -> list[str]:
        try:
            return json.dumps(json.loads(body), indent=1, ensure_ascii=False).splitlines()
        except ValueError:
            return body.decode(errors="replace").splitlines()

    lines = list(difflib.unified_diff(pretty(api), pretty(base), "api", "baseline", lineterm="", n=2))
    return "\n".join(lines[:80])


def assert_same(case: str, api: tuple[int, bytes], base: tuple[int, bytes]) -> None:
    if api[0] != 200 or base[0] != 200 or api[1] != base[1]:
        raise SystemExit(
            f"\nBASELINE MISMATCH in {case}: API {api[0]} ({len(api[1])} bytes), "
            f"baseline {base[0]} ({len(base[1])} bytes)\n{_diff(api[1], base[1])}"
        )


def _reset_throttles() -> None:
    """Delete the users' throttle histories (only those: the cache may be a shared Redis). The
    benchmark's users call tens of thousands of times a minute (at test rates), and a history is as
    long as the calls of the last minute; a real caller's is at most its role's rate (600 a minute).
    Each case starts from an empty one, as long as a real caller's or shorter, rather than timing
    the pickling of a history no production rate allows."""
    from django.core.cache import cache
    from rest_framework.throttling import SimpleRateThrottle

    from tracker.accounts.models import User

    keys = [
        SimpleRateThrottle.cache_format % {"scope": "user", "ident": pk}
        for pk in User.objects.values_list("pk", flat=True)
    ]
    cache.delete_many(keys)


def ab(client: Any, api_url: str, base_url: str, reps: int, case: str) -> tuple[float, float, int]:
    """Check the bodies are equal, then time `reps` interleaved pairs; medians in seconds."""
    _reset_throttles()
    for _ in range(2):  # warm both (plans compiled, caches filled, connection open)
        _, api = _get(client, api_url)
        _, base = _get(client, base_url)
    assert_same(case, api, base)
    api_times, base_times = [], []
    for i in range(reps):
        order = ((api_url, api_times), (base_url, base_times))
        for url, times in order if i % 2 == 0 else reversed(order):
            elapsed, _ = _get(client, url)
            times.append(elapsed)
    return statistics.median(api_times), statistics.median(base_times), len(api[1])


# -- profiles of the cases that miss ----------------------------------------------------------------------


# Where a request's time goes: (label, file suffix, function); a label's share is the largest
# cumulative time among its functions (nested calls are not added twice).
PHASES = [
    ("auth", "rest_framework/views.py", "perform_authentication"),
    ("roles", "rest_framework/views.py", "check_permissions"),
    ("throttle", "rest_framework/views.py", "check_throttles"),
    ("scope+filters", "tracker/api/viewsets.py", "filter_queryset"),
    ("paginate", "rest_framework/pagination.py", "paginate_queryset"),
    ("sql compile", "django/db/models/sql/compiler.py", "as_sql"),
    ("db", "django/db/backends/utils.py", "_execute"),
    ("row converters", "django/db/models/sql/compiler.py", "apply_converters"),
    ("json fields", "django/db/models/fields/json.py", "from_db_value"),
    ("plan rows", "tracker/api/reads.py", "rows"),
    ("serializer", "rest_framework/serializers.py", "data"),
    ("render", "rest_framework/response.py", "rendered_content"),
    ("export rows", "programs/funding/export.py", "export_rows"),
    ("csv", "tracker/exports.py", "csv_stream"),
    ("verify entries", "tracker/changelog/selectors.py", "_check_entries"),
    ("verify rows", "tracker/changelog/selectors.py", "_check_rows"),
    ("verify gone", "tracker/changelog/selectors.py", "_check_gone"),
    ("hmac", "tracker/changelog/signing.py", "entry_hmac"),
    ("row hash", "tracker/changelog/signing.py", "row_hash"),
]


def _group_share(stats: pstats.Stats, total: float) -> dict[str, float]:
    found: dict[str, float] = {}
    entries = stats.stats.items()  # type: ignore[attr-defined]
    for label, suffix, function in PHASES:
        for (filename, _line, name), (_cc, _nc, _tt, ct, _callers) in entries:
            if name == function and filename.endswith(suffix):
                found[label] = max(found.get(label, 0.0), ct)
    return {label: ct / total for label, ct in found.items()}


def profile(client: Any, url: str, case: str, engine: str, count: int = 20) -> str:
    """Profile `count` API requests; return a one-line summary and write the full profile."""
    return _profile_call(lambda: [client.get(url).content for _ in range(count)], case, engine)


# -- lists and details ------------------------------------------------------------------------------------


def _cursor(position: int) -> str:
    """A forward cursor at a position, as the API writes it (tracker/api/pagination.py)."""
    return f"p{position}"


def _deep_position(model_label: str, user: Any) -> int | None:
    """The id in the middle of what the user sees (a deep page starts there)."""
    from django.apps import apps

    model = apps.get_model(model_label)
    visible = model.objects.visible_to(user).order_by("-id")
    count = visible.count()
    if count < 4:
        return None
    return visible.values_list("id", flat=True)[count // 2]


def _row(case: str, engine: str, api: float, base: float, size: int, note: str = "") -> Row:
    ratio = api / base
    return Row(
        case=case,
        engine=engine,
        measured=api * 1000,
        baseline=base * 1000,
        unit="ms",
        ratio=ratio,
        target=f"ratio <= {RATIO_TARGET}",
        ok=ratio <= RATIO_TARGET,
        detail={"bytes": size},
        note=note,
    )


def read_cases(ctx: Context) -> list[Row]:
    from beneficiaries.models import Beneficiary, FollowUp
    from programs.funding.models import Payment, Program
    from programs.posts.models import Assignment, Post
    from tracker.changelog.entries import ChangeEntry
    from tracker.regions.models import Region

    data = ensure_data(ctx)
    user = data.users["bench_national"]
    client = _client(data, "bench_national")
    cases: list[tuple[str, str, str]] = []
    for name, path, label in LISTS:
        deep = _deep_position(label, user)
        for size in (50, 500):
            query = f"?page_size={size}"
            cases.append((f"list {name} p{size} first page", path, query))
            if deep is not None:
                cases.append((f"list {name} p{size} deep page", path, f"{query}&cursor={_cursor(deep)}"))

    def middle(queryset: Any) -> Any:
        ids = queryset.order_by("id").values_list("id", flat=True)
        return ids[ids.count() // 2]

    person = FollowUp.objects.filter(beneficiary__payments__isnull=False).values_list(
        "beneficiary_id", flat=True
    ).first() or middle(Beneficiary.objects.all())
    village = Region.objects.filter(level="village").order_by("id").values_list("code", flat=True)
    cases += [
        ("detail beneficiary", f"beneficiaries/{middle(Beneficiary.objects.all())}/", ""),
        ("detail beneficiary file (一人一档)", f"beneficiaries/{person}/file/", ""),
        ("detail payment", f"payments/{middle(Payment.objects.all())}/", ""),
        ("detail change entry", f"audit/changes/{middle(ChangeEntry.objects.visible_to(user))}/", ""),
        ("detail region", f"regions/{village[village.count() // 2]}/", ""),
        ("detail program", f"programs/{middle(Program.objects.all())}/", ""),
        ("detail post", f"posts/{middle(Post.objects.all())}/", ""),
        ("detail post assignment", f"post-assignments/{middle(Assignment.objects.all())}/", ""),
    ]
    rows = []
    for case, path, query in cases:
        api_url, base_url = f"/api/v1/{path}{query}", f"/bench/v1/{path}{query}"
        api, base, size = ab(client, api_url, base_url, ctx.reps, case)
        row = _row(case, ctx.engine, api, base, size)
        if not row.ok:
            row.note = profile(client, api_url, case, ctx.engine)
        _log(f"{case}: {api * 1000:.2f} ms vs {base * 1000:.2f} ms ({api / base:.2f})")
        rows.append(row)
    return rows


# -- scope scaling ----------------------------------------------------------------------------------------


def _payment_columns() -> list[str]:
    from programs.funding.models import Payment

    return [f.column for f in Payment._meta.concrete_fields if not f.primary_key]


def _elsewhere_count(cursor: Any, county_ids: str) -> int:
    cursor.execute(f"SELECT COUNT(*) FROM funding_payment WHERE region_id NOT IN ({county_ids})")
    return cursor.fetchone()[0]


def _grow_elsewhere(cursor: Any, county_ids: str, target: int) -> None:
    """Copy payments outside the county (SQL, no change entries) until `target` are there."""
    columns = _payment_columns()
    names = ", ".join(columns)
    copied = ", ".join({"once_per_person": "%s", "reverses_id": "NULL"}.get(c, c) for c in columns)
    while True:
        have = _elsewhere_count(cursor, county_ids)
        if have >= target:
            return
        cursor.execute(
            f"INSERT INTO funding_payment ({names}) SELECT {copied} FROM funding_payment "
            f"WHERE region_id NOT IN ({county_ids}) AND reverses_id IS NULL ORDER BY id LIMIT %s",
            [False, min(target - have, max(have, 1))],
        )


def scope_scaling(ctx: Context) -> list[Row]:
    """A county user's and a national user's first page of payments as the rest of the country
    grows. The payments elsewhere are trimmed to the first step, then copied in SQL (without change
    entries: this runs after the verify case) with ids above the county's, as new payments across
    the country would be."""
    from django.db import connection, transaction

    from tracker.regions.models import Region

    data = ensure_data(ctx)
    steps = [10_000, 100_000] + ([1_000_000] if ctx.engine == "postgresql" else [])
    county_ids = ", ".join(
        str(pk)
        for pk in Region.objects.filter(path__startswith=data.county.path).values_list("pk", flat=True)
    )
    with transaction.atomic(), connection.cursor() as cursor:
        have = _elsewhere_count(cursor, county_ids)
        if have > steps[0]:
            # Keep the first `steps[0]` payments that reverse nothing; reversing entries go (their
            # originals stay, as reversed payments).
            cursor.execute(
                f"DELETE FROM funding_payment WHERE region_id NOT IN ({county_ids}) AND id NOT IN ("
                f"SELECT id FROM (SELECT id FROM funding_payment WHERE region_id NOT IN ({county_ids}) "
                "AND reverses_id IS NULL ORDER BY id LIMIT %s) kept)",
                [steps[0]],
            )
    clients = {"county": _client(data, "bench_county"), "national": _client(data, "bench_national")}
    first: dict[str, float] = {}
    rows = []
    for step in steps:
        with transaction.atomic(), connection.cursor() as cursor:
            _grow_elsewhere(cursor, county_ids, step)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE funding_payment")
        for who, client in clients.items():
            case = f"scope: {who} user payments p50, {step:,} elsewhere"
            api, base, size = ab(client, "/api/v1/payments/?page_size=50", "/bench/v1/payments/?page_size=50",
                                 ctx.reps, case)  # fmt: skip
            first.setdefault(who, api)
            ratio = api / first[who]
            row = Row(
                case=case,
                engine=ctx.engine,
                measured=api * 1000,
                baseline=first[who] * 1000,
                unit="ms",
                ratio=ratio,
                target=f"<= {SCALING_TARGET}x {steps[0] // 1000}k",
                ok=ratio <= SCALING_TARGET,
                detail={"hand_written_ms": base * 1000, "bytes": size, "elsewhere": step},
            )
            if not row.ok:
                row.note = profile(client, "/api/v1/payments/?page_size=50", case, ctx.engine, count=5)
            _log(f"{case}: {api * 1000:.2f} ms (hand-written {base * 1000:.2f} ms)")
            rows.append(row)
    return rows


# -- exports -----------------------------------------------------------------------------------------------


def _stream(client: Any, url: str) -> tuple[float, float, float, int]:
    """(first chunk, first chunk after the header, total) in seconds, and bytes."""
    start = time.perf_counter()
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    first = data_first = 0.0
    size = 0
    for n, chunk in enumerate(response.streaming_content):
        now = time.perf_counter() - start
        if n == 0:
            first = now
        elif not data_first and chunk:
            data_first = now
        size += len(chunk)
    response.close()
    return first, data_first, time.perf_counter() - start, size


def _hand_written_csv(user_scope: str) -> tuple[float, int]:
    """The baseline export: the same joins read with a raw cursor and written with csv.writer."""
    from django.db import connection

    from benchmarks.baselines import LIKE, _like

    sql = (
        "SELECT p.id, pr.code, p.payee_kind, b.name, b.id_number_masked, e.name, e.uscc, i.name, i.uscc, "
        "r.code, p.period_start, p.period_end, p.quantity, p.unit_amount, p.amount, fs.code, p.status, "
        "p.paid_at, p.external_reference, p.reverses_id, p.reason FROM funding_payment p "
        "JOIN funding_program pr ON pr.id = p.program_id "
        "LEFT JOIN beneficiaries_beneficiary b ON b.id = p.beneficiary_id "
        "LEFT JOIN funding_employer e ON e.id = p.employer_id "
        "LEFT JOIN funding_traininginstitution i ON i.id = p.institution_id "
        "JOIN regions_region r ON r.id = p.region_id LEFT JOIN funding_fundsource fs ON fs.id = p.fund_source_id "
        f"WHERE r.path {LIKE} ORDER BY p.id"
    )
    start = time.perf_counter()
    count = 0
    out = io.StringIO()
    writer = csv.writer(out)
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, [_like(user_scope)])
        while rows := cursor.fetchmany(2000):
            writer.writerows(["" if v is None else str(v) for v in row] for row in rows)
            count += len(rows)
            out.seek(0)
            out.truncate()
    return time.perf_counter() - start, count


def exports(ctx: Context) -> list[Row]:
    """The export's stream, which answers a request below EXPORT_JOB_THRESHOLD_ROWS and writes a
    background job's file above it: measured in the request (threshold raised) so the rate is the
    writer's, not the queue's."""
    from django.test import override_settings

    from programs.funding.models import Payment

    data = ensure_data(ctx)
    user = data.users["bench_national"]
    count = Payment.objects.visible_to(user).count()
    with override_settings(EXPORT_JOB_THRESHOLD_ROWS=count + 1):
        return _exports(ctx, data, user, count)


def _exports(ctx: Context, data: Any, user: Any, count: int) -> list[Row]:
    client = _client(data, "bench_national")
    _stream(client, "/api/v1/payments/export/?format=csv")  # warm
    runs = [_stream(client, "/api/v1/payments/export/?format=csv") for _ in range(2)]
    csv_first, _, csv_total, csv_bytes = min(runs, key=lambda r: r[2])
    base_seconds = min(_hand_written_csv(user.scope_path)[0] for _ in range(2))
    rate, base_rate = count / csv_total, count / base_seconds
    rows = [
        Row(
            case=f"export payments CSV ({count:,} rows)",
            engine=ctx.engine,
            measured=rate,
            baseline=base_rate,
            unit="rows/s",
            ratio=rate / base_rate,
            target=f">= {CSV_TARGET:,} rows/s",
            ok=rate >= CSV_TARGET,
            detail={"seconds": csv_total, "first_chunk_s": csv_first, "bytes": csv_bytes},
        )
    ]
    if not rows[-1].ok:
        rows[-1].note = _profile_export(
            client, "/api/v1/payments/export/?format=csv", "export_csv", ctx.engine
        )
    _log(f"csv: {rate:,.0f} rows/s (hand-written {base_rate:,.0f} rows/s)")
    xlsx = [_stream(client, "/api/v1/payments/export/?format=xlsx") for _ in range(2)]
    first, data_first, total, size = min(xlsx, key=lambda r: r[0])
    rows.append(
        Row(
            case=f"export payments XLSX time to first byte ({count:,} rows)",
            engine=ctx.engine,
            measured=first,
            baseline=None,
            unit="s",
            ratio=None,
            target=f"< {XLSX_TTFB_TARGET} s",
            ok=first < XLSX_TTFB_TARGET,
            detail={"first_rows_s": data_first, "total_s": total, "rows_per_s": count / total, "bytes": size},
        )
    )
    _log(f"xlsx: first byte {first:.3f} s, first rows {data_first:.3f} s, total {total:.1f} s")
    return rows


def _profile_export(client: Any, url: str, case: str, engine: str) -> str:
    return _profile_call(lambda: _stream(client, url), case, engine)


# -- verify ------------------------------------------------------------------------------------------------


def _rss() -> int:
    with open(f"/proc/{os.getpid()}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss(run: Callable[[], Any]) -> tuple[Any, float, int, int]:
    """Run; return (result, seconds, peak RSS growth in bytes sampled every 10 ms, RSS before)."""
    before = _rss()
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss())
            time.sleep(0.01)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    start = time.perf_counter()
    try:
        result = run()
    finally:
        seconds = time.perf_counter() - start
        done.set()
        thread.join()
    return result, seconds, max(peak[0], _rss()) - before, before


def verify_in_child(path: str | None) -> dict[str, Any]:
    """One verify in a fresh process (benchmarks.verify_probe), for an honest peak-memory figure."""
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.verify_probe", path or ""],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"verify probe failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def verify(ctx: Context) -> list[Row]:
    from tracker.changelog.entries import ChangeEntry
    from tracker.changelog.selectors import changes_verify

    data = ensure_data(ctx)
    path = data.county.path
    changes_verify(within_path=path)  # warm
    times = []
    for _ in range(3):
        start = time.perf_counter()
        county = changes_verify(within_path=path)
        times.append(time.perf_counter() - start)
    if not county["ok"]:
        raise SystemExit(f"the bench data fails verify within {path}: {county['problems'][:5]}")
    seconds = statistics.median(times)
    rows = [
        Row(
            case=f"verify within a county ({county['checked']:,} entries)",
            engine=ctx.engine,
            measured=seconds,
            baseline=None,
            unit="s",
            ratio=None,
            target=f"< {VERIFY_TARGET} s",
            ok=seconds < VERIFY_TARGET,
            detail={"checked": county["checked"], "rows_checked": county["rows_checked"]},
        )
    ]
    if not rows[-1].ok:
        rows[-1].note = _profile_call(lambda: changes_verify(within_path=path), "verify_county", ctx.engine)
    _log(f"verify county: {seconds:.3f} s, {county['checked']} entries")
    county_probe = verify_in_child(path)
    whole = verify_in_child(None)
    if not whole["ok"]:
        raise SystemExit(f"the bench data fails verify: {whole['problems']}")
    growth_mib = whole["growth"] / 2**20
    whole_seconds = whole["seconds"]
    rows.append(
        Row(
            case=f"verify whole log, peak RSS growth ({ChangeEntry.objects.count():,} entries)",
            engine=ctx.engine,
            measured=growth_mib,
            baseline=county_probe["growth"] / 2**20,
            unit="MiB",
            ratio=None,
            target=f"< {RSS_TARGET_MIB:.0f} MiB",
            ok=growth_mib < RSS_TARGET_MIB,
            detail={
                "seconds": whole_seconds,
                "checked": whole["checked"],
                "rows_checked": whole["rows_checked"],
                "rss_before_mib": whole["rss_before"] / 2**20,
                "baseline_is": "the same probe's growth for a verify within the county",
            },
        )
    )
    _log(f"verify whole log: {whole_seconds:.1f} s, RSS growth {growth_mib:.1f} MiB")
    return rows


def _profile_call(run: Callable[[], Any], case: str, engine: str) -> str:
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    run()
    profiler.disable()
    total = time.perf_counter() - start
    stats = pstats.Stats(profiler)
    shares = _group_share(stats, total)
    out = io.StringIO()
    stats.stream = out  # type: ignore[attr-defined]
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(25)
    PROFILES.mkdir(parents=True, exist_ok=True)
    slug = "".join(ch if ch.isalnum() else "_" for ch in f"{engine}_{case}")[:80]
    (PROFILES / f"profile-{slug}.txt").write_text(out.getvalue())
    top = sorted(stats.stats.items(), key=lambda item: -item[1][2])[:3]  # type: ignore[attr-defined]
    groups = ", ".join(f"{k} {v:.0%}" for k, v in sorted(shares.items(), key=lambda kv: -kv[1]) if v >= 0.03)
    functions = "; ".join(
        f"{'/'.join(Path(f).parts[-2:]) if f != '~' else ''}:{n} {s[2] / total:.0%}" for (f, _l, n), s in top
    )
    return f"{groups}; top self time: {functions}"
