"""Request bodies and query parameters: size limits, media type, JSON and model validation."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

import pytest

from genmedia.http import ApiModel, Request, Router
from tests.support.problems import assert_problem
from tests.unit._helpers import body_of, call, make_settings

LIMIT = 256


class Quota(ApiModel):
    images_per_day: int
    videos_per_month: int = 0


class Style(StrEnum):
    PHOTO = "photo"
    ART = "art"


class CreateBody(ApiModel):
    prompt: str
    count: int = 1
    ratio: float = 1.0
    quota: Quota | None = None
    style: Style = Style.PHOTO
    at: datetime | None = None


class ListQuery(ApiModel):
    page_size: int = 0
    show_deleted: bool = False
    state: list[str] = []


def build_router() -> Router:
    router = Router("bodies", settings=make_settings(GENMEDIA_MAX_BODY_BYTES=str(LIMIT)))

    @router.route("POST", "/v1/things", request_model=CreateBody)
    def create(req: Request) -> Mapping[str, Any]:
        return req.json(CreateBody).model_dump(mode="json")

    @router.route("GET", "/v1/things", query_model=ListQuery)
    def list_things(req: Request) -> Mapping[str, Any]:
        return req.query(ListQuery).model_dump(mode="json")

    @router.route("POST", "/v1/raw")
    def raw(req: Request) -> Mapping[str, Any]:
        return {"size": len(req.body_bytes()), "again": len(req.body_bytes())}

    return router


ROUTER = build_router()


def post(body: bytes, content_type: str = "application/json", **kw: Any) -> Any:
    return call(ROUTER, "POST", "/v1/things", body=body, content_type=content_type, **kw)


def test_valid_body_is_parsed_strictly_but_keeps_json_types() -> None:
    payload = {
        "prompt": "a cat",
        "count": 2,
        "ratio": 2,
        "quota": {"images_per_day": 3},
        "style": "art",
        "at": "2026-01-02T03:04:05Z",
    }
    resp = call(ROUTER, "POST", "/v1/things", json_body=payload)
    assert resp.status_code == 200
    out = body_of(resp)
    assert out["count"] == 2 and out["ratio"] == 2.0 and out["style"] == "art"
    assert out["at"].startswith("2026-01-02T03:04:05")


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "application/json;charset=UTF-8"]
)
def test_charset_parameter_is_allowed(content_type: str) -> None:
    assert post(b'{"prompt": "x"}', content_type).status_code == 200


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1"],
)
def test_other_media_types_are_415(content_type: str | None) -> None:
    resp = call(ROUTER, "POST", "/v1/things", body=b'{"prompt": "x"}', content_type=content_type)
    assert_problem(resp, 415, "UNSUPPORTED_MEDIA_TYPE")


@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b'{"prompt": "x",}', b"\xff\xfe{}", b'{"prompt": NaN}', b"[" * 100 + b"]" * 99],
)
def test_malformed_json_is_400(raw: bytes) -> None:
    problem = assert_problem(post(raw), 400, "INVALID_ARGUMENT")
    assert "Malformed JSON" in problem["detail"]


def test_deeply_nested_json_is_400_not_500() -> None:
    router = Router("deep", settings=make_settings())  # default 64 KiB limit

    @router.route("POST", "/v1/x", request_model=CreateBody)
    def handler(req: Request) -> Mapping[str, Any]:
        return req.json(CreateBody).model_dump(mode="json")

    # Deeper than Python's recursion limit, and deeper than pydantic's (but not Python's).
    too_deep = b"[" * 30_000 + b"]" * 30_000
    nested_object = b'{"prompt": "x", "quota": ' + b'{"a":' * 300 + b"1" + b"}" * 301
    for raw in (too_deep, nested_object):
        resp = call(router, "POST", "/v1/x", body=raw, content_type="application/json")
        assert_problem(resp, 400, "INVALID_ARGUMENT")
    deep = call(router, "POST", "/v1/x", body=nested_object, content_type="application/json")
    assert "nested too deeply" in body_of(deep)["detail"]


@pytest.mark.parametrize("escape", [b"\\ud800", b"\\udc00x", b"a\\ud83d"])
def test_an_unpaired_surrogate_is_named_as_such(escape: bytes) -> None:
    resp = post(b'{"prompt": "' + escape + b'"}')
    problem = assert_problem(resp, 400, "INVALID_ARGUMENT")
    assert "unpaired UTF-16 surrogate" in problem["detail"]


@pytest.mark.parametrize("raw", [b"[]", b'"text"', b"42", b"null", b"true"])
def test_non_object_json_is_422(raw: bytes) -> None:
    problem = assert_problem(post(raw), 422, "INVALID_ARGUMENT")
    assert problem["errors"] == [{"field": "body", "message": "Expected a JSON object"}]


def test_every_bad_field_is_listed_by_json_path() -> None:
    payload = {
        "count": "2",
        "ratio": True,
        "quota": {"images_per_day": True, "extra_thing": 1},
        "style": "oil",
        "surprise": 1,
    }
    problem = assert_problem(post(json.dumps(payload).encode()), 422, "INVALID_ARGUMENT")
    fields = {e["field"]: e["message"] for e in problem["errors"]}
    assert set(fields) == {
        "prompt",
        "count",
        "ratio",
        "quota.images_per_day",
        "quota.extra_thing",
        "style",
        "surprise",
    }
    assert fields["surprise"] == "Unknown field"
    assert fields["prompt"] == "Field required"
    assert problem["title"] and problem["type"].endswith("/invalid-argument")


def test_error_messages_do_not_echo_input() -> None:
    problem = body_of(post(b'{"prompt": "x", "count": "my-secret-value"}'))
    assert "my-secret-value" not in str(problem)


def test_content_length_over_limit_is_413_before_reading() -> None:
    class Exploding:
        def read(self, *args: Any) -> bytes:
            raise AssertionError("body must not be read")

    router = Router("x", settings=make_settings(GENMEDIA_MAX_BODY_BYTES="10"))

    @router.route("POST", "/v1/x")
    def handler(req: Request) -> Mapping[str, Any]:
        req.body_bytes()
        return {}

    import flask

    app = flask.Flask(__name__)
    environ = {"wsgi.input": Exploding(), "CONTENT_LENGTH": "11"}
    with app.test_request_context(
        "/v1/x", method="POST", environ_overrides=environ, content_type="application/json"
    ):
        resp = router.dispatch(flask.request)
    assert_problem(resp, 413, "PAYLOAD_TOO_LARGE")


def test_body_at_limit_is_accepted_and_one_more_byte_is_413() -> None:
    exact = b"x" * LIMIT
    assert body_of(call(ROUTER, "POST", "/v1/raw", body=exact)) == {"size": LIMIT, "again": LIMIT}
    assert_problem(call(ROUTER, "POST", "/v1/raw", body=exact + b"x"), 413, "PAYLOAD_TOO_LARGE")


def test_chunked_body_over_limit_is_413_reading_at_most_limit_plus_one() -> None:
    class CountingStream:
        def __init__(self) -> None:
            self.read_total = 0

        def read(self, size: int = -1) -> bytes:
            n = 7 if size < 0 else min(size, 7)  # short reads, like a socket
            self.read_total += n
            return b"y" * n

    stream = CountingStream()  # endless: only the limit stops the reader
    router = ROUTER
    import flask

    app = flask.Flask(__name__)
    environ = {"wsgi.input": stream, "wsgi.input_terminated": True}
    with app.test_request_context(
        "/v1/raw",
        method="POST",
        environ_overrides=environ,
        headers={"Transfer-Encoding": "chunked"},
    ):
        resp = router.dispatch(flask.request)
    assert_problem(resp, 413, "PAYLOAD_TOO_LARGE")
    assert stream.read_total == LIMIT + 1


def test_chunked_body_under_limit_is_read() -> None:
    resp = call(ROUTER, "POST", "/v1/raw", body=b"z" * 100, chunked=True)
    assert body_of(resp) == {"size": 100, "again": 100}
    resp = call(ROUTER, "POST", "/v1/things", body=b'{"prompt": "p"}', chunked=True,
                content_type="application/json")  # fmt: skip
    assert resp.status_code == 200


def test_query_is_lax_and_typed() -> None:
    resp = call(
        ROUTER, "GET", "/v1/things", query_string="page_size=5&show_deleted=true&state=A&state=B"
    )
    assert body_of(resp) == {"page_size": 5, "show_deleted": True, "state": ["A", "B"]}
    one = call(ROUTER, "GET", "/v1/things", query_string="state=A")
    assert body_of(one)["state"] == ["A"]


def test_bad_query_lists_every_field() -> None:
    resp = call(ROUTER, "GET", "/v1/things", query_string="page_size=x&show_deleted=maybe&bogus=1")
    problem = assert_problem(resp, 422, "INVALID_ARGUMENT")
    assert {e["field"] for e in problem["errors"]} == {"page_size", "show_deleted", "bogus"}
