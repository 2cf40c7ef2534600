"""The encrypted keyring file: AEAD over a JSON payload, a scrypt or OS-keyring key, atomic locked writes.

One file holds one JSON object (the store above decides its shape). Every byte of it is
authenticated: the header is the AEAD's associated data, and it also carries a SHA-256 digest of
itself, so a damaged header is told apart from a wrong key.

File layout (format version 1; integers big-endian)::

    offset  size  field
    0       8     magic  b"AZCRVLT\\x00"
    8       2     format version (1)
    10      2     header length H (bytes, digest included)
    12      1     cipher: 1 = AES-256-GCM
    13      1     key source: 1 = passphrase, 2 = OS keyring
    14      1     KDF: 1 = scrypt (passphrase), 0 = none (OS keyring: the key is random)
    15      1     reserved, 0
    16      16    vault id: random at creation, kept for the file's life (re-keying included)
    32      8     generation: 1 at creation, +1 on every write
    40      ...   key source section
                    passphrase: scrypt n (4), r (4), p (4), salt length (1), salt (16..64)
                    OS keyring: key id (16), service length (1), service (UTF-8, 1..255)
    H-64    32    key check: HKDF-SHA256(data key, info "azcreds vault v1 key check")
    H-32    32    SHA-256 of bytes 0..H-32
    H       12    nonce, fresh and random for every write
    H+12    ...   AES-256-GCM(key = HKDF-SHA256(data key, info "azcreds vault v1 aead key"),
                  plaintext = UTF-8 JSON object, associated data = bytes 0..H) with its 16-byte tag

Checks run in that order: header shape and digest (else StoreCorruptedError), then the key check
(else StoreLockedError: wrong passphrase or key), then the AEAD tag (else StoreCorruptedError). The
data key is scrypt(passphrase, salt) or 32 random bytes kept in the OS keyring under
``(service, "vault-<key id hex>")``. It is derived once per :meth:`VaultFile.unlock` and cached by the
instance; writes keep the salt and draw a new nonce.

Writers hold ``fcntl.flock`` on the sidecar ``<file>.lock``, re-read the file under it, write a
temporary file in the same folder (created 0600), fsync it, ``os.replace`` it over the file and fsync
the folder. Readers take no lock: they see the old file or the new one, never a mix. Folders this
module creates are 0700 and files 0600 from the moment they exist. Nothing is ever written over a
file that failed to parse, authenticate or decrypt.

A writer waits at most ``lock_timeout`` seconds (default 30) for the lock, then raises
StoreBusyError naming the holder: the holder writes its process id into the lock file while it
holds the lock and empties it on release, so a pid found there belongs to the current holder — or,
if that process is gone, to the process that forked the holder (a lock is shared with forked
children), which the message says.

Paths: a missing file is just that (FileNotFoundError on reading, ``exists()`` false). A path that
cannot be a vault file — a folder, a dangling or looping symbolic link, a FIFO or device, one under
a file — raises StorePathError before anything is opened or created; an unreadable one
PermissionDeniedError.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import fcntl
import hashlib
import hmac
import json
import math
import os
import re
import secrets
import stat
import struct
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from azcreds.errors import (
    PermissionDeniedError,
    StoreBusyError,
    StoreCorruptedError,
    StoreLockedError,
    StorePathError,
)

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

__all__ = [
    "DEFAULT_LOCK_TIMEOUT",
    "FORMAT_VERSION",
    "KdfFunction",
    "OSKeyringKey",
    "PassphraseKey",
    "ScryptParams",
    "VaultFile",
    "VaultHeader",
    "VaultKey",
    "derive_scrypt",
]

FORMAT_VERSION = 1
MAGIC = b"AZCRVLT\x00"
DEFAULT_LOCK_TIMEOUT = 30.0  # seconds a writer waits for the lock (writes take milliseconds)
_LOCK_POLL_MAX = 0.02  # the longest pause between two tries for a busy lock

_FIXED = struct.Struct(">8sHHBBBB16sQ")  # magic .. generation: 40 bytes
_SCRYPT = struct.Struct(">IIIB")  # n, r, p, salt length
_CIPHER_AES_256_GCM = 1
_SOURCE_PASSPHRASE = 1
_SOURCE_OS_KEYRING = 2
_KDF_NONE = 0
_KDF_SCRYPT = 1
_KEY_CHECK_SIZE = 32
_DIGEST_SIZE = 32
_NONCE_SIZE = 12
_TAG_SIZE = 16
_SALT_SIZE = 16
_SALT_RANGE = (16, 64)
_KEY_SIZE = 32
_INFO_AEAD = b"azcreds vault v1 aead key"
_INFO_KEY_CHECK = b"azcreds vault v1 key check"

# Bounds on scrypt parameters. The floor keeps files from being brute-forced cheaply (tests use
# it); the ceiling keeps a crafted header from making unlock allocate gigabytes or run for minutes.
_SCRYPT_MIN_N = 2**14
_SCRYPT_MAX_N = 2**20
_SCRYPT_R_RANGE = (8, 32)
_SCRYPT_P_RANGE = (1, 16)
_SCRYPT_MAX_MEMORY = 2**30  # 128 * n * r bytes
_SCRYPT_MAX_WORK = 2**17 * 8 * 16  # n * r * p: sixteen times the default


@dataclass(frozen=True)
class ScryptParams:
    """scrypt cost parameters. The default is OWASP's recommendation (N=2**17, r=8, p=1).

    Accepted: ``n`` a power of two in 2**14..2**20, ``r`` in 8..32, ``p`` in 1..16, at most 1 GiB of
    memory and sixteen times the default work. Anything else raises ValueError here, and a file
    whose header records it is refused as corrupted.
    """

    n: int = 2**17
    r: int = 8
    p: int = 1

    def __post_init__(self) -> None:
        for name in ("n", "r", "p"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"scrypt {name} must be an int")
        if not _SCRYPT_MIN_N <= self.n <= _SCRYPT_MAX_N or self.n & (self.n - 1):
            raise ValueError("scrypt n must be a power of two from 2**14 to 2**20")
        if not _SCRYPT_R_RANGE[0] <= self.r <= _SCRYPT_R_RANGE[1]:
            raise ValueError(f"scrypt r must be from {_SCRYPT_R_RANGE[0]} to {_SCRYPT_R_RANGE[1]}")
        if not _SCRYPT_P_RANGE[0] <= self.p <= _SCRYPT_P_RANGE[1]:
            raise ValueError(f"scrypt p must be from {_SCRYPT_P_RANGE[0]} to {_SCRYPT_P_RANGE[1]}")
        if 128 * self.n * self.r > _SCRYPT_MAX_MEMORY:
            raise ValueError("scrypt parameters need more than 1 GiB of memory (128 * n * r)")
        if self.n * self.r * self.p > _SCRYPT_MAX_WORK:
            raise ValueError("scrypt parameters ask for more than 16x the default work")


KdfFunction = Callable[[bytes, bytes, ScryptParams], bytes]
"""``(passphrase, salt, params) -> 32-byte key``: how a :class:`VaultFile` runs scrypt."""


def derive_scrypt(passphrase: bytes, salt: bytes, params: ScryptParams) -> bytes:
    """The 32-byte data key scrypt derives from ``passphrase`` and ``salt`` (cryptography's Scrypt)."""
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=_KEY_SIZE, n=params.n, r=params.r, p=params.p).derive(passphrase)


