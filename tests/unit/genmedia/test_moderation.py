"""Whole-word denylist matching on the text skeleton, and recording what was blocked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from genmedia.config import DEFAULT_DENYLIST
from genmedia.errors import ContentBlocked
from genmedia.moderation import denylist_checker, enforce
from tests.fakes.store import InMemoryDatabase
from tests.unit.genmedia.test_text import fullwidth

CHECK = denylist_checker(["dragonfire", "forbidden fruit", "Hot-Dog"])


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("a dragonfire at dusk", "denylist:dragonfire"),
        ("A DRAGONFIRE AT DUSK", "denylist:dragonfire"),
        (fullwidth("DragonFire"), "denylist:dragonfire"),
        ("dragonfire.", "denylist:dragonfire"),
        ("(dragonfire)", "denylist:dragonfire"),
        ("forbidden fruit", "denylist:forbidden fruit"),
        ("Forbidden...Fruit", "denylist:forbidden fruit"),
        ("forbidden -- fruit", "denylist:forbidden fruit"),
        ("forbidden\n\tfruit", "denylist:forbidden fruit"),
        ("forbidden_fruit", "denylist:forbidden fruit"),  # underscore is punctuation too
        ("a hot dog stand", "denylist:Hot-Dog"),  # the term is normalised like the text
        ("hot-dog", "denylist:Hot-Dog"),
    ],
)
def test_denylisted_terms_are_found_after_normalisation(text: str, reason: str) -> None:
    assert CHECK(text) == reason


@pytest.mark.parametrize(
    "text",
    [
        "dragonfires over the bay",
        "a dragonfirefly",
        "snapdragonfire",
        "forbiddenfruit",
        "forbidden apple, tasty fruit",
        "fruit forbidden",
        "hotdogs",
        "a hot day, a dog",
        "",
    ],
)
def test_words_that_merely_contain_a_term_pass(text: str) -> None:
    assert CHECK(text) is None


def test_first_matching_term_is_the_reason() -> None:
    assert CHECK("forbidden fruit and dragonfire") == "denylist:dragonfire"


def test_terms_that_normalise_to_nothing_match_nothing() -> None:
    check = denylist_checker(["", "!!!", "  "])
    assert check("!!! anything at all") is None


@pytest.mark.parametrize("term", DEFAULT_DENYLIST)
def test_default_denylist_terms_are_blocked(term: str) -> None:
    assert denylist_checker(DEFAULT_DENYLIST)(f"Show {term.upper()} please") == f"denylist:{term}"


def test_enforce_records_the_blocked_text_and_refuses() -> None:
    db = InMemoryDatabase()
    now = datetime(2026, 1, 2, tzinfo=UTC)
    check = denylist_checker(["gore"])
    who = {"events": db.moderation_events, "uid": "u", "request_id": "r", "now": now}
    enforce(check, ["a calm sea", "calm"], **who)  # type: ignore[arg-type]
    assert db.state.moderation_events == []
    with pytest.raises(ContentBlocked):
        enforce(check, ["fine", "GORE!"], **who)  # type: ignore[arg-type]
    (event,) = db.state.moderation_events
    assert (event.reason, event.text, event.create_time) == ("denylist:gore", "GORE!", now)
    assert len(event.text_sha256) == 64
