"""resolve_credentials: the default chain, the TTL cache, single flight, settings, explain."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

import azcreds
import azcreds.resolve
from azcreds import (
    AzcredsSettings,
    EnvResolver,
    InvalidSecretNameError,
    SchemaValidationError,
    SecretNotFoundError,
    SettingsError,
    clear_cache,
    explain_resolution,
    resolve_credentials,
)
from azcreds.schemas import SecretSchema
from tests.helpers import AZURITE_ACCOUNT_KEY, ManualClock, ManualSpawner


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZCREDS_AZ_SECRET__ACCOUNT_NAME", "acct")
    monkeypatch.setenv("AZCREDS_AZ_SECRET__ACCOUNT_KEY", AZURITE_ACCOUNT_KEY)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> ManualClock:
    """The resolve cache's clock, moved by hand."""
    manual = ManualClock()
    monkeypatch.setattr(azcreds.resolve, "_clock", manual)
    return manual


@pytest.fixture
def env_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str | None]]:
    """Count the work EnvResolver does (wrapping our own class, not an SDK)."""
    calls: list[str | None] = []
    original = EnvResolver.resolve

    def counting(self: EnvResolver, name: str | None) -> SecretSchema:
        calls.append(name)
        time.sleep(0.05)  # widen the race window for the single-flight test
        return original(self, name)

    monkeypatch.setattr(EnvResolver, "resolve", counting)
    return calls


@pytest.mark.usefixtures("secret_env")
def test_resolves_named_secret_from_env() -> None:
    creds = resolve_credentials("az_secret")
    assert (creds.name, creds.source, creds.schema_id) == ("az_secret", "env", "azure-account-key")
    assert creds.account_url == "https://acct.blob.core.windows.net"


