"""A cloud_event function for integration tests: appends each CloudEvent it receives, as one
JSON line, to the file named by RECORD_FILE (it runs in its own functions-framework process)."""

from __future__ import annotations

import json
import os
from typing import Any

import functions_framework


@functions_framework.cloud_event
def record(event: Any) -> None:
    line = {"attributes": dict(event.get_attributes()), "data": event.get_data()}
    with open(os.environ["RECORD_FILE"], "a") as out:
        out.write(json.dumps(line, default=str) + "\n")
