"""A bureau's working day, compressed: the load `make load` puts on the service (locust, headless).

Each simulated user is one of the run's clerks (its own account and token, so the per-user request
rates apply as configured) working on its own share of 萍乡市's people. The mix, by task weight:
80% reads (people lists with filters, a person, the one-person file, payments lists and details,
open follow-ups), 15% writes (status changes, follow-up services, payment submissions with an
Idempotency-Key, retried on 5xx and lost connections with the same key), 5% reports and exports
(payments CSV export, a program's budget, the change log's verify over a county, as an analyst).

Every request is logged (time, name, category, status, milliseconds) and every acknowledged write
(2xx) with what it returned: the record's type, id and version (the ETag), the request id and the
idempotency key. The run's driver (benchmarks/load/__main__.py) computes the figures from the first
and checks the second against the database (benchmarks/load/check.py).

Only for loopback: the driver refuses any other host.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import random
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from locust import HttpUser, between, events, task

PLAN = json.loads(Path(os.environ["LOAD_PLAN"]).read_text())
OUT = Path(os.environ["LOAD_OUT"])
# Each phase of a run (steady, restart) works on dates of its own, so it never repeats the writes of
# the phase before (which the rules would refuse as overlaps).
PHASE = int(os.environ.get("LOAD_PHASE", "0"))
RETRIES = 6  # a payment submission is tried this many times with one key before it is given up
_serial = itertools.count()
_requests: list[dict[str, Any]] = []
_acks: list[dict[str, Any]] = []
_lock = threading.Lock()

READ, WRITE, REPORT = "read", "write", "report"
STATUSES = ["unemployed", "employed_local", "flexible", "unemployed", "employed_outside_county"]
SERVICES = ["guidance", "job_referral", "training_referral", "placed"]


@events.request.add_listener
def _log_request(
    request_type: str,
    name: str,
    response_time: float,
    response_length: int,
    response: Any = None,
    exception: Any = None,
    context: dict[str, Any] | None = None,
    **kwargs: Any,
) -> None:
    status = getattr(response, "status_code", 0) if response is not None else 0
    _requests.append(
        {
            "at": round(time.time(), 3),
            "name": name,
            "category": (context or {}).get("category", READ),
            "method": request_type,
            "status": status,
            "ms": round(response_time, 2),
            "error": None if exception is None or status else type(exception).__name__,
        }
    )


@events.quitting.add_listener
def _write_logs(environment: Any, **kwargs: Any) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with (OUT / "requests.jsonl").open("w") as f:
        for row in _requests:
            f.write(json.dumps(row) + "\n")
    with (OUT / "acks.jsonl").open("w") as f:
        for row in _acks:
            f.write(json.dumps(row) + "\n")


def acknowledge(kind: str, response: Any, *, model: str = "", **extra: Any) -> None:
    """Record what a 2xx write returned: type, id and version from its ETag ("label:id:version"), or
    for a created record without one (a status change) `model`, the body's id and version 1."""
    etag = response.headers.get("ETag", "").strip('"')
    if etag:
        label, pk, version = etag.rsplit(":", 2)
    else:
        label, pk, version = model, response.json()["id"], 1
    with _lock:
        _acks.append(
            {
                "kind": kind,
                "model": label,
                "id": int(pk),
                "version": int(version),
                "request_id": response.headers.get("X-Request-ID", ""),
                "replayed": response.headers.get("Idempotent-Replayed") == "true",
                **extra,
            }
        )


@events.user_error.add_listener
def _log_task_error(user_instance: Any, exception: Exception, tb: Any, **kwargs: Any) -> None:
    """A task that raised is an error of the run (the load generator's or the answer's)."""
    _requests.append(
        {
            "at": round(time.time(), 3),
            "name": "task error",
            "category": "error",
            "method": "",
            "status": 0,
            "ms": 0,
            "error": f"{type(exception).__name__}: {exception}",
        }
    )


