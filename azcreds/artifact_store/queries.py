"""Read-only store operations: ``exists``, ``isdir``, ``stat``, ``listdir``, ``walk``, ``glob``."""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import Callable, Iterator, Sequence

from azcreds.artifact_store.core import _StoreCore
from azcreds.artifact_store.listing import _is_marker
from azcreds.artifact_store.paths import _addressable_prefix, _has_magic, _Path, _uri
from azcreds.artifact_store.stat import ArtifactStat, _dir_stat, _stat_of
from azcreds.errors import (
    ArtifactNotFoundError,
    ArtifactStoreError,
)


def _match_parts(pattern: Sequence[str], parts: Sequence[str]) -> bool:
    """Whether path segments match glob segments: fnmatch per segment, ``**`` for any number of them.

    A trailing ``**`` needs at least one segment (``a/**`` is everything below ``a``, not ``a``).
    """

    @functools.cache
    def match(i: int, j: int) -> bool:
        if i == len(pattern):
            return j == len(parts)
        if pattern[i] == "**":
            if i == len(pattern) - 1:
                return j < len(parts)
            return any(match(i + 1, k) for k in range(j, len(parts) + 1))
        return j < len(parts) and fnmatch.fnmatchcase(parts[j], pattern[i]) and match(i + 1, j + 1)

    return match(0, 0)


