"""The studio at a phone's width and from the keyboard alone."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

from infra.local.authemu import AuthEmulator
from tests.e2e.conftest import Shots
from tests.e2e.test_studio import PASSWORD

WIDER_THAN_THE_SCREEN = """() => [...document.querySelectorAll("body *")]
    .filter(el => el.getBoundingClientRect().right > window.innerWidth + 0.5)
    .map(el => el.tagName + (el.id ? "#" + el.id : "") + "." + el.className + " " +
                Math.round(el.getBoundingClientRect().right))"""


def assert_fits_the_width(page: Page) -> None:
    """Nothing sticks out sideways: no horizontal scrolling on a phone."""
    assert page.evaluate(WIDER_THAN_THE_SCREEN) == []


def test_keyboard_only_sign_in_and_generate_at_phone_width(
    page: Page, shots: Shots, auth_emulator: AuthEmulator
) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    email = f"phone-{uuid.uuid4().hex[:8]}@example.com"
    auth_emulator.create_user(email, PASSWORD)
    # The email field has the focus; Tab order: email, password, the button.
    expect(page.get_by_label("Email")).to_be_focused()
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Sign in")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("who")).to_have_text(email)
    # The generate page puts the focus in the prompt.
    expect(page.get_by_label("Prompt", exact=True)).to_be_focused()
    page.keyboard.type("a kite over dunes")
    page.keyboard.press("Tab")  # negative prompt
    page.keyboard.press("Tab")  # count
    page.keyboard.press("Tab")  # aspect ratio
    page.keyboard.press("Tab")  # seed
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Generate")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("status")).to_have_text("Generated 1 image.")
    assert_fits_the_width(page)
    shots("phone-generate")
    page.get_by_role("link", name="Library").click()
    expect(page.get_by_test_id("library-status")).to_have_text("1 shown, that is everything.")
    assert_fits_the_width(page)
    shots("phone-library")
