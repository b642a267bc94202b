"""issue_signed_url through the gateway: one URL or a batch, TTL bounds, download names, and URL
reuse within a window, counted on the function's private /statusz."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from PIL import Image

from infra.local.authemu import AuthEmulator
from infra.local.stack import Stack
from tests.support.api import assert_problem, fields_of
from tests.support.assets import batch_sign, download, generate, sha256_at, sign
from tests.support.harness import Gateway, User, functions_with_env, new_user, reset_state

DEFAULT_TTL = 900
SAFE_NAME = re.compile(r"[A-Za-z0-9._-]+")
SUFFIX = {"original": ".png", "thumbnail": "-thumbnail.webp"}


def params_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def expiry_of(url: str) -> datetime:
    """When the URL itself stops working: X-Goog-Date + X-Goog-Expires."""
    query = params_of(url)
    signed = datetime.strptime(query["X-Goog-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return signed + timedelta(seconds=int(query["X-Goog-Expires"]))


def when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def statusz(function_url: str) -> dict[str, int]:
    resp = requests.get(function_url + "/statusz", timeout=10)
    assert resp.status_code == 200, resp.text
    counters: dict[str, int] = resp.json()["signing"]
    return counters


@pytest.fixture
def owner(make_user: Callable[..., User]) -> User:
    return make_user()


@pytest.fixture
def asset(gateway: Gateway, owner: User) -> dict[str, Any]:
    [made] = generate(gateway, owner, prompt="a lighthouse at dusk", count=1)
    return made


@pytest.fixture
def signer_url(stack_info: dict[str, Any]) -> str:
    return str(stack_info["functions"]["issue_signed_url"])


# -- one URL ------------------------------------------------------------------------------------
@pytest.mark.parametrize("variant", ["original", "thumbnail"])
def test_signed_urls_download_the_variant(
    gateway: Gateway, owner: User, asset: dict[str, Any], variant: str
) -> None:
    resp = sign(gateway, owner, asset["id"], variant=variant)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) == {"url", "expire_time", "variant"} and body["variant"] == variant
    query = params_of(body["url"])
    assert query["X-Goog-Expires"] == str(DEFAULT_TTL)
    assert "response-content-disposition" not in query
    got = download(body["url"])
    assert got.status_code == 200
    if variant == "original":
        assert got.headers["Content-Type"] == "image/png"
        assert sha256_at(body["url"]) == asset["sha256"]
    else:
        assert got.headers["Content-Type"] == "image/webp"
        assert len(got.content) == asset["thumbnail"]["size_bytes"]
        assert Image.open(io.BytesIO(got.content)).size == (256, 256)


def test_omitted_body_fields_take_their_defaults(
    gateway: Gateway, owner: User, asset: dict[str, Any]
) -> None:
    resp = sign(gateway, owner, asset["id"])
    assert resp.json()["variant"] == "original"
    assert params_of(resp.json()["url"])["X-Goog-Expires"] == str(DEFAULT_TTL)


@pytest.mark.parametrize("ttl", [60, 3600, 604800])
def test_accepted_ttls_set_the_expiry(
    gateway: Gateway, owner: User, asset: dict[str, Any], ttl: int
) -> None:
    start = datetime.now(UTC)
    resp = sign(gateway, owner, asset["id"], ttl_seconds=ttl)
    end = datetime.now(UTC)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    expire = when(body["expire_time"])
    slack = timedelta(seconds=5)
    assert start + timedelta(seconds=ttl) - slack <= expire <= end + timedelta(seconds=ttl) + slack
    assert params_of(body["url"])["X-Goog-Expires"] == str(ttl)
    assert abs(expiry_of(body["url"]) - expire) < timedelta(seconds=2)
    assert sha256_at(body["url"]) == asset["sha256"]


BAD_SIGN_BODIES: list[tuple[str, object, str]] = [
    ("ttl 59", {"ttl_seconds": 59}, "ttl_seconds"),
    ("ttl 604801", {"ttl_seconds": 604801}, "ttl_seconds"),
    ("ttl zero", {"ttl_seconds": 0}, "ttl_seconds"),
    ("ttl negative", {"ttl_seconds": -900}, "ttl_seconds"),
    ("ttl as string", {"ttl_seconds": "900"}, "ttl_seconds"),
    ("ttl fractional", {"ttl_seconds": 900.5}, "ttl_seconds"),
    ("ttl boolean", {"ttl_seconds": True}, "ttl_seconds"),
    ("unknown variant", {"variant": "full"}, "variant"),
    ("download as string", {"download": "yes"}, "download"),
    ("unknown field", {"format": "jpeg"}, "format"),
    ("not an object", ["original"], "body"),
]


@pytest.mark.parametrize(
    ("case", "body", "name"), BAD_SIGN_BODIES, ids=[c[0] for c in BAD_SIGN_BODIES]
)
def test_invalid_sign_requests_are_422_naming_the_field(
    gateway: Gateway, owner: User, asset: dict[str, Any], signer_url: str,
    case: str, body: object, name: str,
) -> None:  # fmt: skip
    before = statusz(signer_url)["sign_calls"]
    resp = gateway.post(f"/v1/assets/{asset['id']}:signUrl", user=owner, json=body)
    assert fields_of(assert_problem(resp, 422, "INVALID_ARGUMENT")) == {name}
    assert statusz(signer_url)["sign_calls"] == before


# -- download names -----------------------------------------------------------------------------
PROMPTS: list[tuple[str, str, list[str]]] = [
    ("quotes", "the sign said \"open\" and 'closed'", ["the", "sign", "open", "closed"]),
    ("slashes", "path/to\\the ../../etc/passwd", ["path", "to", "etc", "passwd"]),
    ("emoji", "🐙 an octopus 🌊 waving", ["an", "octopus", "waving"]),
    ("crlf", "first line\r\nContent-Type: text/html\r\n\r\n<b>", ["first", "line", "content"]),
    ("header syntax", 'x"; filename="evil.exe', ["x", "filename", "evil", "exe"]),
    ("accents", "Crème brûlée à la française", ["creme", "brulee", "francaise"]),
    ("no latin letters", "東京の夜景", []),
    ("control characters", "tab\there\x00nul\x1bescape\x7fdel", ["tab", "here", "nul"]),
    ("long", "a very " + "long " * 300 + "prompt", ["a", "very", "long"]),
]


@pytest.mark.parametrize(("case", "prompt", "words"), PROMPTS, ids=[p[0] for p in PROMPTS])
def test_download_urls_name_the_file_safely(
    gateway: Gateway, owner: User, case: str, prompt: str, words: list[str]
) -> None:
    [asset] = generate(gateway, owner, prompt=prompt)
    for variant, suffix in SUFFIX.items():
        resp = sign(gateway, owner, asset["id"], variant=variant, download=True)
        assert resp.status_code == 200, resp.text
        url = resp.json()["url"]
        disposition = params_of(url)["response-content-disposition"]
        match = re.fullmatch(r'attachment; filename="([^"]*)"', disposition)
        assert match, disposition
        name = match.group(1)
        assert SAFE_NAME.fullmatch(name) and name.isascii(), name
        assert name.endswith(suffix) and not name.startswith(("-", ".")), name
        assert 8 < len(name) <= 100
        stem = name.removesuffix(suffix)
        assert all(w in stem.lower().split("-") for w in words), (name, words)
        got = download(url)
        assert got.status_code == 200
        if variant == "original":
            assert sha256_at(url) == asset["sha256"]


def test_download_names_differ_per_asset(gateway: Gateway, owner: User) -> None:
    """Two images from one prompt must not save over each other in the Downloads folder."""
    made = generate(gateway, owner, prompt="twin peaks", count=2)
    names = {
        params_of(sign(gateway, owner, a["id"], download=True).json()["url"])[
            "response-content-disposition"
        ]
        for a in made
    }
    assert len(names) == 2


# -- batches ------------------------------------------------------------------------------------
def test_batch_signs_only_owned_active_assets(
    gateway: Gateway, owner: User, make_user: Callable[..., User]
) -> None:
    mine = generate(gateway, owner, prompt="a harbour", count=3)
    [gone] = generate(gateway, owner, prompt="a deleted one")
    assert gateway.call("DELETE", f"/v1/assets/{gone['id']}", user=owner).status_code == 200
    [foreign] = generate(gateway, make_user(), prompt="someone else's")
    a, b, c = (x["id"] for x in mine)
    ids = [a, foreign["id"], b, gone["id"], "no-such-asset", a, c, b]
    start = datetime.now(UTC)
    resp = batch_sign(gateway, owner, ids)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) == {"urls", "errors"}
    assert set(body["urls"]) == {a, b, c}
    assert body["errors"] == {i: "NOT_FOUND" for i in (foreign["id"], gone["id"], "no-such-asset")}
    for asset in mine:
        signed = body["urls"][asset["id"]]
        assert set(signed) == {"url", "expire_time"}
        assert sha256_at(signed["url"]) == asset["sha256"]
        assert when(signed["expire_time"]) >= start + timedelta(seconds=DEFAULT_TTL / 2)
        assert params_of(signed["url"])["X-Goog-Expires"] == str(DEFAULT_TTL)


def test_batch_signs_thumbnails(gateway: Gateway, owner: User) -> None:
    made = generate(gateway, owner, prompt="a harbour", count=2)
    resp = batch_sign(gateway, owner, [a["id"] for a in made], variant="thumbnail")
    assert resp.status_code == 200, resp.text
    for asset in made:
        got = download(resp.json()["urls"][asset["id"]]["url"])
        assert got.headers["Content-Type"] == "image/webp"
        assert len(got.content) == asset["thumbnail"]["size_bytes"]


def test_batch_of_100_unknown_ids_is_all_errors(gateway: Gateway, owner: User) -> None:
    ids = [f"unknown-{i}" for i in range(100)]
    resp = batch_sign(gateway, owner, ids)
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"urls": {}, "errors": dict.fromkeys(ids, "NOT_FOUND")}


BAD_BATCHES: list[tuple[str, object, str]] = [
    ("101 ids", {"ids": [f"id-{i}" for i in range(101)]}, "ids"),
    ("no ids", {"ids": []}, "ids"),
    ("ids missing", {}, "ids"),
    ("ids not a list", {"ids": "abc"}, "ids"),
    ("id with a slash", {"ids": ["ok", "a/b"]}, "ids[1]"),
    ("id with a space", {"ids": ["a b"]}, "ids[0]"),
    ("empty id", {"ids": [""]}, "ids[0]"),
    ("id too long", {"ids": ["x" * 129]}, "ids[0]"),
    ("non-ASCII id", {"ids": ["ïd"]}, "ids[0]"),
    ("id not a string", {"ids": [7]}, "ids[0]"),
    ("unknown variant", {"ids": ["ok"], "variant": "big"}, "variant"),
    ("ttl is not a batch option", {"ids": ["ok"], "ttl_seconds": 60}, "ttl_seconds"),
]


@pytest.mark.parametrize(("case", "body", "name"), BAD_BATCHES, ids=[c[0] for c in BAD_BATCHES])
def test_invalid_batches_are_422_naming_the_field(
    gateway: Gateway, owner: User, case: str, body: object, name: str
) -> None:
    resp = gateway.post("/v1/assets:batchSignUrls", user=owner, json=body)
    assert fields_of(assert_problem(resp, 422, "INVALID_ARGUMENT")) == {name}


# -- reuse --------------------------------------------------------------------------------------
def test_repeat_requests_reuse_the_url_without_signing(
    gateway: Gateway, owner: User, asset: dict[str, Any], signer_url: str
) -> None:
    before = statusz(signer_url)
    first = sign(gateway, owner, asset["id"], ttl_seconds=1200).json()
    after_first = statusz(signer_url)
    second = sign(gateway, owner, asset["id"], ttl_seconds=1200).json()
    after_second = statusz(signer_url)
    assert second == first
    assert after_first["sign_calls"] == before["sign_calls"] + 1
    assert after_second["sign_calls"] == after_first["sign_calls"]
    assert after_second["cache_hits"] == after_first["cache_hits"] + 1
    assert after_second["cache_size"] >= 1


def test_the_url_from_generation_is_reused(
    gateway: Gateway, owner: User, asset: dict[str, Any], signer_url: str
) -> None:
    """generate_image gets its URLs from issue_signed_url as the user, so asking for the same
    variant with the default TTL afterwards hands out the same URL without signing again."""
    before = statusz(signer_url)["sign_calls"]
    for variant in ("original", "thumbnail"):
        again = sign(gateway, owner, asset["id"], variant=variant).json()
        assert {k: again[k] for k in ("url", "expire_time")} == asset["urls"][variant]
    assert statusz(signer_url)["sign_calls"] == before


def test_statusz_is_not_public(gateway: Gateway) -> None:
    assert_problem(gateway.get("/statusz"), 404, "NOT_FOUND")


CHANGES: list[tuple[str, dict[str, Any]]] = [
    ("other ttl", {"ttl_seconds": DEFAULT_TTL + 1}),
    ("download", {"download": True}),
    ("thumbnail", {"variant": "thumbnail"}),
]


@pytest.mark.parametrize(("case", "change"), CHANGES, ids=[c[0] for c in CHANGES])
def test_a_different_request_gets_a_different_url(
    gateway: Gateway, owner: User, asset: dict[str, Any], case: str, change: dict[str, Any]
) -> None:
    base = sign(gateway, owner, asset["id"]).json()["url"]
    other = sign(gateway, owner, asset["id"], **change).json()["url"]
    assert other != base
    assert sign(gateway, owner, asset["id"]).json()["url"] == base


def test_reused_urls_always_keep_half_their_ttl(
    gateway: Gateway, owner: User, asset: dict[str, Any]
) -> None:
    """With a 60 s TTL the reuse window is 30 s however long GENMEDIA_SIGNED_URL_REUSE_SECONDS
    is: over 32 s of repeat views some URL is reused and some is replaced, and none is handed
    out with less than 30 s to live."""
    ttl, urls, calls = 60, set(), 0
    deadline = time.monotonic() + 32
    while time.monotonic() < deadline:
        start = datetime.now(UTC)
        body = sign(gateway, owner, asset["id"], ttl_seconds=ttl).json()
        calls += 1
        urls.add(body["url"])
        # The server read its clock after `start`; expire_time is truncated to milliseconds.
        floor = start + timedelta(seconds=ttl / 2) - timedelta(milliseconds=1)
        assert when(body["expire_time"]) >= floor, (body["expire_time"], start)
        assert expiry_of(body["url"]) >= floor - timedelta(seconds=1)
        time.sleep(0.5)
    assert 2 <= len(urls) < calls


# -- a short reuse window (restarted function) --------------------------------------------------
REUSE_SECONDS = 2


@pytest.fixture(scope="module")
def short_reuse(controllable_stack: Stack) -> Iterator[Stack]:
    env = {"GENMEDIA_SIGNED_URL_REUSE_SECONDS": str(REUSE_SECONDS)}
    with functions_with_env(controllable_stack, env, "issue_signed_url") as stack:
        yield stack


@pytest.fixture
def short_ctx(short_reuse: Stack) -> dict[str, Any]:
    info = short_reuse.info()
    reset_state(info)
    auth = AuthEmulator(str(info["auth_emulator"]), short_reuse.options.project_id)
    gateway = Gateway(str(info["gateway"]))
    user = new_user(auth)
    [asset] = generate(gateway, user)
    return {"gateway": gateway, "user": user, "asset": asset,
            "signer": short_reuse.function_url("issue_signed_url")}  # fmt: skip


def test_after_the_reuse_window_a_new_url_is_signed(short_ctx: dict[str, Any]) -> None:
    gateway, user, asset = short_ctx["gateway"], short_ctx["user"], short_ctx["asset"]

    def url() -> dict[str, Any]:
        resp = sign(gateway, user, asset["id"])
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        return body

    # Within the window: of a few back-to-back pairs, at least one pair shares its URL.
    pairs = [(url(), url()) for _ in range(4)]
    assert any(a == b for a, b in pairs)

    first = url()
    time.sleep(REUSE_SECONDS + 0.5)
    before = statusz(short_ctx["signer"])["sign_calls"]
    later = url()
    assert later["url"] != first["url"]
    assert when(later["expire_time"]) > when(first["expire_time"])
    assert statusz(short_ctx["signer"])["sign_calls"] == before + 1
    assert sha256_at(later["url"]) == asset["sha256"]


def test_short_window_applies_to_batches_too(short_ctx: dict[str, Any]) -> None:
    gateway, user, asset = short_ctx["gateway"], short_ctx["user"], short_ctx["asset"]
    first = batch_sign(gateway, user, [asset["id"]]).json()["urls"][asset["id"]]
    time.sleep(REUSE_SECONDS + 0.5)
    later = batch_sign(gateway, user, [asset["id"]]).json()["urls"][asset["id"]]
    assert later["url"] != first["url"]
    assert when(later["expire_time"]) > when(first["expire_time"])
