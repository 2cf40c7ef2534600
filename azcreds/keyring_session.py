"""Keyring sessions: the unlocked keyring's keys, wrapped in a private file that only a session value opens.

``azcreds keyring unlock`` derives the keyring's keys once (scrypt) and hands them to
:func:`start_session`, which draws a session id (16 random bytes) and a session key (32 random
bytes), writes ``<runtime dir>/azcreds/sessions/<id>.session`` (folder 0700, file 0600 from
creation, written atomically) and returns the session value ``azks1.<id>.<key>`` for
``AZCREDS_KEYRING_SESSION``. :func:`open_session` turns a value back into the keys without the
passphrase and without scrypt.

File (format 1)::

    8   magic b"AZCRSES1"
    2   header length H, big-endian
    H   header: UTF-8 JSON {"id", "keyring" (absolute path), "vault_id", "created", "expires"}
    12  nonce
    ..  AES-256-GCM(key = the session key, plaintext = key check (32) + AEAD key (32) of the
        keyring, associated data = magic + length + header) with its 16-byte tag

The value alone is useless without the file (it holds only an id and a random key, no key of the
keyring); the file alone is useless without the value (its contents are sealed under that random
key; its header, authenticated, says which keyring and until when). A session opens only the
keyring it was made for, only before it expires (checked against the authenticated expiry; an
expired file is deleted), and only while that keyring keeps the same key (``keyring passwd``
ends every session of it). :func:`end_session` deletes one file: the value stops working at once.
docs/keyring.md has the threat model.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import secrets
import stat
import struct
import time
import warnings
from pathlib import Path

from azcreds._atomic_file import replace_private
from azcreds._vault_keys import DerivedKey
from azcreds.errors import StoreLockedError, StorePathError

__all__ = [
    "MAX_SESSION_SECONDS",
    "end_all_sessions",
    "end_session",
    "end_sessions_of",
    "open_session",
    "session_folder",
    "start_session",
]

MAX_SESSION_SECONDS = 24 * 3600  # a session is for a working day at most
_MAGIC = b"AZCRSES1"
_LENGTH = struct.Struct(">H")
_NONCE = 12
_PREFIX = "azks1"
_VALUE = re.compile(rf"{_PREFIX}\.([0-9a-f]{{32}})\.([A-Za-z0-9_-]{{43}})")
_FILE = re.compile(r"[0-9a-f]{32}\.session")

# The sessions' clock (wall time: expiry crosses processes); tests swap in one they move by hand.
_now = time.time


def session_folder() -> Path:
    """``<user runtime dir>/azcreds/sessions`` (platformdirs; ``$XDG_RUNTIME_DIR`` on Linux)."""
    from platformdirs import user_runtime_path

    with warnings.catch_warnings():  # no XDG_RUNTIME_DIR: platformdirs' fallback is checked below
        warnings.simplefilter("ignore")
        base = user_runtime_path("azcreds", appauthor=False)
    return base / "sessions"


def _private_folder(folder: Path, *, create: bool) -> bool:
    """Make sure ``folder`` (and its parent, the azcreds runtime folder) is ours and 0700."""
    for path in (folder.parent, folder):
        if create:
            with contextlib.suppress(FileExistsError):
                os.makedirs(path, mode=0o700)
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            return False
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
            raise StorePathError(
                f"keyring session folder {path} is not a private folder of this user (0700): "
                "remove it or fix its mode"
            )
    return True


def _aad(header: bytes) -> bytes:
    return _MAGIC + _LENGTH.pack(len(header)) + header


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def start_session(keyring: Path, vault_id: str, keys: DerivedKey, seconds: float) -> str:
    """Write a session file for ``keyring`` valid ``seconds``; return the session value."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not 0 < seconds <= MAX_SESSION_SECONDS:
        raise ValueError(f"a keyring session lasts more than 0 s and at most {MAX_SESSION_SECONDS} s")
    folder = session_folder()
    _private_folder(folder, create=True)
    _remove_expired(folder)
    session_id = secrets.token_hex(16)
    session_key = secrets.token_bytes(32)
    now = _now()
    header = json.dumps(
        {
            "id": session_id,
            "keyring": str(keyring.resolve()),
            "vault_id": vault_id,
            "created": int(now),
            "expires": now + seconds,
        },
        separators=(",", ":"),
    ).encode("utf-8")
    nonce = secrets.token_bytes(_NONCE)
    sealed = AESGCM(session_key).encrypt(nonce, keys.key_check + keys.aead_key, _aad(header))
    replace_private(folder / f"{session_id}.session", _aad(header) + nonce + sealed)
    return f"{_PREFIX}.{session_id}.{_b64(session_key)}"


