"""Admin use cases: a user's role (custom claim) and quota overrides."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from genmedia.principal import RANK, Principal, Role, role_of
from genmedia.quotas import limits_for
from genmedia.services import audit
from genmedia.store.records import UserRecord

if TYPE_CHECKING:
    from genmedia.bootstrap import Deps


@dataclass(frozen=True)
class UpdateUser:
    role: Role | None = None
    quota: dict[str, int | None] | None = None  # only the fields to change; None removes one


def _view(deps: Deps, uid: str, role: str, record: UserRecord) -> dict[str, Any]:
    limits = limits_for(deps.settings, record)
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


def get_user(deps: Deps, uid: str) -> dict[str, Any]:
    claims = deps.user_directory().claims(uid)
    return _view(deps, uid, role_of(claims), deps.database.users.get(uid))


def update_user(deps: Deps, actor: Principal, uid: str, change: UpdateUser) -> dict[str, Any]:
    users = deps.user_directory()
    claims = users.claims(uid)
    role = before = role_of(claims)
    if change.role is not None and change.role != role:
        users.set_claims(uid, claims | {"role": change.role})
        if RANK[change.role] < RANK[role]:
            # Tokens carry the old role until they expire; revoking makes a demotion immediate.
            users.revoke_sessions(uid)
        role = change.role
    fields: dict[str, Any] = {"role": role, "update_time": deps.clock.now()}
    if change.quota is not None:
        fields["quota"] = change.quota
    stored = deps.database.users.merge(uid, fields)
    details = {"role": {"from": before, "to": role}, "quota": change.quota}
    audit.record(deps, None, actor, "user.update", ("user", uid), details=details)
    return _view(deps, uid, role, stored)
