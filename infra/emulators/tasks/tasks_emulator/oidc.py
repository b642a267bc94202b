"""OIDC ID tokens for tasks with http_request.oidc_token, and the certificates that verify them.

The key is generated at start. Its certificate is served in the format of
https://www.googleapis.com/oauth2/v1/certs, so a worker verifies tokens with
google.oauth2.id_token.verify_token(..., certs_url=<admin port>/oauth2/v1/certs).
"""

import datetime
import hashlib
from collections.abc import Callable, Mapping

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt, jwt

ISSUER = "https://accounts.google.com"
TOKEN_LIFETIME_S = 3600
CERT_LIFETIME = datetime.timedelta(days=365)
# google-auth's signing functions carry no annotations; these are their documented types.
_signer_from_pem: Callable[..., crypt.Signer] = crypt.RSASigner.from_string
_encode_jwt: Callable[[crypt.Signer, Mapping[str, object]], bytes] = jwt.encode


class TokenSigner:
    def __init__(self, now: float) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public_der = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        # Google's key ids are 40 hex digits; a digest of the public key is one too.
        self.key_id = hashlib.sha1(public_der, usedforsecurity=False).hexdigest()
        private_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self._signer = _signer_from_pem(private_pem, key_id=self.key_id)
        self._cert_pem = _certificate(key, now).public_bytes(serialization.Encoding.PEM).decode()

    def certs(self) -> dict[str, str]:
        return {self.key_id: self._cert_pem}

    def token(self, service_account_email: str, audience: str, now: float) -> str:
        subject = service_account_id(service_account_email)
        issued = int(now)
        claims = {
            "iss": ISSUER,
            "aud": audience,
            "azp": subject,
            "sub": subject,
            "email": service_account_email,
            "email_verified": True,
            "iat": issued,
            "exp": issued + TOKEN_LIFETIME_S,
        }
        return _encode_jwt(self._signer, claims).decode()


def service_account_id(email: str) -> str:
    """A stable stand-in for the service account's unique id (21 digits in production)."""
    digest = int.from_bytes(hashlib.sha256(email.encode()).digest()[:9], "big")
    return str(10**20 + digest % (9 * 10**20))


def _certificate(key: rsa.RSAPrivateKey, now: float) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tasks-emulator")])
    start = datetime.datetime.fromtimestamp(now, tz=datetime.UTC) - datetime.timedelta(days=1)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + CERT_LIFETIME)
        .sign(key, hashes.SHA256())
    )
