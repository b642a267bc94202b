"""Denylist bypass attempts found in an adversarial pass: each spelling must be refused, and
innocent text sharing a blocked word's letters must still pass (default denylist)."""

from __future__ import annotations

import pytest

from genmedia.config import DEFAULT_DENYLIST
from genmedia.moderation import denylist_checker

CHECK = denylist_checker(DEFAULT_DENYLIST)

BYPASSES = [
    "cs\u200bam",  # zero-width space
    "cs\u200dam",  # zero-width joiner
    "cs\u2060am",  # word joiner
    "cs\u00adam",  # soft hyphen
    "c\ufeffsam",  # zero-width no-break space
    "cs\u202eam",  # a bidi control
    "\u0441s\u0430m",  # Cyrillic es and a
    "c\u0455am",  # Cyrillic dze
    "\u0421\u0405\u0410M",  # Cyrillic capitals
    "c\u0301s\u00e1m",  # accents, combining and precomposed
    "\uff43\uff53\uff41\uff4d",  # full width
    "\U0001d41c\U0001d42c\U0001d41a\U0001d426",  # mathematical bold
    "c.s.a.m",
    "c-s-a-m",
    "c s a m",
    "C_S_A_M",
    "a picture of c . s . a . m please",
    "child\u200b sexual abuse",
    "ch\u0456ld sexual abuse",  # Cyrillic i
    "b\u0435h\u0435ading",  # Cyrillic e
    "Bestiality\u00ad",
]
INNOCENT = [
    "docs amazing",  # the letters of a term across a word boundary
    "abscam documentary",
    "the class am",
    "a cat on a mat",
    "b e h e a d",  # spelled out, but not a term
    "children sing about a sexual health campaign",
    "a beheaded statue",  # not the whole word
    "crème brûlée",
]


@pytest.mark.parametrize("text", BYPASSES)
def test_bypass_spellings_are_refused(text: str) -> None:
    assert CHECK(text) is not None, text


@pytest.mark.parametrize("text", INNOCENT)
def test_innocent_text_passes(text: str) -> None:
    assert CHECK(text) is None, text
