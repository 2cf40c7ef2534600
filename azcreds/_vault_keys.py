"""Where a keyring file's data key comes from: a passphrase through scrypt, or the OS keyring.

:class:`PassphraseKey` and :class:`OSKeyringKey` say how to unlock; :func:`_derive` turns one into
the session (derived keys) for an existing file's header, :func:`_new_key` makes a fresh one (new
salt, or a new random key stored in the OS keyring) for creating and re-keying. An OS keyring
backend that would not really keep the key (fail, null, file-backed, low priority) is refused with
StoreLockedError. Import the public names from :mod:`azcreds.vault_file`.
"""

from __future__ import annotations

import base64
import contextlib
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from azcreds._vault_format import (
    _KEY_SIZE,
    _SALT_SIZE,
    _SOURCE_OS_KEYRING,
    _SOURCE_PASSPHRASE,
    KdfFunction,
    ScryptParams,
    _expand_keys,
    _Header,
)
from azcreds.errors import StoreLockedError

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

__all__ = ["DerivedKey", "OSKeyringKey", "PassphraseKey", "VaultKey"]


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


@dataclass(frozen=True)
class DerivedKey:
    """Unlock a passphrase file with its keys already derived (a keyring session's): no KDF run.

    ``key_check`` and ``aead_key`` are what :meth:`VaultFile.derived_key` returns after an unlock;
    they are checked against the file's key check like a passphrase would be. Never in ``repr``.
    """

    key_check: bytes = field(repr=False)
    aead_key: bytes = field(repr=False)


VaultKey = PassphraseKey | OSKeyringKey | DerivedKey


@dataclass(frozen=True)
class _Session:
    """What unlocking leaves behind: the derived keys, and which store they belong to."""

    vault_id: bytes
    key_check: bytes
    aead_key: bytes
    keyring: OSKeyringKey | None  # set when the key lives in the OS keyring (to delete on re-key)


def _nothing() -> None:
    pass


def _session_for(vault_id: bytes, master: bytes, keyring: OSKeyringKey | None) -> _Session:
    key_check, aead_key = _expand_keys(master)
    return _Session(vault_id, key_check, aead_key, keyring)


def _derive(header: _Header, key: VaultKey, kdf: KdfFunction, path: Path) -> _Session:
    """The session ``key`` gives for the file ``header`` describes (key check not yet compared)."""
    if header.source == _SOURCE_PASSPHRASE and isinstance(key, DerivedKey):
        return _Session(header.vault_id, key.key_check, key.aead_key, None)
    if header.source == _SOURCE_PASSPHRASE:
        if not isinstance(key, PassphraseKey):
            raise StoreLockedError(f"keyring file {path} is locked by a passphrase")
        assert header.scrypt is not None
        master = kdf(key.secret_bytes(), header.salt, header.scrypt)
        return _session_for(header.vault_id, master, None)
    if not isinstance(key, OSKeyringKey):
        raise StoreLockedError(
            f"keyring file {path} is locked by a key in the OS keyring, not a passphrase or a session"
        )
    if key.service != header.service:
        raise StoreLockedError(
            f"keyring file {path} keeps its key under OS keyring service "
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
            f"the OS keyring has no key for keyring file {path} "
            f"(service {header.service!r}, user {header.keyring_username!r})"
        )
    try:
        master = base64.b64decode(stored.encode("ascii"), validate=True)
    except ValueError:
        master = b""
    if len(master) != _KEY_SIZE:
        raise StoreLockedError(f"the OS keyring entry for keyring file {path} is not a key")
    return _session_for(header.vault_id, master, key)


def _new_key(
    key: VaultKey, kdf: KdfFunction, *, vault_id: bytes, gen: int
) -> tuple[_Header, _Session, Callable[[], None]]:
    """A header and session for a fresh key (new salt or new keyring entry), and an undo."""
    if isinstance(key, PassphraseKey):
        salt = secrets.token_bytes(_SALT_SIZE)
        master = kdf(key.secret_bytes(), salt, key.params)
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
    if not isinstance(key, OSKeyringKey):  # a DerivedKey re-uses keys: no good for a new one
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