@dataclass(frozen=True)
class PassphraseKey:
    """Unlock with a passphrase (NFC-normalised, UTF-8) through scrypt.

    ``params`` matters when a file is created or re-keyed; unlocking uses the parameters recorded in
    the file's header. The passphrase never appears in ``repr``.
    """

    passphrase: str = field(repr=False)
    params: ScryptParams = field(default_factory=ScryptParams)

    def __init__(self, passphrase: str, params: ScryptParams | None = None) -> None:
        if not isinstance(passphrase, str):
            raise TypeError("the passphrase must be a str")
        if not passphrase:
            raise ValueError("the passphrase cannot be empty")
        object.__setattr__(self, "passphrase", passphrase)
        object.__setattr__(self, "params", params if params is not None else ScryptParams())

    def secret_bytes(self) -> bytes:
        """The passphrase as scrypt receives it."""
        return unicodedata.normalize("NFC", self.passphrase).encode("utf-8")


@dataclass(frozen=True)
class OSKeyringKey:
    """Unlock with a random 256-bit key held in the OS keyring through the ``keyring`` package.

    ``backend`` defaults to ``keyring.get_keyring()`` at the time of use. A backend that stores
    nothing (keyring's fail and null backends, a chainer with no real backend, anything of priority
    below 1) is refused with StoreLockedError.
    """

    service: str = "azcreds"
    backend: KeyringBackend | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.service or len(self.service.encode("utf-8")) > 255:
            raise ValueError("the keyring service name must be 1 to 255 bytes of UTF-8")


