"""``library`` function: the caller's assets (list, get, soft delete, undelete) and usage."""

from __future__ import annotations

from typing import Any

from genmedia.bootstrap import deps
from genmedia.handlers import function_router
from genmedia.http import Request, link
from genmedia.http.auth import principal_of
from genmedia.models import Asset, DeleteAssetQuery, ListAssetsQuery, ListAssetsResponse, Usage
from genmedia.services import library, library_trash

router = function_router("library")


@router.route(
    "GET",
    "/v1/assets",
    query_model=ListAssetsQuery,
    response_model=ListAssetsResponse,
    summary="List your assets, newest first",
    errors=[422],
)
def list_assets(req: Request) -> dict[str, Any]:
    query = req.query(ListAssetsQuery)
    params = library.ListAssets(
        page_size=query.page_size,
        page_token=query.page_token,
        type=query.type,
        descending=query.order_by.endswith("desc"),
        show_deleted=query.show_deleted,
        q=query.q,
    )
    return library.list_assets(deps(), principal_of(req), params)


@router.route(
    "GET",
    "/v1/assets/{id}",
    response_model=Asset,
    summary="Get an asset",
    description="Soft-deleted assets are returned with their state.",
    errors=[404],
)
def get_asset(req: Request) -> dict[str, Any]:
    return library.get_asset(deps(), principal_of(req), req.path_params["id"])


@router.route(
    "DELETE",
    "/v1/assets/{id}",
    query_model=DeleteAssetQuery,
    response_model=Asset,
    summary="Soft-delete an asset (undelete within the retention period)",
    errors=[404, 422],
    links=[link("UndeleteAsset", "POST", "/v1/assets/{id}:undelete", id="$request.path.id")],
)
def delete_asset(req: Request) -> dict[str, Any]:
    params = req.query(DeleteAssetQuery)
    asset_id = req.path_params["id"]
    return library_trash.delete_asset(deps(), principal_of(req), asset_id, params.allow_missing)


@router.route(
    "POST",
    "/v1/assets/{id}:undelete",
    response_model=Asset,
    summary="Restore a soft-deleted asset",
    errors=[404, 409],
)
def undelete_asset(req: Request) -> dict[str, Any]:
    return library_trash.undelete_asset(deps(), principal_of(req), req.path_params["id"])


@router.route(
    "GET",
    "/v1/usage",
    response_model=Usage,
    summary="Your quotas, what you used this period, and this month's cost",
)
def usage(req: Request) -> dict[str, Any]:
    return library.usage(deps(), principal_of(req))
