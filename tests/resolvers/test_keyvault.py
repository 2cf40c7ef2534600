"""KeyVaultStore against the local Key Vault server, authenticated by a local managed identity."""

from __future__ import annotations

import threading

import pytest

import azcreds.resolve
from azcreds import (
    KeyVaultStore,
    PermissionDeniedError,
    SchemaValidationError,
    ServiceError,
    StaleCredentialWarning,
    clear_cache,
    explain_resolution,
    parse_secret,
    resolve_credentials,
)
from azcreds.testing import KeyVaultServer, ManagedIdentityEndpoint
from azcreds.testing.store_contract import WritableStoreContract
from tests.helpers import AZURITE_ACCOUNT_KEY, ManualClock


class TestKeyVaultStoreContract(WritableStoreContract):
    @pytest.fixture
    def store(self, vault: KeyVaultStore) -> KeyVaultStore:
        return vault


KEY_SECRET = parse_secret("azure", {"account_name": "acct", "account_key": AZURITE_ACCOUNT_KEY})


# ------------------------------------------------------------------------------ the mapping on the wire


def test_value_is_json_of_fields_with_tags(vault: KeyVaultStore, keyvault_server: KeyVaultServer) -> None:
    vault.register("Az_Secret", KEY_SECRET)
    assert keyvault_server.secret_names() == ["azcreds-az-secret-1"]
    import json

    assert json.loads(keyvault_server.secret_value("azcreds-az-secret-1")) == {
        "account_name": "acct",
        "account_key": AZURITE_ACCOUNT_KEY,
    }
    [info] = vault.list()
    assert (info.name, info.schema_id, info.store) == ("Az_Secret", "azure-account-key", "keyvault")


def test_bad_names_and_oversized_values_are_refused_before_any_request(
    vault: KeyVaultStore, keyvault_server: KeyVaultServer
) -> None:
    from azcreds import InvalidSecretNameError

    keyvault_server.clear_requests()
    with pytest.raises(InvalidSecretNameError):
        vault.register("no spaces", KEY_SECRET)
    big = parse_secret(
        "azure-service-principal",
        {
            "account_name": "acct",
            "tenant_id": "contoso.onmicrosoft.com",
            "client_id": "0b7a3c1e-2d4f-4a6b-8c9d-0e1f2a3b4c5d",
            "client_secret": "x" * 26_000,
        },
    )
    with pytest.raises(SchemaValidationError, match="25 KB"):
        vault.register("big", big)
    assert keyvault_server.requests == []


def test_soft_delete_recover_on_register_and_purge(
    vault: KeyVaultStore, keyvault_server: KeyVaultServer
) -> None:
    vault.register("gone", KEY_SECRET)
    vault.delete("gone")
    assert keyvault_server.deleted_secret_names() == ["azcreds-gone-0"]
    assert list(vault.deleted()) == ["gone"]
    # Re-registering a soft-deleted name recovers it, then writes the new value as a new version.
    vault.register("gone", parse_secret("azure", {"account_name": "other"}))
    assert vault.get("gone").field_values()["account_name"] == "other"
    assert len(keyvault_server.secret_versions("azcreds-gone-0")) == 2
    vault.delete("gone", purge=True)
    assert keyvault_server.deleted_secret_names() == []
    assert keyvault_server.secret_names() == []


def test_purging_an_already_soft_deleted_name(vault: KeyVaultStore, keyvault_server: KeyVaultServer) -> None:
    vault.register("twice", KEY_SECRET)
    vault.delete("twice")
    vault.delete("twice", purge=True)
    assert keyvault_server.deleted_secret_names() == []


# ------------------------------------------------------------------------------ in the chain


def test_resolves_from_keyvault_after_env_and_keyring(configured: KeyVaultServer) -> None:
    KeyVaultStore(polling_interval=0.02).register("az_secret", KEY_SECRET)
    res = explain_resolution("az_secret")
    assert [(a.source, a.outcome) for a in res.attempts] == [
        ("env", "miss"),
        ("keyring", "miss"),
        ("keyvault", "hit"),
    ]
    assert resolve_credentials("az_secret").source == "keyvault"


