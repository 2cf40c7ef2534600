"""The store's core: root, credentials, clients, and SDK calls re-resolved after an auth failure."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, Self, TypeVar

from azcreds.artifact_store.errors import _error_code, _is_auth_failure, _map_error
from azcreds.artifact_store.listing import FOLDER_MARKER_METADATA, Listed, _is_marker, list_entries
from azcreds.artifact_store.paths import _addressable_prefix, _has_magic, _nfc, _parse, _Path, _uri
from azcreds.artifact_store.stat import ArtifactStat, _dir_stat, _stat_of
from azcreds.errors import (
    ArtifactNotFoundError,
    ArtifactStoreError,
    PathOutsideStoreError,
)

if TYPE_CHECKING:
    from azure.storage.blob import BlobProperties, ContainerClient

    from azcreds.credentials import AzureCredentials


MiB: Final = 1024 * 1024

DEFAULT_BLOCK_SIZE: Final = 16 * MiB
"""Bytes per staged block and per ranged read (see docs/artifact_store.md for the measurement)."""

DEFAULT_MAX_CONCURRENCY: Final = 4
"""Blocks in flight per open file, uploading or reading ahead."""

_T = TypeVar("_T")


class _StoreCore:
    """The state and plumbing every store operation uses (see :class:`AzureArtifactStore`)."""

    def __init__(
        self,
        path: str,
        *,
        secret: str | None = None,
        credentials: AzureCredentials | None = None,
        block_size: int = DEFAULT_BLOCK_SIZE,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        client_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        if secret is not None and credentials is not None:
            raise ValueError("give secret= or credentials=, not both")
        if not isinstance(block_size, int) or not 64 * 1024 <= block_size <= 4000 * MiB:
            raise ValueError("block_size must be an int from 64 KiB to 4000 MiB")
        if not isinstance(max_concurrency, int) or not 1 <= max_concurrency <= 64:
            raise ValueError("max_concurrency must be an int from 1 to 64")
        root = _parse(path, "store root")
        self._root = root
        self._secret = secret
        self._refreshable = credentials is None
        self.block_size = block_size
        self.max_concurrency = max_concurrency
        self._client_kwargs = dict(client_kwargs or {})
        self._lock = threading.Lock()
        self._generation = 0
        self._client: ContainerClient | None = None
        if credentials is None:
            from azcreds.resolve import resolve_credentials

            credentials = resolve_credentials(secret)
        self._credentials = credentials

    @property
    def root(self) -> str:
        """The normalised root URI, e.g. ``az://container/prefix``."""
        return self._root.uri

    @property
    def container(self) -> str:
        return self._root.container

    @property
    def prefix(self) -> str:
        """The blob-name prefix of the root, without slashes (``""`` for a whole container)."""
        return self._root.key

    @property
    def credentials(self) -> AzureCredentials:
        """The credentials in use (the latest, after a re-resolution)."""
        return self._credentials

    def __reduce__(self) -> tuple[Any, ...]:
        # Root and how to get credentials, never a client or a lock: a store resolved by name
        # pickles the name (resolved again where unpickled), one given credentials= pickles them
        # (a reference or a scoped SAS; credentials built in code refuse, see AzureCredentials).
        kwargs: dict[str, Any] = {
            "block_size": self.block_size,
            "max_concurrency": self.max_concurrency,
            "client_kwargs": self._client_kwargs,
        }
        if self._refreshable:
            kwargs["secret"] = self._secret
        else:
            kwargs["credentials"] = self._credentials
        return (_rebuild_store, (type(self), self.root, kwargs))

    def __repr__(self) -> str:
        how = f"secret={self._secret!r}" if self._secret is not None else "implicit credentials"
        if not self._refreshable:
            how = "explicit credentials"
        return f"AzureArtifactStore({self.root!r}, {how})"

    def _container_client(self) -> tuple[ContainerClient, int]:
        with self._lock:
            if self._client is None:
                kwargs: dict[str, Any] = {
                    "max_single_get_size": self.block_size,
                    "max_chunk_get_size": self.block_size,
                    "max_block_size": self.block_size,
                    "max_single_put_size": max(self.block_size, 4 * MiB),
                }
                kwargs.update(self._client_kwargs)
                service = self._credentials.blob_service_client(**kwargs)
                self._client = service.get_container_client(self._root.container)
            return self._client, self._generation

    def _refresh(self, generation: int) -> ContainerClient:
        """Re-resolve the secret and rebuild the client, once per failed generation."""
        from azcreds.resolve import resolve_credentials

        with self._lock:
            if self._generation == generation:
                self._credentials = resolve_credentials(self._secret, refresh=True)
                # The old client is left to the garbage collector: other threads may still be
                # in a request on it, and closing its session under them would break them.
                self._client = None
                self._generation += 1
        return self._container_client()[0]

    def _run(
        self,
        operation: Callable[[ContainerClient], _T],
        *,
        action: str,
        uri: str,
        exists: tuple[int, ...] = (),
        overwritable: bool = False,
    ) -> _T:
        """Run ``operation`` on the container client, mapping SDK errors; re-resolve once on auth failure.

        ``exists`` lists the statuses that mean "the destination exists" for this operation, and
        ``overwritable`` whether ``overwrite=True`` would have replaced it.
        """
        from azure.core.exceptions import AzureError

        client, generation = self._container_client()
        try:
            return operation(client)
        except AzureError as exc:
            if not (self._refreshable and _is_auth_failure(exc)):
                raise _map_error(exc, action, uri, exists=exists, overwritable=overwritable) from exc
        client = self._refresh(generation)
        try:
            return operation(client)
        except AzureError as exc:
            raise _map_error(exc, action, uri, exists=exists, overwritable=overwritable) from exc

    def close(self) -> None:
        """Close the HTTP session. The store reopens one if used again."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _resolve(self, path: object, *, pattern: bool = False) -> _Path:
        """Parse ``path`` and refuse it unless it is the root or below it. No request is made."""
        parsed = _parse(path)
        root = self._root
        head = parsed.parts[: len(root.parts)]
        inside = parsed.container == root.container and head == root.parts
        if pattern and inside:
            inside = not any(_has_magic(p) for p in head)
        if not inside:
            why = ""
            if parsed.container == root.container and _nfc(head) == _nfc(root.parts):
                why = " (it differs only in Unicode normalisation: the service stores names exactly as given)"
            raise PathOutsideStoreError(f"{parsed.uri} is outside the store root {root.uri}{why}")
        return parsed

    def _is_root(self, path: _Path) -> bool:
        return path.parts == self._root.parts

    def _file_path(self, path: object) -> _Path:
        parsed = self._resolve(path)
        if self._is_root(parsed):
            raise ArtifactStoreError(f"{parsed.uri} is the store root, a directory, not a file")
        return parsed

    def _head(self, path: _Path, action: str) -> BlobProperties | None:
        """The blob's properties, or None if there is no blob at exactly this name."""

        def head(cc: ContainerClient) -> BlobProperties | None:
            from azure.core.exceptions import ResourceNotFoundError

            try:
                return cc.get_blob_client(path.key).get_blob_properties()
            except ResourceNotFoundError as exc:
                if _error_code(exc) == "ContainerNotFound":
                    raise
                return None

        return self._run(head, action=action, uri=path.uri)

    def _has_children(self, path: _Path, action: str) -> bool:
        """Whether any blob lies below ``path`` (one listing request of one result)."""
        prefix = path.prefix

        def probe(cc: ContainerClient) -> bool:
            pages = cc.list_blobs(name_starts_with=prefix, results_per_page=1).by_page()
            return any(True for _ in next(pages, []))

        return self._run(probe, action=action, uri=path.uri)

    def _container_exists(self, path: _Path, action: str) -> bool:
        try:
            self._has_children(path, action)
        except ArtifactNotFoundError:
            return False
        return True

    def _list_level(self, path: _Path, action: str) -> list[ArtifactStat]:
        """Entries directly below ``path``: files, then directories (markers and prefixes)."""
        prefix = path.prefix

        def path_of(name: str) -> str:
            return _uri(path.scheme, path.container, prefix + name)

        files: dict[str, ArtifactStat] = {}
        dirs: dict[str, ArtifactStat] = {}
        listing = self._run(lambda cc: list_entries(cc, prefix, delimiter="/"), action=action, uri=path.uri)
        for item in listing:
            name = item.name[len(prefix) :]
            if item.is_prefix:  # "name/"
                name = name[:-1]
            if not name or _addressable_prefix((name,)) == 0:
                continue  # the directory's own trailing-slash marker, or a name no path can address
            if item.is_prefix:
                if name not in dirs:
                    dirs[name] = _dir_stat(path_of(name), name)
            elif _is_marker(item.name, item.metadata):
                dirs[name] = _stat_of(path_of(name), name, item, is_dir=True)
            else:
                files[name] = _stat_of(path_of(name), name, item, is_dir=False)
        return [*files.values(), *dirs.values()]

    def _list_tree(self, path: _Path, action: str) -> list[Listed]:
        """Every blob below ``path`` (flat listing, 5,000 per request), with metadata."""
        prefix = path.prefix
        return self._run(lambda cc: list_entries(cc, prefix, delimiter=None), action=action, uri=path.uri)

    def _put_marker(self, path: _Path, action: str) -> bool:
        """Create the folder marker unless something is there; True if created."""

        def put(cc: ContainerClient) -> bool:
            from azure.core.exceptions import ResourceExistsError, ResourceModifiedError

            try:
                cc.get_blob_client(path.key).upload_blob(
                    b"", length=0, metadata=dict(FOLDER_MARKER_METADATA), overwrite=False
                )
            except (ResourceExistsError, ResourceModifiedError):
                return False
            return True

        return self._run(put, action=action, uri=path.uri)


def _rebuild_store(cls: type[_StoreCore], root: str, kwargs: dict[str, Any]) -> _StoreCore:
    """Unpickle a store: the same root, credentials resolved again by name or as pickled."""
    return cls(root, **kwargs)
