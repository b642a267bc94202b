"""An Identity Toolkit outage (the Auth emulator stopped) is a 503 to retry, never a 401 that
would sign users out, and nothing is charged or written meanwhile. A private stack: stopping
its Auth emulator loses its accounts."""

from __future__ import annotations

from infra.local.authemu import AuthEmulator
from infra.local.stack import Stack
from tests.support.harness import Gateway, new_user
from tests.support.problems import assert_problem


def test_requests_during_an_auth_outage_are_503_with_retry_after(private_stack: Stack) -> None:
    info = private_stack.info()
    gateway = Gateway(str(info["gateway"]))
    auth = AuthEmulator(str(info["auth_emulator"]), private_stack.options.project_id)
    writer, reader = new_user(auth), new_user(auth)
    tokens = writer.token, reader.token  # minted before the outage, still valid
    private_stack.stop_service("auth")

    spend = gateway.post("/v1/images:generate", token=tokens[0], json={"prompt": "a kite"})
    assert_problem(spend, 503, "UNAVAILABLE")
    assert int(spend.headers["Retry-After"]) >= 1
    read = gateway.get("/v1/usage", token=tokens[1])  # never looked up: the cache cannot help
    assert_problem(read, 503, "UNAVAILABLE")

    private_stack.start_service("auth")
    assert gateway.get("/v1/healthz").status_code == 200
