"""A Firestore or Cloud Storage outage answers 503 problem+json with Retry-After within the
backend budget (GENMEDIA_BACKEND_DEADLINE_SECONDS) instead of holding requests for the
libraries' 60-300 s, charges nothing, and the same function processes serve again once the
emulator is back (bounded gRPC reconnect backoff). Once an instance has seen Firestore fail,
its breaker refuses further requests without calling Firestore until a probe finds it back
(genmedia/store/circuit.py). A private stack: its emulators go away."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

from infra.local.authemu import AuthEmulator
from infra.local.stack import Stack
from tests.support.assets import generate
from tests.support.harness import Gateway, User, new_user
from tests.support.problems import assert_problem


def _used(gateway: Gateway, user: User) -> int:
    usage = gateway.get("/v1/usage", user=user)
    assert usage.status_code == 200, usage.text
    used: int = usage.json()["images"]["used"]
    return used


def _assert_unavailable(response: object) -> None:
    assert_problem(response, 503, "UNAVAILABLE")  # type: ignore[arg-type]
    assert int(response.headers["Retry-After"]) >= 1  # type: ignore[attr-defined]


def _served(send: Callable[[], requests.Response], attempts: int = 8) -> requests.Response:
    """``send`` retried as the web client does: after a 503, wait its Retry-After. The
    instance's Firestore breaker may still be cooling down when the emulator is back."""
    response = send()
    for _ in range(attempts - 1):
        if response.status_code != 503:
            break
        time.sleep(min(5, int(response.headers["Retry-After"])))
        response = send()
    return response


def _firestore_breaker(function_url: str) -> dict[str, Any]:
    """The Firestore breaker as the instance holding it reports it (its own /readyz)."""
    report = requests.get(function_url + "/readyz", timeout=10).json()
    breaker: dict[str, Any] = report["breakers"]["firestore"]
    return breaker


def test_a_firestore_outage_is_a_prompt_503_and_recovers(private_stack: Stack) -> None:
    info = private_stack.info()
    gateway = Gateway(str(info["gateway"]))
    user = new_user(AuthEmulator(str(info["auth_emulator"]), private_stack.options.project_id))
    [asset] = generate(gateway, user, prompt="a lantern")
    functions = {
        name: child for name, child in private_stack.children.items() if name.startswith("fn_")
    }

    private_stack.stop_service("firestore")
    _assert_unavailable(gateway.get("/v1/assets", user=user))
    _assert_unavailable(gateway.post("/v1/images:generate", user=user, json={"prompt": "a kite"}))

    private_stack.start_service("firestore")
    listed = _served(lambda: gateway.get("/v1/assets", user=user))
    assert listed.status_code == 200, listed.text
    assert [a["id"] for a in listed.json()["assets"]] == [asset["id"]]
    assert _used(gateway, user) == 1  # the refused generate charged nothing
    kite = _served(
        lambda: gateway.post("/v1/images:generate", user=user, json={"prompt": "a kite"})
    )
    assert kite.status_code == 200, kite.text
    assert _used(gateway, user) == 2
    # Served by the very processes that saw the outage: nothing was restarted.
    assert {n: c for n, c in private_stack.children.items() if n.startswith("fn_")} == functions


def test_once_firestore_failed_an_instance_refuses_without_calling_it_then_recovers(
    private_stack: Stack,
) -> None:
    # A cool-down far longer than the few requests below take between them, so the second
    # refusal cannot be a probe; the default (0.5 s) is what the fault bench measures.
    private_stack.restart_function(
        "generate_image", env={"GENMEDIA_FIRESTORE_BREAKER_RESET_SECONDS": "20"}
    )
    info = private_stack.info()
    gateway = Gateway(str(info["gateway"]))
    function_url = str(info["functions"]["generate_image"])  # type: ignore[index]
    user = new_user(AuthEmulator(str(info["auth_emulator"]), private_stack.options.project_id))
    generate(gateway, user, prompt="a lantern")
    assert _firestore_breaker(function_url)["state"] == "closed"

    def kite() -> requests.Response:
        return gateway.post("/v1/images:generate", user=user, json={"prompt": "a kite"})

    private_stack.stop_service("firestore")
    _assert_unavailable(kite())  # this one spent the budget: Firestore failed
    opened = _firestore_breaker(function_url)
    assert opened["state"] == "open"

    refused = kite()
    _assert_unavailable(refused)
    assert refused.json()["detail"] == "A service this request needs is unavailable; retry later"
    after = _firestore_breaker(function_url)
    # No RPC of that request went to Firestore (none failed); its first was refused, as was
    # the /readyz ping that reported this.
    assert after["state"] == "open"
    assert after["consecutive_failures"] == opened["consecutive_failures"]
    assert after["rejected_calls"] >= opened["rejected_calls"] + 2

    private_stack.start_service("firestore")
    served = _served(kite)  # refused until the cool-down ends, then the probe succeeds
    assert served.status_code == 200, served.text
    assert _firestore_breaker(function_url) | {"rejected_calls": 0} == {
        "state": "closed",
        "consecutive_failures": 0,
        "open_remaining_s": 0.0,
        "rejected_calls": 0,
    }
    assert _used(gateway, user) == 2  # the refused generates charged nothing


def test_a_storage_outage_is_a_prompt_503_refunded_and_recovers(private_stack: Stack) -> None:
    info = private_stack.info()
    gateway = Gateway(str(info["gateway"]))
    user = new_user(AuthEmulator(str(info["auth_emulator"]), private_stack.options.project_id))
    generate(gateway, user, prompt="a lantern")

    private_stack.stop_service("storage")
    _assert_unavailable(gateway.post("/v1/images:generate", user=user, json={"prompt": "a kite"}))
    assert _used(gateway, user) == 1  # the failed generation was refunded
    listed = gateway.get("/v1/assets", user=user).json()["assets"]
    assert len(listed) == 1  # its asset is FAILED, not listed as ACTIVE

    private_stack.start_service("storage")
    assert len(generate(gateway, user, prompt="a kite")) == 1
    assert _used(gateway, user) == 2
