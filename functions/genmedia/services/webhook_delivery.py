"""One webhook delivery attempt (a Cloud Task of the webhook-deliveries queue).

The body and ``webhook-id`` are the same on every attempt; the timestamp and signatures are
made per attempt. A 2xx ends the task; a 410 disables the endpoint and ends it; anything a
retry may fix answers 503 so Cloud Tasks retries with the queue's backoff, until its last
attempt, which ends the task with the failure recorded. Every attempt is recorded on the
endpoint (``last_attempt``) for its owner to see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from genmedia.errors import Unavailable
from genmedia.formats import rfc3339
from genmedia.logging import get_logger
from genmedia.services.jobs import job_view
from genmedia.services.webhooks import event_id, signing_secrets
from genmedia.webhooks import delivery, events

if TYPE_CHECKING:
    from genmedia.bootstrap import Deps

_log = get_logger("genmedia.webhook_delivery")


@dataclass(frozen=True)
class DeliveryTask:
    webhook_id: str
    job_id: str
    event: str
    retry_count: int = 0


def deliver(deps: Deps, task: DeliveryTask) -> str:
    """What happened: "delivered", "gone", "failed", "skipped" (or 503 to be retried)."""
    db = deps.database
    hook, job = db.webhooks.get(task.webhook_id), db.jobs.get(task.job_id)
    if hook is None or job is None or hook.disabled or hook.owner_uid != job.owner_uid:
        return "skipped"  # deleted or disabled since; never send one user's job to another
    now = deps.clock.now()
    msg_id = event_id(job)
    body = events.event_body(task.event, job_view(job), event_id=msg_id, timestamp=job.update_time)
    headers = events.delivery_headers(
        signing_secrets(hook, now), msg_id, int(now.timestamp()), body
    )
    result = delivery.deliver(
        hook.url, body=body, headers=headers, resolver=deps.resolver(),
        allow_loopback_http=not deps.settings.running_in_cloud,
    )  # fmt: skip
    attempt = {
        "time": rfc3339(now), "event": task.event, "webhook_id": msg_id,
        "status": result.status, "error": result.error, "duration_ms": result.duration_ms,
    }  # fmt: skip
    db.webhooks.update(hook.id, {"last_attempt": attempt, "disabled": result.gone})
    _log.info(
        "webhook attempt",
        extra={"json_fields": {"webhook": hook.id, "status": result.status, "ok": result.ok}},
    )
    if result.ok:
        return "delivered"
    if result.gone:
        return "gone"
    last = task.retry_count + 1 >= deps.settings.webhook_max_attempts
    if result.retry and not last:
        raise Unavailable("The webhook receiver did not accept the event; retry", retry_after=5)
    return "failed"
