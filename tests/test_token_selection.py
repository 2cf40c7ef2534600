"""AZURE_TOKEN_CREDENTIALS as azure-identity defines it: the chain order under each value, and
default_keyvault_credential narrowed as DefaultAzureCredential is (checked against the installed
azure-identity's own DefaultAzureCredential, built under the same environment)."""

from __future__ import annotations

import pytest
from azure.identity import DefaultAzureCredential

from azcreds import SettingsError, explain_resolution
from azcreds.identity import default_keyvault_credential
from azcreds.testing import DeveloperTools, KeyVaultServer, ManagedIdentityEndpoint

# value -> (outcome of managed-identity, outcome of developer, the winner) on a machine that has
# both a managed identity endpoint and logged-in developer tools.
CHAIN = {
    None: ("hit", None, "managed-identity"),
    "dev": ("miss", "hit", "developer"),
    "prod": ("hit", None, "managed-identity"),
    "managedidentitycredential": ("hit", None, "managed-identity"),
    "workloadidentitycredential": ("hit", None, "managed-identity"),
    "azureclicredential": ("miss", "hit", "developer"),
    "azuredeveloperclicredential": ("miss", "hit", "developer"),
    "azurepowershellcredential": ("miss", "miss", None),  # pwsh is not on PATH
    "environmentcredential": ("miss", "miss", None),
}


@pytest.fixture
def both_identities(
    developer_tools: DeveloperTools,
    managed_identity_endpoint: ManagedIdentityEndpoint,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in managed_identity_endpoint.app_service_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", "devstoreaccount1")


@pytest.mark.usefixtures("both_identities")
@pytest.mark.parametrize("named", [False, True])
@pytest.mark.parametrize("setting", [None, "on"])
@pytest.mark.parametrize("value", list(CHAIN))
def test_chain_order_under_each_value(
    value: str | None, setting: str | None, named: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if value is not None:
        monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", value.upper() if value == "dev" else value)
    if setting is not None:
        monkeypatch.setenv("AZCREDS_DEVELOPER_IDENTITY", setting)
    resolution = explain_resolution("lab" if named else None)

    sources = (
        ["env", "keyring", "managed-identity", "developer"]
        if named
        else ["env", "managed-identity", "developer"]
    )
    mi, developer, winner = CHAIN[value]
    if developer is None:  # managed identity answered: the developer login is never asked
        sources.remove("developer")
    assert [a.source for a in resolution.attempts] == sources
    outcomes = {a.source: a.outcome for a in resolution.attempts}
    assert outcomes["managed-identity"] == mi
    if developer is not None:
        assert outcomes["developer"] == developer
    assert resolution.source == winner


@pytest.mark.usefixtures("both_identities")
def test_the_setting_never_outranks_a_managed_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZCREDS_DEVELOPER_IDENTITY", "on")
    assert explain_resolution().source == "managed-identity"
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "prod")
    monkeypatch.delenv("IDENTITY_ENDPOINT")
    monkeypatch.delenv("IDENTITY_HEADER")
    resolution = explain_resolution()
    assert resolution.source is None
    assert resolution.attempts[-1].detail == "AZURE_TOKEN_CREDENTIALS=prod excludes developer credentials"


def test_without_a_managed_identity_the_setting_picks_the_developer_login(
    developer_tools: DeveloperTools, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", "devstoreaccount1")
    monkeypatch.setenv("AZCREDS_DEVELOPER_IDENTITY", "on")
    resolution = explain_resolution()
    assert resolution.source == "developer"
    assert resolution.credentials is not None
    assert [t.label for t in resolution.credentials.credential.tools] == [
        "Azure CLI (az)",
        "Azure PowerShell (pwsh)",
        "Azure Developer CLI (azd)",
    ]


# -- default_keyvault_credential --------------------------------------------------------------

KEYVAULT = {
    None: ["EnvironmentCredential", "AzureCliCredential"],
    "prod": ["EnvironmentCredential"],
    "dev": ["AzureCliCredential", "AzurePowerShellCredential", "AzureDeveloperCliCredential"],
    "environmentcredential": ["EnvironmentCredential"],
    "managedidentitycredential": ["ManagedIdentityCredential"],
    "azureclicredential": ["AzureCliCredential"],
    "azuredeveloperclicredential": ["AzureDeveloperCliCredential"],
    "azurepowershellcredential": ["AzurePowerShellCredential"],
}


def names(credential: object) -> list[str]:
    return [type(c).__name__ for c in credential.credentials]  # type: ignore[attr-defined]


@pytest.mark.parametrize("value", list(KEYVAULT))
def test_default_keyvault_credential_is_narrowed_as_azure_identity_narrows(
    value: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if value is not None:
        monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", value)
    ours = names(default_keyvault_credential())
    assert ours == KEYVAULT[value]
    if value is not None:  # every credential we keep, azure-identity keeps too, in the same order
        theirs = names(DefaultAzureCredential())
        assert [n for n in theirs if n in ours] == ours


def test_an_interactive_selection_is_refused_for_key_vault(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "interactivebrowsercredential")
    with pytest.raises(SettingsError, match="azcreds does not use for Key Vault"):
        default_keyvault_credential()


def test_invalid_values_are_refused_as_azure_identity_refuses_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "cli")
    with pytest.raises(ValueError, match="Invalid value for AZURE_TOKEN_CREDENTIALS"):
        DefaultAzureCredential()
    with pytest.raises(SettingsError, match="must be one of dev, prod, azureclicredential"):
        default_keyvault_credential()


def test_key_vault_round_trip_with_the_developer_login(
    keyvault_server: KeyVaultServer, developer_tools: DeveloperTools, monkeypatch: pytest.MonkeyPatch
) -> None:
    from azcreds import KeyVaultStore
    from azcreds.schemas import parse_secret

    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "dev")
    store = KeyVaultStore(keyvault_server.vault_url, connection_verify=keyvault_server.ca_path)
    secret = parse_secret("azure-account-key", {"account_name": "acct", "account_key": "a2V5"})
    store.register("kv_dev", secret)
    assert store.get("kv_dev") == secret
    calls = developer_tools.calls
    assert {c["tool"] for c in calls} == {"az"}
    assert calls[0]["args"][:6] == [
        "account",
        "get-access-token",
        "--output",
        "json",
        "--resource",
        "https://vault.azure.net",
    ]
    assert "--tenant" in calls[0]["args"]  # the tenant of the vault's challenge
