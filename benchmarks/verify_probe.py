"""`python -m benchmarks.verify_probe [PATH]`: one change-log verify (the whole log, or within a region
path) in a fresh process, so its resident memory is measured from a small, settled start rather than
on top of the heap the data set's generation left behind. Prints one JSON line: seconds, RSS before
and peak RSS growth in bytes, and what verify reported."""

from __future__ import annotations

import gc
import json
import sys


def main() -> None:
    import django

    django.setup()
    from benchmarks.reads import peak_rss
    from tracker.changelog.selectors import changes_verify

    path = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else None
    changes_verify(within_path="/nowhere/")  # imports, model caches and the connection, not the log
    gc.collect()
    result, seconds, growth, before = peak_rss(lambda: changes_verify(within_path=path))
    print(
        json.dumps(
            {
                "seconds": seconds,
                "rss_before": before,
                "growth": growth,
                "ok": result["ok"],
                "checked": result["checked"],
                "rows_checked": result["rows_checked"],
                "problems": result["problems"][:5],
            }
        )
    )


if __name__ == "__main__":
    main()
