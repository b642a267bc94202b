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
    "zero-width prompt": ({"prompt": "a dragon\u200bfire"}, "denylist:dragonfire"),
    "lookalike negative prompt": (
        {"prompt": "an orchard", "negative_prompt": "f\u043erbidden fruit"},  # Cyrillic o
        "denylist:forbidden fruit",
    ),
    "spelled-out style": (
        {"prompt": "an orchard", "style": "d.r.a.g.o.n.f.i.r.e"},
        "denylist:dragonfire",
    ),
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


@pytest.mark.parametrize("prompt", ["\u200b\u2060", " \u00ad ", "\ufeff\t"])
def test_prompts_of_invisible_characters_only_are_422_and_not_charged(
    moderated: Any, problem: Any, emulators: Any, make_user: Any, prompt: str
) -> None:
    provider = moderated.provider()
    user = make_user()
    response = moderated.generate(moderated.client("generate_image"), user, {"prompt": prompt})
    body = problem(response, 422, "INVALID_ARGUMENT")
    assert [e["field"] for e in body["errors"]] == ["prompt"]
    assert provider.calls == 0 and emulators.usage(user.uid) is None
