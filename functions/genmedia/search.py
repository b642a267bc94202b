"""Prompt search terms: how ``q`` on the asset library is indexed.

Each asset stores ``search_terms``: every word of its prompt (``genmedia.text.words``: NFKC,
invisible characters dropped, case-folded) and every prefix of each word from 2 characters up
to ``MAX_TERM`` (longer words are rare; a longer query is refused rather than silently cut). A
query term is one word, matched with a single ``array-contains`` filter, so a search is still
one Firestore query per page served by a composite index (owner_uid, state, search_terms,
create_time).
"""

from __future__ import annotations

from genmedia.errors import FieldError, InvalidArgument
from genmedia.text import words

MIN_TERM = 2
MAX_TERM = 30
MAX_WORDS = 60


def terms(text: str) -> list[str]:
    found: set[str] = set()
    for word in words(text)[:MAX_WORDS]:
        word = word[:MAX_TERM]
        found.update(word[:i] for i in range(MIN_TERM, len(word) + 1))
    return sorted(found)


def query_term(q: str) -> str:
    found = words(q)
    if len(found) != 1 or not MIN_TERM <= len(found[0]) <= MAX_TERM:
        raise InvalidArgument(
            "q must be a single word or word prefix",
            errors=[FieldError("q", f"one word of {MIN_TERM} to {MAX_TERM} characters")],
        )
    return found[0]
