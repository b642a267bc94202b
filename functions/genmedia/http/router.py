"""Routing and the one place where every request becomes a response.

Method handling: HEAD is answered wherever GET is (werkzeug drops the body) and OPTIONS on every
known path, so ``Allow`` always lists OPTIONS and lists HEAD only next to GET. Path parameters
match one segment without ``/`` or ``:`` (so ``/v1/assets/{id}`` and ``/v1/assets/{id}:undelete``
never shadow each other); values are already percent-decoded once by the WSGI server and are
not decoded again, then must be 1-128 characters of ``[A-Za-z0-9_-]`` or the path is a 404.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import flask
import pydantic_core
from pydantic import BaseModel

from genmedia import idempotency
from genmedia.catalog import ID_PATTERN
from genmedia.config import Settings
from genmedia.errors import MethodNotAllowed, NotFound, PermissionDenied
from genmedia.http import cors
from genmedia.http.auth import principal_of
from genmedia.http.headers import error_headers
from genmedia.http.problem import PROBLEM_CONTENT_TYPE, problem_body, to_genmedia_error
from genmedia.http.request import Request, Response, Stream
from genmedia.http.responses import Result, access_log, build_response
from genmedia.http.tracing import request_id_from, trace_from
from genmedia.logging import LogContext, bound_context, configure_logging, get_logger, is_configured
from genmedia.principal import Role, require_role

HandlerResult = Response | Stream | Mapping[str, Any] | BaseModel
Handler = Callable[[Request], HandlerResult]
H = TypeVar("H", bound=Handler)


class Authenticator(Protocol):
    """Verifies the caller (raise Unauthenticated to refuse); ``fresh`` asks for the account's
    current revocation state, otherwise the instance may trust a recently fetched one."""

    def __call__(self, req: Request, *, fresh: bool) -> object: ...


GuardFactory = Callable[[], idempotency.IdempotencyGuard]
REPLAYED_HEADER = "Idempotent-Replayed"

HEALTH_PATH = "/healthz"
PARAM_VALUE_RE = re.compile(ID_PATTERN)
ROUTE_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_METHOD_ORDER = (*ROUTE_METHODS, "HEAD", "OPTIONS")
_PARAM_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_NO_BODY_STATUSES = frozenset({204, 304})
READ_METHODS = frozenset({"GET", "HEAD"})
_log = get_logger("genmedia.http")


@dataclass(frozen=True)
class Link:
    """An OpenAPI link: the success response of a route feeds the operation ``method pattern``,
    each of its parameters taken by a runtime expression (``$response.body#/job/id``). Clients
    and stateful fuzzers follow it from a creation to what it created."""

    name: str
    method: str
    pattern: str
    parameters: tuple[tuple[str, str], ...]


def link(name: str, method: str, pattern: str, **parameters: str) -> Link:
    return Link(name, method, pattern, tuple(parameters.items()))


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str
    handler: Handler
    function_name: str
    regex: re.Pattern[str]
    param_names: tuple[str, ...]
    request_model: type[BaseModel] | None = None
    query_model: type[BaseModel] | None = None
    response_model: type[BaseModel] | None = None
    summary: str = ""
    description: str | None = None
    auth: bool = True
    errors: tuple[int, ...] = ()
    public: bool = True
    status: int = 200
    roles: tuple[Role, ...] = ()  # empty: any authenticated caller
    idempotent: bool = False
    read_only: bool = False  # spends and changes nothing: revocation may be checked cached
    links: tuple[Link, ...] = ()
    stream_type: str | None = None  # a streamed success body (documented as a string)

    @property
    def operation_id(self) -> str:
        return f"{self.function_name}.{getattr(self.handler, '__name__', 'handler')}"


def compile_pattern(pattern: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    """Regex for a ``/v1/assets/{id}:undelete`` pattern; each ``{name}`` is one segment."""
    if not pattern.startswith("/"):
        raise ValueError(f"route pattern must start with '/': {pattern!r}")
    parts: list[str] = []
    names: list[str] = []
    last = 0
    for match in _PARAM_RE.finditer(pattern):
        parts.append(re.escape(pattern[last : match.start()]))
        names.append(match[1])
        parts.append(f"(?P<{match[1]}>[^/:]+)")
        last = match.end()
    literal_tail = pattern[last:]
    parts.append(re.escape(literal_tail))
    if any(c in "{}" for c in _PARAM_RE.sub("", pattern)) or len(set(names)) != len(names):
        raise ValueError(f"malformed route pattern: {pattern!r}")
    return re.compile("".join(parts)), tuple(names)


def _health_of(function_name: str) -> Handler:
    # Naming the function lets a caller tell which process answers a port (the local stack
    # checks it: a port taken by another function must not pass as this one being up).
    def health(_: Request) -> Mapping[str, Any]:
        return {"status": "ok", "function": function_name}

    return health


class Router:
    """Routes for one function. ``authenticator``, when given, runs before every auth=True
    handler (raise Unauthenticated to refuse) and its result lands on ``Request.principal``;
    without one, auth=True only documents the route and the handler must authenticate.
    Read-only routes authenticate with ``fresh=False``, the others with ``fresh=True``; an
    idempotent route with a key authenticates with ``fresh=False`` and again with
    ``fresh=True`` only when its handler is about to run, so a replay asks nobody.
    ``settings`` is the Settings, or how to get them at dispatch. Routes declared
    ``idempotent`` run through the guard ``idempotency`` makes when an Idempotency-Key is sent.
    """

    def __init__(
        self,
        function_name: str,
        *,
        settings: Settings | Callable[[], Settings],
        authenticator: Authenticator | None = None,
        idempotency: GuardFactory | None = None,
    ) -> None:
        self.function_name = function_name
        self._settings = settings
        self._authenticator = authenticator
        self._idempotency = idempotency
        self._routes: list[Route] = []
        regex, names = compile_pattern(HEALTH_PATH)
        health = _health_of(function_name)
        self._health = Route("GET", HEALTH_PATH, health, function_name, regex, names, auth=False)

    @property
    def routes(self) -> tuple[Route, ...]:
        return tuple(self._routes)

    def public_routes(self) -> list[Route]:
        return [r for r in self._routes if r.public]

    def route(
        self,
        method: str,
        pattern: str,
        *,
        request_model: type[BaseModel] | None = None,
        query_model: type[BaseModel] | None = None,
        response_model: type[BaseModel] | None = None,
        summary: str = "",
        description: str | None = None,
        auth: bool = True,
        errors: Iterable[int] = (),
        public: bool = True,
        status: int = 200,
        roles: Iterable[Role] = (),
        idempotent: bool = False,
        read_only: bool | None = None,
        links: Iterable[Link] = (),
        stream_type: str | None = None,
    ) -> Callable[[H], H]:
        """Register ``handler`` for ``method pattern``; ``status`` is used for Mapping results.

        ``roles`` limits the route to callers with one of them (checked before anything else
        runs); ``idempotent`` makes an Idempotency-Key replay the first completed response.
        ``read_only`` (default: GET) says the route spends and changes nothing, e.g. a POST
        that signs a URL; only such routes may check revocation through the instance's cache.
        ``links`` document where its success response leads (OpenAPI links) and
        ``stream_type`` the media type of a handler that returns a Stream.
        """
        method = method.upper()
        if method not in ROUTE_METHODS:
            raise ValueError(f"unsupported route method {method!r}")
        if idempotent and (request_model is None or self._idempotency is None):
            raise ValueError("an idempotent route needs a request_model and an idempotency guard")
        regex, names = compile_pattern(pattern)
        if any(r.method == method and r.pattern == pattern for r in self._routes):
            raise ValueError(f"duplicate route {method} {pattern}")

        def register(handler: H) -> H:
            route = Route(
                method, pattern, handler, self.function_name, regex, names,
                request_model, query_model, response_model, summary, description,
                auth, tuple(sorted(set(errors))), public, status, tuple(roles), idempotent,
                method in READ_METHODS if read_only is None else read_only,
                tuple(links), stream_type,
            )  # fmt: skip
            self._routes.append(route)
            # Literal segments beat parameters: /v1/assets/search before /v1/assets/{id}.
            self._routes.sort(key=lambda r: len(r.param_names))
            return handler

        return register

    def _match(self, path: str) -> list[tuple[Route, dict[str, str]]]:
        found = []
        for route in self._routes:
            match = route.regex.fullmatch(path)
            if match is None:
                continue
            params = match.groupdict()
            if all(PARAM_VALUE_RE.fullmatch(v) for v in params.values()):
                found.append((route, params))
        if not found and path == HEALTH_PATH:
            found.append((self._health, {}))
        return found

    @staticmethod
    def _allowed(matches: list[tuple[Route, dict[str, str]]]) -> list[str]:
        methods = {route.method for route, _ in matches} | {"OPTIONS"}
        if "GET" in methods:
            methods.add("HEAD")
        return [m for m in _METHOD_ORDER if m in methods]

    def _handle(self, req: Request, origins: tuple[str, ...]) -> Result:
        matches = self._match(req.path)
        if not matches:
            raise NotFound("No resource at this path")
        if req.method == "OPTIONS":
            return self._options(req, self._allowed(matches), origins)
        method = "GET" if req.method == "HEAD" else req.method
        selected = next(((r, p) for r, p in matches if r.method == method), None)
        if selected is None:
            raise MethodNotAllowed(self._allowed(matches))
        route, req.path_params = selected
        key = req.header(idempotency.HEADER) if route.idempotent else None
        if route.auth and self._authenticator is not None:
            # A keyed request may be a replay, which spends nothing: its fresh check waits
            # until the handler is about to run (``_idempotent``).
            fresh = not route.read_only and key is None
            req.principal = self._authenticator(req, fresh=fresh)
        if route.roles:
            require_role(principal_of(req), *route.roles)
        if key is not None:
            return self._idempotent(route, req, key)
        return self._success(route, route.handler(req))

    def _idempotent(self, route: Route, req: Request, key: str) -> Result:
        """Run the handler at most once per (caller, key); later requests replay its response."""
        assert self._idempotency is not None and route.request_model is not None
        body = req.json(route.request_model)
        fp = idempotency.fingerprint(req.method, req.path, body.model_dump(mode="json"))
        live: list[Result] = []

        def work() -> idempotency.StoredResponse:
            if route.auth and self._authenticator is not None and not route.read_only:
                req.principal = self._authenticator(req, fresh=True)
            result = self._success(route, route.handler(req))
            live.append(result)
            # RateLimit headers describe the moment of the first request, not the response.
            kept = {
                k: v for k, v in result.headers.items() if not k.lower().startswith("ratelimit")
            }
            # Idempotent routes answer JSON; a stream is never stored for replay.
            assert result.body is None or isinstance(result.body, bytes)
            text = result.body.decode() if result.body is not None else None
            return idempotency.StoredResponse(result.status, text, kept)

        stored, replayed = self._idempotency().run(principal_of(req).uid, key, fp, work)
        if not replayed:
            return live[0]
        headers = {**stored.headers, REPLAYED_HEADER: "true"}
        if not stored.body or stored.status in _NO_BODY_STATUSES:
            return Result(stored.status, None, None, headers)
        return Result(stored.status, stored.body.encode(), "application/json", headers)

    @staticmethod
    def _options(req: Request, allow: list[str], origins: tuple[str, ...]) -> Result:
        origin = req.header("Origin")
        headers = {"Allow": ", ".join(allow)}
        if cors.is_preflight(req.method, origin, req.header("Access-Control-Request-Method")):
            if origin is None or not cors.origin_allowed(origin, origins):
                raise PermissionDenied("This origin is not allowed to call the API")
            headers.update(cors.preflight_headers(origin, allow))
        return Result(204, None, None, headers)

    @staticmethod
    def _success(route: Route, out: HandlerResult) -> Result:
        if isinstance(out, Stream):
            return Result(200, out.chunks, out.content_type, dict(out.headers))
        if isinstance(out, Response):
            status, body, headers = out.status, out.body, out.headers
        else:
            status, body, headers = route.status, out, {}
        if body is None or status in _NO_BODY_STATUSES:
            return Result(status, None, None, dict(headers))
        payload = pydantic_core.to_json(body, by_alias=True)
        return Result(status, payload, "application/json", dict(headers))

    def _error(self, req: Request, exc: Exception) -> Result:
        err, unexpected = to_genmedia_error(exc)
        if unexpected:
            _log.error(
                "unhandled %s in %s %s", type(exc).__name__, req.method, req.path, exc_info=exc
            )
        payload = pydantic_core.to_json(problem_body(err, req.request_id), fallback=str)
        return Result(err.status, payload, PROBLEM_CONTENT_TYPE, error_headers(err))

    def dispatch(self, flask_request: flask.Request) -> flask.Response:
        """Turn any request into a response: routing, CORS, errors, headers, access log."""
        started = time.perf_counter()
        request_id = request_id_from(flask_request.headers.get("X-Request-ID"))
        trace = trace_from(
            flask_request.headers.get("traceparent"),
            flask_request.headers.get("X-Cloud-Trace-Context"),
        )
        ctx = LogContext(
            request_id=request_id,
            trace_id=trace.trace_id if trace else None,
            span_id=trace.span_id if trace else None,
            trace_sampled=trace.sampled if trace else False,
            function=self.function_name,
        )
        with bound_context(ctx):
            req = Request(flask_request, request_id=request_id, trace=trace, max_body_bytes=0)
            origins: tuple[str, ...] = ()
            try:
                settings = (
                    self._settings if isinstance(self._settings, Settings) else self._settings()
                )
                if not is_configured():
                    # Safety net: without it, Python prints only WARNING+ as plain text.
                    configure_logging(self.function_name, settings.project_id, settings.log_level)
                req.max_body_bytes = settings.max_body_bytes
                origins = settings.cors_origins
                result = self._handle(req, origins)
            except Exception as exc:  # noqa: BLE001 - every failure must become problem+json
                result = self._error(req, exc)
            response = build_response(req, result, origins)
            size = len(result.body) if isinstance(result.body, bytes) else 0  # streams: unknown
            access_log(req, response, size, started)
            return response
