"""Roles from claims (least privilege for unknown values) and role checks."""

from __future__ import annotations

import pytest

from genmedia.errors import PermissionDenied
from genmedia.principal import RANK, Principal, require_role, role_of


@pytest.mark.parametrize(
    ("claims", "role"),
    [
        ({}, "user"),
        ({"role": "admin"}, "admin"),
        ({"role": "viewer"}, "viewer"),
        ({"role": "root"}, "viewer"),  # unknown: least privilege
        ({"role": ["admin"]}, "viewer"),
        ({"role": None}, "viewer"),
    ],
)
def test_role_of_claims(claims: dict[str, object], role: str) -> None:
    assert role_of(claims) == role


def test_require_role_refuses_other_roles() -> None:
    viewer = Principal("v", "viewer")
    with pytest.raises(PermissionDenied, match="viewer"):
        require_role(viewer, "admin", "user")
    assert require_role(viewer, "viewer") is viewer


def test_ranks_order_viewer_below_user_below_admin() -> None:
    assert RANK["viewer"] < RANK["user"] < RANK["admin"]


def test_the_token_is_never_shown_or_compared() -> None:
    a, b = Principal("u", "user", token="secret-1"), Principal("u", "user", token="secret-2")
    assert a == b and "secret" not in repr(a)
