"""The library use cases (list, get, usage) with an in-memory database."""

from __future__ import annotations

import pytest

from genmedia.errors import Internal, InvalidArgument, NotFound
from genmedia.principal import Principal
from genmedia.services import library
from genmedia.services.library import ListAssets
from tests.fakes.ports import Fakes, make_deps
from tests.unit.genmedia.services._assets import add_asset

ALICE, BOB = Principal("alice", "user"), Principal("bob", "user")
ADMIN = Principal("root", "admin")


@pytest.fixture
def fakes() -> Fakes:
    fakes = make_deps()
    for i in range(5):
        add_asset(fakes, f"a{i}", age_s=100 - i)  # a4 is the newest
    add_asset(fakes, "bobs", owner="bob")
    add_asset(fakes, "gone", state="DELETED", delete_time=fakes.clock.now())
    return fakes


def ids(page: dict[str, object]) -> list[str]:
    return [a["id"] for a in page["assets"]]  # type: ignore[attr-defined, index]


def test_pages_walk_every_asset_newest_first_then_end(fakes: Fakes) -> None:
    first = library.list_assets(fakes.deps, ALICE, ListAssets(page_size=2))
    second = library.list_assets(
        fakes.deps, ALICE, ListAssets(page_size=2, page_token=str(first["next_page_token"]))
    )
    third = library.list_assets(
        fakes.deps, ALICE, ListAssets(page_size=2, page_token=str(second["next_page_token"]))
    )
    assert ids(first) + ids(second) + ids(third) == ["a4", "a3", "a2", "a1", "a0"]
    assert third["next_page_token"] == ""


def test_oldest_first_and_deleted_on_request(fakes: Fakes) -> None:
    page = library.list_assets(fakes.deps, ALICE, ListAssets(descending=False, show_deleted=True))
    assert ids(page) == ["a0", "a1", "a2", "a3", "a4", "gone"]


def test_a_token_of_another_query_is_refused(fakes: Fakes) -> None:
    first = library.list_assets(fakes.deps, ALICE, ListAssets(page_size=2))
    with pytest.raises(InvalidArgument):
        library.list_assets(
            fakes.deps,
            ALICE,
            ListAssets(page_size=2, page_token=str(first["next_page_token"]), descending=False),
        )


def test_search_is_by_word_prefix(fakes: Fakes) -> None:
    add_asset(fakes, "blue", prompt="a blue whale", search_terms=["bl", "blu", "blue"])
    assert ids(library.list_assets(fakes.deps, ALICE, ListAssets(q="Blu"))) == ["blue"]
    with pytest.raises(InvalidArgument):
        library.list_assets(fakes.deps, ALICE, ListAssets(q="two words"))


def test_get_answers_404_for_foreign_and_unknown_ids_but_admins_read(fakes: Fakes) -> None:
    assert library.get_asset(fakes.deps, ALICE, "a1")["id"] == "a1"
    assert library.get_asset(fakes.deps, ALICE, "gone")["state"] == "DELETED"
    for asset_id in ("bobs", "nope"):
        with pytest.raises(NotFound):
            library.get_asset(fakes.deps, ALICE, asset_id)
    assert library.get_asset(fakes.deps, ADMIN, "bobs")["id"] == "bobs"


def test_usage_shows_overrides_and_current_period_only(fakes: Fakes) -> None:
    fakes.db.users.merge("bob", {"quota": {"images_per_day": 7}})
    view = library.usage(fakes.deps, BOB)
    assert view["images"]["used"] == 0 and view["images"]["limit"] == 7
    assert view["videos"]["limit"] == 20


def test_a_library_without_its_page_token_key_refuses_to_page() -> None:
    fakes = make_deps(K_SERVICE="library", GENMEDIA_PAGE_TOKEN_KEY="")
    with pytest.raises(Internal, match="GENMEDIA_PAGE_TOKEN_KEY"):
        library.list_assets(fakes.deps, ALICE, ListAssets())
