"""URL issuance with a fake signer: who gets a URL, which TTL, which download name."""

from __future__ import annotations

import pytest

from genmedia.errors import NotFound
from genmedia.principal import Principal
from genmedia.services import issue_signed_url
from genmedia.services.issue_signed_url import SignUrl, download_name
from tests.fakes.ports import Fakes, make_deps
from tests.unit.genmedia.services._assets import add_asset

ALICE = Principal("alice", "user")


@pytest.fixture
def fakes() -> Fakes:
    fakes = make_deps(GENMEDIA_SIGNED_URL_TTL_SECONDS="600")
    add_asset(fakes, "a1", prompt="Crème brûlée: a study!")
    add_asset(fakes, "bobs", owner="bob")
    add_asset(fakes, "gone", state="DELETED")
    return fakes


def test_one_url_with_the_default_ttl_and_a_download_name(fakes: Fakes) -> None:
    url = issue_signed_url.sign_one(fakes.deps, ALICE, SignUrl("a1", download=True))
    assert url["variant"] == "original" and url["url"].endswith("?ttl=600")
    assert fakes.signer.signed == [
        ("users/alice/assets/a1/original.png", 600, "alice", "creme-brulee-a-study-a1.png")
    ]


def test_an_explicit_ttl_and_the_thumbnail(fakes: Fakes) -> None:
    issue_signed_url.sign_one(fakes.deps, ALICE, SignUrl("a1", "thumbnail", 120))
    assert fakes.signer.signed == [("users/alice/assets/a1/thumbnail.webp", 120, "alice", None)]


@pytest.mark.parametrize("asset_id", ["bobs", "gone", "nope"])
def test_foreign_deleted_and_unknown_ids_are_not_found(fakes: Fakes, asset_id: str) -> None:
    with pytest.raises(NotFound):
        issue_signed_url.sign_one(fakes.deps, ALICE, SignUrl(asset_id))
    assert fakes.signer.signed == []


def test_a_batch_signs_what_it_may_and_names_the_rest(fakes: Fakes) -> None:
    result = issue_signed_url.sign_batch(
        fakes.deps, ALICE, ["a1", "bobs", "a1", "gone"], "original"
    )
    assert list(result["urls"]) == ["a1"]
    assert result["errors"] == {"bobs": "NOT_FOUND", "gone": "NOT_FOUND"}
    assert issue_signed_url.statistics(fakes.deps)["signing"]["sign_calls"] == 1


def test_download_names_fall_back_when_the_prompt_has_no_ascii(fakes: Fakes) -> None:
    asset = add_asset(fakes, "kanji123", prompt="夜の桜")
    assert download_name(asset, "thumbnail") == "genmedia-kanji123-thumbnail.webp"
