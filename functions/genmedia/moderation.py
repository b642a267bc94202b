"""Input moderation: a pluggable check before any charge or provider call.

The default checker is a configurable denylist matched on whole words of the text's skeleton
(``genmedia.text``: invisible characters dropped, accents removed, lookalike letters folded to
Latin), and again with runs of single letters joined, so ``c.s.a.m`` and ``c s a m`` count as
the word they spell. Terms go through the same normalisation. Blocked prompts are answered
422 CONTENT_BLOCKED and recorded for audit in ``moderation_events`` (the prompt is kept there,
in a restricted collection, never in logs).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Iterable
from datetime import datetime

from genmedia import text as text_forms
from genmedia.errors import ContentBlocked
from genmedia.store.moderation import ModerationEventRepository
from genmedia.store.records import ModerationEvent

# Returns the reason a text is blocked, or None.
Checker = Callable[[str], str | None]


# Two or more one-character words in a row: "c s a m", from "c.s.a.m" or "c-s-a-m".
_SPELLED_OUT = re.compile(r"\b\w(?: \w\b)+")


def forms(text: str) -> list[str]:
    """What a text is matched as: its skeleton, and the skeleton with spelled-out runs joined."""
    clean = text_forms.skeleton(text)
    joined = _SPELLED_OUT.sub(lambda m: m.group(0).replace(" ", ""), clean)
    return [clean] if joined == clean else [clean, joined]


def denylist_checker(terms: Iterable[str]) -> Checker:
    skeletons = [(t, text_forms.skeleton(t)) for t in terms]
    patterns = [(t, re.compile(rf"\b{re.escape(form)}\b")) for t, form in skeletons if form]

    def check(text: str) -> str | None:
        candidates = forms(text)
        return next(
            (
                f"denylist:{term}"
                for term, pattern in patterns
                if any(pattern.search(c) for c in candidates)
            ),
            None,
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


class DenylistPolicy:
    """The denylist checker, with the terms admins set (``settings/moderation``) re-read at
    most every ``ttl_s`` seconds, so an edit applies everywhere within that time without a
    redeploy. Until admins set a list, and whenever it cannot be read, the deployment's
    ``GENMEDIA_MODERATION_DENYLIST`` applies (never an empty list: the check does not fail
    open)."""

    def __init__(
        self,
        load: Callable[[], tuple[str, ...] | None],
        default: tuple[str, ...],
        *,
        ttl_s: float,
        monotonic: Callable[[], float],
    ) -> None:
        self._load, self._default, self._ttl, self._now = load, default, ttl_s, monotonic
        self._terms: tuple[str, ...] | None = None
        self._checker: Checker = denylist_checker(default)
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()

    def __call__(self, text: str) -> str | None:
        return self._current()(text)

    def _current(self) -> Checker:
        with self._lock:
            if self._now() - self._loaded_at >= self._ttl:
                self._loaded_at = self._now()
                try:
                    terms = self._load() or self._default
                except Exception:  # noqa: BLE001 - keep the last list rather than fail open
                    terms = self._terms or self._default
                if terms != self._terms:
                    self._terms, self._checker = terms, denylist_checker(terms)
            return self._checker
