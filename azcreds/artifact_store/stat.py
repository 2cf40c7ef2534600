"""``ArtifactStat``: what ``stat``/``scandir`` return, built from a listing entry or blob properties."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from azcreds.artifact_store.listing import Listed

if TYPE_CHECKING:
    from azure.storage.blob import BlobProperties


@dataclass(frozen=True)
class ArtifactStat:
    """What ``stat`` knows about a path: a file's size, time, etag and content type, or a directory.

    ``st_size``/``st_mtime`` mirror :func:`os.stat` for code that expects a stat result. Implicit
    directories (a prefix with blobs, no marker) have no etag or time.
    """

    path: str
    name: str
    is_dir: bool
    size: int
    modified: datetime | None
    etag: str | None
    content_type: str | None

    @property
    def st_size(self) -> int:
        return self.size

    @property
    def st_mtime(self) -> float:
        return self.modified.timestamp() if self.modified is not None else 0.0


def _stat_of(uri: str, name: str, item: Listed | BlobProperties, *, is_dir: bool) -> ArtifactStat:
    entry = item if isinstance(item, Listed) else Listed.from_properties(item)
    etag = entry.etag  # HEAD replies quote it, listings do not: always quoted, as in HTTP
    if etag and not etag.startswith('"'):
        etag = f'"{etag}"'
    return ArtifactStat(
        path=uri,
        name=name,
        is_dir=is_dir,
        size=0 if is_dir else entry.size,
        modified=entry.last_modified,
        etag=etag,
        content_type=None if is_dir else entry.content_type,
    )


def _dir_stat(uri: str, name: str) -> ArtifactStat:
    return ArtifactStat(uri, name, True, 0, None, None, None)
