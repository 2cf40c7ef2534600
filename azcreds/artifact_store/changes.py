"""Store operations that change blobs: ``makedirs``, ``mkdir``, ``remove``, ``rmtree``, copy, rename."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Final

from azcreds.artifact_store.listing import _is_marker
from azcreds.artifact_store.paths import _Path
from azcreds.artifact_store.queries import _Queries
from azcreds.errors import (
    ArtifactExistsError,
    ArtifactNotFoundError,
    ArtifactStoreError,
    PermissionDeniedError,
)

if TYPE_CHECKING:
    from azure.storage.blob import ContainerClient


_BATCH_SIZE: Final = 256  # Azure's limit of sub-requests per blob batch


class _Changes(_Queries):
    """The operations of :class:`AzureArtifactStore` that change blobs."""

    def makedirs(self, path: str | bytes) -> None:
        """Make ``path`` and missing parents, each a folder marker; fine if it is already a directory.

        Markers go from ``path`` upwards and stop at the first level that has one (down to the
        store root, which gets one too). A missing container is created first. A file at ``path``
        raises ArtifactExistsError.
        """
        parsed = self._resolve(path)
        if not parsed.parts:
            self._create_container(parsed, exist_ok=True)
            return
        leaf = parsed
        try:
            created = self._put_marker(leaf, "make directory")
        except ArtifactNotFoundError:  # no container yet: make it, as makedirs makes missing parents
            self._create_container(parsed, exist_ok=True)
            created = self._put_marker(leaf, "make directory")
        if not created:
            props = self._head(leaf, "make directory")
            if props is not None and not _is_marker(leaf.key, props.metadata):
                raise ArtifactExistsError(f"cannot make directory {leaf.uri}: a file is there")
            return  # already a directory: its parents were made with it
        # Upwards until a level already has its marker: an empty directory survives rmtree of a child.
        for depth in range(len(parsed.parts) - 1, max(len(self._root.parts), 1) - 1, -1):
            level = _Path(parsed.scheme, parsed.container, parsed.parts[:depth])
            if not self._put_marker(level, "make directory"):
                break

    def mkdir(self, path: str | bytes) -> None:
        """Make one directory (a folder marker); like ZenML's stores, an existing directory is fine.

        ArtifactExistsError if a file is at ``path``; ArtifactNotFoundError if the parent is not a
        directory (the store root always counts as one; a missing container is created for it).
        """
        parsed = self._resolve(path)
        if not parsed.parts:
            self._create_container(parsed, exist_ok=True)
            return
        if self._is_root(parsed):
            self.makedirs(parsed.uri)
            return
        parent = _Path(parsed.scheme, parsed.container, parsed.parts[:-1])
        if not self._is_root(parent) and not self.isdir(parent.uri):
            raise ArtifactNotFoundError(f"cannot make directory {parsed.uri}: no parent directory")
        try:
            if self._has_children(parsed, "make directory"):
                return  # a directory already (blobs below it)
        except ArtifactNotFoundError:  # the parent is the store root, and its container is missing
            self._create_container(parsed, exist_ok=True)
        created = self._put_marker(parsed, "make directory")
        if not created:
            props = self._head(parsed, "make directory")
            if props is not None and not _is_marker(parsed.key, props.metadata):
                raise ArtifactExistsError(f"cannot make directory {parsed.uri}: a file is there")

    def _create_container(self, parsed: _Path, *, exist_ok: bool) -> None:
        def create(cc: ContainerClient) -> None:
            from azure.core.exceptions import ResourceExistsError

            try:
                cc.create_container()
            except ResourceExistsError:
                if not exist_ok:
                    raise

        self._run(create, action="create container", uri=parsed.uri, exists=(409,))

    def rmtree(self, path: str | bytes) -> None:
        """Delete a directory and everything below it (files and markers); the container stays."""
        parsed = self._resolve(path)
        names = [b.name for b in self._list_tree(parsed, "remove")]
        props = None if self._is_root(parsed) else self._head(parsed, "remove")
        own_marker = props is not None and _is_marker(parsed.key, props.metadata)
        if own_marker:
            names.append(parsed.key)
        if not names:
            if props is not None:
                raise ArtifactStoreError(f"cannot remove tree {parsed.uri}: it is a file, not a directory")
            if self._is_root(parsed) and self._container_exists(parsed, "remove"):
                return
            raise ArtifactNotFoundError(f"cannot remove tree {parsed.uri}: no such directory")
        self._delete_many(parsed, names)

    def _delete_many(self, parsed: _Path, names: list[str]) -> None:
        """Delete blobs in batches of 256 (Blob Batch), ignoring ones already gone."""
        for start in range(0, len(names), _BATCH_SIZE):
            chunk = names[start : start + _BATCH_SIZE]

            def delete(cc: ContainerClient, chunk: list[str] = chunk) -> list[int]:
                responses = cc.delete_blobs(*chunk, delete_snapshots="include", raise_on_any_failure=False)
                return [r.status_code for r in responses]

            statuses = self._run(delete, action="remove tree", uri=parsed.uri)
            failed = [s for s in statuses if s not in (200, 202, 404)]
            if failed:
                if any(s in (401, 403) for s in failed):
                    raise PermissionDeniedError(f"cannot remove tree {parsed.uri}: HTTP {failed[0]}")
                raise ArtifactStoreError(
                    f"cannot remove tree {parsed.uri}: {len(failed)} deletions failed (HTTP {failed[0]})"
                )

    def remove(self, path: str | bytes) -> None:
        """Delete one file. A directory (marker) is refused: use ``rmtree``."""
        parsed = self._file_path(path)
        props = self._head(parsed, "remove")
        if props is None:
            raise ArtifactNotFoundError(f"cannot remove {parsed.uri}: no such file")
        if _is_marker(parsed.key, props.metadata):
            raise ArtifactStoreError(f"cannot remove {parsed.uri}: it is a directory (use rmtree)")
        self._delete(parsed, props.etag, "remove")

    def _delete(self, parsed: _Path, etag: str | None, action: str) -> None:
        from azure.core import MatchConditions

        def delete(cc: ContainerClient) -> None:
            conditions: dict[str, Any] = {}
            if etag:
                conditions = {"etag": etag, "match_condition": MatchConditions.IfNotModified}
            cc.get_blob_client(parsed.key).delete_blob(delete_snapshots="include", **conditions)

        self._run(delete, action=action, uri=parsed.uri)

    def copyfile(self, src: str | bytes, dst: str | bytes, overwrite: bool = False) -> None:
        """Server-side copy of one file within the account; ``overwrite=False`` is enforced by the service."""
        source, target = self._file_path(src), self._file_path(dst)
        self._copy(source, target, overwrite)

    def _copy(self, source: _Path, target: _Path, overwrite: bool) -> str | None:
        """Copy and wait for it to finish; returns the source etag that was copied."""
        from azure.core import MatchConditions

        props = self._head(source, "copy")
        if props is None:
            raise ArtifactNotFoundError(f"cannot copy {source.uri}: no such file")
        if _is_marker(source.key, props.metadata):
            raise ArtifactStoreError(f"cannot copy {source.uri}: it is a directory")
        etag = props.etag

        def start(cc: ContainerClient) -> dict[str, Any]:
            url = cc.get_blob_client(source.key).url + self._source_sas()
            conditions: dict[str, Any] = {}
            if not overwrite:
                conditions["match_condition"] = MatchConditions.IfMissing
            if etag:
                conditions.update(source_etag=etag, source_match_condition=MatchConditions.IfNotModified)
            return dict(cc.get_blob_client(target.key).start_copy_from_url(url, **conditions))

        # 409 is the destination's If-None-Match; 412 would be the source changing under us.
        exists = () if overwrite else (409,)
        result = self._run(
            start, action=f"copy {source.uri} to", uri=target.uri, exists=exists, overwritable=True
        )
        status = result.get("copy_status")
        delay = 0.02
        while status == "pending":
            time.sleep(delay)
            delay = min(delay * 2, 1.0)

            def poll(cc: ContainerClient) -> Any:
                return cc.get_blob_client(target.key).get_blob_properties().copy.status

            status = self._run(poll, action=f"copy {source.uri} to", uri=target.uri)
        if status != "success":
            raise ArtifactStoreError(f"cannot copy {source.uri} to {target.uri}: the copy ended {status!r}")
        return etag

    def _source_sas(self) -> str:
        """The query that authorises a copy source: the SAS for SAS credentials, else nothing.

        Shared key (and Entra ID) on the destination authorises a source in the same account.
        """
        from azure.core.credentials import AzureSasCredential

        credential = self._credentials.credential
        if isinstance(credential, AzureSasCredential):
            return "?" + credential.signature.lstrip("?")
        return ""

    def rename(self, src: str | bytes, dst: str | bytes, overwrite: bool = False) -> None:
        """Move one file: server-side copy, then delete the source (only if it did not change)."""
        source, target = self._file_path(src), self._file_path(dst)
        if source.key == target.key:
            if self._head(source, "rename") is None:
                raise ArtifactNotFoundError(f"cannot rename {source.uri}: no such file")
            return
        etag = self._copy(source, target, overwrite)
        self._delete(source, etag, "rename")
