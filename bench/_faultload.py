"""Steady mixed load for bench/faults.py, and what every response looked like to its user.

Not a benchmark itself. A few client threads, each with its own user, loop through the
gateway over a mix of requests (a generate with a new Idempotency-Key, a replay of one that
succeeded, a library page, the usage) and record each answer: status, problem code,
Retry-After, content type and latency. A poller records ``/v1/readyz`` the same way.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import requests
from _common import BenchUser, percentile
from _report import Check, ScenarioResult, Table

PROBLEM_JSON = "application/problem+json"
MIX = ("generate", "assets", "usage", "replay")


@dataclass(frozen=True)
class Outcome:
    kind: str  # generate, replay, assets, usage, readyz, ...
    start: float  # seconds since the scenario's t0
    latency: float  # seconds
    status: int  # 0: no HTTP answer at all
    code: str  # the problem's code, the exception's class with no answer, else ""
    retry_after: str | None
    problem: bool  # application/problem+json
    tag: str = ""  # the generate's prompt (the provider fake sees it), the job id ...

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def end(self) -> float:
        return self.start + self.latency

    @property
    def label(self) -> str:
        return f"{self.status} {self.code}".strip() if self.status else f"no answer {self.code}"


class Recorder:
    def __init__(self, t0: float) -> None:
        self.t0 = t0
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()

    def now(self) -> float:
        return time.perf_counter() - self.t0

    def call(
        self,
        session: requests.Session,
        kind: str,
        method: str,
        url: str,
        tag: str = "",
        **kw: object,
    ) -> requests.Response | None:
        started = self.now()
        resp: requests.Response | None = None
        try:
            resp = session.request(method, url, timeout=60, **kw)  # type: ignore[arg-type]
            code = _problem_code(resp)
            status, retry_after = resp.status_code, resp.headers.get("Retry-After")
            problem = resp.headers.get("Content-Type", "").startswith(PROBLEM_JSON)
        except requests.RequestException as exc:
            status, code, retry_after, problem = 0, type(exc).__name__, None, False
        outcome = Outcome(
            kind, started, self.now() - started, status, code, retry_after, problem, tag
        )
        with self._lock:
            self.outcomes.append(outcome)
        return resp

    def between(self, start: float, end: float, kinds: Sequence[str] = ()) -> list[Outcome]:
        """The requests answered (or given up) between ``start`` and ``end``."""
        with self._lock:
            chosen = [o for o in self.outcomes if start <= o.end < end]
        return [o for o in chosen if not kinds or o.kind in kinds]


def _problem_code(resp: requests.Response) -> str:
    if resp.ok or not resp.headers.get("Content-Type", "").startswith(PROBLEM_JSON):
        return ""
    try:
        return str(resp.json().get("code", ""))
    except ValueError:
        return "unparsable problem"


@dataclass
class Users:
    """The load's users; a fault that loses the Auth emulator's accounts swaps their tokens."""

    users: list[BenchUser]
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def headers(self, i: int) -> dict[str, str]:
        with self._lock:
            return self.users[i].headers

    def replace(self, users: list[BenchUser]) -> None:
        with self._lock:
            self.users = users


class Load:
    """``len(users)`` client threads looping over ``mix`` until stopped."""

    def __init__(
        self,
        base: str,
        users: Users,
        recorder: Recorder,
        mix: Sequence[str] = MIX,
        pause: float = 0.05,
    ) -> None:
        self.base, self.users, self.recorder, self.mix, self.pause = (
            base,
            users,
            recorder,
            mix,
            pause,
        )
        self.generating = 0  # generates in flight, for a fault that must land mid-generation
        self.running = threading.Event()  # cleared: the threads wait before their next request
        self.running.set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(i,), name=f"load-{i}", daemon=True)
            for i in range(len(users.users))
        ]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _run(self, i: int) -> None:
        session, done = requests.Session(), []  # done: (key, body) of generates answered 200
        for kind in itertools.cycle(self.mix):
            while not self.running.wait(0.1):
                if self._stop.is_set():
                    return
            if self._stop.is_set():
                return
            headers = self.users.headers(i)
            if kind == "generate":
                body = {"prompt": f"fault load {uuid.uuid4().hex[:12]}"}
                key = uuid.uuid4().hex
                if self._generate(session, kind, body, key, headers):
                    done.append((key, body))
            elif kind == "replay" and done:
                key, body = done[-1]
                self._generate(session, kind, body, key, headers)
            elif kind in ("assets", "usage"):
                path = "/v1/assets?page_size=20" if kind == "assets" else "/v1/usage"
                self.recorder.call(session, kind, "GET", self.base + path, headers=headers)
            self._stop.wait(self.pause)

    def _generate(
        self,
        session: requests.Session,
        kind: str,
        body: dict[str, str],
        key: str,
        headers: dict[str, str],
    ) -> bool:
        with self._lock:
            self.generating += 1
        try:
            resp = self.recorder.call(
                session,
                kind,
                "POST",
                self.base + "/v1/images:generate",
                tag=body["prompt"],
                json=body,
                headers={**headers, "Idempotency-Key": key},
            )
        finally:
            with self._lock:
                self.generating -= 1
        return resp is not None and resp.status_code == 200


def warm_up(base: str, users: Users) -> None:
    """One request of each kind per user before anything is measured: each function's first
    request imports its clients (a second or more on a busy machine)."""
    session = requests.Session()
    for i in range(len(users.users)):
        headers = users.headers(i)
        for path in ("/v1/usage", "/v1/assets?page_size=20"):
            session.get(base + path, headers=headers, timeout=120)
        body = {"prompt": "warm-up"}
        session.post(base + "/v1/images:generate", json=body, headers=headers, timeout=120)


class Poller:
    """Calls ``fetch`` every ``interval`` seconds in a thread (e.g. ``/v1/readyz``)."""

    def __init__(self, fetch: Callable[[], object], interval: float = 0.5) -> None:
        self.fetch, self.interval = fetch, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="poller", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.fetch()
            self._stop.wait(self.interval)

    def __enter__(self) -> Poller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# -- summaries -------------------------------------------------------------------------------
def by_label(outcomes: Sequence[Outcome]) -> str:
    """``200 x40, 503 UNAVAILABLE x12`` (most frequent first)."""
    counts = Counter(o.label for o in outcomes)
    return ", ".join(f"{label} x{n}" for label, n in counts.most_common()) or "-"


def latency_ms(outcomes: Sequence[Outcome], q: float) -> float:
    return percentile([o.latency * 1000 for o in outcomes], q)


def recovery_seconds(outcomes: Sequence[Outcome], fault_end: float) -> float:
    """From the fault's end until the last failed answer after it (0: none failed)."""
    failed = [o.end for o in outcomes if o.end >= fault_end and not o.ok]
    return max(0.0, max(failed) - fault_end) if failed else 0.0


