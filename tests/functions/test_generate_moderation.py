"""Prompt moderation through generate_image: blocked before any charge or provider call."""

from __future__ import annotations

from typing import Any

import pytest

DENYLIST = "dragonfire,forbidden fruit"


def fullwidth(text: str) -> str:
    """ASCII letters as their full-width forms (U+FF21..), which NFKC folds back."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalpha() else c for c in text)


BLOCKED = {
    "prompt": ({"prompt": "A DRAGONFIRE over the bay"}, "denylist:dragonfire"),
    "full-width prompt": ({"prompt": fullwidth("dragonfire at dusk")}, "denylist:dragonfire"),
    "negative prompt": (
        {"prompt": "an orchard", "negative_prompt": "forbidden--fruit"},
        "denylist:forbidden fruit",
    ),
    "style": ({"prompt": "an orchard", "style": "Forbidden. Fruit!"}, "denylist:forbidden fruit"),
}


@pytest.fixture
def moderated(functions: Any) -> Any:
    functions.configure(GENMEDIA_MODERATION_DENYLIST=DENYLIST)
    return functions


@pytest.mark.parametrize(("body", "reason"), BLOCKED.values(), ids=BLOCKED.keys())
def test_denylisted_text_is_blocked_before_charging(
    moderated: Any,
    problem: Any,
    emulators: Any,
    make_user: Any,
    body: dict[str, Any],
    reason: str,
) -> None:
    provider = moderated.provider()
    user = make_user()
    response = moderated.generate(moderated.client("generate_image"), user, body)
    problem(response, 422, "CONTENT_BLOCKED")
    assert provider.calls == 0
    assert emulators.usage(user.uid) is None
    assert emulators.asset_states(user.uid) == {}
    [event] = emulators.docs("moderation_events")
    assert (event["uid"], event["reason"]) == (user.uid, reason)
    assert event["request_id"] == response.headers["X-Request-ID"]


def test_words_merely_containing_a_term_pass(
    moderated: Any, emulators: Any, make_user: Any
) -> None:
    provider = moderated.provider()
    user = make_user()
    body = {"prompt": "dragonfireworks above a forbidden fruitcake stall"}
    response = moderated.generate(moderated.client("generate_image"), user, body)
    assert response.status_code == 200
    assert provider.calls == 1
    assert emulators.docs("moderation_events") == []
