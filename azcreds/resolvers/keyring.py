"""KeyringStore: named secrets in the local encrypted keyring file, as a store and a resolver.

The file — its format, keys, locking and crypto — is :mod:`azcreds.vault_file` (and the private
modules it names); this module decides what
the payload holds (one entry per secret: original name, schema id, fields, timestamps), how the
file is unlocked (passphrase from the caller or ``AZCREDS_KEYRING_PASSPHRASE``, or a random key
in the OS keyring) and maps it all onto the store and resolver contracts.
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from azcreds.errors import (
    ResolverUnavailableError,
    SecretExistsError,
    SecretNotFoundError,
    StoreCorruptedError,
    StoreLockedError,
    StorePathError,
)
from azcreds.names import name_key, validate_secret_name
from azcreds.schemas import parse_secret

if TYPE_CHECKING:
    from azcreds.schemas import SecretSchema
    from azcreds.vault_file import KdfFunction, ScryptParams, VaultFile, VaultHeader, VaultKey

__all__ = ["PAYLOAD_VERSION", "KeyringStore", "SecretInfo", "default_keyring_path"]

PAYLOAD_VERSION = 1


def default_keyring_path() -> Path:
    """``AZCREDS_KEYRING_PATH``, else ``keyring.azcv`` in the user data folder (platformdirs)."""
    from azcreds.settings import get_settings

    configured = get_settings().keyring_path
    if configured is not None:
        return configured.expanduser()
    from platformdirs import user_data_path

    return user_data_path("azcreds", appauthor=False) / "keyring.azcv"


@dataclass(frozen=True)
class SecretInfo:
    """What a store says about a secret without revealing it."""

    name: str
    schema_id: str
    store: str
    created: str
    updated: str


class KeyringStore:
    """The local encrypted keyring: ``register / get / list / update / delete``, and a resolver.

    ``path`` defaults to :func:`default_keyring_path`. The file is unlocked on first use with, in
    order: the ``passphrase`` given here, ``AZCREDS_KEYRING_PASSPHRASE``, or — for a file created
    that way — the random key kept in the OS keyring. ``scrypt_params`` only matter when this store
    creates the file (the header records them; unlocking uses what the header says).

    ``lock_timeout`` is how many seconds a write waits for another writer's lock before
    StoreBusyError (default ``AZCREDS_KEYRING_LOCK_TIMEOUT``, 30). Reads never wait.

    A path that cannot hold the file (a folder, a dangling link, ...) raises StorePathError from
    every method, and from the resolver: unlike a missing file, it is not a miss.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        passphrase: str | None = None,
        scrypt_params: ScryptParams | None = None,
        kdf: KdfFunction | None = None,
        lock_timeout: float | None = None,
    ) -> None:
        if path is not None and not os.fspath(path):
            raise StorePathError("the keyring path is empty")
        self.path = Path(path).expanduser() if path is not None else default_keyring_path()
        self._lock_timeout = lock_timeout
        self._passphrase = passphrase
        self._scrypt_params = scrypt_params
        self._kdf = kdf
        self._vault: VaultFile | None = None
        self._lock = threading.Lock()
        # (inode, mtime, size) of the file last decrypted, and its payload: reads skip the
        # decryption while the file is unchanged (every write replaces it with a new inode).
        self._cached: tuple[tuple[int, int, int, int], dict[str, Any]] | None = None

    @property
    def source(self) -> Literal["keyring"]:
        return "keyring"

    def __repr__(self) -> str:
        return f"KeyringStore({str(self.path)!r})"

    # ------------------------------------------------------------------ unlocking

    def _vault_file(self) -> VaultFile:
        if self._vault is None:
            from azcreds.settings import get_settings
            from azcreds.vault_file import VaultFile, derive_scrypt

            timeout = self._lock_timeout
            if timeout is None:
                timeout = get_settings().keyring_lock_timeout
            self._vault = VaultFile(self.path, kdf=self._kdf or derive_scrypt, lock_timeout=timeout)
        return self._vault

    def _configured_passphrase(self) -> str | None:
        if self._passphrase is not None:
            return self._passphrase
        from azcreds.settings import get_settings

        configured = get_settings().keyring_passphrase
        return configured.get_secret_value() if configured is not None else None

    def exists(self) -> bool:
        """Whether the keyring file exists."""
        return self._vault_file().exists()

    def header(self) -> VaultHeader:
        """The file's header (format, KDF, key source); no key needed. FileNotFoundError if absent,
        StorePathError if the path cannot hold a file."""
        return self._vault_file().header()

    def _unlock_key(self, header: VaultHeader) -> VaultKey:
        from azcreds.vault_file import OSKeyringKey, PassphraseKey

        if header.key_source == "os-keyring":
            return OSKeyringKey(service=header.keyring_service or "azcreds")
        passphrase = self._configured_passphrase()
        if self._passphrase is None:  # a passphrase given here wins over a session
            session = self._configured_session()
            if session:
                from azcreds.keyring_session import open_session

                try:
                    return open_session(session, self.path, header.vault_id)
                except StoreLockedError:
                    if not passphrase:
                        raise
        if not passphrase:
            raise StoreLockedError(
                f"keyring {self.path} is locked: set AZCREDS_KEYRING_PASSPHRASE, enter the passphrase "
                "or run `azcreds keyring unlock`"
            )
        return PassphraseKey(passphrase)

    def _configured_session(self) -> str | None:
        from azcreds.settings import get_settings

        configured = get_settings().keyring_session
        return configured.get_secret_value() if configured is not None else None

    def start_session(self, seconds: float) -> str:
        """Unlock (running the KDF unless unlocked already) and start a keyring session.

        Returns the value for ``AZCREDS_KEYRING_SESSION``: with it, other processes open this
        keyring for ``seconds`` without the passphrase and without scrypt
        (:mod:`azcreds.keyring_session`). Only for passphrase-protected files.
        """
        from azcreds.keyring_session import start_session

        if self.header().key_source != "passphrase":
            raise StoreLockedError(
                f"keyring {self.path} keeps its key in the OS keyring: it opens without a passphrase "
                "already, no session needed"
            )
        vault = self._open()
        return start_session(self.path, self.header().vault_id, vault.derived_key(), seconds)

    def _open(self) -> VaultFile:
        """The unlocked vault (the KDF runs here, once per store instance)."""
        vault = self._vault_file()
        if vault.unlocked:
            return vault
        with self._lock:
            if not vault.unlocked:
                vault.unlock(self._unlock_key(vault.header()))
        return vault

    def create(self, *, use_os_keyring: bool | None = None) -> None:
        """Create an empty keyring file. SecretExistsError if there is one already.

        With a passphrase (given or configured) the key is derived from it with scrypt; otherwise,
        or with ``use_os_keyring=True``, a random key is kept in the OS keyring (only where a real
        backend exists). StoreLockedError when neither is possible.
        """
        from azcreds.vault_file import OSKeyringKey, PassphraseKey

        vault = self._vault_file()
        passphrase = None if use_os_keyring else self._configured_passphrase()
        key: VaultKey
        if passphrase:
            key = PassphraseKey(passphrase, self._scrypt_params)
        elif use_os_keyring is False:
            raise StoreLockedError("no passphrase to create the keyring with: set AZCREDS_KEYRING_PASSPHRASE")
        else:
            key = OSKeyringKey()
        try:
            vault.create(key, {"version": PAYLOAD_VERSION, "secrets": {}})
        except FileExistsError:
            raise SecretExistsError(f"a keyring file already exists at {self.path}") from None
        except StoreLockedError as exc:  # no usable OS keyring backend
            raise StoreLockedError(
                f"{exc}; set AZCREDS_KEYRING_PASSPHRASE to protect the keyring with a passphrase"
            ) from None

    def change_key(self, *, passphrase: str | None = None, use_os_keyring: bool = False) -> None:
        """Re-encrypt the file atomically under a new passphrase, or a new OS-keyring key."""
        from azcreds.vault_file import OSKeyringKey, PassphraseKey

        vault = self._open()
        if use_os_keyring:
            vault.rekey(OSKeyringKey())
        elif passphrase:
            vault.rekey(PassphraseKey(passphrase, self._scrypt_params))
            self._passphrase = passphrase
        else:
            raise ValueError("give a new passphrase or use_os_keyring=True")
        self._cached = None
        from azcreds.keyring_session import end_sessions_of

        end_sessions_of(self.path)  # they hold the old key: nothing to open any more

    # ------------------------------------------------------------------ payload

    def _payload(self) -> dict[str, Any]:
        vault = self._open()
        st = os.stat(self.path)
        stamp = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)
        cached = self._cached
        if cached is not None and cached[0] == stamp:
            return cached[1]
        payload = vault.read()
        self._check_shape(payload)
        self._cached = (stamp, payload)
        return payload

    def _check_shape(self, payload: dict[str, Any]) -> None:
        secrets = payload.get("secrets")
        if payload.get("version") != PAYLOAD_VERSION or not isinstance(secrets, dict):
            raise StoreCorruptedError(f"keyring file {self.path} does not hold an azcreds payload")

    def _entries(self, payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
        entries: dict[str, dict[str, Any]] = payload["secrets"]
        return entries

    # ------------------------------------------------------------------ store contract

    def register(self, name: str, secret: SecretSchema, overwrite: bool = False) -> SecretSchema:
        """Store ``secret`` under ``name``. SecretExistsError if taken and not ``overwrite``."""
        validate_secret_name(name)
        concrete = secret.normalize()
        if not self.exists():
            with contextlib.suppress(SecretExistsError):  # another process created it meanwhile
                self.create()
        vault = self._open()
        now = _now()
        with vault.transaction() as payload:
            self._check_shape(payload)
            entries = self._entries(payload)
            key = name_key(name)
            previous = entries.get(key)
            if previous is not None and not overwrite:
                raise SecretExistsError(
                    f"secret {previous.get('name', name)!r} already exists in the keyring", overwritable=True
                )
            entries[key] = {
                "name": name,
                "schema": concrete.schema_id,
                "fields": concrete.field_values(reveal=True),
                "created": previous.get("created", now) if previous else now,
                "updated": now,
            }
        return concrete

    def _entry(self, name: str) -> dict[str, Any]:
        validate_secret_name(name)
        if not self.exists():
            raise SecretNotFoundError(name, detail=f"no keyring file at {self.path}")
        entry = self._entries(self._payload()).get(name_key(name))
        if entry is None:
            raise SecretNotFoundError(name, detail=f"not in keyring {self.path}")
        return entry

    def get(self, name: str) -> SecretSchema:
        """The secret called ``name``, validated. SecretNotFoundError if there is none."""
        return self._parse_entry(self._entry(name))

    def info(self, name: str) -> SecretInfo:
        """Name, schema and timestamps of ``name`` (no value, no validation)."""
        return _info(self._entry(name))

    def list(self) -> list[SecretInfo]:
        """Every secret's name, schema and timestamps, sorted by name. No values."""
        if not self.exists():
            return []
        return sorted(
            (_info(e) for e in self._entries(self._payload()).values()), key=lambda i: i.name.lower()
        )

    def update(self, name: str, **fields: str | None) -> SecretSchema:
        """Change some fields of ``name`` (``None`` or ``""`` removes an optional one); revalidated."""
        self._entry(name)  # not found before any lock is taken
        vault = self._open()
        with vault.transaction() as payload:
            self._check_shape(payload)
            entries = self._entries(payload)
            entry = entries.get(name_key(name))
            if entry is None:
                raise SecretNotFoundError(name, detail=f"not in keyring {self.path}")
            merged = dict(entry["fields"])
            for field, value in fields.items():
                if value is None or value == "":
                    merged.pop(field, None)
                else:
                    merged[field] = value
            secret = parse_secret(entry["schema"], merged)
            entry["fields"] = secret.field_values(reveal=True)
            entry["schema"] = secret.schema_id
            entry["updated"] = _now()
        return secret

    def delete(self, name: str) -> None:
        """Remove ``name``. SecretNotFoundError if there is none."""
        validate_secret_name(name)
        if not self.exists():
            raise SecretNotFoundError(name, detail=f"no keyring file at {self.path}")
        vault = self._open()
        with vault.transaction() as payload:
            self._check_shape(payload)
            if self._entries(payload).pop(name_key(name), None) is None:
                raise SecretNotFoundError(name, detail=f"not in keyring {self.path}")

    # ------------------------------------------------------------------ resolver

    def resolve(self, name: str | None) -> SecretSchema:
        """Resolver protocol: a missing file or name is a miss; locked or corrupted is a failure."""
        if name is None:
            raise ResolverUnavailableError("the keyring holds named secrets only")
        validate_secret_name(name)
        if not self.exists():
            raise ResolverUnavailableError(f"no keyring file at {self.path}")
        entry = self._entries(self._payload()).get(name_key(name))
        if entry is None:
            raise ResolverUnavailableError(f"no secret {name!r} in {self.path}")
        return self._parse_entry(entry)

    def _parse_entry(self, entry: dict[str, Any]) -> SecretSchema:
        fields = entry.get("fields")
        schema_id = entry.get("schema")
        if not isinstance(fields, dict) or not isinstance(schema_id, str):
            raise StoreCorruptedError(f"keyring file {self.path} holds a malformed entry")
        return parse_secret(schema_id, fields)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _info(entry: dict[str, Any]) -> SecretInfo:
    return SecretInfo(
        name=str(entry.get("name", "")),
        schema_id=str(entry.get("schema", "")),
        store="keyring",
        created=str(entry.get("created", "")),
        updated=str(entry.get("updated", "")),
    )
