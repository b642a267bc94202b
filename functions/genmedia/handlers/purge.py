"""``purge`` event function: the scheduled hard delete of expired trash (services/purge.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from genmedia.handlers import events
from genmedia.services import purge

if TYPE_CHECKING:
    from cloudevents.http import CloudEvent

    from genmedia.bootstrap import Deps


def handle(event: CloudEvent) -> None:
    event_id = str(event["id"]) if "id" in event else "unknown"

    def work(deps: Deps, payload: dict[str, Any]) -> None:
        purge.run(deps, payload, event_id)

    events.run("purge", event, work)
