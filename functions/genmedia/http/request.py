"""What handlers receive (``Request``) and may return (``Response``)."""

from __future__ import annotations

import json
import types
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar, Union, get_args, get_origin

import flask
from pydantic import BaseModel, ValidationError

from genmedia.errors import (
    BadRequest,
    FieldError,
    InvalidArgument,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from genmedia.http.models import invalid_argument
from genmedia.http.tracing import Trace

M = TypeVar("M", bound=BaseModel)
_SEQUENCE_TYPES = (list, tuple, set, frozenset)


class Response:
    """A JSON response; ``body=None`` sends no content (e.g. 204)."""

    def __init__(
        self,
        body: Mapping[str, Any] | BaseModel | None = None,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.body = body
        self.status = status
        self.headers = dict(headers or {})


class Stream:
    """A streamed response (Server-Sent Events): ``chunks`` are sent as they are produced.

    Errors raised before the first chunk still become problem+json; once streaming starts the
    status is sent, so a generator ends the stream instead of raising.
    """

    def __init__(
        self, chunks: Iterable[bytes], content_type: str, headers: Mapping[str, str] | None = None
    ) -> None:
        self.chunks = chunks
        self.content_type = content_type
        self.headers = dict(headers or {})


def _reject_constant(name: str) -> None:
    # NaN and Infinity are not JSON; Python's parser accepts them unless told otherwise.
    raise ValueError(f"invalid JSON constant {name}")


def _has_lone_surrogate(value: object) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= c <= "\udfff" for c in value)
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def _json_refusal(data: object, message: str) -> str:
    if "recursion" in message:
        return "Malformed JSON: the body is nested too deeply"
    if _has_lone_surrogate(data):
        return "Malformed JSON: a string has an unpaired UTF-16 surrogate escape (\\ud800-\\udfff)"
    return "Malformed JSON: " + message.removeprefix("Invalid JSON: ")


def _is_sequence(annotation: object) -> bool:
    origin = get_origin(annotation)
    if origin in _SEQUENCE_TYPES or annotation in _SEQUENCE_TYPES:
        return True
    if origin is Union or origin is types.UnionType:
        return any(_is_sequence(arg) for arg in get_args(annotation))
    return False


class Request:
    """One incoming request as seen by a handler; Flask stays behind ``.flask``."""

    def __init__(
        self,
        flask_request: flask.Request,
        *,
        request_id: str,
        trace: Trace | None,
        max_body_bytes: int,
        path_params: Mapping[str, str] | None = None,
    ) -> None:
        self.flask = flask_request
        self.method = flask_request.method
        self.path = flask_request.path
        self.path_params: dict[str, str] = dict(path_params or {})
        self.request_id = request_id
        self.trace = trace
        self.max_body_bytes = max_body_bytes
        # Headers that handlers and services add (RateLimit, Location...); sent even on errors.
        self.response_headers: dict[str, str] = {}
        # Whatever the router's authenticator returned for routes with auth=True.
        self.principal: object | None = None
        self._body: bytes | None = None
        self._parsed: dict[type[BaseModel], BaseModel] = {}

    def header(self, name: str) -> str | None:
        return self.flask.headers.get(name)

    @property
    def body_size(self) -> int | None:
        """Bytes read so far (for the access log), else the declared Content-Length."""
        return len(self._body) if self._body is not None else self.flask.content_length

    def body_bytes(self) -> bytes:
        """The raw body, at most ``max_body_bytes``; larger bodies are 413 without reading on."""
        if self._body is not None:
            return self._body
        limit = self.max_body_bytes
        declared = self.flask.content_length
        if declared is not None and declared > limit:
            raise PayloadTooLarge(f"Request body must not exceed {limit} bytes")
        stream = self.flask.stream
        chunks: list[bytes] = []
        total = 0
        # Chunked bodies have no Content-Length: read one byte past the limit to detect excess.
        while total <= limit:
            chunk = stream.read(limit + 1 - total)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise PayloadTooLarge(f"Request body must not exceed {limit} bytes")
        self._body = b"".join(chunks)
        return self._body

    def _json_text(self) -> str:
        if self.flask.mimetype != "application/json":
            raise UnsupportedMediaType("Content-Type must be application/json")
        charset = self.flask.mimetype_params.get("charset", "utf-8").lower()
        if charset not in ("utf-8", "utf8"):
            raise UnsupportedMediaType("JSON bodies must be UTF-8")
        try:
            return self.body_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("Malformed JSON: the body is not valid UTF-8") from None

    def json(self, model: type[M]) -> M:
        """Parse the body as a JSON object and validate it strictly against ``model`` (once:
        the router and the handler may both ask)."""
        parsed = self._parsed.get(model)
        if parsed is None:
            parsed = self._parsed[model] = self._validate(model)
        assert isinstance(parsed, model)
        return parsed

    def _validate(self, model: type[M]) -> M:
        text = self._json_text()
        try:
            data = json.loads(text, parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            raise BadRequest("Malformed JSON: the body could not be parsed") from None
        if not isinstance(data, dict):
            raise InvalidArgument(
                "The request body must be a JSON object",
                errors=[FieldError("body", "Expected a JSON object")],
            )
        try:
            # Strict JSON mode: "2" is not an int, true is not an int; ISO dates still parse.
            return model.model_validate_json(text, strict=True)
        except ValidationError as exc:
            invalid = [e for e in exc.errors() if e["type"] == "json_invalid"]
            if invalid:
                # Python's parser accepted what pydantic's refuses: say which rule it broke.
                raise BadRequest(_json_refusal(data, invalid[0]["msg"])) from None
            raise invalid_argument(exc, "body") from None

    def query(self, model: type[M]) -> M:
        """Validate query parameters against ``model`` in lax mode (they are all strings)."""
        args = self.flask.args
        sequences = {
            field.alias or name
            for name, field in model.model_fields.items()
            if _is_sequence(field.annotation)
        }
        data: dict[str, object] = {}
        for key in args:
            values = args.getlist(key)
            data[key] = values if key in sequences or len(values) > 1 else values[0]
        try:
            return model.model_validate(data, strict=False)
        except ValidationError as exc:
            raise invalid_argument(exc, "query") from None
