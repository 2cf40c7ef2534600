"""ResolverChain: a miss moves on, a failure stops, all misses are reported together."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from azcreds import (
    AzcredsError,
    PermissionDeniedError,
    ResolverChain,
    ResolverUnavailableError,
    SchemaValidationError,
    SecretNotFoundError,
    parse_secret,
)
from azcreds.credentials import Source
from azcreds.schemas import SecretSchema
from tests.helpers import AZURITE_ACCOUNT_KEY


@dataclass
class Scripted:
    """A resolver of our own protocol that answers from a script (not an SDK stand-in)."""

    source: Source
    answer: SecretSchema | AzcredsError
    calls: list[str | None] = field(default_factory=list)

    def resolve(self, name: str | None) -> SecretSchema:
        self.calls.append(name)
        if isinstance(self.answer, AzcredsError):
            raise self.answer
        return self.answer


SECRET = parse_secret("azure-account-key", {"account_name": "acct", "account_key": AZURITE_ACCOUNT_KEY})


def test_first_hit_wins_and_later_resolvers_are_not_asked() -> None:
    a = Scripted("env", ResolverUnavailableError("no variables"))
    b = Scripted("keyring", SECRET)
    c = Scripted("keyvault", SECRET)
    creds = ResolverChain([a, b, c]).resolve("s")
    assert creds.source == "keyring"
    assert (a.calls, b.calls, c.calls) == (["s"], ["s"], [])


def test_all_misses_raise_not_found_listing_every_resolver() -> None:
    chain = ResolverChain(
        [
            Scripted("env", ResolverUnavailableError("no vars")),
            Scripted("keyring", ResolverUnavailableError("no entry")),
        ]
    )
    with pytest.raises(SecretNotFoundError) as info:
        chain.resolve("s")
    assert [a.source for a in info.value.attempts] == ["env", "keyring"]
    assert "env: no vars" in str(info.value)
    assert "keyring: no entry" in str(info.value)


def test_a_failure_stops_the_chain_with_its_own_error() -> None:
    denied = PermissionDeniedError("keyvault refused the caller (403)")
    later = Scripted("managed-identity", SECRET)
    chain = ResolverChain(
        [Scripted("env", ResolverUnavailableError("x")), Scripted("keyvault", denied), later]
    )
    with pytest.raises(PermissionDeniedError) as info:
        chain.resolve("s")
    assert info.value is denied
    assert later.calls == []


def test_explain_reports_attempts_outcomes_and_timings_without_raising() -> None:
    bad = SchemaValidationError("azure", [])
    res = ResolverChain([Scripted("env", ResolverUnavailableError("x")), Scripted("keyring", bad)]).explain(
        "s"
    )
    assert not res.ok
    assert res.error is bad
    assert res.source is None
    assert [(a.source, a.outcome) for a in res.attempts] == [("env", "miss"), ("keyring", "failed")]
    assert all(a.seconds >= 0 for a in res.attempts)
    assert res.seconds >= 0
    hit = ResolverChain([Scripted("env", SECRET)]).explain("s")
    assert hit.ok
    assert hit.source == "env"
    assert hit.attempts[0].outcome == "hit"
    assert hit.unwrap() is hit.credentials


def test_empty_chain_is_not_found() -> None:
    with pytest.raises(SecretNotFoundError):
        ResolverChain([]).resolve(None)


def test_then_builds_the_later_resolvers_only_when_the_first_miss() -> None:
    built: list[int] = []
    later = Scripted("keyring", SECRET)

    def then() -> list[Scripted]:
        built.append(1)
        return [later]

    hit = ResolverChain([Scripted("env", SECRET)], then=then)
    assert hit.resolve("s").source == "env"
    assert built == []  # the environment had it: nothing else built (nor the settings read)

    miss = ResolverChain([Scripted("env", ResolverUnavailableError("no variables"))], then=then)
    assert miss.resolve("s").source == "keyring"
    assert miss.resolve("s").source == "keyring"
    assert built == [1]  # built once, then reused
    assert [r.source for r in miss.resolvers] == ["env", "keyring"]
    assert repr(miss) == "ResolverChain([env, keyring])"
