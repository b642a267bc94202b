"""``export_worker`` function (private): Cloud Tasks deliveries of data exports.

Not routed by the gateway or the load balancer; every request must carry the tasks service
account's OIDC token for this function's URL.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from genmedia.bootstrap import deps
from genmedia.catalog import ID_PATTERN
from genmedia.handlers import function_router, task_retry_count
from genmedia.http import ApiModel, Request
from genmedia.services import export_worker
from genmedia.task_queue import EXPORT_TASK_PATH

router = function_router("export_worker", authenticated=False)


class ExportTask(ApiModel):
    export_id: str = Field(pattern=f"^{ID_PATTERN}$")


@router.route("POST", EXPORT_TASK_PATH, auth=False, public=False, errors=[401, 403, 422, 503])
def run_export(req: Request) -> dict[str, Any]:
    d = deps()
    d.task_verifier(d.settings.export_worker_url).verify(req.header("Authorization"))
    task = req.json(ExportTask)
    delivery = export_worker.Delivery(task.export_id, task_retry_count(req))
    return {"outcome": export_worker.handle(d, delivery)}
