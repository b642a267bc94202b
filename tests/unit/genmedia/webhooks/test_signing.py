"""Our signatures checked by the reference implementation (``standardwebhooks``), which shares
no code with ours: valid ones verify, tampered content does not, rotation signs with both."""

from __future__ import annotations

import base64
import time

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from genmedia.webhooks.signing import new_secret, secret_key, sign, sign_all, verify

BODY = b'{"type":"job.succeeded","timestamp":"2026-01-01T00:00:00.000Z","data":{"id":"j1"}}'


def headers(msg_id: str, timestamp: int, signature: str) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }


def test_new_secret_is_whsec_with_32_random_bytes() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret[6:], validate=True)) == 32
    assert new_secret() != secret


def test_reference_implementation_verifies_our_signature() -> None:
    secret, now = new_secret(), int(time.time())
    signature = sign(secret, "msg_1", now, BODY)
    assert signature.startswith("v1,")
    assert Webhook(secret).verify(BODY, headers("msg_1", now, signature))["data"] == {"id": "j1"}


def test_known_vector_from_the_standard_webhooks_spec() -> None:
    # The example in the Standard Webhooks spec and its reference libraries' tests.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == expected


@pytest.mark.parametrize(
    ("body", "msg_id", "shift"),
    [
        (BODY.replace(b"j1", b"j2"), "msg_1", 0),  # body tampered
        (BODY, "msg_2", 0),  # id swapped
        (BODY, "msg_1", 1),  # timestamp changed
    ],
)
def test_tampered_content_is_refused(body: bytes, msg_id: str, shift: int) -> None:
    secret, now = new_secret(), int(time.time())
    signature = sign(secret, "msg_1", now, BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, headers(msg_id, now + shift, signature))


def test_other_secret_is_refused() -> None:
    now = int(time.time())
    signature = sign(new_secret(), "msg_1", now, BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, headers("msg_1", now, signature))


def test_rotation_sends_one_signature_per_secret_and_each_verifies() -> None:
    old, new, now = new_secret(), new_secret(), int(time.time())
    header = sign_all([old, new], "msg_1", now, BODY)
    assert len(header.split(" ")) == 2
    for secret in (old, new):
        Webhook(secret).verify(BODY, headers("msg_1", now, header))
        assert verify(secret, "msg_1", now, BODY, header, now=now, tolerance=300)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, headers("msg_1", now, header))


def test_our_verify_refuses_stale_timestamps_and_tampering() -> None:
    secret, now = new_secret(), int(time.time())
    header = sign(secret, "msg_1", now, BODY)
    assert verify(secret, "msg_1", now, BODY, header, now=now + 300, tolerance=300)
    assert not verify(secret, "msg_1", now, BODY, header, now=now + 301, tolerance=300)
    assert not verify(secret, "msg_1", now, BODY + b" ", header, now=now, tolerance=300)
    assert not verify(secret, "msg_1", now, BODY, "v1,garbage", now=now, tolerance=300)


@pytest.mark.parametrize(
    "secret",
    ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!", "whsec_" + "QUJD", "whsec_"],
)
def test_malformed_or_short_secrets_are_refused(secret: str) -> None:
    with pytest.raises(ValueError, match="webhook secret"):
        secret_key(secret)


@pytest.mark.parametrize(("msg_id", "timestamp"), [("", 1), ("a.b", 1), ("a b", 1), ("m", -1)])
def test_ambiguous_ids_and_bad_timestamps_are_refused(msg_id: str, timestamp: int) -> None:
    with pytest.raises(ValueError, match="webhook"):
        sign(new_secret(), msg_id, timestamp, BODY)


def test_sign_all_needs_a_secret() -> None:
    with pytest.raises(ValueError, match="at least one"):
        sign_all([], "msg_1", 1, BODY)
