"""The library function through the gateway: list (cursor pages, filters, search, page tokens),
get, soft delete with trash-prefix objects, undelete, purge, and usage."""

from __future__ import annotations

import base64
import json
import math
import os
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from google.cloud import firestore, storage

from genmedia.config import DEV_PAGE_TOKEN_KEY
from genmedia.store.records import AssetRecord
from tests.support.api import assert_problem, fields_of
from tests.support.assets import (
    BASE_TIME,
    asset_record,
    deleted,
    download,
    expire_purge_time,
    generate,
    ids_of,
    listing_order,
    problem_shape,
    seed,
    sha256_at,
    sign,
    spread_times,
    walk,
)
from tests.support.harness import Gateway, User

LISTED = 230
BOTH_ORDERS = pytest.mark.parametrize(
    "order_by", [None, "create_time asc"], ids=["newest first", "oldest first"]
)
PROMPTS = [
    "a lighthouse at dusk",
    "Lightning over a dark sea",
    "a flight of swallows",
    "delight in the garden",
    "Red fox in fresh snow",
    "a café terrace at night",
    "counterrevolutionary posters",
]


@dataclass
class Library:
    owner: User
    stranger: User
    active: list[AssetRecord]  # what a default listing shows
    deleted: list[AssetRecord] = field(default_factory=list)  # soft-deleted, within retention
    hidden: list[AssetRecord] = field(
        default_factory=list
    )  # purged, pending, failed, the stranger's

    def order(self, assets: list[AssetRecord], order_by: str | None = None) -> list[str]:
        return listing_order(assets, descending=order_by != "create_time asc")


@pytest.fixture
def library(make_user: Callable[..., User], db: firestore.Client) -> Library:
    """230 listable assets (every 5th a video, 60 of them in same-timestamp triples), plus
    soft-deleted, purged, pending and failed ones and another user's, interleaved in time."""
    owner, stranger = make_user(), make_user()
    active = [
        asset_record(
            owner.uid, when, prompt=PROMPTS[i % len(PROMPTS)], type=("image", "video")[i % 5 == 3]
        )
        for i, when in enumerate(spread_times(LISTED, ties=60))
    ]

    def extra(k: int, **kwargs: Any) -> AssetRecord:
        return asset_record(owner.uid, BASE_TIME + timedelta(minutes=13 * k, seconds=30), **kwargs)

    removed = [deleted(extra(k, prompt=PROMPTS[k % 2], type=("image", "video")[k % 2]))
               for k in range(12)]  # fmt: skip
    hidden = [deleted(extra(k, prompt=PROMPTS[0]), purged=True) for k in range(12, 15)]
    hidden += [extra(k, prompt=PROMPTS[0], state="PENDING") for k in range(15, 17)]
    hidden += [extra(k, prompt=PROMPTS[1], state="FAILED") for k in range(17, 19)]
    hidden += [
        asset_record(stranger.uid, when + timedelta(seconds=5), prompt=PROMPTS[i % 2])
        for i, when in enumerate(spread_times(20))
    ]
    seed(db, [*active, *removed, *hidden])
    return Library(owner, stranger, active, removed, hidden)


def list_page(gateway: Gateway, user: User, **params: Any):
    return gateway.get("/v1/assets", user=user, params=params)


# -- pagination -----------------------------------------------------------------------------------
@BOTH_ORDERS
@pytest.mark.parametrize("page_size", [1, 7, 50, 100])
def test_every_asset_is_listed_exactly_once_in_order(
    gateway: Gateway, library: Library, page_size: int, order_by: str | None
) -> None:
    pages = walk(gateway, library.owner, page_size=page_size, order_by=order_by)
    assert ids_of(pages) == library.order(library.active, order_by)
    assert len(pages) == math.ceil(LISTED / page_size), "no empty page after the last asset"
    assert all(len(page) == page_size for page in pages[:-1])
    assert {a["state"] for page in pages for a in page} == {"ACTIVE"}


