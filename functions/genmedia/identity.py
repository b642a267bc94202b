"""Firebase Auth accounts as the services see them: custom claims, revocation, and the
disable-then-delete of an erasure."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from genmedia.errors import NotFound, Unavailable

if TYPE_CHECKING:
    import firebase_admin


class UserDirectory(Protocol):
    def claims(self, uid: str) -> dict[str, Any]:
        """The account's custom claims; NotFound if there is no such account."""
        ...

    def set_claims(self, uid: str, claims: dict[str, Any]) -> None: ...

    def revoke_sessions(self, uid: str) -> None: ...

    def disable(self, uid: str) -> None:
        """Disable the account and revoke its sessions; an account already gone is fine."""
        ...

    def delete(self, uid: str) -> None:
        """Delete the account; one already deleted is fine."""
        ...


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

    def disable(self, uid: str) -> None:
        from firebase_admin import auth

        with _tolerating_missing():
            auth.update_user(uid, disabled=True, app=self._app())
            auth.revoke_refresh_tokens(uid, app=self._app())

    def delete(self, uid: str) -> None:
        from firebase_admin import auth

        with _tolerating_missing():
            auth.delete_user(uid, app=self._app())


@contextlib.contextmanager
def _tolerating_missing() -> Iterator[None]:
    """An account already gone is fine (a repeated erasure step); an unreachable Identity
    Toolkit is a 503 to retry."""
    from firebase_admin import auth, exceptions

    try:
        yield
    except auth.UserNotFoundError:
        return
    except exceptions.FirebaseError as exc:
        raise Unavailable("The account service is unavailable; retry", retry_after=5) from exc
