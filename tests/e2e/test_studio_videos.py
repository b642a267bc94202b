"""Videos in the browser: a job submitted, followed live over its SSE stream, cancelled (and
refunded) while queued; a second one rendered and played with its poster."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from infra.local.authemu import AuthEmulator
from infra.local.queues import tasks_client
from tests.e2e.conftest import Shots
from tests.e2e.test_studio import PASSWORD, sign_in


@pytest.fixture
def paused_video_queue(stack_info: dict[str, Any]) -> Iterator[Callable[[], None]]:
    """The video queue held, so a job stays QUEUED until the test resumes it."""
    client = tasks_client(stack_info["tasks_emulator"])
    name = f"projects/{stack_info['project_id']}/locations/us-central1/queues/video-jobs"
    client.pause_queue(name=name)
    try:
        yield lambda: client.resume_queue(name=name)
    finally:
        client.resume_queue(name=name)


def test_submit_cancel_then_play_a_video(
    page: Page, shots: Shots, auth_emulator: AuthEmulator, paused_video_queue: Callable[[], None]
) -> None:
    email = f"videos-{uuid.uuid4().hex[:8]}@example.com"
    auth_emulator.create_user(email, PASSWORD)
    sign_in(page, email)
    page.get_by_role("link", name="Videos").click()
    usage = page.get_by_test_id("usage")

    page.get_by_label("Prompt").fill("a heron over a lake")
    page.get_by_label("Duration").select_option("4")
    page.get_by_role("button", name="Generate video").click()
    first = page.get_by_test_id("jobs").locator("li").first
    expect(first.get_by_test_id("job-state")).to_have_text("Queued: 0%")
    expect(usage).to_contain_text("Videos this month: 1 /")
    shots("queued")
    first.get_by_role("button", name="Cancel").click()
    expect(first.get_by_test_id("job-state")).to_have_text("Cancelled. Your quota was refunded.")
    expect(first.get_by_role("button", name="Cancel")).to_be_hidden()
    expect(usage).to_contain_text("Videos this month: 0 /")
    shots("cancelled")

    paused_video_queue()  # resume
    page.get_by_label("Prompt").fill("a red fox in snow")
    page.get_by_role("button", name="Generate video").click()
    second = page.get_by_test_id("jobs").locator("li").first
    expect(second.get_by_role("heading")).to_have_text("a red fox in snow")
    expect(second.get_by_test_id("job-state")).to_have_text("Done: 100%")
    video = second.locator("video")
    expect(video).to_have_attribute("poster", re.compile(r"^http://127\.0\.0\.1:\d+/"))
    # The MP4 decodes in the browser: it has its duration and plays past its start.
    page.wait_for_function("v => v.readyState >= 2", arg=video.element_handle())
    assert video.evaluate("v => Math.round(v.duration)") == 4
    video.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function("v => v.currentTime > 0.5", arg=video.element_handle())
    expect(usage).to_contain_text("Videos this month: 1 /")
    shots("played")
