"""Moderation review with fakes: blocked prompts listed for admins, and a denylist they edit
that every instance applies within the cache TTL, without failing open."""

from __future__ import annotations

import pytest

from genmedia.bootstrap import MODERATION_TTL_S
from genmedia.errors import ContentBlocked, InvalidArgument
from genmedia.media import ImageSpec
from genmedia.principal import Principal
from genmedia.services import generate_image, moderation_review
from tests.fakes.ports import Fakes, make_deps

ALICE, ADMIN = Principal("alice", "user"), Principal("root", "admin")


@pytest.fixture
def fakes() -> Fakes:
    return make_deps(GENMEDIA_MODERATION_DENYLIST="gore")


def generate(fakes: Fakes, prompt: str) -> None:
    generate_image.generate(fakes.deps, ALICE, ImageSpec(prompt), "rid")


def test_an_edited_denylist_applies_after_the_cache_ttl_without_a_redeploy(fakes: Fakes) -> None:
    with pytest.raises(ContentBlocked):
        generate(fakes, "gore everywhere")
    generate(fakes, "a sunny meadow")
    view = moderation_review.set_denylist(fakes.deps, ADMIN, [" Meadow ", "meadow", "bats"])
    assert view == {"denylist": ["meadow", "bats"], "source": "admin"}
    generate(fakes, "a sunny meadow")  # cached for up to the TTL
    fakes.clock.advance(MODERATION_TTL_S)
    with pytest.raises(ContentBlocked):
        generate(fakes, "a sunny meadow")
    generate(fakes, "gore everywhere")  # the admin's list replaced the deployment's
    [(_, event)] = [e for e in fakes.db.state.audit if e[1].action == "moderation.update"]
    assert event.actor_uid == "root" and event.details == {"terms": 2}


def test_an_unreadable_denylist_keeps_the_last_one(fakes: Fakes) -> None:
    moderation_review.set_denylist(fakes.deps, ADMIN, ["bats"])
    with pytest.raises(ContentBlocked):
        generate(fakes, "bats at night")
    fakes.db.settings.unreachable = True
    fakes.clock.advance(MODERATION_TTL_S)
    with pytest.raises(ContentBlocked):
        generate(fakes, "bats at night")


@pytest.mark.parametrize("terms", [[], ["   "], ["..."], [f"t{i}" for i in range(501)]])
def test_an_empty_or_oversized_denylist_is_refused(fakes: Fakes, terms: list[str]) -> None:
    with pytest.raises(InvalidArgument):
        moderation_review.set_denylist(fakes.deps, ADMIN, terms)
    assert moderation_review.denylist(fakes.deps) == {"denylist": ["gore"], "source": "deployment"}


def test_blocked_prompts_are_listed_newest_first_for_review(fakes: Fakes) -> None:
    for prompt in ("gore one", "gore two", "gore three"):
        with pytest.raises(ContentBlocked):
            generate(fakes, prompt)
        fakes.clock.advance(1)
    page = moderation_review.list_blocked(fakes.deps, moderation_review.ListBlocked(page_size=2))
    assert [e["text"] for e in page["events"]] == ["gore three", "gore two"]
    rest = moderation_review.list_blocked(
        fakes.deps, moderation_review.ListBlocked(page_token=page["next_page_token"])
    )
    assert [e["text"] for e in rest["events"]] == ["gore one"] and rest["next_page_token"] == ""
