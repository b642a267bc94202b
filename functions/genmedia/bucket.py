"""The media bucket in Cloud Storage: create-only uploads, cleanup, moves to and from trash.

Objects live at ``users/{uid}/assets/{asset_id}/{variant}.{ext}`` and never change once written
(``if_generation_match=0``), so a retried upload can never overwrite, and browsers may cache
them for good. A soft-deleted asset's objects move under ``trash/``, where a bucket lifecycle
rule deletes them after the retention period even if no purge job ever runs; undelete moves
them back. Signed URLs are in ``genmedia.url_signer``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, BinaryIO

from genmedia.errors import Internal

if TYPE_CHECKING:
    import google.cloud.storage as gcs

CACHE_CONTROL = "private, max-age=31536000, immutable"
TRASH_PREFIX = "trash/"
USERS_PREFIX = "users/"
# Where a provider writes its own output (Veo's output_gcs_uri) before the worker copies it
# under the user's prefix; a lifecycle rule removes anything left behind.
STAGING_PREFIX = "staging/"
# Data exports (ZIPs), private to their owner; a lifecycle rule deletes them after 7 days.
EXPORTS_PREFIX = "exports/"
STREAM_CHUNK_BYTES = 8 * 1024 * 1024  # a multiple of 256 KiB, as resumable uploads require


def object_path(uid: str, asset_id: str, variant: str, ext: str) -> str:
    return f"{USERS_PREFIX}{uid}/assets/{asset_id}/{variant}.{ext}"


def user_prefixes(uid: str) -> tuple[str, ...]:
    """Every prefix that holds objects of ``uid`` (what an erasure empties)."""
    return (f"{USERS_PREFIX}{uid}/", f"{TRASH_PREFIX}{USERS_PREFIX}{uid}/", export_prefix(uid))


def export_prefix(uid: str) -> str:
    return f"{EXPORTS_PREFIX}{uid}/"


def export_path(uid: str, export_id: str) -> str:
    return f"{export_prefix(uid)}{export_id}.zip"


def staging_prefix(job_id: str) -> str:
    return f"{STAGING_PREFIX}jobs/{job_id}/"


def trash_path(path: str) -> str:
    return TRASH_PREFIX + path


def _md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()


class MediaBucket:
    """Objects of the media bucket; the client is created on first use.

    Every call on a request path gives up after ``deadline_s`` (retries included) instead of
    the library's 120 s, so a Storage outage answers 503 promptly and the caller's cleanup
    (refund, FAILED asset) runs. Streams (``open_writer``/``open_reader``/``download``) serve
    the export and video workers with large objects: they keep the library's budgets, and
    Cloud Tasks retries a failed attempt.
    """

    def __init__(self, bucket: Callable[[], gcs.Bucket], deadline_s: float) -> None:
        self._bucket = bucket
        self._deadline_s = deadline_s
        self._retry: Any = None

    def _bounded(self) -> dict[str, Any]:
        """``retry``/``timeout`` keyword arguments for one call within the budget."""
        if self._retry is None:
            from google.cloud.storage.retry import DEFAULT_RETRY

            self._retry = DEFAULT_RETRY.with_timeout(self._deadline_s)
        return {"retry": self._retry, "timeout": self._deadline_s}

    @property
    def bucket(self) -> gcs.Bucket:
        return self._bucket()

    def upload_create_only(self, path: str, data: bytes, content_type: str) -> None:
        """Upload once; the library verifies the CRC32C and retries safely."""
        from google.api_core import exceptions

        blob = self.bucket.blob(path)
        blob.cache_control = CACHE_CONTROL
        try:
            blob.upload_from_string(
                data, content_type=content_type, if_generation_match=0, checksum="crc32c",
                **self._bounded(),
            )  # fmt: skip
        except exceptions.PreconditionFailed:
            # Already there: our own earlier attempt succeeded unless the bytes differ.
            existing = self.bucket.get_blob(path, **self._bounded())
            if existing is None or existing.md5_hash != _md5(data):
                raise Internal("Object already exists with different content") from None

    def open_writer(self, path: str, content_type: str) -> BinaryIO:
        """A streaming upload (resumable, in chunks): memory stays bounded however large the
        object. Closing it finishes the upload, even after an error: write to a temporary
        name and ``move_objects`` the result when complete."""
        blob = self.bucket.blob(path)
        writer: BinaryIO = blob.open(
            "wb", chunk_size=STREAM_CHUNK_BYTES, content_type=content_type, ignore_flush=True
        )
        return writer

    def open_reader(self, path: str) -> BinaryIO:
        """A streaming download in chunks."""
        reader: BinaryIO = self.bucket.blob(path).open("rb", chunk_size=STREAM_CHUNK_BYTES)
        return reader

    def size(self, path: str) -> int | None:
        """The object's size, or None when there is no such object."""
        blob = self.bucket.get_blob(path, **self._bounded())
        return None if blob is None else int(blob.size or 0)

    def download(self, path: str) -> bytes:
        """The object's bytes (a provider's output staged in our bucket)."""
        data: bytes = self.bucket.blob(path).download_as_bytes(checksum="crc32c")
        return data

    def delete_objects(self, paths: list[str]) -> None:
        """Delete each object; one already gone is fine, any other failure raises (the purge
        must not drop metadata while an object it describes may remain)."""
        from google.api_core import exceptions

        bucket = self.bucket
        for path in paths:
            try:
                bucket.blob(path).delete(**self._bounded())
            except exceptions.NotFound:
                continue

    def delete_quietly(self, paths: list[str]) -> None:
        """Best-effort cleanup after a failed generation (paths follow from the FAILED asset)."""
        from google.api_core import exceptions

        bucket = self.bucket
        for path in paths:
            try:
                bucket.blob(path).delete(**self._bounded())
            except exceptions.GoogleAPIError:  # RetryError too: Storage may be what failed
                continue

    def move_objects(self, moves: list[tuple[str, str]]) -> None:
        """Move objects within the bucket; safe to repeat after a partial failure.

        Each copy is create-only and the source is deleted only once the copy exists, so an object
        is never lost and a retry finishes what an earlier attempt started.
        """
        from google.api_core import exceptions

        bucket = self.bucket
        for source, target in moves:
            blob = bucket.get_blob(source, **self._bounded())
            if blob is None:
                continue  # moved by an earlier attempt
            try:
                bucket.copy_blob(blob, bucket, target, if_generation_match=0, **self._bounded())
            except exceptions.PreconditionFailed:
                existing = bucket.get_blob(target, **self._bounded())
                if existing is None or existing.md5_hash != blob.md5_hash:
                    raise Internal("Object move target exists with different content") from None
            blob.delete(if_generation_match=blob.generation, **self._bounded())

    def list_page(
        self, prefix: str, page_token: str | None, limit: int
    ) -> tuple[list[tuple[str, datetime]], str | None]:
        """One page of (name, creation time) under ``prefix`` and the token of the next."""
        pages = self.bucket.list_blobs(
            prefix=prefix, max_results=limit, page_token=page_token, **self._bounded()
        )
        page = next(pages.pages, None)
        if page is None:
            return [], None
        objects = [(blob.name, blob.time_created) for blob in page]
        return objects, pages.next_page_token

    def exists(self, timeout_s: float) -> bool:
        return bool(self.bucket.exists(timeout=timeout_s, retry=None))
