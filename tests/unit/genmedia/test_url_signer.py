"""V4 signing with a local key (real google-auth signing, no network): reuse window, TTL,
download names, and the counters /statusz reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from google.cloud import storage

from genmedia.errors import Internal
from genmedia.url_signer import UrlSigner
from infra.local.seed import ensure_signing_key
from tests.fakes.clock import FakeClock
from tests.unit._helpers import make_settings

EMULATOR = "http://127.0.0.1:9"  # never contacted: signing is local


@pytest.fixture(scope="module")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("key") / "key.json"
    ensure_signing_key(path, "demo-genmedia")
    return path


def signer_for(key_file: Path | None, clock: FakeClock, **env: str) -> UrlSigner:
    settings = make_settings(
        STORAGE_EMULATOR_HOST=EMULATOR,
        **({"GENMEDIA_LOCAL_SIGNING_KEY_FILE": str(key_file)} if key_file else {}),
        **env,
    )
    bucket = storage.Client.create_anonymous_client().bucket(settings.media_bucket)
    return UrlSigner(settings, lambda: bucket, clock)


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_a_url_is_signed_for_the_object_and_ttl(key_file: Path) -> None:
    clock = FakeClock()
    url = signer_for(key_file, clock).sign_get_url("users/u/a/original.png", 900, requester="u")
    parts = urlsplit(url.url)
    assert parts.path.endswith("/demo-genmedia-media/users/u/a/original.png")
    assert query(url.url)["X-Goog-Expires"] == ["900"] and query(url.url)["X-Goog-Signature"]
    assert url.expire_time == clock.now() + timedelta(seconds=900)


def test_the_same_url_is_reused_within_half_the_ttl_then_signed_again(key_file: Path) -> None:
    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))  # windows are aligned to the epoch
    signer = signer_for(key_file, clock, GENMEDIA_SIGNED_URL_REUSE_SECONDS="3600")
    first = signer.sign_get_url("p.png", 600, requester="u")
    assert signer.sign_get_url("p.png", 600, requester="u") is first
    assert signer.stats()["sign_calls"] == 1
    signer.sign_get_url("p.png", 600, requester="other")  # URLs are never shared across users
    clock.advance(299)
    assert signer.sign_get_url("p.png", 600, requester="u") is first
    clock.advance(1)  # the window is min(ttl / 2, reuse) = 300 s
    assert signer.sign_get_url("p.png", 600, requester="u") is not first
    assert signer.stats() == {"sign_calls": 3, "cache_hits": 2, "cache_size": 3}


def test_a_download_name_is_signed_into_the_url(key_file: Path) -> None:
    url = signer_for(key_file, FakeClock()).sign_get_url(
        "p.png", 60, requester="u", filename="kite-1.png"
    )
    assert query(url.url)["response-content-disposition"] == ['attachment; filename="kite-1.png"']


def test_signing_against_the_emulator_needs_the_local_key() -> None:
    with pytest.raises(Internal, match="GENMEDIA_LOCAL_SIGNING_KEY_FILE"):
        signer_for(None, FakeClock()).sign_get_url("p.png", 60, requester="u")