def _parse_value(value: str) -> tuple[str, bytes]:
    match = _VALUE.fullmatch(value.strip())
    if match is None:
        raise StoreLockedError(
            "AZCREDS_KEYRING_SESSION is not a keyring session value: run `azcreds keyring unlock` again"
        )
    return match[1], base64.urlsafe_b64decode(match[2] + "=")


def _read(path: Path) -> tuple[dict[str, object], bytes, bytes] | None:
    """The header (parsed), its authenticated bytes and the sealed rest; None if no such file."""
    try:
        with open(path, "rb") as f:
            data = f.read(64 * 1024)
    except FileNotFoundError:
        return None
    problem = StoreLockedError(f"keyring session file {path} is damaged: run `azcreds keyring unlock` again")
    if len(data) < len(_MAGIC) + _LENGTH.size or not data.startswith(_MAGIC):
        raise problem
    (length,) = _LENGTH.unpack_from(data, len(_MAGIC))
    start = len(_MAGIC) + _LENGTH.size
    header_bytes = data[start : start + length]
    try:
        header = json.loads(header_bytes.decode("utf-8"))
    except ValueError:
        raise problem from None
    if not isinstance(header, dict) or len(header_bytes) != length:
        raise problem
    return header, data[: start + length], data[start + length :]


def open_session(value: str, keyring: Path, vault_id: str) -> DerivedKey:
    """The keys the session ``value`` wraps for ``keyring`` (whose header has ``vault_id``).

    StoreLockedError if the session ended, expired, belongs to another keyring or was tampered
    with; never says anything about the value itself.
    """
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    session_id, session_key = _parse_value(value)
    folder = session_folder()
    path = folder / f"{session_id}.session"
    if not _private_folder(folder, create=False):
        raise StoreLockedError("the keyring session has ended (no session folder): unlock again")
    read = _read(path)
    if read is None:
        raise StoreLockedError("the keyring session has ended or expired: run `azcreds keyring unlock`")
    header, aad, rest = read
    try:
        plain = AESGCM(session_key).decrypt(rest[:_NONCE], rest[_NONCE:], aad)
    except InvalidTag:
        raise StoreLockedError(
            "AZCREDS_KEYRING_SESSION does not open its session file: run `azcreds keyring unlock` again"
        ) from None
    expires = header.get("expires")
    if header.get("id") != session_id or not isinstance(expires, int | float) or len(plain) != 64:
        raise StoreLockedError(f"keyring session file {path} is damaged: run `azcreds keyring unlock` again")
    if _now() >= expires:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        raise StoreLockedError("the keyring session has expired: run `azcreds keyring unlock` again")
    if header.get("keyring") != str(keyring.resolve()) or header.get("vault_id") != vault_id:
        raise StoreLockedError(f"AZCREDS_KEYRING_SESSION was opened for another keyring, not {keyring}")
    return DerivedKey(plain[:32], plain[32:])


def end_session(value: str) -> bool:
    """Delete the session file of ``value``; whether there was one."""
    session_id, _ = _parse_value(value)
    try:
        os.unlink(session_folder() / f"{session_id}.session")
    except FileNotFoundError:
        return False
    return True


def _session_files(folder: Path) -> list[Path]:
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    return [folder / n for n in names if _FILE.fullmatch(n)]


def end_all_sessions() -> int:
    """Delete every session file of this user; how many there were."""
    count = 0
    for path in _session_files(session_folder()):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
            count += 1
    return count


def end_sessions_of(keyring: Path) -> int:
    """Delete the session files of ``keyring`` (after a re-key they open nothing any more)."""
    target = str(keyring.resolve())
    count = 0
    for path in _session_files(session_folder()):
        try:
            read = _read(path)
        except StoreLockedError:
            continue
        if read is not None and read[0].get("keyring") == target:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
                count += 1
    return count


def _remove_expired(folder: Path) -> None:
    now = _now()
    for path in _session_files(folder):
        try:
            read = _read(path)
        except StoreLockedError:
            continue
        expires = read[0].get("expires") if read else None
        if isinstance(expires, int | float) and now >= expires:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
