"""``purge`` event function: the scheduled hard delete of expired trash (services/purge.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from genmedia.handlers import events
from genmedia.services import purge

if TYPE_CHECKING:
    from cloudevents.http import CloudEvent

    from genmedia.bootstrap import Deps


def _work(deps: Deps, _: dict[str, Any]) -> None:
    purge.purge(deps)


def handle(event: CloudEvent) -> None:
    events.run("purge", event, _work)