@pytest.mark.usefixtures("secret_env")
def test_cached_until_ttl_and_refresh_bypasses(
    env_calls: list[str | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = resolve_credentials("az_secret")
    assert resolve_credentials("AZ_SECRET") is first  # names are case-insensitive
    assert len(env_calls) == 1
    again = resolve_credentials("az_secret", refresh=True)
    assert again is not first
    assert len(env_calls) == 2
    assert resolve_credentials("az_secret") is again


@pytest.mark.usefixtures("secret_env")
def test_ttl_comes_from_settings_and_clear_cache_rereads_them(
    env_calls: list[str | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZCREDS_CACHE_TTL", "0")
    clear_cache()
    resolve_credentials("az_secret")
    resolve_credentials("az_secret")
    assert len(env_calls) == 2  # TTL 0: nothing cached
    monkeypatch.setenv("AZCREDS_CACHE_TTL", "300")
    resolve_credentials("az_secret")
    resolve_credentials("az_secret")
    assert len(env_calls) == 4  # settings are read once: still 0 until clear_cache()
    clear_cache()
    resolve_credentials("az_secret")
    resolve_credentials("az_secret")
    assert len(env_calls) == 5


@pytest.mark.usefixtures("secret_env")
def test_expiry_after_ttl(
    env_calls: list[str | None], monkeypatch: pytest.MonkeyPatch, clock: ManualClock
) -> None:
    monkeypatch.setattr(azcreds.resolve, "_spawn", ManualSpawner())  # refresh ahead: never run here
    monkeypatch.setenv("AZCREDS_CACHE_TTL", "0.2")
    clear_cache()
    resolve_credentials("az_secret")
    clock.advance(0.19)
    resolve_credentials("az_secret")
    assert len(env_calls) == 1
    clock.advance(0.02)
    resolve_credentials("az_secret")
    assert len(env_calls) == 2


@pytest.mark.usefixtures("secret_env")
def test_concurrent_first_calls_do_the_work_once(env_calls: list[str | None]) -> None:
    results: list[object] = []
    barrier = threading.Barrier(16)

    def worker() -> None:
        barrier.wait()
        results.append(resolve_credentials("az_secret"))

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(env_calls) == 1
    assert len({id(r) for r in results}) == 1


def test_errors_are_not_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SecretNotFoundError):
        resolve_credentials("late")
    monkeypatch.setenv("AZCREDS_LATE__CONNECTION_STRING", "UseDevelopmentStorage=true")
    assert resolve_credentials("late").source == "env"


def test_implicit_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SecretNotFoundError, match="implicit"):
        resolve_credentials()
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", "UseDevelopmentStorage=true")
    creds = resolve_credentials()
    assert creds.name is None
    assert creds.schema_id == "azure-connection-string"


def test_invalid_name_and_invalid_settings() -> None:
    with pytest.raises(InvalidSecretNameError):
        resolve_credentials("no spaces")
    with pytest.raises(InvalidSecretNameError):
        explain_resolution("-x")


def test_settings_are_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZCREDS_MANAGED_IDENTITY", "sometimes")
    with pytest.raises(SettingsError, match="AZCREDS_MANAGED_IDENTITY: must be one of auto, off or imds"):
        AzcredsSettings()
    monkeypatch.setenv("AZCREDS_MANAGED_IDENTITY", "imds")
    monkeypatch.setenv("AZCREDS_CACHE_TTL", "12.5")
    s = AzcredsSettings()
    assert (s.managed_identity, s.cache_ttl) == ("imds", 12.5)


def test_explain_resolution_misses_and_hits(monkeypatch: pytest.MonkeyPatch) -> None:
    res = explain_resolution("az_secret")
    assert not res.ok
    assert isinstance(res.error, SecretNotFoundError)
    assert [(a.source, a.outcome) for a in res.attempts] == [
        ("env", "miss"),
        ("keyring", "miss"),
        ("managed-identity", "miss"),
        ("developer", "miss"),
    ]
    monkeypatch.setenv("AZCREDS_AZ_SECRET__CONNECTION_STRING", "UseDevelopmentStorage=true")
    res = explain_resolution("az_secret")
    assert res.ok
    assert res.source == "env"
    assert res.attempts[-1].outcome == "hit"


def test_explain_reports_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZCREDS_AZ_SECRET__CONNECTION_STRING", "nonsense")
    res = explain_resolution("az_secret")
    assert isinstance(res.error, SchemaValidationError)
    assert res.attempts[-1].outcome == "failed"
    with pytest.raises(SchemaValidationError):
        resolve_credentials("az_secret")


def test_public_names_match_all() -> None:
    for name in azcreds.__all__:
        assert getattr(azcreds, name) is not None
    assert set(azcreds.__all__) == set(azcreds._EXPORTS) | {"__version__"}
    with pytest.raises(AttributeError):
        azcreds.does_not_exist  # noqa: B018


@pytest.mark.usefixtures("secret_env")
def test_stale_credentials_are_served_while_the_source_fails_transiently(
    monkeypatch: pytest.MonkeyPatch, clock: ManualClock
) -> None:
    from azcreds import ServiceError, StaleCredentialWarning

    monkeypatch.setenv("AZCREDS_CACHE_TTL", "0.05")
    monkeypatch.setenv("AZCREDS_CACHE_MAX_STALE", "60")
    clear_cache()
    good = resolve_credentials("az_secret")
    calls: list[str | None] = []

    def failing(self: EnvResolver, name: str | None) -> SecretSchema:
        calls.append(name)
        raise ServiceError("the source answered 503 after retries")

    monkeypatch.setattr(EnvResolver, "resolve", failing)
    clock.advance(0.1)  # past the TTL
    with pytest.warns(StaleCredentialWarning, match="past their TTL"):
        assert resolve_credentials("az_secret") is good
    assert len(calls) == 1
    clock.advance(0.04)
    assert resolve_credentials("az_secret") is good  # within the retry pause: source not asked
    assert len(calls) == 1
    clock.advance(0.02)
    with pytest.warns(StaleCredentialWarning):
        assert resolve_credentials("az_secret") is good  # the pause is over: asked, failed, re-served
    assert len(calls) == 2
    with pytest.raises(ServiceError):
        resolve_credentials("az_secret", refresh=True)  # an explicit refresh wants the source


@pytest.mark.usefixtures("secret_env")
def test_stale_bound_is_enforced(monkeypatch: pytest.MonkeyPatch, clock: ManualClock) -> None:
    from azcreds import ServiceError

    monkeypatch.setenv("AZCREDS_CACHE_TTL", "0.05")
    monkeypatch.setenv("AZCREDS_CACHE_MAX_STALE", "0")
    clear_cache()
    resolve_credentials("az_secret")

    def failing(self: EnvResolver, name: str | None) -> SecretSchema:
        raise ServiceError("down")

    monkeypatch.setattr(EnvResolver, "resolve", failing)
    clock.advance(0.1)
    with pytest.raises(ServiceError):
        resolve_credentials("az_secret")