@pytest.mark.parametrize(
    ("params", "size"),
    [
        ({}, 50),
        ({"page_size": 0}, 50),
        ({"page_size": 100}, 100),
        ({"page_size": 101}, 100),
        ({"page_size": 1000}, 100),
        ({"order_by": "create_time desc"}, 50),
    ],
    ids=["absent", "zero", "max", "max+1", "1000", "explicit desc"],
)
def test_page_size_defaults_and_is_capped(
    gateway: Gateway, library: Library, params: dict[str, Any], size: int
) -> None:
    resp = list_page(gateway, library.owner, **params)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert [a["id"] for a in body["assets"]] == library.order(library.active)[:size]
    assert body["next_page_token"]


BAD_QUERIES: list[tuple[str, dict[str, Any], str]] = [
    ("negative page size", {"page_size": -1}, "page_size"),
    ("page size not a number", {"page_size": "ten"}, "page_size"),
    ("unknown order", {"order_by": "prompt"}, "order_by"),
    ("order without direction", {"order_by": "create_time"}, "order_by"),
    ("unknown type", {"type": "audio"}, "type"),
    ("show_deleted not a boolean", {"show_deleted": "maybe"}, "show_deleted"),
    ("empty search", {"q": ""}, "q"),
    ("one-letter search", {"q": "l"}, "q"),
    ("two-word search", {"q": "red fox"}, "q"),
    ("punctuation only", {"q": "!!"}, "q"),
    ("huge page token", {"page_token": "A" * 3000}, "page_token"),
    ("unknown parameter", {"filter": "type=image"}, "filter"),
]


@pytest.mark.parametrize(("case", "params", "name"), BAD_QUERIES, ids=[c[0] for c in BAD_QUERIES])
def test_invalid_list_parameters_are_422_naming_the_parameter(
    gateway: Gateway, make_user: Callable[..., User], case: str, params: dict[str, Any], name: str
) -> None:
    problem = assert_problem(list_page(gateway, make_user(), **params), 422, "INVALID_ARGUMENT")
    assert fields_of(problem) == {name}


@pytest.mark.parametrize("asset_type", ["image", "video"])
@BOTH_ORDERS
def test_type_filter_lists_only_that_type(
    gateway: Gateway, library: Library, asset_type: str, order_by: str | None
) -> None:
    pages = walk(gateway, library.owner, page_size=7, type=asset_type, order_by=order_by)
    wanted = [a for a in library.active if a.type == asset_type]
    assert len(wanted) > 20
    assert ids_of(pages) == library.order(wanted, order_by)
    assert {a["type"] for page in pages for a in page} == {asset_type}


def test_deleted_assets_are_hidden_unless_asked_for(gateway: Gateway, library: Library) -> None:
    default = ids_of(walk(gateway, library.owner, page_size=50))
    assert not set(default) & {a.id for a in library.deleted}

    pages = walk(gateway, library.owner, page_size=50, show_deleted="true")
    assert ids_of(pages) == library.order(library.active + library.deleted)
    by_id = {a["id"]: a for page in pages for a in page}
    for asset in library.deleted:
        shown = by_id[asset.id]
        assert shown["state"] == "DELETED"
        assert datetime.fromisoformat(shown["delete_time"]) == asset.delete_time
        assert datetime.fromisoformat(shown["purge_time"]) == asset.purge_time
    assert all("delete_time" not in by_id[a.id] for a in library.active)

    videos = ids_of(walk(gateway, library.owner, page_size=7, show_deleted="true", type="video"))
    everything = library.active + library.deleted
    assert videos == library.order([a for a in everything if a.type == "video"])


