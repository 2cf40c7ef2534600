"""Fixtures the Key Vault tests share: a store on the local vault, and the vault in the default chain."""

from __future__ import annotations

import pytest

from azcreds import KeyVaultStore, clear_cache
from azcreds.testing import KeyVaultServer, ManagedIdentityEndpoint


@pytest.fixture
def identity_env(managed_identity_endpoint: ManagedIdentityEndpoint, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in managed_identity_endpoint.app_service_env().items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def vault(keyvault_server: KeyVaultServer, identity_env: None) -> KeyVaultStore:
    """A store on the local vault; its default credential chain finds the local managed identity."""
    return KeyVaultStore(keyvault_server.vault_url, polling_interval=0.02, **keyvault_server.client_kwargs())


@pytest.fixture
def configured(
    keyvault_server: KeyVaultServer, identity_env: None, monkeypatch: pytest.MonkeyPatch
) -> KeyVaultServer:
    """AZCREDS_KEYVAULT_URL set: the vault joins the default chain (trusting the test CA)."""
    monkeypatch.setenv("AZCREDS_KEYVAULT_URL", keyvault_server.vault_url)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(keyvault_server.ca_path))
    clear_cache()
    return keyvault_server
