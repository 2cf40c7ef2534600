"""resolve_credentials and explain_resolution over the default chain, with a per-process TTL cache.

The default chains follow the settings: a named secret is looked up in env → keyring → Key Vault
(when a vault is configured) → managed identity → developer identity; the implicit credentials (no
name) in the ``AZURE_STORAGE_*`` variables, then managed identity, then developer identity (the
last two only when ``AZURE_TOKEN_CREDENTIALS`` and the settings select them).

Settings are read once, lazily: with an ``AZCREDS_<SETTING>`` variable set, when a default chain is
built (so a bad value is an error whatever resolver answers); with none set they are the defaults,
read when the chain builds the resolvers after the environment's, which it does only when the
environment does not have the secret: a secret found there, uncached, costs no pydantic-settings
import (``azcreds exec``). :func:`clear_cache` forgets both cached credentials and settings.

The cache is single-flight (one resolve per name at a time does the work, the others wait for it),
refreshes ahead of the TTL in a background thread at a jittered point, and serves stale
credentials for a bounded time while the source fails transiently.
"""

from __future__ import annotations

import os
import random
import threading
import time
import warnings
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from azcreds._setting_variables import any_setting_set
from azcreds.errors import ServiceError, StaleCredentialWarning
from azcreds.names import name_key, validate_secret_name
from azcreds.resolvers.chain import Resolution, ResolverChain
from azcreds.resolvers.env import EnvResolver

if TYPE_CHECKING:
    from collections.abc import Callable

    from azcreds.credentials import AzureCredentials
    from azcreds.resolvers.base import Resolver
    from azcreds.settings import AzcredsSettings

__all__ = ["clear_cache", "default_chain", "explain_resolution", "resolve_credentials"]


@dataclass(frozen=True)
class _Entry:
    credentials: AzureCredentials
    expires: float  # monotonic time after which the source is asked again, callers waiting for it
    stale_until: float  # monotonic time until which it may still be served if the source fails
    refresh_at: float  # from here to `expires`, a resolve returns these and refreshes in the background


# While a source keeps failing transiently, stale credentials are re-served for this long before
# the source is asked again, so an outage or a throttling storm is not answered with more load.
STALE_RETRY_SECONDS = 30.0

# Where in the TTL the refresh-ahead point falls, as fractions of the TTL: drawn uniformly from this
# span for every entry. AWS's caching client draws its refresh point from [TTL/2, TTL]; the last
# tenth is kept here so the background refresh has time to land before the TTL runs out.
REFRESH_SPAN = (0.5, 0.9)

# The cache's clock; tests swap in a clock they move by hand, so no test waits for a TTL to pass.
_clock = time.monotonic
# The jitter's random source, a float in [0, 1). The module-level one: `random` reseeds it in a
# forked child, so a fleet forked from one parent does not draw the same refresh points.
_random: Callable[[], float] = random.random
# The span in use; the fleet bench sets (1.0, 1.0) for the old behaviour (no refresh ahead).
_refresh_span = REFRESH_SPAN


def _start_thread(work: Callable[[], None]) -> None:
    threading.Thread(target=work, name="azcreds-refresh", daemon=True).start()


# Runs a background refresh; tests swap in one that runs it when they say.
_spawn: Callable[[Callable[[], None]], None] = _start_thread

_lock = threading.Lock()
_entries: dict[str | None, _Entry] = {}
_inflight: dict[str | None, threading.Lock] = {}
# Keys with a background refresh started and not finished, with the cache generation it began in.
_refreshing: dict[str | None, int] = {}
_chains: dict[bool, ResolverChain] = {}
_generation = 0  # bumped by clear_cache, so a refresh that was under way stores nothing after it


def _after_fork_in_child() -> None:
    # A lock held by another thread at fork() would stay held for ever in the child, and that
    # thread's background refresh does not exist there.
    global _lock
    _lock = threading.Lock()
    _inflight.clear()
    _refreshing.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)


def default_chain(named: bool = True) -> ResolverChain:
    """The chain ``resolve_credentials`` uses: for named secrets, or for the implicit credentials."""
    chain = _chains.get(named)
    if chain is None:
        with _lock:
            chain = _chains.get(named)
            if chain is None:
                if any_setting_set():
                    _settings()  # validated up front: a bad value is an error even on an env hit
                chain = _chains[named] = ResolverChain(
                    [EnvResolver()], then=lambda: _resolvers_after_env(named), pickle_as_reference=True
                )
    return chain


