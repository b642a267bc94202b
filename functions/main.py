"""Cloud Function entry points: one per deployed function, named as deployed and in Terraform.

Each imports its handlers on first request, so a function loads only what it serves.
"""

from __future__ import annotations

import flask
import functions_framework

from genmedia.app import boot

boot()


@functions_framework.http
def health(request: flask.Request) -> flask.Response:
    from genmedia.handlers.health import router

    return router.dispatch(request)


@functions_framework.http
def generate_image(request: flask.Request) -> flask.Response:
    from genmedia.handlers.images import router

    return router.dispatch(request)


@functions_framework.http
def issue_signed_url(request: flask.Request) -> flask.Response:
    from genmedia.handlers.signing import router

    return router.dispatch(request)


@functions_framework.http
def library(request: flask.Request) -> flask.Response:
    from genmedia.handlers.library import router

    return router.dispatch(request)


@functions_framework.http
def admin(request: flask.Request) -> flask.Response:
    from genmedia.handlers.admin import router

    return router.dispatch(request)
