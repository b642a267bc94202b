"""Firebase Auth accounts as the admin service sees them: custom claims and revocation."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from genmedia.errors import NotFound

if TYPE_CHECKING:
    import firebase_admin


class UserDirectory(Protocol):
    def claims(self, uid: str) -> dict[str, Any]:
        """The account's custom claims; NotFound if there is no such account."""
        ...

    def set_claims(self, uid: str, claims: dict[str, Any]) -> None: ...

    def revoke_sessions(self, uid: str) -> None: ...


class FirebaseUsers:
    def __init__(self, app: Callable[[], firebase_admin.App]) -> None:
        self._app = app

    def claims(self, uid: str) -> dict[str, Any]:
        from firebase_admin import auth

        try:
            user = auth.get_user(uid, app=self._app())
        except auth.UserNotFoundError as exc:
            raise NotFound("No such user") from exc
        return dict(user.custom_claims or {})

    def set_claims(self, uid: str, claims: dict[str, Any]) -> None:
        from firebase_admin import auth

        auth.set_custom_user_claims(uid, claims, app=self._app())

    def revoke_sessions(self, uid: str) -> None:
        from firebase_admin import auth

        auth.revoke_refresh_tokens(uid, app=self._app())
