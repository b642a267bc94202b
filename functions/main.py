"""Cloud Function entry points: one per deployed function, named as deployed and in Terraform.

Each serves the router of one ``genmedia.handlers`` module, imported on first request, so a
function loads only what it serves (cold start). The handlers parse, authorise, call their
service and respond; errors become problem+json in the router.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import flask
import functions_framework

from genmedia.app import boot

boot()


def _entry_point(name: str, handlers: str) -> Callable[[flask.Request], flask.Response]:
    def entry(request: flask.Request) -> flask.Response:
        router = importlib.import_module(f"genmedia.handlers.{handlers}").router
        response: flask.Response = router.dispatch(request)
        return response

    entry.__name__ = entry.__qualname__ = name  # functions-framework registers by name
    return functions_framework.http(entry)


health = _entry_point("health", "health")
generate_image = _entry_point("generate_image", "images")
issue_signed_url = _entry_point("issue_signed_url", "signing")
library = _entry_point("library", "library")
admin = _entry_point("admin", "admin")
