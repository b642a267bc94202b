"""Cloud Function entry points: one per deployed function, named as deployed and in Terraform.

Each imports its handler module on first request, so a function loads only what it serves
(cold start). ``bootstrap.boot()`` validates the settings when the instance starts, and
``server.configure()`` sets the HTTP server's limits and problem+json refusals before
functions-framework builds the server.
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

import flask
import functions_framework
from werkzeug.exceptions import HTTPException

from genmedia import bootstrap, server

if TYPE_CHECKING:
    from cloudevents.http import CloudEvent

bootstrap.boot()
server.configure()
# Refusals of functions-framework's own Flask routing are problem+json too (werkzeug is loaded
# with Flask already, so this costs the cold start nothing).
functions_framework.errorhandler(HTTPException)(server.framework_refusal)
# Everything imported so far lives as long as the instance: moved out of the collector's
# generations, a worker's collections (several during its first request's imports) no longer
# scan it, nor write to the pages it shares with the gunicorn master it was forked from.
gc.freeze()


@functions_framework.http
def health(request: flask.Request) -> flask.Response:
    from genmedia.handlers import health as handlers

    return handlers.router.dispatch(request)


@functions_framework.http
def generate_image(request: flask.Request) -> flask.Response:
    from genmedia.handlers import generate_image as handlers

    return handlers.router.dispatch(request)


@functions_framework.http
def issue_signed_url(request: flask.Request) -> flask.Response:
    from genmedia.handlers import issue_signed_url as handlers

    return handlers.router.dispatch(request)


@functions_framework.http
def library(request: flask.Request) -> flask.Response:
    from genmedia.handlers import library as handlers

    return handlers.router.dispatch(request)


@functions_framework.http
def admin(request: flask.Request) -> flask.Response:
    from genmedia.handlers import admin as handlers

    return handlers.router.dispatch(request)


@functions_framework.http
def generate_video(request: flask.Request) -> flask.Response:
    from genmedia.handlers import generate_video as handlers

    return handlers.router.dispatch(request)


@functions_framework.http
def jobs(request: flask.Request) -> flask.Response:
    from genmedia.handlers import jobs as handlers

    return handlers.router.dispatch(request)


@functions_framework.http
def video_worker(request: flask.Request) -> flask.Response:
    from genmedia.handlers import video_worker as handlers

    return handlers.router.dispatch(request)


@functions_framework.http
def webhooks(request: flask.Request) -> flask.Response:
    from genmedia.handlers import webhooks as handlers

    return handlers.router.dispatch(request)


@functions_framework.http
def deliver_webhook(request: flask.Request) -> flask.Response:
    from genmedia.handlers import deliver_webhook as handlers

    return handlers.router.dispatch(request)


@functions_framework.http
def account(request: flask.Request) -> flask.Response:
    from genmedia.handlers import account as handlers

    return handlers.router.dispatch(request)


@functions_framework.http
def export_worker(request: flask.Request) -> flask.Response:
    from genmedia.handlers import export_worker as handlers

    return handlers.router.dispatch(request)


@functions_framework.http
def erasure_worker(request: flask.Request) -> flask.Response:
    from genmedia.handlers import erasure_worker as handlers

    return handlers.router.dispatch(request)


@functions_framework.cloud_event
def sweeper(event: CloudEvent) -> None:
    from genmedia.handlers import sweeper as handlers

    handlers.handle(event)


@functions_framework.cloud_event
def purge(event: CloudEvent) -> None:
    from genmedia.handlers import purge as handlers

    handlers.handle(event)
