"""The management pages in the browser: webhooks (secret shown once, rotated, deleted) and
the admin page, which only an admin's role claim shows."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect

from infra.local.authemu import AuthEmulator
from tests.e2e.conftest import Shots
from tests.e2e.test_studio import PASSWORD, sign_in


def test_webhooks_are_added_rotated_and_deleted(
    page: Page, shots: Shots, auth_emulator: AuthEmulator
) -> None:
    email = f"hooks-{uuid.uuid4().hex[:8]}@example.com"
    auth_emulator.create_user(email, PASSWORD)
    sign_in(page, email)
    expect(page.get_by_test_id("admin-link")).to_be_hidden()
    page.get_by_role("link", name="Webhooks").click()
    page.get_by_label("Endpoint URL").fill("http://127.0.0.1:9/hooks")
    page.get_by_label("job.failed").uncheck()
    page.get_by_role("button", name="Add webhook").click()
    status = page.get_by_test_id("webhook-status")
    expect(status).to_have_text("Webhook added.")
    secret = page.get_by_test_id("secret").locator("code")
    expect(secret).to_have_text(re.compile(r"^whsec_"))
    first_secret = secret.text_content()
    hook = page.get_by_test_id("webhooks").locator("li")
    expect(hook).to_have_count(1)
    expect(hook).to_contain_text("Events: job.cancelled, job.succeeded")
    shots("added")
    hook.get_by_role("button", name="Rotate secret").click()
    expect(status).to_contain_text("the old one keeps signing for 24 hours")
    expect(secret).not_to_have_text(first_secret or "")
    page.reload()  # the list comes from the API; the secret is never shown again
    expect(hook).to_have_count(1)
    expect(page.get_by_test_id("secret")).to_be_empty()
    hook.get_by_role("button", name="Delete").click()
    expect(status).to_have_text("Webhook deleted.")
    expect(hook).to_have_count(0)
    page.goto(page.url.split("#")[0] + "#/admin")
    expect(page.get_by_role("alert")).to_have_text("This page is for administrators.")


def test_admin_sets_a_quota_and_sees_it_in_the_audit_log(
    page: Page, shots: Shots, auth_emulator: AuthEmulator
) -> None:
    email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
    auth_emulator.create_user(email, PASSWORD, role="admin")
    target = auth_emulator.create_user(f"target-{uuid.uuid4().hex[:8]}@example.com")
    sign_in(page, email)
    page.get_by_test_id("admin-link").click()
    page.get_by_label("User id").fill(target)
    page.get_by_role("button", name="Look up").click()
    user = page.get_by_test_id("admin-user")
    expect(user).to_contain_text("Effective quota: 50 images a day")
    page.get_by_label("Images per day").fill("3")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(user).to_contain_text("Effective quota: 3 images a day")
    page.reload()
    expect(page.get_by_test_id("audit")).to_contain_text(
        re.compile(rf"user\.update.*user {target}")
    )
    shots("admin")
