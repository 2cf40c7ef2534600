"""KeyVaultStore versions and lifetimes on the local Key Vault server: history, get_version,
rollback, expires/not_before on register, and resolution that honours enabled/nbf/exp.

Wall-clock checks go through ``azcreds.lifetimes._clock``: tests pin it, so an expiry window never
depends on how long a test takes.
"""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime, timedelta

import pytest
from azure.keyvault.secrets import SecretClient

import azcreds.lifetimes
from azcreds import (
    ExpiringCredentialWarning,
    KeyVaultStore,
    SecretDisabledError,
    SecretExpiredError,
    SecretNotFoundError,
    SecretNotYetValidError,
    clear_cache,
    explain_resolution,
    parse_secret,
    resolve_credentials,
)
from azcreds.testing import KEYVAULT_AUDIENCE, KeyVaultServer, StaticTokenCredential, mint_token
from tests.helpers import AZURITE_ACCOUNT_KEY, b64

V1 = parse_secret("azure-account-key", {"account_name": "acct", "account_key": AZURITE_ACCOUNT_KEY})
V2 = parse_secret("azure-account-key", {"account_name": "acct", "account_key": b64("second key")})
VAULT_NAME = "azcreds-az-secret-1"


@pytest.fixture
def sdk(keyvault_server: KeyVaultServer) -> SecretClient:
    """The official SDK on the same vault, to set what azcreds does not (disable a version)."""
    credential = StaticTokenCredential(mint_token(KEYVAULT_AUDIENCE))
    return SecretClient(keyvault_server.vault_url, credential, **keyvault_server.client_kwargs())


def pin_clock(monkeypatch: pytest.MonkeyPatch, when: datetime) -> None:
    monkeypatch.setattr(azcreds.lifetimes, "_clock", lambda: when.timestamp())


def test_history_is_newest_first_with_dates_and_no_values(
    vault: KeyVaultStore, keyvault_server: KeyVaultServer
) -> None:
    vault.register("az_secret", V1)
    vault.update("az_secret", account_key=b64("second key"))
    vault.update("az_secret", account_key=b64("third key"))
    history = vault.history("az_secret")
    assert [v.version for v in history] == list(reversed(keyvault_server.secret_versions(VAULT_NAME)))
    assert [v.current for v in history] == [True, False, False]
    assert all(v.enabled and v.created is not None and v.expires_on is None for v in history)
    assert "key" not in repr(history)  # no field, no value


def test_history_reads_every_page(vault: KeyVaultStore, keyvault_server: KeyVaultServer) -> None:
    vault.register("az_secret", V1)
    for index in range(29):  # 30 versions: two pages of Key Vault's 25
        vault.update("az_secret", account_key=b64(f"key {index}"))
    keyvault_server.clear_requests()
    assert len(vault.history("az_secret")) == 30
    assert keyvault_server.count("GET", "/versions$", authorized=True) == 2


def test_history_of_a_missing_secret(vault: KeyVaultStore) -> None:
    with pytest.raises(SecretNotFoundError):
        vault.history("nothing_here")


def test_get_version_and_rollback(vault: KeyVaultStore, keyvault_server: KeyVaultServer) -> None:
    vault.register("az_secret", V1)
    first = vault.history("az_secret")[0].version
    vault.update("az_secret", account_key=b64("second key"))
    assert vault.get("az_secret") == V2
    assert vault.get_version("az_secret", first) == V1

    new = vault.rollback("az_secret", first)

    assert vault.get("az_secret") == V1  # the old value is the newest version
    versions = keyvault_server.secret_versions(VAULT_NAME)
    assert versions[-1] == new.version != first
    assert len(versions) == 3  # nothing is rewritten: the history grows
    assert [v.current for v in vault.history("az_secret")] == [True, False, False]


def test_rollback_to_an_unknown_version(vault: KeyVaultStore) -> None:
    vault.register("az_secret", V1)
    with pytest.raises(SecretNotFoundError):
        vault.rollback("az_secret", "0" * 32)


def test_register_with_expires_and_not_before(vault: KeyVaultStore, sdk: SecretClient) -> None:
    expires = datetime(2031, 1, 31, 12, tzinfo=UTC)
    starts = datetime(2030, 1, 1, tzinfo=UTC)
    vault.register("az_secret", V1, expires_on=expires, not_before=starts)
    properties = sdk.get_secret(VAULT_NAME).properties
    assert (properties.expires_on, properties.not_before) == (expires, starts)
    [newest] = vault.history("az_secret")
    assert (newest.expires_on, newest.not_before) == (expires, starts)


def test_set_lifetime_changes_the_newest_version_in_place(
    vault: KeyVaultStore, keyvault_server: KeyVaultServer
) -> None:
    vault.register("az_secret", V1)
    expires = datetime(2031, 1, 31, tzinfo=UTC)
    changed = vault.set_lifetime("az_secret", expires_on=expires)
    assert changed.expires_on == expires
    assert len(keyvault_server.secret_versions(VAULT_NAME)) == 1