class BureauClerk(HttpUser):
    # A clerk's pause between requests (seconds): LOAD_THINK="min,max" (the driver's --think).
    wait_time = between(*(float(x) for x in os.environ.get("LOAD_THINK", "0.2,1.0").split(",")))

    def on_start(self) -> None:
        n = next(_serial)
        clerks, analysts = PLAN["clerks"], PLAN["analysts"]
        self.clerk = {"Authorization": f"Token {clerks[n % len(clerks)]['token']}"}
        self.analyst = {"Authorization": f"Token {analysts[n % len(analysts)]['token']}"}
        share = len(clerks)
        index = n % share
        self.paid_people = PLAN["paid_people"][index::share] or PLAN["paid_people"]
        self.moving_people = PLAN["moving_people"][index::share] or PLAN["moving_people"]
        # Each (person, month) is paid once: the months from February 2021 on, person by person.
        months = [f"{y}-{m:02d}" for y in range(2021, 2026) for m in range(1, 13)][1:]
        months = months[PHASE * 24 :] + months[: PHASE * 24]
        self.to_pay = iter([(p, mo) for mo in months for p in self.paid_people])
        # Each person's status changes walk forward a day at a time from 2022 (2024 in the second phase).
        self.next_change = {p: dt.date(2022 + 2 * PHASE, 1, 1) for p in self.moving_people}
        self.awaiting_service: set[int] = set()
        self.payments = list(PLAN["payments"])
        self.today = PLAN["today"]

    # -- reads: 80 ----------------------------------------------------------------------------------

    def get(
        self, path: str, name: str, category: str = READ, headers: dict | None = None, **params: Any
    ) -> Any:
        with self.client.get(
            path,
            params=params,
            headers=headers or self.clerk,
            name=name,
            context={"category": category},
            catch_response=True,
        ) as response:
            if response.status_code < 400:
                response.success()
            else:
                response.failure(f"{response.status_code}")
            return response

    @task(16)
    def people_list(self) -> None:
        params: dict[str, Any] = {"within": random.choice(PLAN["places"]), "page_size": 50}
        if random.random() < 0.5:
            params["status"] = random.choice(["public_welfare_post", "unemployed", "employed_local"])
        if random.random() < 0.3:
            params["group"] = "lifted_out_of_poverty"
        self.get("/api/v1/beneficiaries/", "GET beneficiaries/ (filtered)", **params)

    @task(16)
    def person(self) -> None:
        pk = random.choice(PLAN["all_people"])
        self.get(f"/api/v1/beneficiaries/{pk}/", "GET beneficiaries/{id}/")

    @task(16)
    def person_file(self) -> None:
        pk = random.choice(PLAN["all_people"])
        self.get(f"/api/v1/beneficiaries/{pk}/file/", "GET beneficiaries/{id}/file/")

    @task(12)
    def payments_list(self) -> None:
        params: dict[str, Any] = {"within": "360300", "page_size": 50}
        if random.random() < 0.5:
            params["status"] = random.choice(["submitted", "draft", "paid"])
        if random.random() < 0.5:
            params["program"] = PLAN["program"]["code"]
        self.get("/api/v1/payments/", "GET payments/ (filtered)", **params)

    @task(10)
    def payment(self) -> None:
        if self.payments:
            self.get(f"/api/v1/payments/{random.choice(self.payments)}/", "GET payments/{id}/")

    @task(10)
    def follow_ups(self) -> None:
        self.get("/api/v1/follow-ups/", "GET follow-ups/ (open)", status="open", within="360300")

    # -- writes: 15 ---------------------------------------------------------------------------------

    def post(self, path: str, body: dict[str, Any], name: str, key: str | None = None) -> Any:
        headers = dict(self.clerk)
        if key:
            headers["Idempotency-Key"] = key
        with self.client.post(
            path, json=body, headers=headers, name=name, context={"category": WRITE}, catch_response=True
        ) as response:
            # A rule's refusal (400, 409) is the service working; only 5xx and lost answers fail.
            if response.status_code and response.status_code < 500:
                response.success()
            else:
                response.failure(f"{response.status_code}")
            return response

    @task(6)
    def status_change(self) -> None:
        pk = random.choice(self.moving_people)
        day = self.next_change[pk]
        if day.isoformat() > self.today:
            return
        body = {"status": random.choice(STATUSES), "effective_on": day.isoformat(), "source": "visit"}
        response = self.post(f"/api/v1/beneficiaries/{pk}/status-changes/", body, "POST status-changes/")
        if response.status_code in (200, 201):
            acknowledge("status_change", response, model="beneficiaries.statuschange", beneficiary=pk)
            self.next_change[pk] = day + dt.timedelta(days=1)
            if body["status"] == "unemployed":
                self.awaiting_service.add(pk)  # a move into unemployment opens a follow-up

    @task(3)
    def follow_up_service(self) -> None:
        """Serve the open follow-up of one of this clerk's people who became unemployed."""
        if not self.awaiting_service:
            return
        pk = random.choice(sorted(self.awaiting_service))
        self.awaiting_service.discard(pk)
        listed = self.get(
            "/api/v1/follow-ups/", "GET follow-ups/?beneficiary=", status="open", beneficiary=pk
        )
        if listed.status_code != 200 or not listed.json().get("results"):
            return
        follow_up = listed.json()["results"][0]
        body = {"service": random.choice(SERVICES), "service_on": self.today, "note": "电话回访"}
        response = self.post(
            f"/api/v1/follow-ups/{follow_up['id']}/record-service/",
            body,
            "POST follow-ups/{id}/record-service/",
        )
        if response.status_code == 200:
            acknowledge("follow_up_service", response)

    @task(6)
    def payment_submission(self) -> None:
        """A payment created and submitted in one request, with an Idempotency-Key: a 5xx or a lost
        answer is retried with the same key (and the same body) until an answer comes."""
        try:
            person, month = next(self.to_pay)
        except StopIteration:
            return
        key = f"load-{uuid.uuid4()}"
        body = {"program": PLAN["program"]["code"], "beneficiary": person, "month": month, "submit": True}
        for attempt in range(RETRIES):
            response = self.post("/api/v1/payments/", body, "POST payments/ (Idempotency-Key)", key=key)
            if response.status_code == 201:
                acknowledge("payment_submission", response, key=key, attempt=attempt + 1)
                self.payments.append(int(response.json()["id"]))
                return
            if response.status_code and response.status_code < 500:
                return  # refused by a rule: nothing written, nothing to retry
            time.sleep(min(float(response.headers.get("Retry-After", 1) or 1), 2.0))

    # -- reports and exports: 5 ---------------------------------------------------------------------

    @task(2)
    def export(self) -> None:
        self.get(
            "/api/v1/payments/export/",
            "GET payments/export/?format=csv",
            REPORT,
            headers=self.analyst,
            format="csv",
            within=random.choice(PLAN["counties"] + ["360300"]),
        )

    @task(2)
    def budget(self) -> None:
        self.get(f"/api/v1/programs/{PLAN['program']['id']}/budget/", "GET programs/{id}/budget/", REPORT)

    @task(1)
    def verify(self) -> None:
        self.get(
            "/api/v1/audit/changes/verify/",
            "GET audit/changes/verify/?within=<county>",
            REPORT,
            headers=self.analyst,
            within=random.choice(PLAN["counties"]),
        )
