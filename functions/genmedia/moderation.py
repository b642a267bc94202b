"""Input moderation: a pluggable check before any charge or provider call.

The default checker is a configurable denylist matched on whole words after Unicode and case
normalisation. Blocked prompts are answered 422 CONTENT_BLOCKED and recorded for audit in
``moderation_events`` (the prompt is kept there, in a restricted collection, never in logs).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import datetime

from genmedia.errors import ContentBlocked
from genmedia.store.moderation import ModerationEventRepository
from genmedia.store.records import ModerationEvent

# Returns the reason a text is blocked, or None.
Checker = Callable[[str], str | None]


def normalise(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    # Underscores separate words too, or "bad_word" would slip past a whole-word match.
    return " ".join(re.findall(r"[^\W_]+", folded))


def denylist_checker(terms: Iterable[str]) -> Checker:
    patterns = [(t, re.compile(rf"\b{re.escape(normalise(t))}\b")) for t in terms if normalise(t)]

    def check(text: str) -> str | None:
        clean = normalise(text)
        return next(
            (f"denylist:{term}" for term, pattern in patterns if pattern.search(clean)), None
        )

    return check


def enforce(
    checker: Checker,
    texts: list[str],
    *,
    events: ModerationEventRepository,
    uid: str,
    request_id: str,
    now: datetime,
) -> None:
    """Raise ContentBlocked (after recording the event) if any text is blocked."""
    for text in texts:
        reason = checker(text)
        if reason is None:
            continue
        digest = hashlib.sha256(text.encode()).hexdigest()
        events.add(ModerationEvent(uid, reason, request_id, now, text, digest))
        raise ContentBlocked("The prompt was blocked by the content policy")
