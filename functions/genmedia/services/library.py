"""The asset library: list, get and usage (soft delete is in ``softdelete``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from genmedia import pagination, quotas, search
from genmedia.auth import Principal
from genmedia.clients import firestore_client
from genmedia.config import get_settings
from genmedia.models import ListAssetsQuery
from genmedia.services.access import is_purged, readable
from genmedia.services.views import asset_view
from genmedia.store.assets import AssetQuery, AssetRepository
from genmedia.store.usage import UsageRepository

DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 50, 100
ID_RE = re.compile(r"[A-Za-z0-9_-]{1,128}")


def list_assets(principal: Principal, params: ListAssetsQuery) -> dict[str, Any]:
    """One Firestore query per page; ``next_page_token`` is empty only at the end."""
    spec = AssetQuery(
        owner_uid=principal.uid,
        states=("ACTIVE", "DELETED") if params.show_deleted else ("ACTIVE",),
        type=params.type,
        term=search.query_term(params.q) if params.q is not None else None,
        descending=params.order_by.endswith("desc"),
    )
    query_fp = pagination.fingerprint(spec)
    size = min(params.page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    after = _cursor(params.page_token, query_fp) if params.page_token else None
    rows = AssetRepository(firestore_client()).list_page(spec, size + 1, after)
    page, more = rows[:size], len(rows) > size
    now = datetime.now(UTC)
    token = ""
    if more:
        last = page[-1]
        token = pagination.encode(query_fp, [last.create_time.isoformat(), last.id])
    return {
        "assets": [asset_view(a) for a in page if not is_purged(a, now)],
        "next_page_token": token,
    }


def _cursor(token: str, query_fp: str) -> tuple[datetime, str]:
    """The (create_time, id) a token resumes after; anything else in a token is a 422."""
    cursor = pagination.decode(token, query_fp)
    try:
        stamp, asset_id = cursor
        after = datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        raise pagination.invalid_token() from None
    if after.tzinfo is None or not isinstance(asset_id, str) or not ID_RE.fullmatch(asset_id):
        raise pagination.invalid_token()
    return after, asset_id


def get_asset(principal: Principal, asset_id: str) -> dict[str, Any]:
    asset = AssetRepository(firestore_client()).get(asset_id)
    return asset_view(readable(asset, principal, datetime.now(UTC)))


def usage(principal: Principal) -> dict[str, Any]:
    stored, user = UsageRepository(firestore_client()).read_in(None, principal.uid)
    return quotas.usage_view(stored, quotas.limits_for(get_settings(), user), datetime.now(UTC))
