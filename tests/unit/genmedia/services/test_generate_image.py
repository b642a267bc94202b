"""The generate_image use case with fakes of our ports: charge, produce, settle, refund."""

from __future__ import annotations

from dataclasses import replace

import pytest

from genmedia.errors import ContentBlocked, ProviderUnavailable, QuotaExceeded, RateLimited
from genmedia.media import ImageSpec
from genmedia.principal import Principal
from genmedia.services import generate_image
from tests.fakes.ports import Fakes, make_deps

ALICE = Principal("alice", "user", token="alice-token")


@pytest.fixture
def fakes() -> Fakes:
    return make_deps(GENMEDIA_QUOTA_IMAGES_PER_DAY="5", GENMEDIA_RATE_LIMIT_BURST="3")


def states(fakes: Fakes) -> list[str]:
    return sorted(a.state for a in fakes.db.state.assets.values())


def used(fakes: Fakes) -> int:
    return fakes.db.state.usage["alice"].images


def test_a_generation_charges_stores_both_variants_and_returns_urls(fakes: Fakes) -> None:
    result = generate_image.generate(fakes.deps, ALICE, ImageSpec("a kite", count=2), "rid-1")

    assets = result.payload["assets"]
    assert [a["state"] for a in assets] == ["ACTIVE", "ACTIVE"]
    assert all(a["urls"]["original"]["url"].startswith("https://signed.test/") for a in assets)
    assert fakes.issuer.calls == [("alice-token", [a["id"] for a in assets])]
    assert result.payload["usage"]["images"] == {
        "used": 2,
        "limit": 5,
        "reset_time": result.payload["usage"]["images"]["reset_time"],
    }
    assert sorted(p.rsplit("/", 1)[1] for p in fakes.bucket.objects) == [
        "original.png",
        "original.png",
        "thumbnail.webp",
        "thumbnail.webp",
    ]
    assert result.rate.decision.allowed and result.rate.bucket.capacity == 3
    # Charge and create in one; activate (only if still PENDING) in the other; nothing refunded.
    assert fakes.db.transactions == 2


def test_assets_survive_an_issuer_outage_without_urls(fakes: Fakes) -> None:
    fakes.issuer.down = True
    result = generate_image.generate(fakes.deps, ALICE, ImageSpec("a kite"), "rid")
    assert "urls" not in result.payload["assets"][0]
    assert states(fakes) == ["ACTIVE"]


def test_a_provider_failure_refunds_everything_and_marks_the_assets_failed(fakes: Fakes) -> None:
    fakes.provider.default = "fail"
    with pytest.raises(ProviderUnavailable) as caught:
        generate_image.generate(fakes.deps, ALICE, ImageSpec("a kite", count=3), "rid")
    assert caught.value.retry_after == 5
    assert used(fakes) == 0 and fakes.db.state.usage["alice"].cost_micros == 0
    assert states(fakes) == ["FAILED", "FAILED", "FAILED"]
    assert fakes.bucket.objects == {}


def test_fewer_images_than_asked_charge_only_what_came_back(fakes: Fakes) -> None:
    fakes.provider.default = "short"
    result = generate_image.generate(fakes.deps, ALICE, ImageSpec("a kite", count=3), "rid")
    assert len(result.payload["assets"]) == 2
    assert result.payload["usage"]["images"]["used"] == 2 == used(fakes)
    assert result.payload["usage"]["cost_this_month"]["amount"] == "0.080000"
    assert states(fakes) == ["ACTIVE", "ACTIVE", "FAILED"]


def test_an_upload_failure_removes_only_what_this_request_uploaded(fakes: Fakes) -> None:
    fakes.bucket.fail_on = "thumbnail"
    with pytest.raises(ConnectionError):
        generate_image.generate(fakes.deps, ALICE, ImageSpec("a kite"), "rid")
    assert fakes.bucket.deleted and fakes.bucket.deleted[0].endswith("original.png")
    assert fakes.bucket.objects == {} and used(fakes) == 0


def test_the_quota_is_checked_before_anything_is_generated(fakes: Fakes) -> None:
    generate_image.generate(fakes.deps, ALICE, ImageSpec("a kite", count=4), "rid")
    with pytest.raises(QuotaExceeded) as caught:
        generate_image.generate(fakes.deps, ALICE, ImageSpec("a kite", count=2), "rid")
    assert caught.value.extra["used"] == 4 and caught.value.retry_after
    assert fakes.provider.calls == 1 and used(fakes) == 4


def test_the_rate_limit_refuses_a_burst_and_refills_with_time(fakes: Fakes) -> None:
    for _ in range(3):
        generate_image.generate(fakes.deps, ALICE, ImageSpec("a kite"), "rid")
    with pytest.raises(RateLimited) as caught:
        generate_image.generate(fakes.deps, ALICE, ImageSpec("a kite"), "rid")
    assert caught.value.rate_limit is not None and not caught.value.rate_limit.decision.allowed
    fakes.clock.advance(6)  # 10 per minute: one token every 6 s
    generate_image.generate(fakes.deps, ALICE, ImageSpec("a kite"), "rid")
    assert used(fakes) == 4


def test_blocked_prompts_are_recorded_and_never_charged(fakes: Fakes) -> None:
    with pytest.raises(ContentBlocked):
        generate_image.generate(fakes.deps, ALICE, ImageSpec("a kite", style="csam"), "rid-9")
    (event,) = fakes.db.state.moderation_events
    assert (event.uid, event.request_id, event.text) == ("alice", "rid-9", "csam")
    assert fakes.provider.calls == 0 and "alice" not in fakes.db.state.usage


def test_the_breaker_opens_after_repeated_provider_failures(fakes: Fakes) -> None:
    fakes.provider.default = "fail"
    for _ in range(5):  # the default threshold
        with pytest.raises(ProviderUnavailable):
            generate_image.generate(fakes.deps, ALICE, ImageSpec("a kite"), "rid")
        fakes.clock.advance(6)  # a rate-limit token back, well within the breaker's 30 s
    with pytest.raises(ProviderUnavailable):
        generate_image.generate(fakes.deps, ALICE, ImageSpec("a kite"), "rid")
    assert fakes.provider.calls == 5
    assert fakes.deps.breakers.states()["fake"]["state"] == "open"


def test_an_asset_the_sweeper_failed_meanwhile_is_neither_activated_nor_refunded_again(
    fakes: Fakes,
) -> None:
    """The sweeper took the generation for dead (failed and refunded one of its assets) while
    the provider was still working: the generation settles only what is still PENDING."""
    swept: list[str] = []

    def sweep_first(path: str) -> None:
        asset_id = path.split("/")[3]
        if not swept:
            swept.append(asset_id)
            asset = fakes.db.state.assets[asset_id]
            fakes.db.state.assets[asset_id] = replace(asset, state="FAILED")
            usage = fakes.db.state.usage["alice"]
            fakes.db.state.usage["alice"] = replace(usage, images=usage.images - 1)

    fakes.bucket.after_upload = sweep_first
    result = generate_image.generate(fakes.deps, ALICE, ImageSpec("a kite", count=2), "rid-1")
    assert [a["id"] for a in result.payload["assets"]] != swept and len(
        result.payload["assets"]
    ) == 1
    assert fakes.db.state.assets[swept[0]].state == "FAILED" and used(fakes) == 1
    assert not any(swept[0] in path for path in fakes.bucket.objects)  # its objects removed