# -- resolution honours enabled, not_before and expires_on -----------------------------------


@pytest.fixture
def managed_identity_would_answer(configured: KeyVaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The chain after Key Vault has an answer too: a failure must not fall through to it."""
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", "otheraccount")
    assert resolve_credentials("unrelated").source == "managed-identity"


@pytest.mark.usefixtures("managed_identity_would_answer")
def test_a_disabled_secret_stops_the_chain(vault: KeyVaultStore, sdk: SecretClient) -> None:
    vault.register("az_secret", V1)
    sdk.update_secret_properties(VAULT_NAME, enabled=False)
    resolution = explain_resolution("az_secret")
    assert isinstance(resolution.error, SecretDisabledError)
    assert resolution.error.reason == "disabled"
    assert [(a.source, a.outcome) for a in resolution.attempts][-1] == ("keyvault", "failed")
    assert "managed-identity" not in [a.source for a in resolution.attempts]
    with pytest.raises(SecretDisabledError, match="is disabled"):
        resolve_credentials("az_secret")
    vault.delete("az_secret")  # a disabled secret can still be deleted (its tags are checked)


@pytest.mark.usefixtures("managed_identity_would_answer")
def test_an_expired_secret_stops_the_chain(vault: KeyVaultStore, monkeypatch: pytest.MonkeyPatch) -> None:
    expires = datetime(2031, 1, 31, 12, tzinfo=UTC)
    vault.register("az_secret", V1, expires_on=expires)
    pin_clock(monkeypatch, expires + timedelta(days=2))
    with pytest.raises(SecretExpiredError) as expired:
        resolve_credentials("az_secret")
    assert expired.value.when == expires
    assert "expired on 2031-01-31T12:00:00Z (2 days ago)" in str(expired.value)
    assert explain_resolution("az_secret").attempts[-1].source == "keyvault"
    assert vault.get("az_secret") == V1  # the store still reads it (Key Vault does not enforce exp)


@pytest.mark.usefixtures("managed_identity_would_answer")
def test_a_secret_before_its_not_before_stops_the_chain(
    vault: KeyVaultStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    starts = datetime(2031, 1, 1, tzinfo=UTC)
    vault.register("az_secret", V1, not_before=starts)
    pin_clock(monkeypatch, starts - timedelta(hours=5))
    with pytest.raises(SecretNotYetValidError, match=r"not valid before 2031-01-01T00:00:00Z \(in 5 hours\)"):
        resolve_credentials("az_secret")
    pin_clock(monkeypatch, starts)
    assert resolve_credentials("az_secret", refresh=True).source == "keyvault"


@pytest.mark.usefixtures("configured")
def test_near_expiry_warns_and_explain_shows_the_date(
    vault: KeyVaultStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    expires = datetime(2031, 1, 31, 12, tzinfo=UTC)
    vault.register("az_secret", V1, expires_on=expires)
    pin_clock(monkeypatch, expires - timedelta(days=3))
    with pytest.warns(ExpiringCredentialWarning, match="expires 2031-01-31T12:00:00Z"):
        creds = resolve_credentials("az_secret")
    assert creds.source == "keyvault"
    with pytest.warns(ExpiringCredentialWarning):
        hit = explain_resolution("az_secret").attempts[-1]
    assert hit.detail == "found (azure-account-key); expires 2031-01-31T12:00:00Z (in 3 days)"


@pytest.mark.usefixtures("configured")
def test_the_warning_window_is_a_setting(vault: KeyVaultStore, monkeypatch: pytest.MonkeyPatch) -> None:
    expires = datetime(2031, 1, 31, 12, tzinfo=UTC)
    vault.register("az_secret", V1, expires_on=expires)
    pin_clock(monkeypatch, expires - timedelta(days=3))
    monkeypatch.setenv("AZCREDS_EXPIRY_WARNING", str(2 * 86400))
    clear_cache()  # settings are read once
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resolution = explain_resolution("az_secret")
    assert resolution.ok
    assert resolution.attempts[-1].detail.endswith(
        "expires 2031-01-31T12:00:00Z (in 3 days)"
    )  # date still shown


@pytest.mark.usefixtures("configured")
def test_rollback_from_a_bad_version_restores_resolution(vault: KeyVaultStore, sdk: SecretClient) -> None:
    vault.register("az_secret", V1)
    good = vault.history("az_secret")[0].version
    vault.update("az_secret", account_key=b64("leaked key"))
    sdk.update_secret_properties(VAULT_NAME, enabled=False)  # the newest version is disabled
    with pytest.raises(SecretDisabledError):
        resolve_credentials("az_secret")
    vault.rollback("az_secret", good)
    creds = resolve_credentials("az_secret", refresh=True)
    assert creds.secret == V1
    assert json.loads(vault.get_version("az_secret", good).model_dump_json())["account_name"] == "acct"
