"""Cached client getters: one client per instance, created on first use.

Nothing here connects or imports a Google library at module import, so cold starts only pay
for the clients a function actually uses. The libraries find emulators through their own
variables (FIRESTORE_EMULATOR_HOST, STORAGE_EMULATOR_HOST, FIREBASE_AUTH_EMULATOR_HOST), which
config refuses in production; Cloud Tasks has no such convention, so it is wired here.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from genmedia.config import get_settings

if TYPE_CHECKING:
    import firebase_admin
    import google.cloud.storage as storage
    from google.cloud import firestore, tasks_v2


@functools.cache
def firestore_client() -> firestore.Client:
    from google.cloud import firestore

    return firestore.Client(project=get_settings().project_id)


@functools.cache
def storage_client() -> storage.Client:
    import google.cloud.storage as storage

    return storage.Client(project=get_settings().project_id)


@functools.cache
def tasks_client() -> tasks_v2.CloudTasksClient:
    from google.cloud import tasks_v2

    host = get_settings().cloud_tasks_emulator_host
    if host is None:
        return tasks_v2.CloudTasksClient()
    import grpc
    from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

    channel = grpc.insecure_channel(host)
    return tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=channel))


@functools.cache
def firebase_app() -> firebase_admin.App:
    import firebase_admin

    return firebase_admin.initialize_app(
        options={"projectId": get_settings().project_id}, name="genmedia"
    )


def reset_clients() -> None:
    """Forget every cached client (tests that change settings between cases)."""
    for getter in (firestore_client, storage_client, tasks_client):
        getter.cache_clear()
    if firebase_app.cache_info().currsize:
        import firebase_admin

        firebase_admin.delete_app(firebase_app())
    firebase_app.cache_clear()
