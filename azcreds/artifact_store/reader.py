"""The streaming, seekable reader behind ``open(path, 'rb')``: ranged reads with read-ahead."""

from __future__ import annotations

import io
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from azcreds.artifact_store.core import _StoreCore
from azcreds.artifact_store.errors import _status
from azcreds.artifact_store.listing import _is_marker
from azcreds.artifact_store.paths import _Path
from azcreds.errors import (
    ArtifactStoreError,
)

if TYPE_CHECKING:
    from azure.storage.blob import BlobClient, BlobProperties, ContainerClient


class _BlobTarget:
    """One blob of a store: its client, built once per container client (each costs ~100 KB).

    Background tasks hold this, not the file object, so a dropped writer can be collected (and
    aborted) while its blocks are still in flight.
    """

    def __init__(self, store: _StoreCore, path: _Path) -> None:
        self.store = store
        self.path = path
        self._cached: tuple[ContainerClient, BlobClient] | None = None

    def blob(self, cc: ContainerClient) -> BlobClient:
        cached = self._cached
        if cached is None or cached[0] is not cc:
            cached = self._cached = (cc, cc.get_blob_client(self.path.key))
        return cached[1]


class _BlobReader(io.BufferedIOBase):
    """A seekable, buffered reader that fetches byte ranges on demand.

    Opening fetches the first block (properties and data in one request). While reads are
    sequential, up to ``max_concurrency`` blocks are fetched ahead in parallel; after a seek, the
    next read fetches exactly what it asks for. A read that lines up with a fetched block returns
    that block itself, without a copy. Every range is pinned to the etag seen at open, so a
    concurrent overwrite raises instead of mixing two versions.
    """

    def __init__(self, store: _StoreCore, path: _Path) -> None:
        super().__init__()
        self._store = store
        self._path = path
        self._target = _BlobTarget(store, path)
        self._chunk = store.block_size
        self._readahead = store.max_concurrency
        self._executor: ThreadPoolExecutor | None = None
        self._window: deque[tuple[int, int, Future[bytes]]] = deque()
        self._pos = 0
        self._expected = 0  # where the previous read ended: reads starting here are sequential
        first, self.size, self.etag = store._run(self._first_block, action="read", uri=path.uri)
        done: Future[bytes] = Future()
        done.set_result(first)
        if first:
            self._window.append((0, len(first), done))

    def _first_block(self, cc: ContainerClient) -> tuple[bytes, int, str]:
        from azure.core.exceptions import HttpResponseError

        blob = self._target.blob(cc)
        try:
            download = blob.download_blob(offset=0, length=self._chunk, max_concurrency=1)
        except HttpResponseError as exc:
            if _status(exc) != 416:  # an empty blob has no byte 0
                raise
            props = blob.get_blob_properties()
            self._check_file(props)
            return b"", int(props.size or 0), props.etag
        props = download.properties
        self._check_file(props)
        data = b"".join(download.chunks())  # one chunk: the response body itself, not a copy
        total = props.content_range.rsplit("/", 1)[-1] if props.content_range else ""
        return data, int(total) if total.isdigit() else len(data), props.etag

    def _check_file(self, props: BlobProperties) -> None:
        if _is_marker(self._path.key, props.metadata):
            raise ArtifactStoreError(f"cannot read {self._path.uri}: it is a directory")

    def _fetch(self, start: int, end: int) -> bytes:
        from azure.core import MatchConditions

        def get(cc: ContainerClient) -> bytes:
            download = self._target.blob(cc).download_blob(
                offset=start,
                length=end - start,
                max_concurrency=1,
                etag=self.etag,
                match_condition=MatchConditions.IfNotModified,
            )
            return b"".join(download.chunks())

        data = self._store._run(get, action="read", uri=self._path.uri)
        if len(data) != end - start:
            raise ArtifactStoreError(f"cannot read {self._path.uri}: short read from the service")
        return data

    def _fetch_many(self, start: int, end: int) -> list[bytes]:
        """``[start, end)`` in blocks fetched in parallel (a read after a seek)."""
        if end - start <= self._chunk:
            return [self._fetch(start, end)]
        ranges = [(s, min(s + self._chunk, end)) for s in range(start, end, self._chunk)]
        futures = [self._pool().submit(self._fetch, s, e) for s, e in ranges]
        return [future.result() for future in futures]

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self._readahead, thread_name_prefix="azcreds-read")
        return self._executor

    def _drop_window(self) -> None:
        for _, _, future in self._window:
            future.cancel()
        self._window.clear()

    def _segment(self, position: int) -> tuple[int, bytes]:
        """The fetched block holding ``position``, keeping ``readahead`` more in flight behind it."""
        while self._window and self._window[0][1] <= position:
            self._window.popleft()
        if self._window and self._window[0][0] > position:
            self._drop_window()
        start = self._window[-1][1] if self._window else position
        while len(self._window) <= self._readahead and start < self.size:
            end = min(start + self._chunk, self.size)
            self._window.append((start, end, self._pool().submit(self._fetch, start, end)))
            start = end
        first, _, future = self._window[0]
        return first, future.result()

    def _pieces(self, count: int, *, one_block: bool = False) -> list[bytes | memoryview]:
        """The next ``count`` bytes (fewer at the end) as block slices; whole blocks are not copied."""
        count = min(count, max(self.size - self._pos, 0))
        if count <= 0:
            return []
        if self._pos != self._expected:  # a seek happened: fetch exactly what is asked for
            self._drop_window()
            end = self._pos + (min(count, self._chunk) if one_block else count)
            pieces: list[bytes | memoryview] = list(self._fetch_many(self._pos, end))
        else:
            pieces = []
            position, end = self._pos, self._pos + count
            while position < end:
                start, data = self._segment(position)
                offset = position - start
                length = min(len(data) - offset, end - position)
                whole = offset == 0 and length == len(data)
                pieces.append(data if whole else memoryview(data)[offset : offset + length])
                position += length
                if one_block:
                    break
        self._pos += sum(len(p) for p in pieces)
        self._expected = self._pos
        return pieces

    # -- io.BufferedIOBase ---------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._path.uri

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        self._checkClosed()
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._checkClosed()
        if whence == io.SEEK_SET:
            position = offset
        elif whence == io.SEEK_CUR:
            position = self._pos + offset
        elif whence == io.SEEK_END:
            position = self.size + offset
        else:
            raise ValueError(f"invalid whence ({whence})")
        if position < 0:
            raise ValueError(f"negative seek position {position}")
        self._pos = position
        return position

    def read(self, size: int | None = -1) -> bytes:
        self._checkClosed()
        if size is None or size < 0:
            return self.readall()
        return _join(self._pieces(size))

    def read1(self, size: int = -1) -> bytes:
        self._checkClosed()
        return _join(self._pieces(self._chunk if size < 0 else size, one_block=True))

    def readall(self) -> bytes:
        self._checkClosed()
        return _join(self._pieces(self.size - self._pos))

    def readinto(self, buffer: Any) -> int:
        self._checkClosed()
        view = memoryview(buffer).cast("B")
        filled = 0
        for piece in self._pieces(len(view)):
            view[filled : filled + len(piece)] = piece
            filled += len(piece)
        return filled

    def readinto1(self, buffer: Any) -> int:
        return self.readinto(buffer)

    def peek(self, size: int = 0) -> bytes:
        """Bytes from the current position, without moving it (at most one block)."""
        self._checkClosed()
        if self._pos >= self.size:
            return b""
        self._expected = self._pos  # what follows a peek is read sequentially
        start, data = self._segment(self._pos)
        offset = self._pos - start
        return data[offset : offset + max(size, 64 * 1024)]

    def close(self) -> None:
        if not self.closed:
            self._drop_window()
            if self._executor is not None:
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None
        super().close()


def _join(pieces: list[bytes | memoryview]) -> bytes:
    if len(pieces) == 1 and isinstance(pieces[0], bytes):
        return pieces[0]
    return b"".join(pieces)