VaultKey = PassphraseKey | OSKeyringKey


@dataclass(frozen=True)
class VaultHeader:
    """What a vault file's header says, readable without unlocking it. It holds no secret."""

    format_version: int
    cipher: Literal["AES-256-GCM"]
    key_source: Literal["passphrase", "os-keyring"]
    kdf: Literal["scrypt"] | None
    kdf_params: ScryptParams | None
    keyring_service: str | None
    keyring_username: str | None
    vault_id: str
    generation: int


@dataclass(frozen=True)
class _Header:
    vault_id: bytes
    generation: int
    source: int
    scrypt: ScryptParams | None = None
    salt: bytes = b""
    key_id: bytes = b""
    service: str = ""
    key_check: bytes = b""

    def key_section(self) -> bytes:
        if self.source == _SOURCE_PASSPHRASE:
            assert self.scrypt is not None
            params = self.scrypt
            return _SCRYPT.pack(params.n, params.r, params.p, len(self.salt)) + self.salt
        service = self.service.encode("utf-8")
        return self.key_id + bytes([len(service)]) + service

    def to_bytes(self) -> bytes:
        section = self.key_section()
        length = _FIXED.size + len(section) + _KEY_CHECK_SIZE + _DIGEST_SIZE
        kdf = _KDF_SCRYPT if self.source == _SOURCE_PASSPHRASE else _KDF_NONE
        fixed = _FIXED.pack(
            MAGIC,
            FORMAT_VERSION,
            length,
            _CIPHER_AES_256_GCM,
            self.source,
            kdf,
            0,
            self.vault_id,
            self.generation,
        )
        body = fixed + section + self.key_check
        return body + hashlib.sha256(body).digest()

    @property
    def keyring_username(self) -> str:
        return f"vault-{self.key_id.hex()}"

    def public(self) -> VaultHeader:
        keyring = self.source == _SOURCE_OS_KEYRING
        return VaultHeader(
            format_version=FORMAT_VERSION,
            cipher="AES-256-GCM",
            key_source="os-keyring" if keyring else "passphrase",
            kdf=None if keyring else "scrypt",
            kdf_params=self.scrypt,
            keyring_service=self.service if keyring else None,
            keyring_username=self.keyring_username if keyring else None,
            vault_id=self.vault_id.hex(),
            generation=self.generation,
        )


@dataclass(frozen=True)
class _Session:
    """What unlocking leaves behind: the derived keys, and which store they belong to."""

    vault_id: bytes
    key_check: bytes
    aead_key: bytes
    keyring: OSKeyringKey | None  # set when the key lives in the OS keyring (to delete on re-key)


def _nothing() -> None:
    pass


