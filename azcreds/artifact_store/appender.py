"""``open(path, 'ab')``: append to a blob on a clean close, conditional on the blob not changing meanwhile.

Block blobs cannot be appended to in place, so an append is a read-modify-write made safe by the
service: the old content is read with its etag and the new blob is written with ``If-Match`` on
that etag (``If-None-Match: *`` when there was no blob), so a concurrent writer is never silently
overwritten; on a conflict the append is re-read and retried a few times, then fails. What is
appended is held in memory until ``close()`` (appends are meant for logs; write big files with
``"wb"``). As for ``"wb"``, an exception in the ``with`` block commits nothing, and a missing
container is created by the first write.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from azcreds.artifact_store.core import _StoreCore
from azcreds.artifact_store.listing import _is_marker
from azcreds.artifact_store.paths import _Path
from azcreds.artifact_store.writer import _CommitOnClose
from azcreds.errors import ArtifactStoreError

if TYPE_CHECKING:
    from azure.storage.blob import ContainerClient

_ATTEMPTS: Final = 4  # read-modify-write rounds before a conflicting writer makes the append fail


class _BlobAppender(_CommitOnClose):
    """Gathers appended bytes; ``close()`` commits old + new in one conditional write."""

    def __init__(self, store: _StoreCore, path: _Path, *, content_type: str) -> None:
        super().__init__()
        self._store = store
        self._path = path
        self._content_type = content_type
        self._buffer = bytearray()
        self._aborted = False

    def write(self, data: Any) -> int:
        self._checkClosed()
        view = memoryview(data).cast("B")
        self._buffer += view
        return len(view)

    def _commit(self) -> None:
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError
        from azure.storage.blob import ContentSettings

        from azcreds.artifact_store.errors import _error_code

        added = bytes(self._buffer)
        settings = ContentSettings(content_type=self._content_type)

        def append(cc: ContainerClient) -> bool:
            blob = cc.get_blob_client(self._path.key)
            try:
                download = blob.download_blob(max_concurrency=1)
            except ResourceNotFoundError as exc:
                if _error_code(exc) == "ContainerNotFound":
                    raise  # the store creates the container and runs this again
                old, etag = b"", None
            else:
                if _is_marker(self._path.key, download.properties.metadata):
                    raise ArtifactStoreError(f"cannot append to {self._path.uri}: it is a directory")
                old, etag = download.readall(), download.properties.etag
            try:
                if etag is None:
                    blob.upload_blob(added, length=len(added), overwrite=False, content_settings=settings)
                else:
                    data = old + added
                    blob.upload_blob(
                        data,
                        length=len(data),
                        overwrite=True,
                        etag=etag,
                        match_condition=MatchConditions.IfNotModified,
                        content_settings=settings,
                    )
            except ResourceModifiedError:
                return False  # If-Match failed: someone wrote in between
            except Exception as exc:
                if etag is None and getattr(exc, "status_code", None) == 409:
                    return False  # If-None-Match failed: someone created it in between
                raise
            return True

        for _ in range(_ATTEMPTS):
            if self._store._run(append, action="write", uri=self._path.uri):
                return
        raise ArtifactStoreError(
            f"cannot append to {self._path.uri}: it kept changing under other writers ({_ATTEMPTS} tries)"
        )

    def _discard(self) -> None:
        self._buffer = bytearray()
