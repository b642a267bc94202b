"""``health`` function: liveness, readiness and the OpenAPI document."""

from __future__ import annotations

import functools
from typing import Any

from genmedia.bootstrap import deps
from genmedia.handlers import function_router
from genmedia.http import Request, Response, Router
from genmedia.services import health

router = function_router("health", authenticated=False)


@router.route("GET", "/v1/healthz", auth=False, summary="Liveness: the process is up")
def healthz(_: Request) -> dict[str, str]:
    return {"status": "ok"}


def readyz(_: Request) -> Response:
    report = health.readiness(deps())
    ok = report["status"] == "ok"
    headers = {} if ok else {"Retry-After": "5"}
    return Response(report, status=200 if ok else 503, headers=headers)


def add_readiness(target: Router) -> None:
    """``GET /readyz`` on a function's own URL: dependencies plus that instance's breakers,
    which only the instance holding them can report."""
    target.route("GET", "/readyz", auth=False, public=False, errors=[503])(readyz)


router.route(
    "GET",
    "/v1/readyz",
    auth=False,
    errors=[503],
    summary="Readiness: Firestore, Storage and Tasks answer",
)(readyz)


@router.route("GET", "/v1/openapi.json", auth=False, summary="This API's OpenAPI 3.1 document")
def openapi(_: Request) -> Response:
    return Response(_document(), headers={"Cache-Control": "public, max-age=300"})


@functools.cache
def _document() -> dict[str, Any]:
    from genmedia.handlers import public_routers
    from genmedia.openapi import build_openapi

    return build_openapi(public_routers(), title="GenMedia API", version="1.0.0")
