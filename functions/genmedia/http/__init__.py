"""The HTTP contract every function uses: routing, request parsing, problem+json, CORS.

Typical use in a function module::

    router = Router("images")

    @router.route("POST", "/v1/images:generate", request_model=GenerateRequest,
                  response_model=GenerateResponse, summary="Generate images", errors=[429])
    def generate(req: Request) -> Response:
        body = req.json(GenerateRequest)
        ...

    @functions_framework.http
    def images(request: flask.Request) -> flask.Response:
        return router.dispatch(request)
"""

from genmedia.http.models import ApiModel, field_errors, field_path
from genmedia.http.problem import PROBLEM_CONTENT_TYPE, problem_body, problem_type
from genmedia.http.request import Request, Response, Stream
from genmedia.http.router import HEALTH_PATH, Authenticator, Handler, Link, Route, Router, link
from genmedia.http.tracing import Trace

__all__ = [
    "HEALTH_PATH",
    "PROBLEM_CONTENT_TYPE",
    "ApiModel",
    "Authenticator",
    "Handler",
    "Link",
    "Request",
    "Response",
    "Route",
    "Router",
    "Stream",
    "Trace",
    "field_errors",
    "field_path",
    "link",
    "problem_body",
    "problem_type",
]
