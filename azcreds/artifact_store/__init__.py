"""AzureArtifactStore: ZenML's artifact-store interface on Azure Blob Storage, with filesystem semantics.

A store is rooted at ``az://container[/prefix]`` (or ``abfs://``) and only ever touches blobs under
that root: every path is parsed, normalised and checked before any request is sent. On the flat
namespace it behaves like a filesystem:

- directories: a prefix with blobs under it is a directory; ``mkdir``/``makedirs`` leave a folder
  marker, a zero-length blob named like the directory with metadata ``hdi_isfolder=true`` (what ADLS
  Gen2, adlfs and Storage Explorer write and read). Markers never show up as files;
- writes stream: ``open(p, "wb")`` stages blocks as they fill (memory bounded by
  ``block_size * (max_concurrency + 1)``) and commits the block list on a clean close; an exception in
  the ``with`` block commits nothing. A file smaller than one block is one ``Put Blob``;
- reads stream: ``open(p, "rb")`` is seekable, fetches ranges on demand, and reads ahead
  ``max_concurrency`` blocks in parallel while access is sequential;
- ``overwrite=False`` is a conditional request (``If-None-Match: *``) the service enforces;
- a 403 saying the credentials no longer authenticate (a rotated key, a revoked SAS) makes the store
  resolve its secret again and retry once.

Errors map onto :mod:`azcreds.errors`: missing paths raise :class:`ArtifactNotFoundError`, taken
destinations :class:`ArtifactExistsError`, refusals :class:`PermissionDeniedError`, paths outside the
root :class:`PathOutsideStoreError`, everything else :class:`ArtifactStoreError`. Messages are built
from container and blob names only, never from a URL or an SDK message (they may carry a SAS).

The package, one job per module:

- :mod:`~azcreds.artifact_store.paths`: parse, normalise and confine paths (every path goes through it);
- :mod:`~azcreds.artifact_store.errors`: SDK exceptions to azcreds errors, scrubbed;
- :mod:`~azcreds.artifact_store.listing`: List Blobs through the SDK's pipeline, read with ElementTree;
- :mod:`~azcreds.artifact_store.stat`: :class:`ArtifactStat`;
- :mod:`~azcreds.artifact_store.core`: root, credentials, clients, and running SDK calls;
- :mod:`~azcreds.artifact_store.queries` / :mod:`~azcreds.artifact_store.changes`: the read-only
  and the changing operations;
- :mod:`~azcreds.artifact_store.reader` / :mod:`~azcreds.artifact_store.writer`: ``open`` for reading
  and writing;
- :mod:`~azcreds.artifact_store.store`: :class:`AzureArtifactStore` itself.
"""

from __future__ import annotations

from azcreds.artifact_store.core import DEFAULT_BLOCK_SIZE, DEFAULT_MAX_CONCURRENCY
from azcreds.artifact_store.listing import FOLDER_MARKER_METADATA
from azcreds.artifact_store.paths import (
    MAX_BLOB_NAME_LENGTH,
    MAX_PATH_SEGMENTS,
    SCHEMES,
    container_root,
    normalize_uri,
)
from azcreds.artifact_store.stat import ArtifactStat
from azcreds.artifact_store.store import AzureArtifactStore

__all__ = [
    "DEFAULT_BLOCK_SIZE",
    "DEFAULT_MAX_CONCURRENCY",
    "FOLDER_MARKER_METADATA",
    "MAX_BLOB_NAME_LENGTH",
    "MAX_PATH_SEGMENTS",
    "SCHEMES",
    "ArtifactStat",
    "AzureArtifactStore",
    "container_root",
    "normalize_uri",
]
