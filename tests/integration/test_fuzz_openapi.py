"""The fuzz pass: schemathesis against GET /v1/openapi.json, through the gateway of a real stack.

Every documented operation is called with generated requests (the schema's examples, its
boundary and negative "coverage" cases, then random fuzzing), then in stateful sequences that
follow the spec's links (generate -> the asset, video -> the job, export -> the export,
erasure -> its status, webhook -> delete...). Each response must be no 5xx, carry a documented
status, content type and headers, and match its documented schema; an undocumented method gets
a 405 and a call without credentials does not succeed. schemathesis's pytest decorator does
not run under pytest 9.2 (it sets ``Node._nodeid``), so the test drives its engine, the one
its CLI runs, and fails with every finding and its curl command.
Business rules JSON Schema cannot express (webhook URLs must be https and public, page tokens
belong to one query, prompts pass moderation) are the server's to refuse, so
``positive_data_acceptance`` and ``negative_data_rejection`` are off.

The callers are real Firebase Auth emulator users: a ``user`` for /v1 and an ``admin`` for
/v1/admin. The stack is private (its fuzzed settings, denylist and erasures stay out of the
other tests) with rate limits and quotas raised, so what fails is a bug, not a 429 (still a
documented status). Webhook host names resolve through an empty table: no DNS query leaves.

Excluded, each for a reason:
- ``DELETE /v1/me`` erases the fuzzer's own account; every later call would be a 401
  (tests/integration/test_account.py covers it).
- ``GET /v1/jobs/{id}:watch`` is a Server-Sent Events stream that stays open until its job
  ends, up to about four minutes a request (tests/integration/test_video_jobs.py covers it).

Budget: deterministic (fixed seed, derandomized, no example database), about 3.5 minutes here.
``GENMEDIA_FUZZ_EXAMPLES`` (fuzzing examples per operation), ``GENMEDIA_FUZZ_SCENARIOS``
(stateful scenarios) and ``GENMEDIA_FUZZ_SEED`` run it longer or differently.
"""

from __future__ import annotations

import ipaddress
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status
from schemathesis.engine.events import FatalError, NonFatalError, ScenarioFinished
from schemathesis.hooks import GLOBAL_HOOK_DISPATCHER

from infra.local.authemu import AuthEmulator
from infra.local.stack import TEST_FUNCTION_ENV, Stack
from tests.support.harness import User, new_user, start_stack

EXAMPLES = int(os.environ.get("GENMEDIA_FUZZ_EXAMPLES", "10"))
SCENARIOS = int(os.environ.get("GENMEDIA_FUZZ_SCENARIOS", "25"))
SEED = int(os.environ.get("GENMEDIA_FUZZ_SEED", "13"))
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "unsupported_method",
    "ignored_auth",
)
EXCLUDED = {
    ("DELETE", "/v1/me"): "erases the fuzzer's own account",
    ("GET", "/v1/jobs/{id}:watch"): "an event stream open until its job ends",
}
# Rate limits at the settings' cap, so the fuzzer meets the code, not the token bucket.
FUZZ_FUNCTION_ENV = {
    **TEST_FUNCTION_ENV,
    "GENMEDIA_RATE_LIMIT_BURST": "10000",
    "GENMEDIA_RATE_LIMIT_PER_MINUTE": "100000",
}


def fuzz_config() -> SchemathesisConfig:
    generation = {"deterministic": True, "database": "none"}
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "generation": {**generation, "max-examples": EXAMPLES},
            "phases": {
                "stateful": {"generation": {**generation, "max-examples": SCENARIOS}},
            },
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            "request-timeout": 60,
            "continue-on-failure": True,
        }
    )


def keep_webhooks_on_this_machine(case: Any) -> None:
    """A made-up webhook URL naming a public IP literal would be registered (literals are not
    resolved) and a finished job's delivery would connect to it; tests reach only 127.0.0.0/8,
    so such a host becomes 127.0.0.1 before the request leaves."""
    body = case.body
    url = body.get("url") if isinstance(body, dict) else None
    if case.operation.path != "/v1/webhooks" or not isinstance(url, str):
        return
    try:
        parts = urlsplit(url)
        address = ipaddress.ip_address(parts.hostname or "")
    except ValueError:
        return  # not a URL with an IP literal: a name, which resolves through the empty table
    if not address.is_loopback:
        body["url"] = parts._replace(netloc="127.0.0.1").geturl()


@dataclass(frozen=True)
class Fuzzers:
    """The fuzzer's callers, and a bystander who takes what an admin call aims at them.

    The fuzzer learns real uids from responses (audit events name their actors) and feeds them
    to the admin's erase and update calls: erasing or demoting its own callers would leave the
    rest of the run answering 401. Those calls go to the bystander instead, a real account, so
    they still run the whole erasure or update."""

    user: User
    admin: User
    bystander: User

    def guard(self, case: Any) -> None:
        keep_webhooks_on_this_machine(case)
        params = case.path_parameters or {}
        own = params.get("uid") in (self.user.uid, self.admin.uid)
        if case.operation.path == "/v1/admin/users/{uid}" and case.method != "GET" and own:
            params["uid"] = self.bystander.uid


@pytest.fixture(scope="module")
def fuzz_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    state = tmp_path_factory.mktemp("fuzz-stack")
    resolver = state / "no-hosts.json"
    resolver.write_text("{}")
    env = {**FUZZ_FUNCTION_ENV, "GENMEDIA_TEST_RESOLVER_FILE": str(resolver)}
    stack = start_stack(state / "stack", function_env=env)
    try:
        yield stack
    finally:
        stack.stop()


