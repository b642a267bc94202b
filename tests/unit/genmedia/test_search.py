"""Prompt search terms: what is indexed and which query words are accepted."""

from __future__ import annotations

import pytest

from genmedia.errors import InvalidArgument
from genmedia.search import MAX_TERM, query_term, terms


def test_every_prefix_of_every_word_from_two_characters_is_indexed() -> None:
    assert terms("Red kite") == ["ki", "kit", "kite", "re", "red"]


def test_words_are_normalised_like_moderation_does() -> None:
    assert "strasse" in terms("STRASSE") and terms("Straße") == terms("strasse")


def test_long_words_are_indexed_up_to_the_maximum() -> None:
    word = "a" * (MAX_TERM + 10)
    assert max(len(t) for t in terms(word)) == MAX_TERM


@pytest.mark.parametrize("q", ["Kit", " kite ", "KITE!"])
def test_a_query_is_one_normalised_word(q: str) -> None:
    assert query_term(q) in {"kit", "kite"}


@pytest.mark.parametrize("q", ["k", "two words", "x" * (MAX_TERM + 1), "!!"])
def test_other_queries_are_422_on_q(q: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        query_term(q)
    assert caught.value.errors[0].field == "q"
