"""``deliver_webhook`` function (private): Cloud Tasks deliveries of webhook events.

Not routed publicly; every request must carry the tasks service account's OIDC token for
this function's URL.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from genmedia.bootstrap import deps
from genmedia.catalog import ID_PATTERN
from genmedia.handlers import function_router
from genmedia.http import ApiModel, Request
from genmedia.models import WebhookEvent
from genmedia.services import webhook_delivery
from genmedia.task_queue import WEBHOOK_TASK_PATH

router = function_router("deliver_webhook", authenticated=False)


class DeliveryTaskBody(ApiModel):
    webhook_id: str = Field(pattern=f"^{ID_PATTERN}$")
    job_id: str = Field(pattern=f"^{ID_PATTERN}$")
    event: WebhookEvent


@router.route("POST", WEBHOOK_TASK_PATH, auth=False, public=False, errors=[401, 403, 422, 503])
def deliver(req: Request) -> dict[str, Any]:
    d = deps()
    d.task_verifier(d.settings.webhook_worker_url).verify(req.header("Authorization"))
    body = req.json(DeliveryTaskBody)
    raw = req.header("X-CloudTasks-TaskRetryCount") or "0"
    task = webhook_delivery.DeliveryTask(
        body.webhook_id, body.job_id, body.event, int(raw) if raw.isdigit() else 0
    )
    return {"outcome": webhook_delivery.deliver(d, task)}
