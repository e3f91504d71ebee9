"""Locust users for the national-scale load test; run by ``bench/load.py`` (read its docstring first).

Each user signs in once (a real account of ``ticketnet demo --scale``), then asks for one key page again and
again, with a pause or none (``TICKETNET_BENCH_THINK``): ``bench/load.py`` runs one page at a time
(``--tags``), so that each page's throughput
and latency are measured on their own, beside ``/healthz`` measured the same way.

The accounts come from a JSON file that ``bench/load.py`` writes (``TICKETNET_BENCH_ACCOUNTS``): learners,
animators with their past workshops, the assessor and the coordinator, all with one password.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from typing import Any

from locust import HttpUser, between, constant, events, tag, task

with open(os.environ["TICKETNET_BENCH_ACCOUNTS"], encoding="utf-8") as _accounts:
    ACCOUNTS: dict[str, Any] = json.load(_accounts)
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
CELL = re.compile(r'name="level-(\d+)-(\d+)"')
LEVELS = ("acquired", "in_progress", "not_yet")
# Requests are counted from this many seconds after the start (sign-ins, which hash passwords, come first),
# and written to TICKETNET_BENCH_RESULT (JSON: name -> [[response time ms, failed], ...]) when locust stops.
WARMUP = float(os.environ.get("TICKETNET_BENCH_WARMUP", "8"))
RESULT = os.environ.get("TICKETNET_BENCH_RESULT")
_measured: dict[str, list[tuple[float, bool]]] = {}
_started: list[float] = []


@events.test_start.add_listener
def _start(**_kwargs: Any) -> None:
    _started.append(time.time())


@events.request.add_listener
def _request(name: str, response_time: float, exception: Any, start_time: float | None = None, **_kw: Any) -> None:
    if _started and (start_time or time.time()) >= _started[0] + WARMUP:
        _measured.setdefault(name, []).append((response_time, exception is not None))


@events.quitting.add_listener
def _quit(**_kwargs: Any) -> None:
    if RESULT:
        with open(RESULT, "w", encoding="utf-8") as handle:
            json.dump({"seconds": time.time() - _started[0] - WARMUP if _started else 0, "requests": _measured},
                      handle)


# Seconds a person reads between two pages (on average): 0 asks again at once (the throughput run).
THINK = float(os.environ.get("TICKETNET_BENCH_THINK", "0"))


class Visitor(HttpUser):
    """One person per simulated user, who reads for ``THINK`` seconds on average (0: asks again at once)."""

    wait_time = between(THINK / 2, THINK * 3 / 2) if THINK else constant(0)
    role = ""

    def sign_in(self, username: str) -> None:
        page = self.client.get("/login", name="(sign in)")
        token = CSRF.search(page.text)
        answer = self.client.post("/login", name="(sign in)", allow_redirects=False, data={
            "csrf_token": token.group(1) if token else "", "username": username, "password": ACCOUNTS["password"]})
        if answer.status_code != 302:
            raise RuntimeError(f"{username} could not sign in ({answer.status_code})")


class Healthz(Visitor):
    @tag("healthz")
    @task
    def healthz(self) -> None:
        self.client.get("/healthz")


class Learner(Visitor):
    def on_start(self) -> None:
        self.sign_in(random.choice(ACCOUNTS["learners"]))

    @tag("journal")
    @task
    def journal(self) -> None:
        self.client.get("/journal")

    @tag("competences")
    @task
    def competences(self) -> None:
        self.client.get("/moi/competences")

    @tag("home")
    @task
    def home(self) -> None:
        self.client.get("/moi")


class Animator(Visitor):
    def on_start(self) -> None:
        account = random.choice(ACCOUNTS["animators"])
        self.workshops: list[int] = account["workshops"]
        self.sign_in(account["username"])
        self.token = ""
        self.cells: dict[int, list[tuple[str, str]]] = {}

    def _grid(self, workshop: int) -> None:
        page = self.client.get(f"/epm/ateliers/{workshop}/positionnement", name="/epm/ateliers/[id]/positionnement")
        token = CSRF_META.search(page.text)
        self.token = token.group(1) if token else ""
        self.cells[workshop] = CELL.findall(page.text)

    @tag("grid")
    @task
    def grid(self) -> None:
        self._grid(random.choice(self.workshops))

    @tag("grid-save")
    @task
    def save_cell(self) -> None:
        workshop = random.choice(self.workshops)
        if workshop not in self.cells:
            self._grid(workshop)
        if not self.cells[workshop]:
            return
        learner, competence = random.choice(self.cells[workshop])
        with self.client.post(
            f"/epm/ateliers/{workshop}/positionnement/niveaux", name="/epm/ateliers/[id]/positionnement/niveaux",
            json={"cells": [{"learner": int(learner), "competence": int(competence), "level": random.choice(LEVELS)}]},
            headers={"X-CSRFToken": self.token, "Accept": "application/json"}, catch_response=True,
        ) as answer:
            if answer.status_code != 200 or answer.json().get("refused"):
                answer.failure(f"not saved: {answer.status_code} {answer.text[:200]}")


class Assessor(Visitor):
    def on_start(self) -> None:
        self.sign_in(ACCOUNTS["assessor"])

    @tag("assessor-queue")
    @task
    def queue(self) -> None:
        self.client.get("/evaluation")


class Coordinator(Visitor):
    def on_start(self) -> None:
        self.sign_in(ACCOUNTS["coordinator"])

    @tag("dashboard")
    @task
    def dashboard(self) -> None:
        self.client.get("/coordination/tableau-de-bord")
