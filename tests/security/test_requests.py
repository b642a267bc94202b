"""Malformed claims and bodies from the adversarial pass, through the real entry points:
each answers a clear 4xx problem, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.api import forged_token

GENERATE = "/v1/images:generate"


def claims_token(project_id: str, **claims: Any) -> str:
    """An unsigned token shaped like the Auth emulator's, with claims removed or replaced."""
    header, payload, _ = forged_token(project_id, "u1", issued_ago=10).split(".")
    import base64

    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    for name, value in claims.items():
        if value is None:
            decoded.pop(name, None)
        else:
            decoded[name] = value
    body = base64.urlsafe_b64encode(json.dumps(decoded).encode()).rstrip(b"=").decode()
    return f"{header}.{body}."


MALFORMED_CLAIMS = {
    "no iat": {"iat": None},
    "iat as text": {"iat": "yesterday"},
    "exp as text": {"exp": "tomorrow"},
    "no sub": {"sub": None, "user_id": None},
    "sub not a string": {"sub": 7},
    "iat true": {"iat": True},
}


@pytest.mark.parametrize("claims", MALFORMED_CLAIMS.values(), ids=MALFORMED_CLAIMS.keys())
def test_a_token_with_a_malformed_claim_set_is_401(
    functions: Any, problem: Any, stack_info: dict[str, Any], claims: dict[str, Any]
) -> None:
    client = functions.client("generate_image")
    token = claims_token(stack_info["project_id"], **claims)
    response = client.post(
        GENERATE, json={"prompt": "a kite"}, headers={"Authorization": f"Bearer {token}"}
    )
    problem(response, 401, "UNAUTHENTICATED")


def test_a_payload_that_is_not_json_is_401(functions: Any, problem: Any) -> None:
    client = functions.client("library")
    response = client.get("/v1/usage", headers={"Authorization": "Bearer eyJhIjoxfQ.bm90IGpzb24."})
    problem(response, 401, "UNAUTHENTICATED")


def test_a_lone_surrogate_is_reported_as_such(functions: Any, problem: Any, make_user: Any) -> None:
    client, user = functions.client("generate_image"), make_user()
    body = '{"prompt": "a kite \\ud800"}'
    headers = {**user.headers(), "Content-Type": "application/json"}
    detail = problem(client.post(GENERATE, data=body, headers=headers), 400, "INVALID_ARGUMENT")
    assert "surrogate" in detail["detail"] and "nested" not in detail["detail"]
