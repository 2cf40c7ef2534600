"""resolve_credentials and explain_resolution over the default chain, with a per-process TTL cache.

The default chains follow the settings: a named secret is looked up in env → keyring → Key Vault
(when a vault is configured) → managed identity → developer identity; the implicit credentials (no
name) in the ``AZURE_STORAGE_*`` variables, then managed identity, then developer identity (the
last two only when ``AZURE_TOKEN_CREDENTIALS`` and the settings select them). Settings are read once, lazily;
:func:`clear_cache` forgets both cached credentials and settings.
"""

from __future__ import annotations

import threading
import time
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from azcreds.errors import ServiceError, StaleCredentialWarning
from azcreds.names import name_key, validate_secret_name
from azcreds.resolvers.chain import Resolution, ResolverChain
from azcreds.resolvers.env import EnvResolver
from azcreds.settings import get_settings, reset_settings

if TYPE_CHECKING:
    from azcreds.credentials import AzureCredentials
    from azcreds.resolvers.base import Resolver

__all__ = ["clear_cache", "default_chain", "explain_resolution", "resolve_credentials"]


@dataclass(frozen=True)
class _Entry:
    credentials: AzureCredentials
    expires: float  # monotonic time after which the source is asked again
    stale_until: float  # monotonic time until which it may still be served if the source fails


# While a source keeps failing transiently, stale credentials are re-served for this long before
# the source is asked again, so an outage or a throttling storm is not answered with more load.
STALE_RETRY_SECONDS = 30.0

# The cache's clock; tests swap in a clock they move by hand, so no test waits for a TTL to pass.
_clock = time.monotonic


_lock = threading.Lock()
_entries: dict[str | None, _Entry] = {}
_inflight: dict[str | None, threading.Lock] = {}
_chains: dict[bool, ResolverChain] = {}


def default_chain(named: bool = True) -> ResolverChain:
    """The chain ``resolve_credentials`` uses: for named secrets, or for the implicit credentials."""
    chain = _chains.get(named)
    if chain is None:
        with _lock:
            chain = _chains.get(named)
            if chain is None:
                chain = _chains[named] = ResolverChain(_build_resolvers(named), pickle_as_reference=True)
    return chain


def _build_resolvers(named: bool) -> list[Resolver]:
    settings = get_settings()  # validated once, up front
    resolvers: list[Resolver] = [EnvResolver()]
    if named:
        from azcreds.resolvers.keyring import KeyringStore

        resolvers.append(KeyringStore())
        if settings.keyvault_url:
            from azcreds.resolvers.keyvault import KeyVaultStore

            resolvers.append(KeyVaultStore(settings.keyvault_url))
    from azcreds.resolvers.developer import DeveloperIdentityResolver
    from azcreds.resolvers.managed_identity import ManagedIdentityResolver

    resolvers.append(ManagedIdentityResolver())
    resolvers.append(DeveloperIdentityResolver())
    return resolvers


def resolve_credentials(
    name: str | None = None, *, refresh: bool = False, chain: ResolverChain | None = None
) -> AzureCredentials:
    """Working credentials for the secret ``name`` (or the implicit credentials when ``None``).

    Results of the default chain are cached per process for ``AZCREDS_CACHE_TTL`` seconds;
    concurrent first calls for one name do the work once. ``refresh=True`` bypasses the cache
    (and refills it). A ``chain`` of your own is asked directly, uncached.

    When the TTL has passed and the source fails transiently (ServiceError: throttling, 5xx,
    unreachable), the last good credentials are served with a StaleCredentialWarning for up to
    ``AZCREDS_CACHE_MAX_STALE`` seconds past the TTL (not with ``refresh=True``).

    Raises SecretNotFoundError (listing every resolver tried and why) when no resolver has the
    secret, or the error of the resolver that failed.
    """
    if name is not None:
        validate_secret_name(name)
    if chain is not None:
        return chain.resolve(name)
    key = None if name is None else name_key(name)
    if not refresh:
        entry = _entries.get(key)
        if entry is not None and entry.expires > _clock():
            return entry.credentials
    with _lock:
        gate = _inflight.setdefault(key, threading.Lock())
    with gate:
        if not refresh:  # another thread may have done the work while we waited
            entry = _entries.get(key)
            if entry is not None and entry.expires > _clock():
                return entry.credentials
        settings = get_settings()
        try:
            credentials = default_chain(name is not None).resolve(name)
        except ServiceError as exc:
            stale = _entries.get(key)
            now = _clock()
            if refresh or stale is None or now > stale.stale_until:
                raise
            warnings.warn(
                f"serving cached credentials for {name!r} from {stale.credentials.source} past their "
                f"TTL: {exc}",
                StaleCredentialWarning,
                stacklevel=2,
            )
            retry = min(now + min(settings.cache_ttl, STALE_RETRY_SECONDS), stale.stale_until)
            _entries[key] = _Entry(stale.credentials, retry, stale.stale_until)
            return stale.credentials
        if settings.cache_ttl > 0:
            expires = _clock() + settings.cache_ttl
            _entries[key] = _Entry(credentials, expires, expires + settings.cache_max_stale)
        return credentials


def explain_resolution(name: str | None = None) -> Resolution:
    """Run the default chain afresh (no cache) and report every attempt. No secret values."""
    if name is not None:
        validate_secret_name(name)
    return default_chain(name is not None).explain(name)


def clear_cache() -> None:
    """Forget cached credentials, the default chains, and the settings (re-read on next use)."""
    with _lock:
        _entries.clear()
        _chains.clear()
    reset_settings()
