"""ResolverChain: ask resolvers in order; the first that has the secret wins, a failure stops."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from azcreds.credentials import AzureCredentials, PickleAs, Source
from azcreds.errors import Attempt, AzcredsError, ResolverUnavailableError, SecretNotFoundError
from azcreds.resolvers.base import Resolver

__all__ = ["Resolution", "ResolverChain"]

logger = logging.getLogger("azcreds")


@dataclass(frozen=True)
class Resolution:
    """How a secret was resolved: every attempt in order, the winner, and timings. No secret values."""

    name: str | None
    attempts: tuple[Attempt, ...]
    credentials: AzureCredentials | None
    error: AzcredsError | None
    seconds: float

    @property
    def source(self) -> Source | None:
        """The resolver that answered, or None."""
        return self.credentials.source if self.credentials is not None else None

    @property
    def ok(self) -> bool:
        return self.credentials is not None

    def unwrap(self) -> AzureCredentials:
        """The credentials, or the error that ended the resolution."""
        if self.credentials is not None:
            return self.credentials
        assert self.error is not None
        raise self.error


class ResolverChain:
    """Resolvers asked in order. A miss moves on, a failure stops, all misses → SecretNotFoundError.

    ``pickle_as_reference=True`` makes the credentials it returns pickle as references that
    ``resolve_credentials(name)`` resolves again where they are unpickled; the default chains set
    it, and a chain of your own should only if the default chain finds the same secrets.

    ``then`` builds the resolvers that follow ``resolvers``, the first time they are needed: the
    default chains build the keyring, Key Vault and identity resolvers (and read the settings)
    only when the environment does not have the secret.
    """

    def __init__(
        self,
        resolvers: Sequence[Resolver],
        *,
        pickle_as_reference: bool = False,
        then: Callable[[], Sequence[Resolver]] | None = None,
    ) -> None:
        self._first: tuple[Resolver, ...] = tuple(resolvers)
        self._then = then
        self._rest: tuple[Resolver, ...] | None = None if then is not None else ()
        self._lock = threading.Lock()
        # Only the default chains set this: a reference is unpickled by resolve_credentials(name),
        # which asks the default chain, so credentials of another chain must not claim to be one.
        self._pickle_as: PickleAs = "reference" if pickle_as_reference else "local"

    @property
    def resolvers(self) -> tuple[Resolver, ...]:
        """Every resolver of the chain, in order (building those that ``then`` makes)."""
        return self._first + self._later()

    def _later(self) -> tuple[Resolver, ...]:
        rest = self._rest
        if rest is None:
            with self._lock:
                if self._rest is None:
                    assert self._then is not None
                    self._rest = tuple(self._then())
                rest = self._rest
        return rest

    def _each(self) -> Iterator[Resolver]:
        yield from self._first
        yield from self._later()

    def __repr__(self) -> str:
        return f"ResolverChain([{', '.join(r.source for r in self.resolvers)}])"

    def resolve(self, name: str | None) -> AzureCredentials:
        """The credentials for ``name`` from the first resolver that has them."""
        return self.explain(name).unwrap()

    def explain(self, name: str | None) -> Resolution:
        """Run the chain and report every attempt; never raises for a miss or a resolver failure."""
        attempts: list[Attempt] = []
        started = time.perf_counter()
        for resolver in self._each():
            t0 = time.perf_counter()
            note = None
            try:
                # A resolver may add a note to its hit (an expiry date, the tools on PATH).
                explained = getattr(resolver, "resolve_explained", None)
                if explained is not None:
                    secret, note = explained(name)
                else:
                    secret = resolver.resolve(name)
            except ResolverUnavailableError as exc:
                attempts.append(Attempt(resolver.source, "miss", str(exc), time.perf_counter() - t0))
                continue
            except AzcredsError as exc:
                attempts.append(Attempt(resolver.source, "failed", str(exc), time.perf_counter() - t0))
                logger.debug("resolver %s failed for %r: %s", resolver.source, name, type(exc).__name__)
                return Resolution(name, tuple(attempts), None, exc, time.perf_counter() - started)
            try:
                credentials = AzureCredentials.from_secret(
                    secret, name=name, source=resolver.source, pickle_as=self._pickle_as
                )
            except AzcredsError as exc:
                attempts.append(Attempt(resolver.source, "failed", str(exc), time.perf_counter() - t0))
                return Resolution(name, tuple(attempts), None, exc, time.perf_counter() - started)
            attempts.append(
                Attempt(
                    resolver.source,
                    "hit",
                    f"found ({credentials.schema_id})" + (f"; {note}" if note else ""),
                    time.perf_counter() - t0,
                )
            )
            logger.debug("resolved %r from %s as %s", name, resolver.source, credentials.schema_id)
            return Resolution(name, tuple(attempts), credentials, None, time.perf_counter() - started)
        error = SecretNotFoundError(name, attempts)
        return Resolution(name, tuple(attempts), None, error, time.perf_counter() - started)
