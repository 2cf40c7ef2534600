"""``AzureArtifactStore``: ZenML's artifact-store interface, and ``open``."""

from __future__ import annotations

import io
import mimetypes
from typing import IO, Any, cast

from azcreds.artifact_store.appender import _BlobAppender
from azcreds.artifact_store.changes import _Changes
from azcreds.artifact_store.reader import _BlobReader
from azcreds.artifact_store.writer import _BlobWriter, _TextWriter


class AzureArtifactStore(_Changes):
    """An artifact store rooted at ``az://container[/prefix]`` or ``abfs://container[/prefix]``.

    Credentials: ``credentials=`` as given, else ``resolve_credentials(secret)`` (``secret=None``:
    the implicit ``AZURE_STORAGE_*`` chain). Only resolved credentials are re-resolved after an
    authentication failure. ``block_size`` and ``max_concurrency`` tune streaming (per open file);
    ``client_kwargs`` go to ``BlobServiceClient`` (``retry_total``, ``connection_verify``, hooks...).
    ``chain`` resolves ``secret`` (first and after an authentication failure) with a
    :class:`~azcreds.ResolverChain` of your own instead of the default chains, uncached.
    """

    def open(
        self,
        path: str | bytes,
        mode: str = "r",
        *,
        overwrite: bool = True,
        encoding: str | None = None,
        newline: str | None = None,
    ) -> IO[Any]:
        """Open a file: ``rb``/``r`` read (ranged), ``wb``/``w`` write (streamed, atomic), ``ab``/``a`` append

        ``xb``/``x`` (or ``overwrite=False``) create only: the commit fails with
        ArtifactExistsError if the file exists. ``ab``/``a`` append at close, in one write
        conditional on the blob not changing meanwhile (held in memory: meant for logs). Text
        modes use ``encoding`` (default UTF-8). Writes create a missing container.
        A write becomes visible at ``close()`` or at the end of a ``with`` block without an
        exception; otherwise nothing is committed and an existing file keeps its content.
        """
        if mode not in ("r", "rb", "w", "wb", "x", "xb", "a", "ab"):
            raise ValueError(f"unsupported mode {mode!r}: use 'rb', 'r', 'wb', 'w', 'xb', 'x', 'ab' or 'a'")
        binary = mode.endswith("b")
        if binary and (encoding is not None or newline is not None):
            raise ValueError("binary mode does not take an encoding or newline argument")
        parsed = self._file_path(path)
        if mode[0] == "r":
            reader = _BlobReader(self, parsed)
            if binary:
                return cast("IO[Any]", reader)
            return io.TextIOWrapper(reader, encoding=encoding or "utf-8", newline=newline)
        content_type = mimetypes.guess_type(parsed.parts[-1])[0] or "application/octet-stream"
        if mode[0] == "a":
            appender = _BlobAppender(self, parsed, content_type=content_type)
            if binary:
                return cast("IO[Any]", appender)
            return _TextWriter(appender, encoding=encoding or "utf-8", newline=newline, write_through=False)
        writing = mode[0] == "w"
        writer = _BlobWriter(
            self,
            parsed,
            overwrite=overwrite and writing,
            content_type=content_type,
            overwritable=writing and not overwrite,
        )
        if binary:
            return cast("IO[Any]", writer)
        return _TextWriter(writer, encoding=encoding or "utf-8", newline=newline, write_through=False)
