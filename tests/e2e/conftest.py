"""Browser tests: the built studio in Debian's Chromium, driven by Playwright, against the
session's stack. Playwright never downloads a browser here: it launches /usr/bin/chromium
(installed by `make browser`, which `make test` runs) with a fresh profile per test.

Screenshots of every step go to .local/e2e/<test>/ (test artifacts, not committed)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, expect, sync_playwright

from infra.local.stack import ROOT
from infra.local.webapp import DIST

CHROMIUM = Path("/usr/bin/chromium")
# No sandbox (root in a container), no GPU, and nothing that reaches the network on its own.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = ROOT / ".local" / "e2e"
# Generation on a busy 2-core machine takes seconds: waits are for an outcome, not a time.
expect.set_options(timeout=60_000)


class Shots:
    """Numbered screenshots of a test's steps."""

    def __init__(self, page: Page, name: str) -> None:
        self.page, self.count = page, 0
        self.dir = SHOTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
        self.dir.mkdir(parents=True, exist_ok=True)
        for old in self.dir.glob("*.png"):
            old.unlink()

    def __call__(self, step: str) -> None:
        self.count += 1
        self.page.screenshot(path=self.dir / f"{self.count:02d}-{step}.png", full_page=True)


@pytest.fixture
def browser_context(tmp_path: Path) -> Iterator[BrowserContext]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium")
    assert (DIST / "index.html").is_file(), "web/dist is not built: run make setup"
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=FLAGS,
            viewport={"width": 1100, "height": 800},
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser_context: BrowserContext, clean_stack: dict[str, Any]) -> Iterator[Page]:
    """A page on the studio; fails the test if the browser reported a CSP violation or a
    script error (so the policy is known to let the whole app work)."""
    page = browser_context.pages[0] if browser_context.pages else browser_context.new_page()
    page.set_default_timeout(30_000)
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.goto(clean_stack["gateway"] + "/")
    yield page
    assert problems == []


@pytest.fixture
def shots(page: Page, request: pytest.FixtureRequest) -> Shots:
    return Shots(page, request.node.name)
