"""Admin use cases: a user's role (custom claim) and quota overrides."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from genmedia.auth import ROLES, role_of
from genmedia.clients import firebase_app, firestore_client
from genmedia.config import get_settings
from genmedia.errors import NotFound
from genmedia.models import UpdateUserRequest
from genmedia.quotas import limits_for
from genmedia.store.records import UserRecord
from genmedia.store.usage import UsageRepository

_RANK = {role: rank for rank, role in enumerate(reversed(ROLES))}  # viewer < user < admin


def _auth_user(uid: str) -> Any:
    from firebase_admin import auth

    try:
        return auth.get_user(uid, app=firebase_app())
    except auth.UserNotFoundError as exc:
        raise NotFound("No such user") from exc


def _view(uid: str, role: str, record: UserRecord) -> dict[str, Any]:
    limits = limits_for(get_settings(), record)
    return {
        "uid": uid,
        "role": role,
        "quota": {
            "images_per_day": limits.images_per_day,
            "videos_per_month": limits.videos_per_month,
        },
        "quota_overrides": {
            "images_per_day": record.quota.images_per_day,
            "videos_per_month": record.quota.videos_per_month,
        },
    }


def get_user(uid: str) -> dict[str, Any]:
    user = _auth_user(uid)
    return _view(
        uid, role_of(user.custom_claims or {}), UsageRepository(firestore_client()).get_user(uid)
    )


def update_user(uid: str, body: UpdateUserRequest) -> dict[str, Any]:
    from firebase_admin import auth

    user = _auth_user(uid)
    claims = dict(user.custom_claims or {})
    role = role_of(claims)
    if body.role is not None and body.role != role:
        auth.set_custom_user_claims(uid, claims | {"role": body.role}, app=firebase_app())
        if _RANK[body.role] < _RANK[role]:
            # Tokens carry the old role until they expire; revoking makes a demotion immediate.
            auth.revoke_refresh_tokens(uid, app=firebase_app())
        role = body.role
    fields: dict[str, Any] = {"role": role, "update_time": datetime.now(UTC)}
    if body.quota is not None:
        fields["quota"] = body.quota.model_dump(exclude_unset=True)
    record = UsageRepository(firestore_client()).update_user(uid, fields)
    return _view(uid, role, record)
