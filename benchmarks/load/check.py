"""Nothing acknowledged is lost, nothing is half-written: the load run's check, against the database.

For every write the service acknowledged (a 2xx, as the load generator recorded it in acks.jsonl):
- the record exists, at the acknowledged version or a later one;
- the change log holds the entry of that version (model, id, version), written by the very request
  that was acknowledged (its request id), unless the answer was an idempotent replay, whose entry
  was written by the first request with that key;
- one Idempotency-Key acknowledged twice (a retry answered by a replay) names one record.
Then the change log's own verification (`changes_verify`: every HMAC, every record's unbroken
history, every live row's version against its last entry) must pass: a write half-done (a row without
its entry, an entry without its row) fails it.

`python -m benchmarks.load.check ACKS.jsonl` in the load database's environment; exit status 1 on
any problem. `check_acknowledged` is also what the unit test calls.
"""

from __future__ import annotations

import json
import os
import sys
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def check_acknowledged(acks: Iterable[dict[str, Any]]) -> tuple[int, list[str]]:
    """(acknowledged writes checked, problems found)."""
    from django.apps import apps

    from tracker.changelog.entries import ChangeEntry

    problems: list[str] = []
    by_key: dict[str, set[int]] = defaultdict(set)
    checked = 0
    for ack in acks:
        checked += 1
        what = f"{ack['kind']} {ack['model']}:{ack['id']} v{ack['version']}"
        model = apps.get_model(ack["model"])
        version = model._base_manager.filter(pk=ack["id"]).values_list("version", flat=True).first()
        if version is None:
            problems.append(f"{what}: acknowledged, but the record is not in the database")
            continue
        if version < ack["version"]:
            problems.append(f"{what}: the record is at version {version}, behind what was acknowledged")
        entry = (
            ChangeEntry.objects.filter(
                model=ack["model"], object_id=str(ack["id"]), object_version=ack["version"]
            )
            .values("request_id")
            .first()
        )
        if entry is None:
            problems.append(f"{what}: acknowledged, but the change log has no entry for that version")
        elif not ack.get("replayed") and ack.get("request_id") and entry["request_id"] != ack["request_id"]:
            problems.append(
                f"{what}: the entry was written by request {entry['request_id']}, "
                f"not by the acknowledged {ack['request_id']}"
            )
        if ack.get("key"):
            by_key[ack["key"]].add(ack["id"])
    for key, ids in by_key.items():
        if len(ids) > 1:
            problems.append(f"Idempotency-Key {key} acknowledged for several records: {sorted(ids)}")
    return checked, problems


def read_acks(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m benchmarks.load.check ACKS.jsonl", file=sys.stderr)
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
    import django

    django.setup()
    from tracker.changelog.selectors import changes_verify

    checked, problems = check_acknowledged(read_acks(Path(args[0])))
    verify = changes_verify()
    result = {
        "acknowledged_writes": checked,
        "lost_or_inconsistent": problems[:100],
        "problems": len(problems),
        "verify_ok": verify["ok"],
        "verify": {k: v for k, v in verify.items() if k != "problems"},
        "verify_problems": verify.get("problems", [])[:20],
    }
    print(json.dumps(result, ensure_ascii=False, default=str))
    return 0 if not problems and verify["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
