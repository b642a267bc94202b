"""Start-up state of the local stack: buckets, task queues, the local signing and page-token
keys, the demo user."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

from infra.local.authemu import AuthEmulator

if TYPE_CHECKING:
    from infra.local.stack import Stack

DEMO_EMAIL = "demo@genmedia.dev"
DEMO_PASSWORD = "genmedia-demo"  # noqa: S105 - a local emulator account, printed at start


def media_bucket(project_id: str) -> str:
    return f"{project_id}-media"


def invoker_service_account(project_id: str) -> str:
    """The account task OIDC tokens name (Terraform's invoker account)."""
    return f"genmedia-invoker@{project_id}.iam.gserviceaccount.com"


def buckets(project_id: str) -> list[str]:
    return [media_bucket(project_id)]


def page_token_key(path: Path) -> str:
    """The stack's page-token HMAC key (Secret Manager in production): made once per state
    directory, so tokens survive a restart and no published default key is ever in use."""
    if not path.exists():
        import secrets

        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32))
    return path.read_text().strip()


def ensure_signing_key(path: Path, project_id: str) -> None:
    """A service-account-shaped key used only to sign V4 URLs locally (production uses signBlob)."""
    if path.exists():
        return
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    data = {
        "type": "service_account",
        "project_id": project_id,
        "private_key_id": "local",
        "private_key": pem,
        "client_email": f"signer@{project_id}.iam.gserviceaccount.com",
        "client_id": "0",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    path.chmod(0o600)


def create_bucket(storage_host: str, project_id: str, name: str) -> None:
    req = urllib.request.Request(
        f"http://{storage_host}/storage/v1/b?project={project_id}",
        method="POST",
        data=json.dumps({"name": name}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        urllib.request.urlopen(req, timeout=10).close()
    except urllib.error.HTTPError as exc:
        if exc.code != 409:  # already there: fine on a restart
            raise


def seed(stack: Stack) -> None:
    from infra.local.events import seed_events
    from infra.local.queues import create_queues

    info = stack.info()
    for bucket in buckets(stack.options.project_id):
        create_bucket(str(info["storage_emulator"]), stack.options.project_id, bucket)
    create_queues(str(info["tasks_emulator"]), stack.options.project_id)
    if stack.pubsub_host:  # as Terraform creates them: topics, then push subscriptions
        seed_events(stack.pubsub_host, stack.options.project_id, stack.events, stack.function_url)
    if stack.options.seed_demo_user:
        auth = AuthEmulator(str(info["auth_emulator"]), stack.options.project_id)
        auth.ensure_user(DEMO_EMAIL, DEMO_PASSWORD)
