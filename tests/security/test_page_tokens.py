"""Page tokens signed with the server's own key but carrying cursors the server never issues
(a leaked or rotated key, a bug): validated, and answered 422, never 500."""

from __future__ import annotations

import pytest

from genmedia import pagination
from genmedia.errors import InvalidArgument
from genmedia.principal import Principal
from genmedia.services import library
from genmedia.services.library import ListAssets
from genmedia.store.assets import AssetQuery
from tests.fakes.ports import Fakes, make_deps

ALICE = Principal("alice", "user")


@pytest.fixture
def fakes() -> Fakes:
    return make_deps()


def signed(fakes: Fakes, cursor: list[object]) -> str:
    fp = pagination.fingerprint(AssetQuery(owner_uid="alice"))
    return pagination.encode(fp, cursor, fakes.deps.settings.page_token_keys[0])


@pytest.mark.parametrize(
    "cursor",
    [
        ["9999-12-31T23:59:59.999999-14:00", "abc"],  # overflows when made UTC
        ["0001-01-01T00:00:00+14:00", "abc"],  # underflows
        ["2026-01-01T00:00:00", "abc"],  # no offset
        ["2026-01-01T00:00:00+00:00", "a/b"],
        ["2026-01-01T00:00:00+00:00", 7],
        ["2026-01-01T00:00:00+00:00"],
        [None, None],
    ],
)
def test_out_of_range_cursors_are_422(fakes: Fakes, cursor: list[object]) -> None:
    with pytest.raises(InvalidArgument) as caught:
        library.list_assets(fakes.deps, ALICE, ListAssets(page_token=signed(fakes, cursor)))
    assert caught.value.errors[0].field == "page_token"


def test_a_valid_signed_cursor_is_used(fakes: Fakes) -> None:
    token = signed(fakes, ["2026-01-01T00:00:00+00:00", "abc"])
    assert library.list_assets(fakes.deps, ALICE, ListAssets(page_token=token))["assets"] == []
