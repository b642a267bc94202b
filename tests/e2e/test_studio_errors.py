"""What the studio tells a person when generation is refused: a blocked prompt, a spent quota
(with when it resets), a rate limit (with a live countdown from Retry-After)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from infra.local.authemu import AuthEmulator
from infra.local.stack import Stack
from tests.e2e.conftest import Shots
from tests.e2e.test_studio import PASSWORD, generate, sign_in
from tests.support.harness import Gateway, functions_with_env, new_user


def user_with_password(auth: AuthEmulator) -> tuple[str, str]:
    email = f"errors-{uuid.uuid4().hex[:8]}@example.com"
    return auth.create_user(email, PASSWORD), email


def test_blocked_prompt_and_quota_are_explained(
    page: Page, shots: Shots, auth_emulator: AuthEmulator, stack_info: dict[str, Any]
) -> None:
    uid, email = user_with_password(auth_emulator)
    admin = new_user(auth_emulator, role="admin")
    # An admin's quota override through the API: two images a day for this user.
    resp = Gateway(stack_info["gateway"]).call(
        "PATCH", f"/v1/admin/users/{uid}", user=admin, json={"quota": {"images_per_day": 2}}
    )
    assert resp.status_code == 200, resp.text
    sign_in(page, email)
    error = page.get_by_test_id("error")

    generate(page, "a beheading at dawn", 1)
    expect(error).to_have_text(re.compile(r"^This prompt was blocked by the content policy\."))
    expect(error).to_contain_text("Nothing was charged")
    expect(page.get_by_test_id("usage")).to_contain_text("Images today: 0 / 2")
    shots("blocked")

    generate(page, "a quiet harbour", 2)
    expect(page.get_by_test_id("status")).to_have_text("Generated 2 images.")
    generate(page, "one more harbour", 1)
    expect(error).to_have_text(
        re.compile(r"^You have reached your quota\. It resets on .*\d{4}.*\d:\d\d.*\.$")
    )
    expect(page.get_by_test_id("usage")).to_contain_text("Images today: 2 / 2")
    expect(page.get_by_role("button", name="Generate")).to_be_enabled()
    shots("quota")


@pytest.fixture
def slow_rate_limit(controllable_stack: Stack) -> Iterator[Stack]:
    # One request in the bucket, refilled at 12 a minute: the second is refused for ~5 s.
    env = {"GENMEDIA_RATE_LIMIT_BURST": "1", "GENMEDIA_RATE_LIMIT_PER_MINUTE": "12"}
    with functions_with_env(controllable_stack, env, "generate_image") as stack:
        yield stack


def test_rate_limit_counts_down_then_lets_the_user_retry(
    slow_rate_limit: Stack, page: Page, shots: Shots, auth_emulator: AuthEmulator
) -> None:
    _, email = user_with_password(auth_emulator)
    sign_in(page, email)
    generate(page, "a windmill", 1)
    expect(page.get_by_test_id("status")).to_have_text("Generated 1 image.")
    button = page.get_by_role("button", name="Generate")
    button.click()
    error = page.get_by_test_id("error")
    countdown = re.compile(r"^You are sending requests too quickly\. Try again in (\d+) s\.$")
    expect(error).to_have_text(countdown)
    expect(button).to_be_disabled()
    shots("rate-limited")
    first = int(countdown.fullmatch(error.text_content() or "").group(1))  # type: ignore[union-attr]
    assert 1 <= first <= 6
    if first > 1:  # the countdown moves
        expect(error).to_have_text(re.compile(rf"in ({'|'.join(map(str, range(1, first)))}) s\."))
    expect(page.get_by_test_id("status")).to_have_text("You can generate again.")
    expect(error).to_have_text("")
    expect(button).to_be_enabled()
    button.click()
    expect(page.get_by_test_id("status")).to_have_text("Generated 1 image.")
    shots("after-countdown")


@pytest.fixture
def provider_down(controllable_stack: Stack) -> Iterator[Stack]:
    # Imagen on Vertex at a loopback port nobody listens on (port 9, discard): every call
    # fails; the breaker opens after two failures for a minute.
    env = {
        "GENMEDIA_IMAGE_PROVIDER": "vertex",
        "GENMEDIA_VERTEX_BASE_URL": "http://127.0.0.1:9",
        "GENMEDIA_RETRY_MAX_ATTEMPTS": "1",
        "GENMEDIA_BREAKER_FAILURE_THRESHOLD": "2",
        "GENMEDIA_BREAKER_RESET_SECONDS": "60",
    }
    with functions_with_env(controllable_stack, env, "generate_image") as stack:
        yield stack


def test_provider_unavailable_is_retried_then_explained(
    provider_down: Stack, page: Page, shots: Shots, auth_emulator: AuthEmulator
) -> None:
    _, email = user_with_password(auth_emulator)
    sign_in(page, email)
    # The client retries the 503 after its Retry-After (5 s) with the same Idempotency-Key;
    # then the open breaker asks for a minute, longer than the client waits: shown as text.
    generate(page, "a lighthouse", 1)
    expect(page.get_by_test_id("error")).to_have_text(
        re.compile(
            r"^The generation service is temporarily unavailable\. Nothing was charged; "
            r"try again in \d+ s\.$"
        )
    )
    expect(page.get_by_test_id("usage")).to_contain_text("Images today: 0 /")
    expect(page.get_by_role("button", name="Generate")).to_be_enabled()
    shots("provider-unavailable")
