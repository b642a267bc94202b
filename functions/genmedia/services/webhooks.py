"""Webhook endpoints (register, list, delete, rotate) and the events a finished job sends.

A URL is vetted at registration (services never store an address that points inside) and
again at every delivery against the address actually connected to (webhooks/ssrf.py and
delivery.py), since DNS can change in between. The signing secret is shown once, when an
endpoint is created or its secret rotated; after a rotation the previous secret keeps signing
too for ``ROTATION_OVERLAP`` so receivers can switch without dropping events.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from genmedia.errors import FailedPrecondition, NotFound
from genmedia.formats import rfc3339
from genmedia.logging import get_logger
from genmedia.principal import Principal
from genmedia.services import audit
from genmedia.store.records import JobRecord, WebhookRecord
from genmedia.webhooks import signing, ssrf

if TYPE_CHECKING:
    from datetime import datetime

    from genmedia.bootstrap import Deps

MAX_ENDPOINTS = 10
ROTATION_OVERLAP = timedelta(hours=24)
EVENT_OF_STATE = {
    "SUCCEEDED": "job.succeeded",
    "FAILED": "job.failed",
    "CANCELLED": "job.cancelled",
}
_log = get_logger("genmedia.webhooks")


def webhook_view(hook: WebhookRecord) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": hook.id,
        "url": hook.url,
        "events": list(hook.events),
        "disabled": hook.disabled,
        "create_time": rfc3339(hook.create_time),
        "update_time": rfc3339(hook.update_time),
    }
    if hook.last_attempt is not None:
        view["last_attempt"] = dict(hook.last_attempt)
    return view


def owned(hook: WebhookRecord | None, principal: Principal) -> WebhookRecord:
    if hook is None or hook.owner_uid != principal.uid:
        raise NotFound("No such webhook")
    return hook


def vet(deps: Deps, url: str) -> ssrf.Target:
    """``url`` checked against the SSRF policy now (raises a 422 saying why not)."""
    loopback = not deps.settings.running_in_cloud
    return ssrf.check_url(url, allow_loopback_http=loopback, resolver=deps.resolver())


def create(deps: Deps, principal: Principal, url: str, events: list[str]) -> dict[str, Any]:
    vet(deps, url)
    now, db = deps.clock.now(), deps.database
    secret = signing.new_secret()
    hook = WebhookRecord(
        id=deps.new_id(), owner_uid=principal.uid, url=url, events=sorted(set(events)),
        secrets=[secret], create_time=now, update_time=now,
    )  # fmt: skip

    def work(txn: Any) -> None:
        if len(db.webhooks.for_owner(principal.uid, txn)) >= MAX_ENDPOINTS:
            raise FailedPrecondition(f"At most {MAX_ENDPOINTS} webhooks per user")
        db.webhooks.create(txn, hook)
        audit.record(deps, txn, principal, "webhook.create", ("webhook", hook.id),
                     details={"url": url, "events": hook.events})  # fmt: skip

    db.run_transaction(work)
    return webhook_view(hook) | {"secret": secret}


def list_for(deps: Deps, principal: Principal) -> dict[str, Any]:
    return {"webhooks": [webhook_view(h) for h in deps.database.webhooks.for_owner(principal.uid)]}


def delete(deps: Deps, principal: Principal, webhook_id: str) -> None:
    owned(deps.database.webhooks.get(webhook_id), principal)
    deps.database.webhooks.delete(webhook_id)
    audit.record(deps, None, principal, "webhook.delete", ("webhook", webhook_id))


def rotate_secret(deps: Deps, principal: Principal, webhook_id: str) -> dict[str, Any]:
    hook = owned(deps.database.webhooks.get(webhook_id), principal)
    now, secret = deps.clock.now(), signing.new_secret()
    fields = {
        "secrets": [secret, hook.secrets[0]],
        "previous_until": now + ROTATION_OVERLAP,
        "update_time": now,
    }
    deps.database.webhooks.update(webhook_id, fields)
    return webhook_view(replace(hook, **fields)) | {"secret": secret}  # type: ignore[arg-type]


def signing_secrets(hook: WebhookRecord, now: datetime) -> list[str]:
    """The current secret, and the previous one while the rotation overlap lasts."""
    if hook.previous_until is not None and now < hook.previous_until:
        return list(hook.secrets[:2])
    return list(hook.secrets[:1])


def event_id(job: JobRecord) -> str:
    """The ``webhook-id`` of a job's terminal event: the same on every retry and endpoint."""
    return f"msg_{job.id}_{job.state.lower()}"


def notify(deps: Deps, job: JobRecord) -> int:
    """Enqueue one delivery per endpoint of the owner subscribed to the job's terminal event.

    Task names are per (job, event, endpoint), so calling this again enqueues nothing twice.
    """
    event = EVENT_OF_STATE.get(job.state)
    if event is None:
        return 0
    hooks = [
        h for h in deps.database.webhooks.for_owner(job.owner_uid)
        if event in h.events and not h.disabled
    ]  # fmt: skip
    queue = deps.webhook_queue()
    for hook in hooks:
        payload = {"webhook_id": hook.id, "job_id": job.id, "event": event}
        queue.enqueue(f"{job.id}-{job.state.lower()}-{hook.id}", payload)
    if hooks:
        _log.info("webhooks queued", extra={"json_fields": {"job": job.id, "count": len(hooks)}})
    return len(hooks)