class _Queries(_StoreCore):
    """The read-only half of :class:`AzureArtifactStore`."""

    def exists(self, path: str | bytes) -> bool:
        """Whether a file or directory is at ``path`` (False in a container that does not exist)."""
        parsed = self._resolve(path)
        if self._is_root(parsed):
            return self._container_exists(parsed, "check")
        try:
            if self._head(parsed, "check") is not None:
                return True
            return self._has_children(parsed, "check")
        except ArtifactNotFoundError:  # only a missing container raises it here
            return False

    def isdir(self, path: str | bytes) -> bool:
        """Whether ``path`` is a directory: the root, a marker, or a prefix with blobs.

        False in a container that does not exist (ZenML asks before its first write).
        """
        parsed = self._resolve(path)
        if self._is_root(parsed):
            return self._container_exists(parsed, "check")
        try:
            if self._has_children(parsed, "check"):
                return True
            props = self._head(parsed, "check")
        except ArtifactNotFoundError:  # only a missing container raises it here
            return False
        return props is not None and _is_marker(parsed.key, props.metadata)

    def stat(self, path: str | bytes) -> ArtifactStat:
        """Size, modification time, etag and content type of a file; ``is_dir`` for a directory."""
        parsed = self._resolve(path)
        name = parsed.parts[-1] if parsed.parts else ""
        if self._is_root(parsed):
            if self._container_exists(parsed, "stat"):
                return _dir_stat(parsed.uri, name)
        else:
            props = self._head(parsed, "stat")
            if props is not None:
                return _stat_of(parsed.uri, name, props, is_dir=_is_marker(parsed.key, props.metadata))
            if self._has_children(parsed, "stat"):
                return _dir_stat(parsed.uri, name)
        raise ArtifactNotFoundError(f"cannot stat {parsed.uri}: no such file or directory")

    def size(self, path: str | bytes) -> int:
        """A file's size in bytes (0 for a directory)."""
        return self.stat(path).size

    def scandir(self, path: str | bytes) -> list[ArtifactStat]:
        """The entries of a directory with their stats, files then directories, sorted by name."""
        parsed = self._resolve(path)
        entries = self._list_level(parsed, "list")
        if not entries and not self._is_root(parsed):
            props = self._head(parsed, "list")
            if props is None:
                if self._has_children(parsed, "list"):
                    return []  # only blobs no path can address are below it (docs: "Paths")
                raise ArtifactNotFoundError(f"cannot list {parsed.uri}: no such directory")
            if not _is_marker(parsed.key, props.metadata):
                raise ArtifactStoreError(f"cannot list {parsed.uri}: it is a file, not a directory")
        return sorted(entries, key=lambda e: (e.is_dir, e.name))

    def listdir(self, path: str | bytes) -> list[str]:
        """Names (not paths) of the files and directories in a directory, sorted."""
        return sorted({entry.name for entry in self.scandir(path)})

    def walk(
        self,
        top: str | bytes,
        topdown: bool = True,
        onerror: Callable[[Exception], object] | None = None,
    ) -> Iterator[tuple[str, list[str], list[str]]]:
        """Like :func:`os.walk`: ``(dirpath, dirnames, filenames)`` with ``dirpath`` a full URI.

        One flat listing serves the whole tree. With ``topdown=True``, pruning ``dirnames`` in
        place skips those directories. A missing ``top`` yields nothing (``onerror`` is called).
        """
        parsed = self._resolve(top)
        try:
            blobs = self._list_tree(parsed, "walk")
        except ArtifactStoreError as exc:
            if onerror is not None:
                onerror(exc)
            return
        tree: dict[tuple[str, ...], tuple[set[str], set[str]]] = {(): (set(), set())}
        skip = len(parsed.parts)
        for blob in blobs:
            parts = tuple(blob.name.split("/"))[skip:]
            marker = _is_marker(blob.name, blob.metadata)
            if parts and parts[-1] == "":
                parts = parts[:-1]
            addressable = _addressable_prefix(parts)
            if addressable < len(parts):  # only the directories above the bad segment show
                parts, marker = parts[:addressable], True
            if not parts:
                continue
            dir_parts = parts if marker else parts[:-1]
            for depth in range(len(dir_parts)):
                tree.setdefault(dir_parts[:depth], (set(), set()))[0].add(dir_parts[depth])
                tree.setdefault(dir_parts[: depth + 1], (set(), set()))
            if not marker:
                tree[dir_parts][1].add(parts[-1])
        if not blobs and not self._is_root(parsed):
            try:
                props = self._head(parsed, "walk")
            except ArtifactStoreError as exc:
                if onerror is not None:
                    onerror(exc)
                return
            if props is None or not _is_marker(parsed.key, props.metadata):
                if onerror is not None:
                    onerror(ArtifactNotFoundError(f"cannot walk {parsed.uri}: no such directory"))
                return
        elif not blobs and not self._container_exists(parsed, "walk"):
            if onerror is not None:
                onerror(ArtifactNotFoundError(f"cannot walk {parsed.uri}: container does not exist"))
            return
        yield from self._walk_tree(parsed, (), tree, topdown)

    def _walk_tree(
        self,
        top: _Path,
        rel: tuple[str, ...],
        tree: dict[tuple[str, ...], tuple[set[str], set[str]]],
        topdown: bool,
    ) -> Iterator[tuple[str, list[str], list[str]]]:
        dirs, files = tree.get(rel, (set(), set()))
        dirnames, filenames = sorted(dirs), sorted(files)
        dirpath = _uri(top.scheme, top.container, "/".join(top.parts + rel))
        if topdown:
            yield dirpath, dirnames, filenames
        for name in list(dirnames):
            yield from self._walk_tree(top, (*rel, name), tree, topdown)
        if not topdown:
            yield dirpath, dirnames, filenames

    def glob(self, pattern: str | bytes) -> list[str]:
        """Files and directories matching ``pattern`` (``*``, ``?``, ``[...]`` per segment; ``**`` any depth).

        ``az://c/data/*.csv`` lists one level; a ``**`` pattern lists the tree below its literal
        prefix once. ``a/**`` matches everything below ``a`` (not ``a`` itself). Sorted full URIs.
        """
        parsed = self._resolve(pattern, pattern=True)
        parts = parsed.parts
        base_len = next((i for i, p in enumerate(parts) if p == "**" or _has_magic(p)), len(parts))
        base = _Path(parsed.scheme, parsed.container, parts[:base_len])
        rest = parts[base_len:]
        if not rest:
            return [parsed.uri] if self.exists(parsed.uri) else []
        if "**" in rest:
            return self._glob_tree(base, rest)
        return self._glob_levels(base, rest)

    def _glob_tree(self, base: _Path, rest: Sequence[str]) -> list[str]:
        found: set[tuple[str, ...]] = set()
        skip = len(base.parts)
        for blob in self._list_tree(base, "glob"):
            parts = tuple(p for p in blob.name.split("/")[skip:])
            parts = parts[: _addressable_prefix(parts)]
            for depth in range(1, len(parts) + 1):
                found.add(parts[:depth])
        matches = [p for p in found if _match_parts(rest, p)]
        return sorted(_uri(base.scheme, base.container, "/".join(base.parts + p)) for p in matches)

    def _glob_levels(self, base: _Path, rest: Sequence[str]) -> list[str]:
        candidates = [base]
        for index, segment in enumerate(rest):
            last = index == len(rest) - 1
            following: dict[str, _Path] = {}
            for directory in candidates:
                try:
                    entries = self._list_level(directory, "glob")
                except ArtifactNotFoundError:
                    continue
                for entry in entries:
                    if (last or entry.is_dir) and fnmatch.fnmatchcase(entry.name, segment):
                        child = _Path(base.scheme, base.container, (*directory.parts, entry.name))
                        following[child.uri] = child
            candidates = list(following.values())
        return sorted(c.uri for c in candidates)