def _resolvers_after_env(named: bool) -> list[Resolver]:
    settings = _settings()  # validated once, before any of them is built
    resolvers: list[Resolver] = []
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

    Refresh ahead: from a point drawn at random in each process between half and nine tenths of
    the TTL, a resolve returns the cached credentials at once and refreshes them in a background
    thread, so callers do not wait on the source while it is healthy, and a fleet started together
    does not refresh together. A failed background refresh changes nothing: the cached
    credentials are served until the TTL, then the source is asked as below.

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
        if entry is not None:
            now = _clock()
            if now < entry.refresh_at:
                return entry.credentials
            if now < entry.expires:
                _refresh_ahead(key, name, entry)
                return entry.credentials
    return _resolve_waiting(key, name, refresh)


def _settings() -> AzcredsSettings:
    """The settings, imported on first use (pydantic-settings is a fifth of `exec`'s start-up)."""
    from azcreds.settings import get_settings

    return get_settings()


def _gate(key: str | None) -> threading.Lock:
    """The lock that makes the work for one name single-flight."""
    with _lock:
        return _inflight.setdefault(key, threading.Lock())


def _resolve_waiting(key: str | None, name: str | None, refresh: bool) -> AzureCredentials:
    """Ask the source with the caller waiting: no entry, the TTL has passed, or ``refresh``."""
    generation = _generation
    with _gate(key):
        if not refresh:  # another thread may have done the work while we waited
            entry = _entries.get(key)
            if entry is not None and entry.expires > _clock():
                return entry.credentials
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
                stacklevel=3,
            )
            retry = min(now + min(_settings().cache_ttl, STALE_RETRY_SECONDS), stale.stale_until)
            _entries[key] = _Entry(stale.credentials, retry, stale.stale_until, retry)
            return stale.credentials
        _store(key, credentials, generation)
        return credentials


def _store(key: str | None, credentials: AzureCredentials, generation: int) -> None:
    """Cache fresh credentials with their TTL and a refresh point drawn from the span."""
    settings = _settings()
    if settings.cache_ttl <= 0:
        return
    now = _clock()
    ttl = settings.cache_ttl
    low, high = _refresh_span
    refresh_at = now + ttl * (low + (high - low) * _random())
    entry = _Entry(credentials, now + ttl, now + ttl + settings.cache_max_stale, refresh_at)
    with _lock:
        if generation == _generation:
            _entries[key] = entry


def _refresh_ahead(key: str | None, name: str | None, seen: _Entry) -> None:
    """Start one background refresh of ``key`` unless one is under way."""
    with _lock:
        if key in _refreshing:
            return
        generation = _refreshing[key] = _generation
    try:
        _spawn(lambda: _refresh_in_background(key, name, seen, generation))
    except RuntimeError:  # no thread to be had (interpreter shutting down): refresh at the TTL
        _done_refreshing(key, generation)


def _refresh_in_background(key: str | None, name: str | None, seen: _Entry, generation: int) -> None:
    try:
        with _gate(key):
            if _entries.get(key) is not seen:  # refreshed meanwhile, or the cache was cleared
                return
            try:
                credentials = default_chain(name is not None).resolve(name)
            except Exception:
                # Nobody is waiting for this answer: the cached credentials stay good until their
                # TTL, when a resolve asks the source itself (stale-if-error applies from there).
                # Until then, ask again after the same pause as for stale credentials.
                now = _clock()
                pause = min(_settings().cache_ttl, STALE_RETRY_SECONDS)
                with _lock:
                    if generation == _generation and _entries.get(key) is seen:
                        _entries[key] = replace(seen, refresh_at=min(now + pause, seen.expires))
                return
            _store(key, credentials, generation)
    finally:
        _done_refreshing(key, generation)


def _done_refreshing(key: str | None, generation: int) -> None:
    with _lock:
        if _refreshing.get(key) == generation:
            del _refreshing[key]


def explain_resolution(name: str | None = None) -> Resolution:
    """Run the default chain afresh (no cache) and report every attempt. No secret values."""
    if name is not None:
        validate_secret_name(name)
    return default_chain(name is not None).explain(name)


def clear_cache() -> None:
    """Forget cached credentials, the default chains, and the settings (re-read on next use)."""
    global _generation
    with _lock:
        _generation += 1
        _entries.clear()
        _refreshing.clear()
        _chains.clear()
    from azcreds.settings import reset_settings

    reset_settings()
