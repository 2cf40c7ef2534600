"""Replace a file atomically with private contents: a 0600 temporary file, fsync, ``os.replace``.

The one way azcreds writes a file that holds secrets (the keyring, a keyring session, the output
of ``azcreds inject``): the data is never readable by others, not even for a moment; a reader
sees the old file or the new one, never a part; after a failure the temporary file is gone and the
old file is untouched; and the folder is fsynced, so the rename survives a crash.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

__all__ = ["fsync_folder", "replace_private"]


def replace_private(path: Path, data: bytes, *, sync_folder: bool = True) -> None:
    """Write ``data`` to ``path`` through a 0600 temporary file beside it (``OSError`` as it comes).

    ``sync_folder=False`` leaves the folder's fsync to the caller (:func:`fsync_folder`), for one
    that must tell "not replaced" from "replaced, but the fsync failed".
    """
    folder = path.parent
    temporary = folder / f".{path.name}.{secrets.token_hex(8)}.tmp"
    fd = os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_CLOEXEC, 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    if sync_folder:
        fsync_folder(folder)


def fsync_folder(folder: Path) -> None:
    """fsync a folder, so that a rename in it is on disk."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
