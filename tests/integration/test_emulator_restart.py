"""Emulators stopped and started again within a stack's life keep their data, so an outage
(bench/faults.py) ends with the users' library as it was: the Firestore emulator through
--data-dir (saved on SIGTERM), fake-gcs-server through its filesystem backend
(``storage_on_disk``). A private stack: the shared one must not see its emulators go away."""

from __future__ import annotations

from infra.local.authemu import AuthEmulator
from infra.local.stack import Stack
from tests.support.assets import generate, sha256_at, sign
from tests.support.harness import Gateway, new_user


def test_a_generated_image_survives_firestore_and_storage_restarts(private_stack: Stack) -> None:
    info = private_stack.info()
    gateway = Gateway(str(info["gateway"]))
    user = new_user(AuthEmulator(str(info["auth_emulator"]), private_stack.options.project_id))
    [asset] = generate(gateway, user, prompt="a lantern")
    digest = sha256_at(sign(gateway, user, asset["id"]).json()["url"])

    for emulator in ("firestore", "storage"):
        private_stack.stop_service(emulator)
        private_stack.start_service(emulator)

    listed = gateway.get("/v1/assets", user=user)
    assert listed.status_code == 200, listed.text
    assert [a["id"] for a in listed.json()["assets"]] == [asset["id"]]
    assert gateway.get("/v1/usage", user=user).json()["images"]["used"] == 1
    assert sha256_at(sign(gateway, user, asset["id"]).json()["url"]) == digest
