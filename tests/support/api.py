"""Assertions and helpers about the public API contract, shared by integration tests."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from tests.support.problems import assert_problem

__all__ = ["assert_problem", "fields_of", "forged_token"]


def fields_of(problem: dict[str, Any]) -> set[str]:
    return {e["field"] for e in problem.get("errors", [])}


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def forged_token(project_id: str, uid: str, *, issued_ago: int, lifetime: int = 3600) -> str:
    """An unsigned ID token as the Auth emulator issues them, with chosen times (e.g. expired)."""
    iat = int(time.time()) - issued_ago
    claims = {
        "iss": f"https://securetoken.google.com/{project_id}",
        "aud": project_id,
        "auth_time": iat,
        "user_id": uid,
        "sub": uid,
        "iat": iat,
        "exp": iat + lifetime,
        "firebase": {"identities": {}, "sign_in_provider": "custom"},
    }
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