# (lock file, thread) pairs whose flock this process holds: a second flock on a new descriptor
# from the same thread would wait for itself forever.
_held_locks: set[tuple[str, int]] = set()
_held_locks_guard = threading.Lock()


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
        return StoreCorruptedError(
            f"keyring file {self.path} is corrupted or not an azcreds keyring: {reason}"
        )

    def _parse(self, data: bytes) -> tuple[_Header, bytes]:
        """The header and its bytes, checked for shape and digest; StoreCorruptedError otherwise."""
        if len(data) < _FIXED.size:
            raise self._corrupted("the file is too short")
        magic, version, length, cipher, source, kdf, reserved, vault_id, generation = _FIXED.unpack_from(data)
        if magic != MAGIC:
            raise self._corrupted("unknown file signature")
        if version != FORMAT_VERSION:
            raise self._corrupted(f"unsupported format version {version}")
        minimum_body = _NONCE_SIZE + _TAG_SIZE
        if not _FIXED.size + _KEY_CHECK_SIZE + _DIGEST_SIZE <= length <= len(data) - minimum_body:
            raise self._corrupted("the file is truncated or its header length is wrong")
        header_bytes = data[:length]
        digest = hashlib.sha256(header_bytes[:-_DIGEST_SIZE]).digest()
        if not hmac.compare_digest(digest, header_bytes[-_DIGEST_SIZE:]):
            raise self._corrupted("header digest mismatch")
        if cipher != _CIPHER_AES_256_GCM or reserved != 0:
            raise self._corrupted("unknown cipher")
        section = header_bytes[_FIXED.size : -(_KEY_CHECK_SIZE + _DIGEST_SIZE)]
        key_check = header_bytes[-(_KEY_CHECK_SIZE + _DIGEST_SIZE) : -_DIGEST_SIZE]
        if source == _SOURCE_PASSPHRASE and kdf == _KDF_SCRYPT:
            header = self._parse_scrypt_section(section, vault_id, generation, key_check)
        elif source == _SOURCE_OS_KEYRING and kdf == _KDF_NONE:
            header = self._parse_keyring_section(section, vault_id, generation, key_check)
        else:
            raise self._corrupted("unknown key source or KDF")
        if header.to_bytes() != header_bytes:
            raise self._corrupted("non-canonical header")
        return header, header_bytes

    def _parse_scrypt_section(
        self, section: bytes, vault_id: bytes, generation: int, key_check: bytes
    ) -> _Header:
        if len(section) < _SCRYPT.size:
            raise self._corrupted("malformed KDF section")
        n, r, p, salt_size = _SCRYPT.unpack_from(section)
        salt = section[_SCRYPT.size :]
        if len(salt) != salt_size or not _SALT_RANGE[0] <= salt_size <= _SALT_RANGE[1]:
            raise self._corrupted("malformed salt")
        try:
            params = ScryptParams(n, r, p)
        except ValueError as exc:
            raise self._corrupted(f"unsafe KDF parameters ({exc})") from None
        return _Header(
            vault_id, generation, _SOURCE_PASSPHRASE, scrypt=params, salt=salt, key_check=key_check
        )

    def _parse_keyring_section(
        self, section: bytes, vault_id: bytes, generation: int, key_check: bytes
    ) -> _Header:
        if len(section) < 17 or section[16] != len(section) - 17 or section[16] == 0:
            raise self._corrupted("malformed OS keyring section")
        try:
            service = section[17:].decode("utf-8")
        except UnicodeDecodeError:
            raise self._corrupted("malformed OS keyring service name") from None
        return _Header(
            vault_id,
            generation,
            _SOURCE_OS_KEYRING,
            key_id=section[:16],
            service=service,
            key_check=key_check,
        )

    def _decrypt(self, session: _Session, header_bytes: bytes, data: bytes) -> dict[str, Any]:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        body = data[len(header_bytes) :]
        nonce, ciphertext = body[:_NONCE_SIZE], body[_NONCE_SIZE:]
        try:
            plaintext = AESGCM(session.aead_key).decrypt(nonce, ciphertext, header_bytes)
        except InvalidTag:
            raise self._corrupted("the contents failed authentication") from None
        try:
            payload = json.loads(plaintext.decode("utf-8"))
        except ValueError:  # UnicodeDecodeError and JSONDecodeError alike
            raise self._corrupted("the contents are not JSON") from None
        if not isinstance(payload, dict):
            raise self._corrupted("the contents are not a JSON object")
        return payload

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
        if header.source == _SOURCE_PASSPHRASE:
            if not isinstance(key, PassphraseKey):
                raise StoreLockedError(f"keyring file {self.path} is locked by a passphrase")
            assert header.scrypt is not None
            master = self._kdf(key.secret_bytes(), header.salt, header.scrypt)
            return _session_for(header.vault_id, master, None)
        if not isinstance(key, OSKeyringKey):
            raise StoreLockedError(
                f"keyring file {self.path} is locked by a key in the OS keyring, not a passphrase"
            )
        if key.service != header.service:
            raise StoreLockedError(
                f"keyring file {self.path} keeps its key under OS keyring service "
                f"{header.service!r}, not {key.service!r}"
            )
        backend = _usable_backend(key)
        from keyring.errors import KeyringError

        try:
            stored = backend.get_password(header.service, header.keyring_username)
        except KeyringError as exc:
            raise StoreLockedError(f"the OS keyring failed to return the key: {exc}") from exc
        if stored is None:
            raise StoreLockedError(
                f"the OS keyring has no key for keyring file {self.path} "
                f"(service {header.service!r}, user {header.keyring_username!r})"
            )
        try:
            master = base64.b64decode(stored.encode("ascii"), validate=True)
        except ValueError:
            master = b""
        if len(master) != _KEY_SIZE:
            raise StoreLockedError(f"the OS keyring entry for keyring file {self.path} is not a key")
        return _session_for(header.vault_id, master, key)

    def _new_key(
        self, key: VaultKey, *, vault_id: bytes, gen: int
    ) -> tuple[_Header, _Session, Callable[[], None]]:
        """A header and session for a fresh key (new salt or new keyring entry), and an undo."""
        if isinstance(key, PassphraseKey):
            salt = secrets.token_bytes(_SALT_SIZE)
            master = self._kdf(key.secret_bytes(), salt, key.params)
            session = _session_for(vault_id, master, None)
            header = _Header(
                vault_id,
                gen,
                _SOURCE_PASSPHRASE,
                scrypt=key.params,
                salt=salt,
                key_check=session.key_check,
            )
            return header, session, _nothing
        if not isinstance(key, OSKeyringKey):
            raise TypeError("key must be a PassphraseKey or an OSKeyringKey")
        backend = _usable_backend(key)
        master = secrets.token_bytes(_KEY_SIZE)
        session = _session_for(vault_id, master, key)
        header = _Header(
            vault_id,
            gen,
            _SOURCE_OS_KEYRING,
            key_id=secrets.token_bytes(16),
            service=key.service,
            key_check=session.key_check,
        )
        from keyring.errors import KeyringError

        try:
            backend.set_password(
                header.service, header.keyring_username, base64.b64encode(master).decode("ascii")
            )
        except KeyringError as exc:
            raise StoreLockedError(f"the OS keyring refused to store the key: {exc}") from exc
        return header, session, lambda: _delete_keyring_entry(key, header)

    # -- writing -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _write_lock(self) -> Iterator[None]:
        """Hold ``flock(LOCK_EX)`` on the lock file; clear temporary files of dead writers."""
        lock_path = str(self.lock_path)
        me = (os.path.abspath(lock_path), threading.get_ident())
        with _held_locks_guard:
            if me in _held_locks:
                raise RuntimeError(f"this thread already holds the write lock of {self.path}")
            _held_locks.add(me)
        try:
            fd = self._open_lock_file()
            try:
                self._acquire(fd)
                try:
                    _record_holder(fd)
                    self._remove_stale_temporaries()
                    yield
                finally:
                    with contextlib.suppress(OSError):
                        os.ftruncate(fd, 0)  # no pid left behind once the lock is free
            finally:
                os.close(fd)  # releases the flock
        finally:
            with _held_locks_guard:
                _held_locks.discard(me)

    def _open_lock_file(self) -> int:
        lock_path = self.lock_path
        try:
            return os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        except PermissionError:
            raise PermissionDeniedError(f"keyring lock file {lock_path}: permission denied") from None
        except OSError as exc:
            raise StorePathError(f"keyring lock file {lock_path} cannot be used ({exc.strerror})") from None

    def _acquire(self, fd: int) -> None:
        """Take ``flock(LOCK_EX)`` on ``fd`` within ``lock_timeout``, else StoreBusyError.

        flock has no timeout: try without blocking, then retry with growing pauses (1 ms to 20 ms).
        """
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if self.lock_timeout is None:
                fcntl.flock(fd, fcntl.LOCK_EX)
                return
        deadline = time.monotonic() + self.lock_timeout
        pause = 0.001
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._busy(fd)
            time.sleep(min(pause, remaining))
            pause = min(pause * 2, _LOCK_POLL_MAX)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                continue

    def _busy(self, fd: int) -> StoreBusyError:
        pid = _recorded_holder(fd)
        waited = f"for {self.lock_timeout:g} s"
        hint = "raise AZCREDS_KEYRING_LOCK_TIMEOUT (or lock_timeout=) to wait longer"
        where = f"keyring file {self.path} is locked for writing ({self.lock_path})"
        if pid is None:
            message = f"{where} by an unknown process, and it stayed locked {waited}; {hint}"
        elif _process_exists(pid):
            message = (
                f"{where} by process {pid}, which held the lock {waited} without finishing; "
                f"if it hangs, stop it; or {hint}"
            )
        else:
            message = (
                f"{where}: process {pid} took the lock and is no longer running, but a process "
                f"it started still holds it after {waited}; stop that one, or {hint}"
            )
        return StoreBusyError(message, holder_pid=pid)

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
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        folder = self.path.parent
        temporary = folder / f".{self.path.name}.{secrets.token_hex(8)}.tmp"
        try:
            header_bytes = header.to_bytes()
            nonce = secrets.token_bytes(_NONCE_SIZE)
            ciphertext = AESGCM(session.aead_key).encrypt(nonce, plaintext, header_bytes)
            view = memoryview(header_bytes + nonce + ciphertext)
            fd = os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_CLOEXEC, 0o600)
            try:
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            undo()
            raise
        _fsync_folder(folder)


