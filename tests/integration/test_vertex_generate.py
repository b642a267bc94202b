"""The generate_image function on the Vertex AI provider: the real google-genai SDK in the
function process talks to a local HTTP fake of Vertex; retries, breaker, refunds end to end."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from google.cloud import firestore

from infra.local.authemu import AuthEmulator
from infra.local.stack import Stack
from tests.fakes.vertex import IMAGEN_SIZES, AllFiltered, ApiError, FakeVertex
from tests.support.api import assert_problem
from tests.support.harness import Gateway, User, functions_with_env, new_user, reset_state

RESET_SECONDS = 1.0


@pytest.fixture(scope="module")
def vertex_stack(controllable_stack: Stack) -> Iterator[tuple[Stack, FakeVertex]]:
    fake = FakeVertex(project=controllable_stack.options.project_id, token=None)
    fake.start()
    env = {
        "GENMEDIA_IMAGE_PROVIDER": "vertex",
        "GENMEDIA_VERTEX_BASE_URL": fake.base_url,
        "GENMEDIA_BREAKER_FAILURE_THRESHOLD": "2",
        "GENMEDIA_BREAKER_RESET_SECONDS": str(RESET_SECONDS),
        "GENMEDIA_RETRY_MAX_ATTEMPTS": "2",
        "GENMEDIA_RETRY_DEADLINE_SECONDS": "10",
    }
    try:
        with functions_with_env(controllable_stack, env, "generate_image") as stack:
            yield stack, fake
    finally:
        fake.stop()


@pytest.fixture
def ctx(vertex_stack: tuple[Stack, FakeVertex]) -> dict[str, Any]:
    stack, fake = vertex_stack
    info = stack.info()
    reset_state(info)
    fake.reset()
    auth = AuthEmulator(str(info["auth_emulator"]), stack.options.project_id)
    return {"gateway": Gateway(str(info["gateway"])), "fake": fake, "user": new_user(auth),
            "function": stack.function_url("generate_image"),
            "db": firestore.Client(project=stack.options.project_id)}  # fmt: skip


def _generate(ctx: dict[str, Any], **body: Any):
    body.setdefault("prompt", "a tide pool")
    return ctx["gateway"].post("/v1/images:generate", user=ctx["user"], json=body)


def _images_used(ctx: dict[str, Any]) -> int:
    doc = ctx["db"].collection("usage").document(ctx["user"].uid).get()
    return int((doc.to_dict() or {}).get("images", 0))


def _breaker(ctx: dict[str, Any]) -> str:
    """The breaker as the generate_image instance reports it on its own /readyz."""
    report = requests.get(ctx["function"] + "/readyz", timeout=10).json()
    return str(report["breakers"]["vertex"]["state"])


def test_imagen_images_keep_their_native_size_and_are_charged(ctx: dict[str, Any]) -> None:
    resp = _generate(ctx, count=2, aspect_ratio="16:9", seed=5, negative_prompt="fog")
    assert resp.status_code == 200, resp.text
    assets = resp.json()["assets"]
    assert [(a["width"], a["height"]) for a in assets] == [IMAGEN_SIZES["16:9"]] * 2
    assert assets[0]["cost"] == {"currency": "USD", "amount": "0.040000"}
    sent = ctx["fake"].requests[-1]
    assert sent.parameters["sampleCount"] == 2 and sent.parameters["aspectRatio"] == "16:9"
    assert sent.parameters["seed"] == 5 and sent.parameters["negativePrompt"] == "fog"
    assert resp.json()["usage"]["cost_this_month"]["amount"] == "0.080000"


def test_provider_failures_are_refunded_then_the_breaker_opens_and_recovers(
    ctx: dict[str, Any],
) -> None:
    ctx["fake"].imagen.enqueue(*[ApiError.internal() for _ in range(4)])
    for _ in range(2):  # each request retries once, then fails and is refunded
        assert_problem(_generate(ctx), 503, "PROVIDER_UNAVAILABLE")
    assert len(ctx["fake"].requests) == 4
    assert _images_used(ctx) == 0
    states = {s.to_dict()["state"] for s in ctx["db"].collection("assets").stream()}
    assert states == {"FAILED"}
    assert _breaker(ctx) == "open"

    rejected = _generate(ctx)
    assert_problem(rejected, 503, "PROVIDER_UNAVAILABLE")
    assert int(rejected.headers["Retry-After"]) >= 1
    assert len(ctx["fake"].requests) == 4, "an open breaker must not call the provider"

    time.sleep(RESET_SECONDS + 0.2)
    assert _generate(ctx).status_code == 200
    assert _breaker(ctx) == "closed"
    assert _images_used(ctx) == 1


def test_safety_filtered_prompts_are_blocked_and_refunded(ctx: dict[str, Any]) -> None:
    ctx["fake"].imagen.enqueue(AllFiltered())
    assert_problem(_generate(ctx, count=3), 422, "CONTENT_BLOCKED")
    assert _images_used(ctx) == 0
    assert _breaker(ctx) != "open"


def test_partially_filtered_results_charge_only_what_came_back(
    ctx: dict[str, Any], make_user: Callable[..., User]
) -> None:
    from tests.fakes.vertex import Images

    ctx["fake"].imagen.enqueue(Images(filtered=1))
    resp = _generate(ctx, count=3)
    assert resp.status_code == 200, resp.text
    assert len(resp.json()["assets"]) == 2
    assert resp.json()["usage"]["images"]["used"] == 2
    assert _images_used(ctx) == 2
