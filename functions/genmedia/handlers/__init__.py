"""HTTP handlers: one module per Cloud Function, named as deployed, each exposing ``router``.

A handler parses the request into plain inputs, calls its service with the instance's
``Deps`` and returns the result; the router does authentication, roles, idempotency and
problem+json. ``function_router`` wires a router to the composition root.
"""

from __future__ import annotations

from datetime import timedelta

from genmedia.bootstrap import deps
from genmedia.config import Settings
from genmedia.http import Request, Router
from genmedia.http.auth import FirebaseAuthenticator
from genmedia.idempotency import IdempotencyGuard


def _settings() -> Settings:
    return deps().settings


def _guard() -> IdempotencyGuard:
    d = deps()
    ttl = timedelta(hours=d.settings.idempotency_ttl_hours)
    return IdempotencyGuard(d.database.idempotency, d.clock, ttl)


def function_router(name: str, *, authenticated: bool = True) -> Router:
    """The router of function ``name``: settings, Firebase auth and idempotency from ``deps()``."""
    authenticator = (
        FirebaseAuthenticator(lambda: deps().firebase_app(), lambda: deps().revocations())
        if authenticated
        else None
    )
    return Router(name, settings=_settings, authenticator=authenticator, idempotency=_guard)


def task_retry_count(req: Request) -> int:
    """How many times Cloud Tasks has retried this task (0 on the first attempt)."""
    raw = req.header("X-CloudTasks-TaskRetryCount") or "0"
    return int(raw) if raw.isdigit() else 0


def public_routers() -> list[Router]:
    """Every function's router, for the OpenAPI document (imported only when it is built)."""
    from genmedia.handlers import (
        account,
        admin,
        generate_image,
        generate_video,
        health,
        issue_signed_url,
        jobs,
        library,
        webhooks,
    )

    return [
        health.router,
        generate_image.router,
        generate_video.router,
        jobs.router,
        webhooks.router,
        issue_signed_url.router,
        library.router,
        admin.router,
        account.router,
    ]