def test_404_is_a_miss_then_managed_identity(
    configured: KeyVaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", "acct")
    creds = resolve_credentials("unknown")
    assert creds.source == "managed-identity"
    assert creds.schema_id == "azure-managed-identity"


def test_403_stops_the_chain(
    configured: KeyVaultServer,
    managed_identity_endpoint: ManagedIdentityEndpoint,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    KeyVaultStore().register("az_secret", KEY_SECRET)
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", "acct")  # managed identity would answer next
    configured.faults.deny(managed_identity_endpoint.system_assigned.object_id)
    clear_cache()
    with pytest.raises(
        PermissionDeniedError, match=r"Key Vault https://127\.0\.0\.1:\d+ refused the caller \(403\)"
    ):
        resolve_credentials("az_secret")
    res = explain_resolution("az_secret")
    assert res.attempts[-1].source == "keyvault"
    assert res.attempts[-1].outcome == "failed"


def test_429_retry_after_is_honoured(configured: KeyVaultServer) -> None:
    KeyVaultStore().register("az_secret", KEY_SECRET)
    clear_cache()
    configured.clear_requests()
    configured.faults.add(status=429, retry_after=1, times=1, method="GET", path_regex="/secrets/")
    assert resolve_credentials("az_secret").source == "keyvault"
    gets = [r for r in configured.requests if r.method == "GET" and r.authorized]
    assert [r.status for r in gets] == [429, 200]
    assert gets[1].time - gets[0].time >= 1.0


def test_503_then_success(configured: KeyVaultServer) -> None:
    KeyVaultStore().register("az_secret", KEY_SECRET)
    clear_cache()
    configured.faults.add(status=503, times=1, method="GET")
    assert resolve_credentials("az_secret").source == "keyvault"


def test_vault_down_is_a_clear_failure(configured: KeyVaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    KeyVaultStore().register("az_secret", KEY_SECRET)
    clear_cache()
    monkeypatch.setattr(KeyVaultStore, "__init__", _fast_fail_init(KeyVaultStore.__init__))
    with configured.down(), pytest.raises(ServiceError, match="unreachable"):
        resolve_credentials("az_secret")


def test_token_endpoint_down_is_a_clear_failure(
    configured: KeyVaultServer,
    managed_identity_endpoint: ManagedIdentityEndpoint,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    KeyVaultStore().register("az_secret", KEY_SECRET)
    clear_cache()
    monkeypatch.setattr(KeyVaultStore, "__init__", _fast_fail_init(KeyVaultStore.__init__))
    with managed_identity_endpoint.down(), pytest.raises(ServiceError, match="token") as info:
        resolve_credentials("az_secret")
    assert "Key Vault" in str(info.value)


def _fast_fail_init(original):  # type: ignore[no-untyped-def]
    """The default chain's store with SDK retries off, so an outage fails in milliseconds."""

    def init(self, vault_url=None, credential=None, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("retry_total", 0)
        original(self, vault_url, credential, **kwargs)

    return init


# ------------------------------------------------------------------------------ caching


def test_one_get_per_ttl_and_one_for_sixteen_threads(configured: KeyVaultServer) -> None:
    KeyVaultStore().register("az_secret", KEY_SECRET)
    clear_cache()
    configured.clear_requests()
    barrier = threading.Barrier(16)
    results = []

    def worker() -> None:
        barrier.wait()
        results.append(resolve_credentials("az_secret"))

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for _ in range(50):
        resolve_credentials("az_secret")
    assert configured.count("GET", "/secrets/", authorized=True) == 1
    assert len({id(r) for r in results}) == 1


def test_after_ttl_a_throttling_storm_serves_the_last_good_value(
    configured: KeyVaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ManualClock()
    monkeypatch.setattr(azcreds.resolve, "_clock", clock)
    monkeypatch.setenv("AZCREDS_CACHE_TTL", "0.2")
    clear_cache()
    monkeypatch.setattr(KeyVaultStore, "__init__", _fast_fail_init(KeyVaultStore.__init__))
    KeyVaultStore().register("az_secret", KEY_SECRET)
    good = resolve_credentials("az_secret")
    configured.faults.add(status=429, retry_after=60, times=None, method="GET")
    clock.advance(0.3)
    with pytest.warns(StaleCredentialWarning):
        assert resolve_credentials("az_secret") is good
    asked = configured.count("GET", "/secrets/", authorized=True)
    for _ in range(20):
        clock.advance(0.005)  # 0.1 s in all: inside the retry pause (the TTL, 0.2 s)
        assert resolve_credentials("az_secret") is good
    # the stale value is re-served without asking the vault again on every call
    assert configured.count("GET", "/secrets/", authorized=True) == asked
