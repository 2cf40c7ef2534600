"""The encrypted keyring file on disk: paths, the write lock, atomic replacement, unlock and transactions.

One file holds one JSON object (the store above decides its shape), encrypted and authenticated as
:mod:`azcreds._vault_format` lays out, under a data key from :mod:`azcreds._vault_keys` (a
passphrase through scrypt, or a random key in the OS keyring); the public names of both are
importable from here. A :class:`VaultFile` derives the data key once per
:meth:`VaultFile.unlock` and caches it; writes keep the salt and draw a new nonce.

Writers hold ``fcntl.flock`` on the sidecar ``<file>.lock``, re-read the file under it, write a
temporary file in the same folder (created 0600), fsync it, ``os.replace`` it over the file and fsync
the folder. Readers take no lock: they see the old file or the new one, never a mix. Folders this
module creates are 0700 and files 0600 from the moment they exist. Nothing is ever written over a
file that failed to parse, authenticate or decrypt.

A writer waits at most ``lock_timeout`` seconds (default 30) for the lock, then raises
StoreBusyError naming the holder's process id (the lock itself is :mod:`azcreds._file_lock`).

Paths: a missing file is just that (FileNotFoundError on reading, ``exists()`` false). A path that
cannot be a vault file — a folder, a dangling or looping symbolic link, a FIFO or device, one under
a file — raises StorePathError before anything is opened or created; an unreadable one
PermissionDeniedError.
"""

from __future__ import annotations

import contextlib
import errno
import hmac
import math
import os
import re
import secrets
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from azcreds._atomic_file import fsync_folder, replace_private
from azcreds._file_lock import write_lock
from azcreds._vault_format import (
    _SOURCE_OS_KEYRING,
    _SOURCE_PASSPHRASE,
    FORMAT_VERSION,
    KdfFunction,
    ScryptParams,
    VaultHeader,
    _corrupted,
    _decrypt,
    _encode,
    _encrypt,
    _Header,
    _parse,
    _replace_generation,
    derive_scrypt,
)
from azcreds._vault_format import MAGIC as MAGIC  # importable from here, as before
from azcreds._vault_keys import (
    DerivedKey,
    OSKeyringKey,
    PassphraseKey,
    VaultKey,
    _delete_keyring_entry,
    _derive,
    _new_key,
    _nothing,
    _Session,
    _usable_backend,
)
from azcreds.errors import (
    PermissionDeniedError,
    StoreCorruptedError,
    StoreLockedError,
    StorePathError,
)

__all__ = [
    "DEFAULT_LOCK_TIMEOUT",
    "FORMAT_VERSION",
    "DerivedKey",
    "KdfFunction",
    "OSKeyringKey",
    "PassphraseKey",
    "ScryptParams",
    "VaultFile",
    "VaultHeader",
    "VaultKey",
    "derive_scrypt",
]

DEFAULT_LOCK_TIMEOUT = 30.0  # seconds a writer waits for the lock (writes take milliseconds)