def _fuzzers(info: dict[str, Any]) -> Fuzzers:
    """A user with a raised quota, an admin, a bystander (emulator tokens last an hour)."""
    auth = AuthEmulator(info["auth_emulator"], info["project_id"])
    user, admin = new_user(auth), new_user(auth, role="admin")
    resp = requests.patch(
        f"{info['gateway']}/v1/admin/users/{user.uid}",
        json={"quota": {"images_per_day": 1_000_000, "videos_per_month": 1_000_000}},
        headers=admin.headers(),
        timeout=60,
    )
    assert resp.status_code == 200, resp.text
    return Fuzzers(user, admin, new_user(auth))


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_stack: Stack) -> Iterator[Any]:
    info = fuzz_stack.info()
    fuzzers = _fuzzers(info)
    tokens = {"user": fuzzers.user.token, "admin": fuzzers.admin.token}
    schema = schemathesis.openapi.from_url(
        info["gateway"] + "/v1/openapi.json", config=fuzz_config()
    )
    schema.config.update(base_url=info["gateway"])
    for method, path in EXCLUDED:
        schema = schema.exclude(method=method, path=path)

    class FirebaseBearer:
        """The admin's token on /v1/admin, the user's elsewhere."""

        def get(self, case: Any, ctx: Any) -> str:
            return tokens["admin" if case.path.startswith("/v1/admin/") else "user"]

        def set(self, case: Any, data: str, ctx: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    schema.auth(refresh_interval=None)(FirebaseBearer)

    def before_call(context: Any, case: Any, kwargs: Any) -> None:
        fuzzers.guard(case)

    # before_call hooks are global in schemathesis: registered for this run only.
    schemathesis.hook("before_call")(before_call)
    try:
        yield schema
    finally:
        GLOBAL_HOOK_DISPATCHER.unregister(before_call)


@dataclass
class FuzzRun:
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    links_followed: set[str] = field(default_factory=set)
    phases: Counter[str] = field(default_factory=Counter)


def _record(run: FuzzRun, event: ScenarioFinished) -> None:
    recorder = event.recorder
    run.phases[str(event.phase)] += len(recorder.interactions)
    for interaction in recorder.interactions.values():
        if interaction.response is not None:
            run.statuses[interaction.response.status_code] += 1
    for node in recorder.cases.values():
        if node.transition is not None and node.is_transition_applied:
            kind = "inferred" if node.transition.is_inferred else "declared"
            run.links_followed.add(f"{node.transition.id} ({kind})")
    for nodes in recorder.checks.values():
        for check in nodes:
            if check.status == Status.FAILURE and check.failure_info is not None:
                failure = check.failure_info.failure
                run.failures.append(
                    f"{event.label}: {check.name}: {failure.title}\n{failure.message}\n"
                    f"{check.failure_info.code_sample}"
                )


def fuzz(schema: Any) -> FuzzRun:
    """One schemathesis run (examples, coverage, fuzzing, stateful phases), as the CLI does."""
    run = FuzzRun()
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, ScenarioFinished):
            _record(run, event)
        elif isinstance(event, NonFatalError | FatalError):
            error = event.value if isinstance(event, NonFatalError) else event.exception
            run.errors.append(f"{type(error).__name__}: {error}")
    return run


def test_every_operation_answers_as_documented(fuzz_schema: Any) -> None:
    run = fuzz(fuzz_schema)
    print(
        f"fuzz: {run.statuses.total()} responses {dict(sorted(run.statuses.items()))} "
        f"by phase {dict(run.phases)}; links followed: {sorted(run.links_followed)}"
    )
    assert not run.errors, "\n".join(run.errors)
    assert not run.failures, f"{len(run.failures)} failures:\n\n" + "\n\n".join(run.failures)
    # The run reached the code: successes, validation refusals and followed links, not only 401s.
    assert run.statuses[200] and run.statuses[422] and run.statuses[201] + run.statuses[202]
    assert any(name.endswith("(declared)") for name in run.links_followed), run.links_followed


def test_spec_links_creations_to_their_resources(fuzz_stack: Stack) -> None:
    spec = requests.get(fuzz_stack.info()["gateway"] + "/v1/openapi.json", timeout=30).json()
    links = {
        (op["operationId"], link["operationId"], *link["parameters"].values())
        for item in spec["paths"].values()
        for op in item.values()
        for resp in op["responses"].values()
        for link in resp.get("links", {}).values()
    }
    assert {
        ("generate_image.generate", "library.get_asset", "$response.body#/assets/0/id"),
        ("generate_video.generate", "jobs.get_job", "$response.body#/job/id"),
        ("account.request_export", "account.get_export", "$response.body#/export/id"),
        ("admin.erase_user", "admin.get_erasure", "$response.body#/erasure/id"),
        ("webhooks.create_webhook", "webhooks.delete_webhook", "$response.body#/id"),
        ("library.delete_asset", "library.undelete_asset", "$request.path.id"),
    } <= links


def test_exclusions_name_real_operations(fuzz_stack: Stack) -> None:
    spec = requests.get(fuzz_stack.info()["gateway"] + "/v1/openapi.json", timeout=30).json()
    documented = {(m.upper(), p) for p, item in spec["paths"].items() for m in item}
    assert set(EXCLUDED) <= documented  # an exclusion never outlives its operation
