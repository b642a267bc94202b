"""``erasure_worker`` function (private): Cloud Tasks deliveries of account erasure steps.

Not routed by the gateway or the load balancer; every request must carry the tasks service
account's OIDC token for this function's URL.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from genmedia.bootstrap import deps
from genmedia.handlers import function_router
from genmedia.http import ApiModel, Request
from genmedia.services import erasure_worker
from genmedia.task_queue import ERASURE_TASK_PATH

router = function_router("erasure_worker", authenticated=False)


class ErasureTask(ApiModel):
    erasure_id: str = Field(pattern="^erased-[0-9a-f]{32}$")
    step: int = Field(ge=0, le=1_000_000)


@router.route("POST", ERASURE_TASK_PATH, auth=False, public=False, errors=[401, 403, 422, 503])
def run_step(req: Request) -> dict[str, Any]:
    d = deps()
    d.task_verifier(d.settings.erasure_worker_url).verify(req.header("Authorization"))
    task = req.json(ErasureTask)
    return {
        "outcome": erasure_worker.handle(d, erasure_worker.Delivery(task.erasure_id, task.step))
    }