def phase_rows(
    recorder: Recorder, phases: Sequence[tuple[str, float, float]], kinds: Sequence[str] = ()
) -> list[list[object] | None]:
    rows: list[list[object] | None] = []
    for name, start, end in phases:
        chosen = recorder.between(start, end, kinds)
        ok = sum(o.ok for o in chosen)
        rows.append(
            [
                name,
                f"{start:.0f}-{end:.0f}",
                len(chosen),
                ok,
                by_label([o for o in chosen if not o.ok]),
                latency_ms(chosen, 50),
                latency_ms(chosen, 95),
            ]
        )
    return rows


PHASE_COLUMNS = ["phase", "seconds", "requests", "2xx", "other answers", "p50 ms", "p95 ms"]


def phase_table(
    title: str, recorder: Recorder, phases: list[tuple[str, float, float]], note: str
) -> Table:
    rows = phase_rows(recorder, phases)
    during = [p for p in phases if p[0] == "during"]
    if during:
        _, start, end = during[0]
        held = [o for o in recorder.between(end, math.inf) if o.start < end]
        rows.append(
            ["held across the fault's end", f"{start:.0f}-{end:.0f}", len(held),
             sum(o.ok for o in held), by_label([o for o in held if not o.ok]),
             latency_ms(held, 50), latency_ms(held, 95)]
        )  # fmt: skip
        rows.append(None)
        for kind in sorted({o.kind for o in recorder.outcomes}):
            rows += phase_rows(recorder, [(f"during: {kind}", *during[0][1:])], (kind,))
    return Table(title, PHASE_COLUMNS, rows, note)


def report(
    result: ScenarioResult,
    name: str,
    title: str,
    recorder: Recorder,
    phases: list[tuple[str, float, float]],
    note: str,
    checks: list[Check],
    figures: dict[str, object],
) -> None:
    result.tables.append(phase_table(title, recorder, phases, note))
    result.checks += [
        Check(f"{name}: {c.claim}", c.ok, c.detail) if not c.claim.startswith(name) else c
        for c in checks
    ]
    result.figures[name] = {
        "phases": {p[0]: [round(p[1], 2), round(p[2], 2)] for p in phases},
        # NaN (no request in a phase) is not JSON: null instead.
        "rows": [
            [None if isinstance(c, float) and math.isnan(c) else c for c in row]
            for row in phase_rows(recorder, phases)
            if row is not None
        ],
        **figures,
    }


def held_check(recorder: Recorder, start: float, restart: float, up: float, grace: float) -> Check:
    """Requests that meet a dependency's outage are answered (a 503 to retry) while it lasts,
    not held until it is back: those in flight at least ``grace`` seconds before its restart
    (sent during it, or before it and still waiting when it began)."""
    met = [o for o in recorder.outcomes if o.start < restart - grace and o.end > start]
    held = [o for o in met if o.end >= up]
    longest = max((o.latency for o in held), default=0.0)
    return Check(
        "requests that meet the outage are answered during it, not held until it ends",
        not held,
        f"{len(held)} of {len(met)} in flight more than {grace:.0f} s before the restart were "
        f"held until the service was back (longest {longest:.1f} s; they then got "
        f"{by_label(held)})",
    )
