"""``video_worker`` function (private): Cloud Tasks deliveries of video job steps.

Not routed by the gateway or the load balancer; its only invoker is the tasks service
account, and every request must carry that account's OIDC token for this URL.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from genmedia.bootstrap import deps
from genmedia.catalog import ID_PATTERN
from genmedia.handlers import function_router, task_retry_count
from genmedia.http import ApiModel, Request
from genmedia.services import video_worker
from genmedia.task_queue import VIDEO_TASK_PATH

router = function_router("video_worker", authenticated=False)


class StepTask(ApiModel):
    job_id: str = Field(pattern=f"^{ID_PATTERN}$")
    step: int = Field(ge=0, le=100_000)


@router.route("POST", VIDEO_TASK_PATH, auth=False, public=False, errors=[401, 403, 422, 503])
def run_step(req: Request) -> dict[str, Any]:
    d = deps()
    d.task_verifier(d.settings.video_worker_url).verify(req.header("Authorization"))
    task = req.json(StepTask)
    delivery = video_worker.Delivery(task.job_id, task.step, task_retry_count(req))
    return {"outcome": video_worker.handle(d, delivery)}
