"""``sweeper`` event function: the scheduled sweep (services/sweeper.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from genmedia.handlers import events
from genmedia.services import sweeper

if TYPE_CHECKING:
    from cloudevents.http import CloudEvent

    from genmedia.bootstrap import Deps


def _work(deps: Deps, _: dict[str, Any]) -> None:
    sweeper.sweep(deps)


def handle(event: CloudEvent) -> None:
    events.run("sweeper", event, _work)
