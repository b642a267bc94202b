"""The studio end to end in a real browser: the Firebase JS SDK against the Auth emulator,
the /v1 API through the gateway, signed Storage URLs in <img>, as a person uses it."""

from __future__ import annotations

import re
import uuid
from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import Shots

PASSWORD = "correct-horse-7"


def sign_up(page: Page, email: str) -> None:
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_test_id("who")).to_have_text(email)


def sign_in(page: Page, email: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("who")).to_have_text(email)


def generate(page: Page, prompt: str, count: int) -> None:
    page.get_by_label("Prompt", exact=True).fill(prompt)
    page.get_by_label("Count").select_option(str(count))
    page.get_by_role("button", name="Generate").click()


def assert_images_loaded(images: Locator, count: int) -> None:
    """Every <img> shows a decoded picture (its signed URL loaded under the page's CSP)."""
    expect(images).to_have_count(count)
    for i in range(count):
        image = images.nth(i)
        expect(image).to_have_attribute("src", re.compile(r"^http://127\.0\.0\.1:\d+/"))
        image.scroll_into_view_if_needed()
        # naturalWidth stays 0 for an image that failed or was refused.
        image.page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )


def test_sign_up_generate_browse_delete_undo_sign_out(page: Page, shots: Shots) -> None:
    email = f"studio-{uuid.uuid4().hex[:8]}@example.com"
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    shots("sign-in")
    sign_up(page, email)
    shots("signed-up")

    generate(page, "a lighthouse at dusk", 4)
    expect(page.get_by_test_id("status")).to_have_text("Generated 4 images.")
    assert_images_loaded(page.get_by_test_id("results").locator("img"), 4)
    expect(page.get_by_test_id("usage")).to_contain_text("Images today: 4 /")
    shots("generated")
    generate(page, "a heron over a lake", 4)
    expect(page.get_by_test_id("status")).to_have_text("Generated 4 images.")
    generate(page, "a red fox in snow", 2)
    expect(page.get_by_test_id("status")).to_have_text("Generated 2 images.")
    expect(page.get_by_test_id("usage")).to_contain_text("Images today: 10 /")

    # Pages of 4: scrolling to the end loads the next pages by their tokens.
    page.goto(page.url.split("#")[0] + "#/library?page_size=4")
    tiles = page.get_by_test_id("library-grid").locator("li")
    expect(tiles.first).to_be_visible()
    shots("library-first-page")
    while page.get_by_test_id("library-status").text_content() != "10 shown, that is everything.":
        page.mouse.wheel(0, 4000)
        page.wait_for_timeout(100)
    assert_images_loaded(tiles.locator("img"), 10)
    # Newest first: the fox, then the herons, then the lighthouses.
    alts = tiles.locator("img").evaluate_all("imgs => imgs.map(i => i.alt)")
    fox, heron, lighthouse = "a red fox in snow", "a heron over a lake", "a lighthouse at dusk"
    assert alts == [fox] * 2 + [heron] * 4 + [lighthouse] * 4
    shots("library-scrolled")

    page.get_by_label("Search prompts").fill("heron")
    page.get_by_role("button", name="Search").click()
    expect(tiles).to_have_count(4)
    expect(page.get_by_test_id("library-status")).to_have_text("4 shown, that is everything.")
    assert set(tiles.locator("img").evaluate_all("imgs => imgs.map(i => i.alt)")) == {
        "a heron over a lake"
    }
    shots("library-search")

    tiles.first.get_by_role("link").click()
    expect(page.get_by_role("heading", name="a heron over a lake")).to_be_visible()
    assert_images_loaded(page.locator("article img"), 1)
    download = page.get_by_role("link", name="Download")
    expect(download).to_have_attribute("href", re.compile(r"^http://127\.0\.0\.1:\d+/.+"))
    shots("detail")
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_test_id("asset-status")).to_have_text("Moved to the trash.")
    expect(page.get_by_role("button", name="Undo")).to_be_focused()
    shots("deleted")

    page.get_by_role("link", name="Trash").click()
    expect(page.get_by_test_id("library-grid").locator("li")).to_have_count(1)
    shots("trash")
    page.go_back()
    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_test_id("asset-status")).to_have_text("Restored to the library.")
    expect(page.get_by_role("button", name="Delete")).to_be_visible()
    shots("undone")
    page.get_by_role("link", name="Trash").click()
    expect(page.get_by_test_id("library-status")).to_have_text("The trash is empty.")
    page.get_by_role("link", name="Library").click()
    expect(page.get_by_test_id("library-status")).to_have_text("10 shown, that is everything.")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_test_id("who")).to_be_hidden()
    page.goto(page.url.split("#")[0] + "#/library")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    shots("signed-out")


def test_wrong_password_is_said_plainly(page: Page, auth_emulator: Any) -> None:
    auth_emulator.create_user("known@example.com", PASSWORD)
    page.get_by_label("Email").fill("known@example.com")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")


def test_a_double_click_generates_and_charges_once(page: Page, auth_emulator: Any) -> None:
    email = f"double-{uuid.uuid4().hex[:8]}@example.com"
    auth_emulator.create_user(email, PASSWORD)
    sign_in(page, email)
    page.get_by_label("Prompt", exact=True).fill("a paper boat")
    page.get_by_role("button", name="Generate").dblclick()
    expect(page.get_by_test_id("status")).to_have_text("Generated 1 image.")
    page.get_by_role("link", name="Library").click()
    expect(page.get_by_test_id("library-status")).to_have_text("1 shown, that is everything.")
    expect(page.get_by_test_id("usage")).to_contain_text("Images today: 1 /")
