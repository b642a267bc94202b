"""Cloud Storage calls on a request path give up within the bucket's budget (genmedia/bucket.py)
instead of the library's 120 s, so a Storage outage answers 503 and cleanup runs."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials

from genmedia.bucket import MediaBucket


@pytest.fixture
def unreachable() -> Iterator[MediaBucket]:
    import google.cloud.storage as gcs

    with socket.socket() as sock:  # bound, never listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{sock.getsockname()[1]}"
        client = gcs.Client(
            project="demo-genmedia",
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": endpoint},
        )
        yield MediaBucket(lambda: client.bucket("demo-genmedia-media"), deadline_s=0.5)


def test_an_upload_to_an_unreachable_storage_gives_up(unreachable: MediaBucket) -> None:
    with pytest.raises(exceptions.RetryError):
        unreachable.upload_create_only("users/u/assets/a/original.png", b"png", "image/png")


def test_metadata_calls_give_up_and_cleanup_stays_quiet(unreachable: MediaBucket) -> None:
    with pytest.raises(exceptions.RetryError):
        unreachable.size("users/u/assets/a/original.png")
    with pytest.raises(exceptions.RetryError):
        unreachable.list_page("users/u/", None, 10)
    # Cleanup after a failed generation must not raise over the error being reported.
    unreachable.delete_quietly(["users/u/assets/a/original.png"])