class VaultFile:
    """One encrypted keyring file: create, unlock, read, change in transactions, re-key.

    ``kdf`` is the scrypt implementation (default :func:`derive_scrypt`); pass a wrapper to count or
    memoise derivations. An instance caches the data key after :meth:`unlock` (or :meth:`create`),
    so reads and writes never run the KDF again. It is safe to share between threads; separate
    processes coordinate through the lock file.

    ``lock_timeout`` bounds how long a write waits for another writer's lock (seconds; ``None``
    waits as long as it takes); past it, StoreBusyError names the holder's process id.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        kdf: KdfFunction = derive_scrypt,
        lock_timeout: float | None = DEFAULT_LOCK_TIMEOUT,
    ) -> None:
        if not os.fspath(path):
            raise StorePathError("the keyring path is empty")
        if lock_timeout is not None and not (
            isinstance(lock_timeout, int | float) and math.isfinite(lock_timeout) and lock_timeout >= 0
        ):
            raise ValueError("lock_timeout must be None or a finite number of seconds, 0 or more")
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        self._kdf = kdf
        self._session: _Session | None = None
        self._seen_generation = 0

    def __repr__(self) -> str:
        state = "unlocked" if self.unlocked else "locked"
        return f"VaultFile({str(self.path)!r}, {state})"

    @property
    def lock_path(self) -> Path:
        """The sidecar file writers hold an exclusive ``flock`` on."""
        return self.path.with_name(self.path.name + ".lock")

    @property
    def unlocked(self) -> bool:
        """Whether this instance holds the data key."""
        return self._session is not None

    def exists(self) -> bool:
        """Whether the file exists (it may still be corrupted or locked).

        StorePathError if the path cannot be a vault file (see the module docstring);
        PermissionDeniedError if a folder on the way cannot be searched.
        """
        try:
            info = os.stat(self.path)  # follows symbolic links, as opening the file would
        except FileNotFoundError:
            if os.path.islink(self.path):
                target = os.readlink(self.path)
                raise self._unusable(f"is a symbolic link to {target!r}, which does not exist") from None
            return False
        except NotADirectoryError:
            raise self._unusable(
                f"is under {self._file_on_the_way()}, which is a file, not a folder"
            ) from None
        except PermissionError:
            raise PermissionDeniedError(f"keyring file {self.path}: permission denied") from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise self._unusable("is a symbolic link that loops") from None
            raise self._unusable(f"cannot be used ({exc.strerror})") from None
        if stat.S_ISDIR(info.st_mode):
            raise self._unusable("is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise self._unusable("is not a regular file")  # a FIFO would block the reader forever
        return True

    def _unusable(self, reason: str) -> StorePathError:
        return StorePathError(f"keyring path {self.path} {reason}")

    def _file_on_the_way(self) -> Path:
        """The first ancestor of the path that exists and is not a folder."""
        for parent in reversed(self.path.parents):
            if os.path.exists(parent) and not os.path.isdir(parent):
                return parent
        return self.path.parent

    def header(self) -> VaultHeader:
        """The file's header, verified against its digest; no key needed.

        Raises FileNotFoundError or StoreCorruptedError.
        """
        return self._parse(self._read_bytes())[0].public()

    def create(self, key: VaultKey, payload: dict[str, Any] | None = None) -> None:
        """Create the file holding ``payload`` (default ``{}``) under ``key``; leave it unlocked.

        Missing folders are created 0700, the file 0600. Raises FileExistsError if the file exists.
        """
        plaintext = _encode({} if payload is None else payload)
        if self.exists():  # also refuses an unusable path before anything is created
            raise FileExistsError(errno.EEXIST, "keyring file already exists", str(self.path))
        if isinstance(key, OSKeyringKey):
            _usable_backend(key)  # refuse before creating any folder or lock file
        _make_private_dirs(self.path.parent)
        with self._write_lock():
            if self.exists():
                raise FileExistsError(errno.EEXIST, "keyring file already exists", str(self.path))
            header, session, undo = self._new_key(key, vault_id=secrets.token_bytes(16), gen=1)
            self._write(header, session, plaintext, undo=undo)
            self._session = session
            self._seen_generation = header.generation

    def unlock(self, key: VaultKey) -> None:
        """Derive the data key (the only KDF run until the next unlock) and check it on the file.

        Raises StoreLockedError for a wrong passphrase or a missing/foreign OS keyring key,
        StoreCorruptedError if the file is damaged, FileNotFoundError if it is missing.
        """
        data = self._read_bytes()
        header, header_bytes = self._parse(data)
        session = self._derive(header, key)
        if not hmac.compare_digest(session.key_check, header.key_check):
            what = "passphrase" if header.source == _SOURCE_PASSPHRASE else "OS keyring key"
            raise StoreLockedError(f"wrong {what} for keyring file {self.path}")
        self._decrypt(session, header_bytes, data)
        self._session = session
        self._seen_generation = header.generation

    def derived_key(self) -> DerivedKey:
        """The keys of this unlock, to hand to a keyring session (StoreLockedError if locked)."""
        session = self._require_session()
        return DerivedKey(session.key_check, session.aead_key)

    def lock(self) -> None:
        """Forget the cached key (Python cannot wipe it from memory; it is only dropped)."""
        self._session = None

    def read(self) -> dict[str, Any]:
        """The payload now on disk, decrypted with the cached key (no KDF run, no file lock)."""
        session = self._require_session()
        payload, _ = self._load(session)
        return payload

    @contextlib.contextmanager
    def transaction(self) -> Iterator[dict[str, Any]]:
        """Lock the file, re-read it, yield the payload to change in place, then write it back.

        The write happens on a clean exit only, and only if the payload changed; an exception leaves
        the file as it was. Concurrent transactions (threads or processes) run one after another, so
        none loses another's update. Nesting transactions on one file in one thread is an error.
        """
        session = self._require_session()
        with self._write_lock():
            payload, header = self._load(session)
            before = _encode(payload)
            yield payload
            after = _encode(payload)
            if after != before:
                new_header = _replace_generation(header, header.generation + 1)
                self._write(new_header, session, after)
                self._seen_generation = new_header.generation

    def rekey(self, new_key: VaultKey) -> None:
        """Re-encrypt the file atomically under ``new_key`` (a new salt or a new keyring entry).

        The old passphrase stops working; a key the file held in the OS keyring is deleted from it.
        Other processes holding the old key get StoreLockedError until they unlock again.
        """
        session = self._require_session()
        with self._write_lock():
            payload, header = self._load(session)
            new_header, new_session, undo = self._new_key(
                new_key, vault_id=header.vault_id, gen=header.generation + 1
            )
            self._write(new_header, new_session, _encode(payload), undo=undo)
            self._session = new_session
            self._seen_generation = new_header.generation
        if session.keyring is not None and header.source == _SOURCE_OS_KEYRING:
            _delete_keyring_entry(session.keyring, header)

    # -- reading -----------------------------------------------------------------------------

    def _require_session(self) -> _Session:
        session = self._session
        if session is None:
            raise StoreLockedError(f"keyring file {self.path} is locked: unlock it first")
        return session

    def _read_bytes(self) -> bytes:
        if not self.exists():
            raise FileNotFoundError(errno.ENOENT, "no keyring file", str(self.path))
        try:
            with open(self.path, "rb") as f:
                return f.read()
        except PermissionError:
            raise PermissionDeniedError(
                f"keyring file {self.path} cannot be read: permission denied"
            ) from None
        except IsADirectoryError:  # replaced by a folder since exists() looked
            raise self._unusable("is a folder, not a file") from None

    def _corrupted(self, reason: str) -> StoreCorruptedError:
        return _corrupted(self.path, reason)

    def _parse(self, data: bytes) -> tuple[_Header, bytes]:
        """The header and its bytes, checked for shape and digest; StoreCorruptedError otherwise."""
        return _parse(data, self.path)

    def _decrypt(self, session: _Session, header_bytes: bytes, data: bytes) -> dict[str, Any]:
        return _decrypt(session.aead_key, header_bytes, data, self.path)

    def _load(self, session: _Session) -> tuple[dict[str, Any], _Header]:
        """Read and decrypt the file with the cached key, checking it is still the same store."""
        data = self._read_bytes()
        header, header_bytes = self._parse(data)
        if header.vault_id != session.vault_id:
            raise self._corrupted("it was replaced by a different store since it was unlocked")
        if header.generation < self._seen_generation:
            raise self._corrupted("it was replaced by an older copy of itself since it was read")
        if not hmac.compare_digest(header.key_check, session.key_check):
            raise StoreLockedError(
                f"keyring file {self.path} was re-keyed since it was unlocked: unlock it again"
            )
        payload = self._decrypt(session, header_bytes, data)
        self._seen_generation = max(self._seen_generation, header.generation)
        return payload, header

    # -- keys --------------------------------------------------------------------------------

    def _derive(self, header: _Header, key: VaultKey) -> _Session:
        """The session ``key`` gives for the file ``header`` describes (key check not yet compared)."""
        return _derive(header, key, self._kdf, self.path)

    def _new_key(
        self, key: VaultKey, *, vault_id: bytes, gen: int
    ) -> tuple[_Header, _Session, Callable[[], None]]:
        """A header and session for a fresh key (new salt or new keyring entry), and an undo."""
        return _new_key(key, self._kdf, vault_id=vault_id, gen=gen)

    # -- writing -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _write_lock(self) -> Iterator[None]:
        """Hold ``flock(LOCK_EX)`` on the lock file; clear temporary files of dead writers."""
        with write_lock(self.path, self.lock_path, self.lock_timeout):
            self._remove_stale_temporaries()
            yield

    def _temporary_pattern(self) -> re.Pattern[str]:
        return re.compile(rf"\.{re.escape(self.path.name)}\.[0-9a-f]{{16}}\.tmp")

    def _remove_stale_temporaries(self) -> None:
        # Only a writer holding the lock has a temporary file, so any left now belong to a dead one.
        pattern = self._temporary_pattern()
        folder = self.path.parent
        with contextlib.suppress(FileNotFoundError):
            for name in os.listdir(folder):
                if pattern.fullmatch(name):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(folder / name)

    def _write(
        self, header: _Header, session: _Session, plaintext: bytes, *, undo: Callable[[], None] = _nothing
    ) -> None:
        """Encrypt under a fresh nonce and replace the file atomically (the caller holds the lock).

        ``undo`` runs if the file was not replaced (it removes a new OS keyring entry); once it has
        been, a failure to fsync the folder is raised without undoing anything.
        """
        try:
            header_bytes = header.to_bytes()
            data = header_bytes + _encrypt(session.aead_key, header_bytes, plaintext)
            replace_private(self.path, data, sync_folder=False)
        except BaseException:
            undo()
            raise
        fsync_folder(self.path.parent)


def _make_private_dirs(folder: Path) -> None:
    """Create ``folder`` and any missing parents with mode 0700 (existing ones are left alone)."""
    missing: list[Path] = []
    current = folder
    while not os.path.isdir(current):
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for path in reversed(missing):
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            if not os.path.isdir(path):  # a file, or a dangling symbolic link
                raise StorePathError(
                    f"cannot create the keyring folder {path}: something else is there"
                ) from None
        except PermissionError:
            raise PermissionDeniedError(
                f"cannot create the keyring folder {path}: permission denied"
            ) from None