def test_purged_pending_failed_and_other_users_assets_never_appear(
    gateway: Gateway, library: Library
) -> None:
    for params in ({}, {"show_deleted": "true"}, {"show_deleted": "true", "q": "lig"}):
        listed = set(ids_of(walk(gateway, library.owner, page_size=100, **params)))
        assert not listed & {a.id for a in library.hidden}, params
    strangers = ids_of(walk(gateway, library.stranger, page_size=100, show_deleted="true"))
    assert len(strangers) == 20
    assert not set(strangers) & {a.id for a in library.active + library.deleted}


SEARCHES: list[tuple[str, set[int]]] = [
    ("lig", {0, 1}),  # lighthouse, Lightning; not f-light or de-light
    ("LIGHT", {0, 1}),
    ("lighthouse", {0}),
    ("ght", set()),  # the middle of a word is not a prefix
    ("ight", set()),
    ("ox", set()),  # f-ox
    ("fo", {4}),
    ("de", {3}),
    ("café", {5}),
    ("caf", {5}),
    ("swallow", {2}),
    ("lighthouses", set()),  # longer than the word
    ("counterrev", {6}),
    ("counterrevolutionary", {6}),
    ("counterrevolutionist", set()),  # same first 15 letters, but not a prefix of the word
]


@pytest.mark.parametrize(("q", "prompts"), SEARCHES, ids=[s[0] for s in SEARCHES])
def test_search_finds_assets_by_word_prefix_only(
    gateway: Gateway, library: Library, q: str, prompts: set[int]
) -> None:
    pages = walk(gateway, library.owner, page_size=7, q=q)
    wanted = [a for a in library.active if PROMPTS.index(a.prompt) in prompts]
    assert ids_of(pages) == library.order(wanted)


def test_search_combines_with_order_type_and_deleted(gateway: Gateway, library: Library) -> None:
    params = {"q": "lig", "type": "video", "order_by": "create_time asc", "show_deleted": "true"}
    pages = walk(gateway, library.owner, page_size=3, **params)
    wanted = [
        a for a in library.active + library.deleted
        if a.type == "video" and a.prompt in PROMPTS[:2]
    ]  # fmt: skip
    assert wanted and ids_of(pages) == library.order(wanted, "create_time asc")


def test_generated_assets_are_searchable_by_each_word(
    gateway: Gateway, make_user: Callable[..., User]
) -> None:
    user = make_user()
    [asset] = generate(gateway, user, prompt="Stormy LIGHTHOUSE, keeper's lamp!")
    [other] = generate(gateway, user, prompt="a quiet meadow")
    for q, found in [("storm", [asset]), ("Lighth", [asset]), ("keeper", [asset]),
                     ("lamp", [asset]), ("amp", []), ("mead", [other]), ("eadow", [])]:  # fmt: skip
        resp = list_page(gateway, user, q=q)
        assert resp.status_code == 200, resp.text
        assert [a["id"] for a in resp.json()["assets"]] == [a["id"] for a in found], q


