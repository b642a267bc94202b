"""A Firestore or Cloud Storage outage answers 503 problem+json with Retry-After within the
backend budget (GENMEDIA_BACKEND_DEADLINE_SECONDS) instead of holding requests for the
libraries' 60-300 s, charges nothing, and the same function processes serve again once the
emulator is back (bounded gRPC reconnect backoff). A private stack: its emulators go away."""

from __future__ import annotations

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
    listed = gateway.get("/v1/assets", user=user)
    assert listed.status_code == 200, listed.text
    assert [a["id"] for a in listed.json()["assets"]] == [asset["id"]]
    assert _used(gateway, user) == 1  # the refused generate charged nothing
    assert len(generate(gateway, user, prompt="a kite")) == 1
    assert _used(gateway, user) == 2
    # Served by the very processes that saw the outage: nothing was restarted.
    assert {n: c for n, c in private_stack.children.items() if n.startswith("fn_")} == functions


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