def _session_for(vault_id: bytes, master: bytes, keyring: OSKeyringKey | None) -> _Session:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    def expand(info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)

    return _Session(vault_id, expand(_INFO_KEY_CHECK), expand(_INFO_AEAD), keyring)


def _replace_generation(header: _Header, generation: int) -> _Header:
    return _Header(
        header.vault_id,
        generation,
        header.source,
        scrypt=header.scrypt,
        salt=header.salt,
        key_id=header.key_id,
        service=header.service,
        key_check=header.key_check,
    )


def _encode(payload: dict[str, Any]) -> bytes:
    """The payload as UTF-8 JSON; TypeError/ValueError (before anything is written) if it is not."""
    if not isinstance(payload, dict):
        raise TypeError("the keyring payload must be a dict")
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.encode("utf-8")


def _usable_backend(key: OSKeyringKey) -> KeyringBackend:
    """``key``'s backend, or StoreLockedError if it would not really keep a secret."""
    import keyring
    from keyring.backends import chainer, fail, null

    backend = key.backend if key.backend is not None else keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__qualname__}"
    refusal = (
        f"no usable OS keyring backend (keyring uses {name}, which cannot keep secrets); "
        "install or configure a keyring backend, or protect the keyring with a passphrase"
    )
    if isinstance(backend, fail.Keyring | null.Keyring):
        raise StoreLockedError(refusal)
    if isinstance(backend, chainer.ChainerBackend):
        if not any(_priority(b) >= 1 and not _file_backed(b) for b in backend.backends):
            raise StoreLockedError(refusal)
    elif _priority(backend) < 1 or _file_backed(backend):
        raise StoreLockedError(refusal)
    return backend


def _file_backed(backend: KeyringBackend) -> bool:
    """keyrings.alt / keyrings.cryptfile style backends: a file of their own, often behind a
    password prompt of their own. They are not an OS keyring, and prompting from a library that
    may run in CI would hang, so they do not count as a place to keep the data key."""
    return type(backend).__module__.startswith("keyrings.")


def _priority(backend: KeyringBackend) -> float:
    try:
        return float(backend.priority)
    except Exception:  # a backend whose priority check fails is not viable
        return -1.0


def _delete_keyring_entry(key: OSKeyringKey, header: _Header) -> None:
    """Best effort: an entry left behind is harmless (it unlocks no file any more)."""
    from keyring.errors import KeyringError

    with contextlib.suppress(KeyringError, StoreLockedError):
        _usable_backend(key).delete_password(header.service, header.keyring_username)


def _record_holder(fd: int) -> None:
    """Write this process's id into the lock file (for the messages of writers who wait)."""
    with contextlib.suppress(OSError):  # only messages depend on it
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)


def _recorded_holder(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() and 0 < int(text) < 2**32 else None


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


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


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
