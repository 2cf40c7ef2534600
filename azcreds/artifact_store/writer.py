"""The streaming writer behind ``open(path, 'wb')``: blocks staged as they fill, committed on close."""

from __future__ import annotations

import io
import secrets
import threading
import warnings
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

from azcreds.artifact_store.core import _StoreCore
from azcreds.artifact_store.paths import _Path
from azcreds.artifact_store.reader import _BlobTarget
from azcreds.errors import (
    ArtifactStoreError,
)

if TYPE_CHECKING:
    from azure.storage.blob import ContainerClient


_MAX_BLOCKS: Final = 50_000  # Azure's limit of committed blocks per blob

_SMALL_WRITE: Final = 64 * 1024  # writes below this are gathered, larger ``bytes`` kept as they are


class _CommitOnClose(io.BufferedIOBase):
    """A write-only file whose data reaches the store at a clean ``close()``, all at once, or never.

    Subclasses gather data in ``write``, put it in the store in ``_commit`` and drop what is left
    in ``_discard``; ``with`` commits when its body ends cleanly and aborts when it raises, and a
    file dropped without ``close()`` commits nothing (unlike a local file, which flushes).
    """

    _path: _Path
    _aborted: bool

    @property
    def name(self) -> str:
        return self._path.uri

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        """Nothing to do: data becomes visible only at ``close()``, all at once."""
        self._checkClosed()

    def _commit(self) -> None:
        raise NotImplementedError

    def _discard(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Commit what was written (all or nothing), then close."""
        if self.closed:
            return
        try:
            if not self._aborted:
                self._commit()
        except BaseException:
            self._aborted = True
            raise
        finally:
            self._discard()
            super().close()

    def abort(self) -> None:
        """Close without committing: the path keeps what it had (or stays absent)."""
        if self.closed:
            return
        self._aborted = True
        self._discard()
        super().close()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def __del__(self) -> None:
        if not self.closed and hasattr(self, "_path"):
            _warn_unclosed(self._path.uri)
            self.abort()


class _BlobWriter(_CommitOnClose):
    """Stages blocks as they fill and commits them on a clean close; aborts on anything else.

    At most ``max_concurrency`` blocks are in flight, one is being filled and one may be handed
    over, so memory stays near ``block_size * (max_concurrency + 2)``. ``bytes`` written in
    block-sized pieces are staged as they are, without a copy, as soon as a block is full. A file
    smaller than one block is one Put Blob.
    """

    def __init__(
        self,
        store: _StoreCore,
        path: _Path,
        *,
        overwrite: bool,
        content_type: str,
        overwritable: bool = False,  # overwrite=True would have replaced an existing blob (not mode x)
    ) -> None:
        super().__init__()
        self._store = store
        self._path = path
        self._target = _BlobTarget(store, path)
        self._overwrite = overwrite
        self._content_type = content_type
        self._block_size = store.block_size
        # The block being filled: large ``bytes`` pieces kept as they are, small writes gathered
        # in a bytearray (a million one-byte writes must not become a million objects).
        self._pending: list[bytes | bytearray] = []
        self._pending_size = 0
        self._block_ids: list[str] = []
        self._futures: deque[Future[None]] = deque()
        self._slots = threading.BoundedSemaphore(store.max_concurrency)
        self._executor: ThreadPoolExecutor | None = None
        self._tag = secrets.token_hex(8)  # block ids of one writer: same length, unique per upload
        self._written = 0
        self._aborted = False
        self._exists_statuses = () if overwrite else (409, 412)
        self._overwritable = overwritable

    def tell(self) -> int:
        self._checkClosed()
        return self._written

    def write(self, data: Any) -> int:
        self._checkClosed()
        view = memoryview(data).cast("B")
        size = len(view)
        offset = 0
        while offset < size:
            if self._pending_size >= self._block_size:  # full and more is coming: stage it
                self._stage(self._take_pending)
            take = min(self._block_size - self._pending_size, size - offset)
            if take < _SMALL_WRITE:
                if not self._pending or not isinstance(self._pending[-1], bytearray):
                    self._pending.append(bytearray())
                self._pending[-1] += view[offset : offset + take]
            elif type(data) is bytes and take == size:
                self._pending.append(data)  # immutable: kept, not copied
            else:
                self._pending.append(bytes(view[offset : offset + take]))
            self._pending_size += take
            offset += take
        if self._pending_size >= self._block_size:
            # A full block goes out now, not when more data comes: waiting for the next read
            # delayed every upload's first request by a block's read (2-4 % of a 256 MiB upload).
            # A file of exactly one block is then Put Block + Put Block List instead of Put Blob.
            self._stage(self._take_pending)
        self._written += size
        return size

    def _take_pending(self) -> bytes:
        pending, self._pending, self._pending_size = self._pending, [], 0
        if len(pending) == 1 and isinstance(pending[0], bytes):
            return pending[0]
        return b"".join(pending)

    def _stage(self, take_block: Callable[[], bytes]) -> None:
        """Stage the block ``take_block`` returns, once a slot is free (the join waits, not the data)."""
        while self._futures and self._futures[0].done():  # surface a failed block early
            self._futures.popleft().result()
        if len(self._block_ids) >= _MAX_BLOCKS:
            raise ArtifactStoreError(
                f"cannot write {self._path.uri}: more than {_MAX_BLOCKS} blocks; use a larger block_size"
            )
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                self._store.max_concurrency, thread_name_prefix="azcreds-write"
            )
        block_id = f"{self._tag}{len(self._block_ids):08d}"
        self._slots.acquire()
        try:
            future = self._executor.submit(_stage_block, self._target, block_id, [take_block()])
        except BaseException:
            self._slots.release()
            raise
        slots = self._slots  # the callback must not hold the writer (see _BlobTarget)
        future.add_done_callback(lambda _: slots.release())
        self._block_ids.append(block_id)
        self._futures.append(future)

    def _commit(self) -> None:
        from azure.core import MatchConditions
        from azure.storage.blob import BlobBlock, ContentSettings

        settings = ContentSettings(content_type=self._content_type)
        if not self._block_ids:
            data = self._take_pending()

            def put(cc: ContainerClient) -> None:
                self._target.blob(cc).upload_blob(
                    data, length=len(data), overwrite=self._overwrite, content_settings=settings
                )

            self._store._run(
                put,
                action="write",
                uri=self._path.uri,
                exists=self._exists_statuses,
                overwritable=self._overwritable,
            )
            return
        if self._pending_size:
            self._stage(self._take_pending)
        for future in self._futures:
            future.result()
        conditions: dict[str, Any] = {}
        if not self._overwrite:
            conditions["match_condition"] = MatchConditions.IfMissing
        blocks = [BlobBlock(block_id) for block_id in self._block_ids]

        def commit(cc: ContainerClient) -> None:
            self._target.blob(cc).commit_block_list(blocks, content_settings=settings, **conditions)

        self._store._run(
            commit,
            action="write",
            uri=self._path.uri,
            exists=self._exists_statuses,
            overwritable=self._overwritable,
        )

    def _discard(self) -> None:
        for future in self._futures:
            future.cancel()
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        self._pending, self._pending_size = [], 0
        self._futures.clear()


def _stage_block(target: _BlobTarget, block_id: str, holder: list[bytes]) -> None:
    block = holder.pop()  # now only this frame holds the block: freed before the slot is released

    def stage(cc: ContainerClient) -> None:
        # The bytes as the body: http.client sends them in one sendall. A BytesIO body goes out
        # in 8 KiB reads under the GIL: 15-30 % more client CPU for a 256 MiB upload, and
        # slower wall time with Azurite on the same 2 cores (python -m bench store).
        target.blob(cc).stage_block(block_id, block, length=len(block))

    target.store._run(stage, action="write", uri=target.path.uri)


class _TextWriter(io.TextIOWrapper):
    """Text mode over a :class:`_CommitOnClose` file that commits nothing when the ``with`` body raises."""

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self._abort()
        self.close()

    def _abort(self) -> None:
        buffer = self.buffer
        if isinstance(buffer, _CommitOnClose):
            buffer.abort()

    def __del__(self) -> None:
        buffer = self.buffer
        if isinstance(buffer, _CommitOnClose) and not buffer.closed:
            _warn_unclosed(buffer._path.uri)
            buffer.abort()


def _warn_unclosed(uri: str) -> None:
    warnings.warn(
        f"unclosed artifact store writer for {uri}: nothing was written", ResourceWarning, stacklevel=3
    )
