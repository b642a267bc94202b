"""Prompt screening for every generation: the content policy, its review record and audit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from genmedia import moderation
from genmedia.errors import ContentBlocked
from genmedia.principal import Principal
from genmedia.services import audit

if TYPE_CHECKING:
    from genmedia.bootstrap import Deps


def screen(deps: Deps, principal: Principal, texts: list[str | None], request_id: str) -> None:
    """Raise ContentBlocked for a blocked text, after recording it for review and audit."""
    try:
        moderation.enforce(
            deps.moderation(), [t for t in texts if t], events=deps.database.moderation_events,
            uid=principal.uid, request_id=request_id, now=deps.clock.now(),
        )  # fmt: skip
    except ContentBlocked:
        audit.record(deps, None, principal, "prompt.blocked", ("user", principal.uid),
                     outcome="refused")  # fmt: skip
        raise
