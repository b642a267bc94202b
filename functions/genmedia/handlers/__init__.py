"""HTTP handlers: one module per Cloud Function, each exposing its ``router``."""

from __future__ import annotations

from genmedia.http import Router


def public_routers() -> list[Router]:
    """Every function's router, for the OpenAPI document (imported only when it is built)."""
    from genmedia.handlers import admin, health, images, library, signing

    return [health.router, images.router, signing.router, library.router, admin.router]