# -- paging while the library changes -----------------------------------------------------------
@BOTH_ORDERS
def test_paging_while_assets_are_created_and_deleted(
    gateway: Gateway, make_user: Callable[..., User], db: firestore.Client, order_by: str | None
) -> None:
    """One thread pages with page_size 7 while one deletes through the API and one writes new
    assets (older, newer and in between) to Firestore; each step of the walk overlaps a write."""
    user = make_user()
    existing = seed(db, [asset_record(user.uid, t) for t in spread_times(120, ties=30)])
    descending = order_by != "create_time asc"
    rng = random.Random(5)
    to_delete = rng.sample([a.id for a in existing], 40)
    step = threading.Barrier(3)
    deleted_ids: list[str] = []
    created: list[AssetRecord] = []
    failures: list[str] = []

    def deleter() -> None:
        try:
            for asset_id in to_delete:
                step.wait()
                resp = gateway.call("DELETE", f"/v1/assets/{asset_id}", user=user)
                if resp.status_code != 200:
                    failures.append(f"DELETE {asset_id}: {resp.status_code} {resp.text}")
                deleted_ids.append(asset_id)
        except threading.BrokenBarrierError:
            pass

    def creator() -> None:
        try:
            while True:
                step.wait()
                when = BASE_TIME + timedelta(minutes=rng.uniform(-10, 200))
                created.extend(seed(db, [asset_record(user.uid, when) for _ in range(2)]))
        except threading.BrokenBarrierError:
            pass

    writers = [threading.Thread(target=deleter), threading.Thread(target=creator)]
    for t in writers:
        t.start()
    seen: list[dict[str, Any]] = []
    token = ""
    try:
        while True:
            params = {"page_size": 7, "order_by": order_by, "page_token": token or None}
            resp = gateway.get("/v1/assets", user=user, params=params)
            assert resp.status_code == 200, resp.text
            seen.extend(resp.json()["assets"])
            token = resp.json()["next_page_token"]
            if not token:
                break
            step.wait(timeout=60)  # let both writers go while the next page is read
    finally:
        step.abort()
        for t in writers:
            t.join()

    assert not failures
    ids = [a["id"] for a in seen]
    assert len(ids) == len(set(ids)), "an asset was listed twice"
    assert deleted_ids and created, "the writers never overlapped the walk"
    missing = {a.id for a in existing} - set(ids) - set(deleted_ids)
    assert not missing, f"{len(missing)} pre-existing assets were skipped"
    assert set(ids) <= {a.id for a in existing} | {a.id for a in created}
    stamps = {a.id: a.create_time for a in existing + created}
    keys = [(stamps[i], i) for i in ids]
    assert keys == sorted(keys, reverse=descending), "the walk went out of order"


# -- page tokens ----------------------------------------------------------------------------------
def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _flip(token: str) -> str:
    i = len(token) // 2
    return token[:i] + ("B" if token[i] != "B" else "C") + token[i + 1 :]


def _reencoded(token: str, cursor: object, key: str = DEV_PAGE_TOKEN_KEY) -> str:
    """The token with its cursor replaced and signed again with a key a client could know
    (the published development key, or one of its own): has to be refused as a bad token."""
    from genmedia import pagination

    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    body = json.loads(raw.rpartition("|")[0])
    return pagination.encode(body["f"], cursor, key)  # type: ignore[arg-type]


