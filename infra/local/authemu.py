"""Client for the Firebase Auth emulator's REST API: users, custom claims and ID tokens.

Used by the launcher (demo user), `make token` and the tests. It talks to the official emulator
exactly as the Firebase client SDKs do, so tokens it returns are real emulator ID tokens.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

_IDT = "identitytoolkit.googleapis.com"
_API_KEY = "local-api-key"  # the emulator accepts any API key


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@dataclass(frozen=True)
class AuthEmulator:
    host: str  # host:port
    project_id: str

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        req = urllib.request.Request(
            f"http://{self.host}/{path}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json", "Authorization": "Bearer owner"},
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"auth emulator {path}: {exc.code} {exc.read()[:300]!r}") from exc
        return json.loads(raw) if raw else {}

    def _admin(self, verb: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", f"{_IDT}/v1/projects/{self.project_id}/accounts{verb}", body)

    def find_uid(self, email: str) -> str | None:
        users = self._admin(":lookup", {"email": [email]}).get("users", [])
        return users[0]["localId"] if users else None

    def create_user(
        self,
        email: str,
        password: str | None = None,
        role: str | None = None,
        uid: str | None = None,  # chosen by the caller, e.g. an account given back after a restart
    ) -> str:
        body: dict[str, Any] = {"email": email, "emailVerified": True}
        if uid:
            body["localId"] = uid
        if password:
            body["password"] = password
        created: str = self._admin("", body)["localId"]
        if role:
            self.set_claims(created, {"role": role})
        return created

    def ensure_user(self, email: str, password: str | None = None, role: str | None = None) -> str:
        uid = self.find_uid(email)
        if uid is None:
            return self.create_user(email, password, role)
        if role:
            self.set_claims(uid, {"role": role})
        return uid

    def set_claims(self, uid: str, claims: dict[str, Any]) -> None:
        self._admin(":update", {"localId": uid, "customAttributes": json.dumps(claims)})

    def disable(self, uid: str, disabled: bool = True) -> None:
        self._admin(":update", {"localId": uid, "disableUser": disabled})

    def revoke_tokens(self, uid: str) -> None:
        """Tokens issued before now stop verifying with check_revoked=True."""
        self._admin(":update", {"localId": uid, "validSince": str(int(time.time()))})

    def id_token(self, uid: str) -> str:
        """A fresh ID token for ``uid`` via an unsigned custom token, which the emulator accepts."""
        now = int(time.time())
        custom = ".".join(
            [
                _b64({"alg": "none", "typ": "JWT"}),
                _b64(
                    {
                        "iss": "local",
                        "sub": "local",
                        "uid": uid,
                        "iat": now,
                        "exp": now + 3600,
                        "aud": f"https://{_IDT}/google.identity.identitytoolkit.v1.IdentityToolkit",
                    }
                ),
                "",
            ]
        )
        resp = self._call(
            "POST",
            f"{_IDT}/v1/accounts:signInWithCustomToken?key={_API_KEY}",
            {"token": custom, "returnSecureToken": True},
        )
        return str(resp["idToken"])

    def reset(self) -> None:
        self._call("DELETE", f"emulator/v1/projects/{self.project_id}/accounts")
