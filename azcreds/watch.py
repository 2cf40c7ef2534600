"""Notice that a resolved secret changed at its source (keyring file, Key Vault version) for ``--watch``.

:class:`SecretWatch` is the :class:`azcreds.supervise.Watch` of ``azcreds exec --watch``:

- a secret from the **keyring** is checked every :data:`KEYRING_INTERVAL` seconds, by the
  keyring file's identity (device, inode, mtime, size: every write replaces the file); only when
  that changed is the secret read again (no scrypt: the unlocked key is kept);
- a secret from **Key Vault** is read again every ``keyvault_interval`` seconds
  (``--watch-interval``, default :data:`DEFAULT_KEYVAULT_INTERVAL`): one GET of the latest
  version per poll and process. The default keeps a fleet inside Key Vault's documented limit of
  4,000 reads per 10 s per vault: 10,000 watching processes at 60 s make ~1,700 reads per 10 s,
  leaving room for their ordinary resolves; :data:`MIN_KEYVAULT_INTERVAL` is the least accepted.
- other sources (environment, managed identity) do not change under a running process: nothing
  to watch.

A change is a different set of variables for the child (a rewrite with equal values, or another
secret's change in the same keyring, is none), reported once.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from azcreds.supervise import Change

if TYPE_CHECKING:
    from azcreds.credentials import AzureCredentials

__all__ = [
    "DEFAULT_KEYVAULT_INTERVAL",
    "KEYRING_INTERVAL",
    "MIN_KEYVAULT_INTERVAL",
    "WATCHED_SOURCES",
    "SecretWatch",
]

KEYRING_INTERVAL = 1.0
DEFAULT_KEYVAULT_INTERVAL = 60.0
MIN_KEYVAULT_INTERVAL = 10.0
WATCHED_SOURCES = frozenset({"keyring", "keyvault"})

_Stamp = tuple[int, int, int, int] | None


def _keyring_stamp() -> _Stamp:
    from azcreds.resolvers.keyring import default_keyring_path

    try:
        st = os.stat(default_keyring_path())
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)


def _resolve_fresh(name: str) -> AzureCredentials:
    from azcreds.resolve import resolve_credentials

    return resolve_credentials(name, refresh=True)


class SecretWatch:
    """Polls the source of ``credentials`` (resolved for ``name``); ``check()`` reports a change once.

    ``child_env`` builds the child's environment from new credentials (``exec``'s rule);
    ``resolve`` re-reads the secret (default: the default chain, uncached).
    """

    def __init__(
        self,
        name: str,
        credentials: AzureCredentials,
        child_env: Callable[[AzureCredentials], dict[str, str]],
        *,
        keyvault_interval: float = DEFAULT_KEYVAULT_INTERVAL,
        resolve: Callable[[str], AzureCredentials] = _resolve_fresh,
        keyring_stamp: Callable[[], _Stamp] = _keyring_stamp,
    ) -> None:
        self.name = name
        self._current = credentials
        self._child_env = child_env
        self._resolve = resolve
        self._stamp_of = keyring_stamp
        self._keyvault_interval = keyvault_interval
        self._stamp = keyring_stamp() if credentials.source == "keyring" else None

    @property
    def watched(self) -> bool:
        """Whether the secret's source can change (keyring, Key Vault)."""
        return self._current.source in WATCHED_SOURCES

    @property
    def interval(self) -> float:
        return KEYRING_INTERVAL if self._current.source == "keyring" else self._keyvault_interval

    def check(self) -> Change | None:
        """New variables for the child if the secret changed since the last report, else None."""
        stamp = self._stamp
        if self._current.source == "keyring":
            stamp = self._stamp_of()
            if stamp == self._stamp:
                return None
        elif self._current.source != "keyvault":
            return None
        fresh = self._resolve(self.name)  # a failure leaves the stamp: the next poll tries again
        self._stamp = stamp
        if fresh.to_env() == self._current.to_env():
            return None
        self._current = fresh
        return Change(self._child_env(fresh), tuple(fresh.secret.secret_values()))