TAMPERED: list[tuple[str, Callable[[str], str]]] = [
    ("flipped character", _flip),
    ("truncated", lambda t: t[:-6]),
    ("half", lambda t: t[: len(t) // 2]),
    ("extended", lambda t: t + "AAAA"),
    ("random base64", lambda t: _b64(os.urandom(60))),
    ("not base64", lambda t: "%%%not*a*token%%%"),
    ("base64 of JSON without checksum", lambda t: _b64(b'{"v":1,"f":"x","c":[]}')),
    ("cursor not a time", lambda t: _reencoded(t, ["not-a-time", "abc"])),
    ("cursor too short", lambda t: _reencoded(t, ["2025-03-01T12:00:00+00:00"])),
    ("cursor of numbers", lambda t: _reencoded(t, [1, 2])),
    ("cursor id with a slash", lambda t: _reencoded(t, ["2025-03-01T12:00:00+00:00", "a/b"])),
    ("same cursor, own key", lambda t: _reencoded(t, ["2025-03-01T12:00:00+00:00", "a"], "k" * 32)),
    ("calendar edge", lambda t: _reencoded(t, ["9999-12-31T23:59:59.999999-14:00", "abc"])),
    # The stack signs with a key of its own, as production does, never the published default.
    ("valid cursor, dev key", lambda t: _reencoded(t, ["2025-03-01T12:00:00+00:00", "abc"])),
]


@pytest.mark.parametrize(("case", "tamper"), TAMPERED, ids=[c[0] for c in TAMPERED])
def test_tampered_page_tokens_are_refused(
    gateway: Gateway, library: Library, case: str, tamper: Callable[[str], str]
) -> None:
    token = list_page(gateway, library.owner, page_size=5).json()["next_page_token"]
    resp = list_page(gateway, library.owner, page_size=5, page_token=tamper(token))
    problem = assert_problem(resp, 422, "INVALID_ARGUMENT")
    assert fields_of(problem) == {"page_token"}


OTHER_QUERIES: list[tuple[str, dict[str, str], dict[str, str]]] = [
    ("type added", {}, {"type": "image"}),
    ("type changed", {"type": "video"}, {"type": "image"}),
    ("type dropped", {"type": "image"}, {}),
    ("order reversed", {}, {"order_by": "create_time asc"}),
    ("order reversed back", {"order_by": "create_time asc"}, {"order_by": "create_time desc"}),
    ("show_deleted added", {}, {"show_deleted": "true"}),
    ("show_deleted dropped", {"show_deleted": "true"}, {}),
    ("q changed", {"q": "lig"}, {"q": "lighthouse"}),
    ("q added", {}, {"q": "lig"}),
    ("q dropped", {"q": "lig"}, {}),
]


@pytest.mark.parametrize(
    ("case", "issued_for", "used_with"), OTHER_QUERIES, ids=[c[0] for c in OTHER_QUERIES]
)
def test_page_tokens_only_work_for_their_own_query(
    gateway: Gateway, library: Library, case: str,
    issued_for: dict[str, str], used_with: dict[str, str],
) -> None:  # fmt: skip
    token = list_page(gateway, library.owner, page_size=5, **issued_for).json()["next_page_token"]
    assert token
    resp = list_page(gateway, library.owner, page_size=5, page_token=token, **used_with)
    assert fields_of(assert_problem(resp, 422, "INVALID_ARGUMENT")) == {"page_token"}


def test_page_tokens_survive_a_page_size_change(gateway: Gateway, library: Library) -> None:
    first = list_page(gateway, library.owner, page_size=5, q="lig").json()
    second = list_page(gateway, library.owner, page_size=9, q="LIG",
                       page_token=first["next_page_token"]).json()  # fmt: skip
    wanted = library.order([a for a in library.active if a.prompt in PROMPTS[:2]])
    assert [a["id"] for a in first["assets"] + second["assets"]] == wanted[:14]


def test_another_users_page_token_is_refused_and_leaks_nothing(
    gateway: Gateway, library: Library
) -> None:
    """Tokens are bound to the caller: replaying the owner's token as someone else is a 422
    (not that user's own next page, and never the owner's assets)."""
    token = list_page(gateway, library.owner, page_size=5).json()["next_page_token"]
    resp = list_page(gateway, library.stranger, page_size=5, page_token=token)
    problem = assert_problem(resp, 422, "INVALID_ARGUMENT")
    assert fields_of(problem) == {"page_token"}
    assert "assets" not in problem
    assert not any(a.id in resp.text for a in library.active)


# -- get, soft delete, undelete, purge ----------------------------------------------------------
def _delete(gateway: Gateway, user: User, asset_id: str, **params: str):
    return gateway.call("DELETE", f"/v1/assets/{asset_id}", user=user, params=params)


def _undelete(gateway: Gateway, user: User, asset_id: str):
    return gateway.post(f"/v1/assets/{asset_id}:undelete", user=user)


def _get(gateway: Gateway, user: User, asset_id: str):
    return gateway.get(f"/v1/assets/{asset_id}", user=user)


def _paths(asset_id: str, uid: str) -> set[str]:
    base = f"users/{uid}/assets/{asset_id}"
    return {f"{base}/original.png", f"{base}/thumbnail.webp"}


def _names(bucket: storage.Bucket, uid: str) -> dict[str, set[str]]:
    return {
        "live": {b.name for b in bucket.list_blobs(prefix=f"users/{uid}/")},
        "trash": {b.name for b in bucket.list_blobs(prefix=f"trash/users/{uid}/")},
    }


def test_get_returns_the_asset(gateway: Gateway, make_user: Callable[..., User]) -> None:
    user = make_user()
    [made] = generate(gateway, user, prompt="a red kite")
    resp = _get(gateway, user, made["id"])
    assert resp.status_code == 200, resp.text
    got = resp.json()
    # update_time is left out: the generate response shows the PENDING record's.
    same = {k: v for k, v in made.items() if k not in ("urls", "update_time")}
    assert same == {k: v for k, v in got.items() if k != "update_time"}
    assert got["update_time"] >= got["create_time"]
    assert got["state"] == "ACTIVE" and "delete_time" not in got


def test_delete_moves_objects_to_trash_and_undelete_brings_them_back(
    gateway: Gateway, make_user: Callable[..., User], bucket: storage.Bucket
) -> None:
    user = make_user()
    [asset] = generate(gateway, user, prompt="a lighthouse at dusk")
    asset_id, live = asset["id"], _paths(asset["id"], user.uid)
    early = sign(gateway, user, asset_id).json()["url"]
    assert sha256_at(early) == asset["sha256"]

    before = datetime.now(UTC)
    resp = _delete(gateway, user, asset_id)
    after = datetime.now(UTC)
    assert resp.status_code == 200, resp.text
    gone = resp.json()
    assert gone["state"] == "DELETED"
    delete_time = datetime.fromisoformat(gone["delete_time"])
    assert before - timedelta(seconds=5) <= delete_time <= after + timedelta(seconds=5)
    assert datetime.fromisoformat(gone["purge_time"]) == delete_time + timedelta(days=30)
    assert _get(gateway, user, asset_id).json() == gone
    assert_problem(sign(gateway, user, asset_id), 404, "NOT_FOUND")
    assert download(early).status_code == 404, "a URL signed before the delete still serves it"
    assert _names(bucket, user.uid) == {"live": set(), "trash": {f"trash/{p}" for p in live}}
    assert asset_id not in ids_of(walk(gateway, user))
    assert asset_id in ids_of(walk(gateway, user, show_deleted="true"))

    resp = _undelete(gateway, user, asset_id)
    assert resp.status_code == 200, resp.text
    restored = resp.json()
    assert restored["state"] == "ACTIVE"
    assert "delete_time" not in restored and "purge_time" not in restored
    assert _names(bucket, user.uid) == {"live": live, "trash": set()}
    assert ids_of(walk(gateway, user)) == [asset_id]
    fresh = sign(gateway, user, asset_id)
    assert fresh.status_code == 200, fresh.text
    assert sha256_at(fresh.json()["url"]) == asset["sha256"]
    assert sha256_at(early) == asset["sha256"]
    for variant, content_type in (("original", "image/png"), ("thumbnail", "image/webp")):
        served = download(sign(gateway, user, asset_id, variant=variant).json()["url"])
        assert served.headers["Content-Type"] == content_type, "the move lost the metadata"
        assert "immutable" in served.headers["Cache-Control"]


def _at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released together; their results in order."""
    start = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        start.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_deletes_succeed_once(
    gateway: Gateway, make_user: Callable[..., User], bucket: storage.Bucket
) -> None:
    user = make_user()
    [asset] = generate(gateway, user)
    answers = _at_once(*[lambda: _delete(gateway, user, asset["id"])] * 4)
    assert sorted(r.status_code for r in answers) == [200, 404, 404, 404]
    assert _names(bucket, user.uid) == {
        "live": set(),
        "trash": {f"trash/{p}" for p in _paths(asset["id"], user.uid)},
    }


RACES: list[tuple[str, bool, dict[str, str]]] = [
    ("active asset, delete and undelete", False, {}),
    ("deleted asset, undelete and delete allow_missing", True, {"allow_missing": "true"}),
]


@pytest.mark.parametrize(
    ("case", "start_deleted", "delete_params"), RACES, ids=[r[0] for r in RACES]
)
def test_racing_delete_and_undelete_never_strand_an_asset(
    gateway: Gateway, make_user: Callable[..., User], bucket: storage.Bucket,
    case: str, start_deleted: bool, delete_params: dict[str, str],
) -> None:  # fmt: skip
    """Two tabs, or a retried delete, racing an undelete: whichever wins, an ACTIVE asset's
    objects are at their live paths (its URLs work) and a DELETED one's are in the trash."""
    user = make_user()
    assets = generate(gateway, user, count=4) + generate(gateway, user, count=4)
    for asset in assets:
        if start_deleted:
            assert _delete(gateway, user, asset["id"]).status_code == 200
        _at_once(
            lambda a=asset: _delete(gateway, user, a["id"], **delete_params),
            lambda a=asset: _undelete(gateway, user, a["id"]),
        )
    stranded = []
    for asset in assets:
        state = _get(gateway, user, asset["id"]).json()["state"]
        live = _paths(asset["id"], user.uid)
        names = {
            "live": {n for n in _names(bucket, user.uid)["live"] if n in live},
            "trash": {n for n in _names(bucket, user.uid)["trash"] if n[6:] in live},
        }
        expected = (
            {"live": live, "trash": set()}
            if state == "ACTIVE"
            else {"live": set(), "trash": {f"trash/{p}" for p in live}}
        )
        if names != expected:
            stranded.append((asset["id"], state, sorted(names["live"] | names["trash"])))
            continue
        if state == "ACTIVE":
            url = sign(gateway, user, asset["id"]).json()["url"]
            assert sha256_at(url) == asset["sha256"]
    assert not stranded, f"{len(stranded)} of {len(assets)} assets stranded: {stranded}"


def test_deleting_twice_is_404_unless_allow_missing(
    gateway: Gateway, make_user: Callable[..., User], bucket: storage.Bucket
) -> None:
    user = make_user()
    [asset] = generate(gateway, user)
    first = _delete(gateway, user, asset["id"]).json()
    assert_problem(_delete(gateway, user, asset["id"]), 404, "NOT_FOUND")
    assert_problem(_delete(gateway, user, asset["id"], allow_missing="false"), 404, "NOT_FOUND")
    again = _delete(gateway, user, asset["id"], allow_missing="true")
    assert again.status_code == 200, again.text
    assert again.json()["state"] == "DELETED"
    assert again.json()["delete_time"] == first["delete_time"], "the retention clock restarted"
    assert again.json()["purge_time"] == first["purge_time"]
    assert _names(bucket, user.uid)["live"] == set()
    assert len(_names(bucket, user.uid)["trash"]) == 2


def test_undeleting_an_active_asset_is_a_conflict(
    gateway: Gateway, make_user: Callable[..., User], bucket: storage.Bucket
) -> None:
    user = make_user()
    [asset] = generate(gateway, user)
    assert_problem(_undelete(gateway, user, asset["id"]), 409, "ALREADY_EXISTS")
    assert _get(gateway, user, asset["id"]).json()["state"] == "ACTIVE"
    assert _names(bucket, user.uid) == {"live": _paths(asset["id"], user.uid), "trash": set()}


def test_after_the_purge_time_the_asset_is_gone(
    gateway: Gateway, make_user: Callable[..., User], db: firestore.Client
) -> None:
    user = make_user()
    [asset] = generate(gateway, user)
    assert _delete(gateway, user, asset["id"]).status_code == 200
    expire_purge_time(db, asset["id"])
    unknown = problem_shape(assert_problem(_get(gateway, user, "no-such-asset"), 404, "NOT_FOUND"))
    calls = {
        "get": _get(gateway, user, asset["id"]),
        "undelete": _undelete(gateway, user, asset["id"]),
        "delete": _delete(gateway, user, asset["id"]),
        "delete allow_missing": _delete(gateway, user, asset["id"], allow_missing="true"),
        "sign": sign(gateway, user, asset["id"]),
    }
    for name, resp in calls.items():
        assert problem_shape(assert_problem(resp, 404, "NOT_FOUND")) == unknown, name
    assert asset["id"] not in ids_of(walk(gateway, user, show_deleted="true"))


@pytest.mark.parametrize("state", ["PENDING", "FAILED"])
def test_unfinished_generations_are_not_found(
    gateway: Gateway, make_user: Callable[..., User], db: firestore.Client, state: str
) -> None:
    user = make_user()
    [asset] = seed(db, [asset_record(user.uid, BASE_TIME, state=state)])
    for resp in (
        _get(gateway, user, asset.id),
        _delete(gateway, user, asset.id),
        _delete(gateway, user, asset.id, allow_missing="true"),
        _undelete(gateway, user, asset.id),
        sign(gateway, user, asset.id),
    ):
        assert_problem(resp, 404, "NOT_FOUND")
    batch = gateway.post("/v1/assets:batchSignUrls", user=user, json={"ids": [asset.id]})
    assert batch.json() == {"urls": {}, "errors": {asset.id: "NOT_FOUND"}}
    assert db.collection("assets").document(asset.id).get().to_dict()["state"] == state


# -- usage ----------------------------------------------------------------------------------------
def _next_midnight(now: datetime) -> datetime:
    return datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)


def _next_month(now: datetime) -> datetime:
    return datetime(now.year + now.month // 12, now.month % 12 + 1, 1, tzinfo=UTC)


def test_usage_reflects_generations_limits_and_resets(
    gateway: Gateway, make_user: Callable[..., User], set_quota: Callable[..., Any]
) -> None:
    user = make_user()

    def usage() -> dict[str, Any]:
        resp = gateway.get("/v1/usage", user=user)
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        return body

    start = datetime.now(UTC)
    fresh = usage()
    assert (fresh["images"]["used"], fresh["images"]["limit"]) == (0, 50)
    assert (fresh["videos"]["used"], fresh["videos"]["limit"]) == (0, 20)
    assert fresh["cost_this_month"] == {"currency": "USD", "amount": "0.000000"}

    made = generate(gateway, user, count=2) + generate(gateway, user, prompt="a lamp")
    blocked = gateway.post("/v1/images:generate", user=user, json={"prompt": "a beheading"})
    assert_problem(blocked, 422, "CONTENT_BLOCKED")
    now = usage()
    end = datetime.now(UTC)
    assert now["images"]["used"] == len(made) == 3
    cost = sum(float(a["cost"]["amount"]) for a in made)
    assert float(now["cost_this_month"]["amount"]) == pytest.approx(cost)
    day_reset = datetime.fromisoformat(now["images"]["reset_time"])
    month_reset = datetime.fromisoformat(now["videos"]["reset_time"])
    assert day_reset in {_next_midnight(start), _next_midnight(end)}
    assert month_reset in {_next_month(start), _next_month(end)}

    set_quota(user, images_per_day=7, videos_per_month=3)
    changed = usage()
    assert (changed["images"]["used"], changed["images"]["limit"]) == (3, 7)
    assert (changed["videos"]["used"], changed["videos"]["limit"]) == (0, 3)
    set_quota(user, images_per_day=None, videos_per_month=None)
    assert (usage()["images"]["limit"], usage()["videos"]["limit"]) == (50, 20)


def test_usage_is_per_user(gateway: Gateway, make_user: Callable[..., User]) -> None:
    busy, idle = make_user(), make_user()
    generate(gateway, busy, count=3)
    assert gateway.get("/v1/usage", user=idle).json()["images"]["used"] == 0
    assert gateway.get("/v1/usage", user=busy).json()["images"]["used"] == 3
