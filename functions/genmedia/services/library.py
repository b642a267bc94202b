"""The asset library: list, get and usage (soft delete is in ``library_trash``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from genmedia import pagination, quotas, search
from genmedia.principal import Principal
from genmedia.services.access import is_purged, readable
from genmedia.services.views import asset_view, usage_view
from genmedia.store.assets import AssetQuery

if TYPE_CHECKING:
    from genmedia.bootstrap import Deps


@dataclass(frozen=True)
class ListAssets:
    page_size: int = 0  # 0: the default
    page_token: str = ""
    type: Literal["image", "video"] | None = None
    descending: bool = True
    show_deleted: bool = False
    q: str | None = None


def list_assets(deps: Deps, principal: Principal, params: ListAssets) -> dict[str, Any]:
    """One Firestore query per page; ``next_page_token`` is empty only at the end."""
    spec = AssetQuery(
        owner_uid=principal.uid,
        states=("ACTIVE", "DELETED") if params.show_deleted else ("ACTIVE",),
        type=params.type,
        term=search.query_term(params.q) if params.q is not None else None,
        descending=params.descending,
    )
    query_fp = pagination.fingerprint(spec)
    p = pagination.pager(
        query_fp, params.page_size, params.page_token, deps.settings.page_token_keys
    )
    rows = deps.database.assets.list_page(spec, p.size + 1, p.after)
    page, token = p.finish(rows, lambda a: (a.create_time, a.id))
    now = deps.clock.now()
    return {
        "assets": [asset_view(a) for a in page if not is_purged(a, now)],
        "next_page_token": token,
    }


def get_asset(deps: Deps, principal: Principal, asset_id: str) -> dict[str, Any]:
    asset = deps.database.assets.get(asset_id)
    return asset_view(readable(asset, principal, deps.clock.now()))


def usage(deps: Deps, principal: Principal) -> dict[str, Any]:
    stored, user = deps.database.usage.read_with_user(principal.uid)
    limits = quotas.limits_for(deps.settings, user)
    return usage_view(stored, limits, deps.clock.now())
