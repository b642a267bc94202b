"""When the signing function cannot be reached, generation still returns its assets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from infra.local.authemu import AuthEmulator
from infra.local.stack import Stack
from tests.support.harness import Gateway, functions_with_env, new_user, reset_state


@pytest.fixture
def signer_unreachable(controllable_stack: Stack) -> Iterator[Stack]:
    # Port 9 (discard) refuses connections on loopback: the signer is down.
    env = {"GENMEDIA_PUBLIC_BASE_URL": "http://127.0.0.1:9"}
    with functions_with_env(controllable_stack, env, "generate_image") as stack:
        yield stack


def test_assets_are_returned_without_urls_and_can_be_signed_later(
    signer_unreachable: Stack,
) -> None:
    info = signer_unreachable.info()
    reset_state(info)
    user = new_user(AuthEmulator(str(info["auth_emulator"]), str(info["project_id"])))
    gateway = Gateway(str(info["gateway"]))
    resp = gateway.post("/v1/images:generate", user=user, json={"prompt": "a canal", "count": 2})
    assert resp.status_code == 200, resp.text
    assets = resp.json()["assets"]
    assert len(assets) == 2 and all("urls" not in a for a in assets)
    assert resp.json()["usage"]["images"]["used"] == 2
    signed = gateway.post(f"/v1/assets/{assets[0]['id']}:signUrl", user=user, json={})
    assert signed.status_code == 200
    assert requests.get(signed.json()["url"], timeout=10).status_code == 200
