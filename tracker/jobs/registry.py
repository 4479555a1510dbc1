"""Kinds of background job. The lower app offers the registry; the apps that own the work register a
runner from their AppConfig.ready() (the import in beneficiaries, the export in funding, subsidy runs
in posts...), so the jobs app never imports them.

A runner is `runner(job, report)`: it does the work as the job's requester (the job runs it under
`acting(job.requested_by)`), calls `report(done, total)` now and then (which also raises
JobCancelled when someone cancelled the job), and returns a summary dict — or a `JobOutput` with a
file for the requester to download."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Report = Callable[[int, int | None], None]


@dataclass(frozen=True)
class JobOutput:
    """A runner's result with a file (written to `path`, e.g. from services.temp_result_path) that the
    requester downloads as `filename` until it expires."""

    summary: dict[str, Any]
    path: str | None = None
    filename: str = ""


@dataclass(frozen=True)
class JobKind:
    name: str
    title: Any
    runner: Callable[[Any, Report], dict[str, Any] | JobOutput]


_kinds: dict[str, JobKind] = {}


def register_job_kind(name: str, title: Any, runner: Callable[[Any, Report], Any]) -> None:
    _kinds[name] = JobKind(name=name, title=title, runner=runner)


def job_kind(name: str) -> JobKind:
    return _kinds[name]


def job_kinds() -> dict[str, JobKind]:
    return dict(_kinds)
