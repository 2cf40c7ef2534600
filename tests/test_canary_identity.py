"""Canary, production paths: Key Vault, service principal and managed identity, with the SDKs'
own HTTP logging on (logging_enable=True) and DEBUG on every logger. No secret value and no
access token may appear in any log line."""

from __future__ import annotations

import logging
import uuid

import pytest

from azcreds import KeyVaultStore, clear_cache, parse_secret, resolve_credentials
from azcreds.testing import (
    AzuriteServer,
    EntraAuthority,
    KeyVaultServer,
    ManagedIdentityEndpoint,
)
from tests.helpers import b64


def marker(label: str) -> str:
    return f"CANARY{label}{uuid.uuid4().hex}"


def test_no_secret_or_token_in_logs_on_production_paths(
    caplog: pytest.LogCaptureFixture,
    keyvault_server: KeyVaultServer,
    managed_identity_endpoint: ManagedIdentityEndpoint,
    entra_authority: EntraAuthority,
    azurite_https: AzuriteServer,
    container_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in (
        "azure",
        "azure.core.pipeline.policies.http_logging_policy",
        "azure.identity",
        "msal",
        "urllib3",
    ):
        logging.getLogger(name).setLevel(logging.DEBUG)
    for key, value in managed_identity_endpoint.app_service_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(azurite_https.ca_path))  # one test CA for all servers
    monkeypatch.setenv("AZCREDS_KEYVAULT_URL", keyvault_server.vault_url)
    clear_cache()

    secrets: list[str] = []
    key_value = b64(marker("KVKEY") + "-padding-to-key-length")
    sp_secret = entra_authority.app.client_secret
    secrets += [key_value, sp_secret, managed_identity_endpoint.identity_header]

    # The user turns on the SDK's HTTP body logging for the Key Vault client.
    store = KeyVaultStore(keyvault_server.vault_url, logging_enable=True, polling_interval=0.02)
    store.register("kv-key", parse_secret("azure", {"account_name": "acct", "account_key": key_value}))
    store.register(
        "kv-sp",
        parse_secret(
            "azure",
            {
                "account_name": azurite_https.account_name,
                "account_url": azurite_https.blob_endpoint,
                "tenant_id": entra_authority.tenant_id,
                "client_id": entra_authority.app.client_id,
                "client_secret": sp_secret,
                "authority_host": entra_authority.authority,
            },
        ),
    )
    assert store.get("kv-key").field_values(reveal=True)["account_key"] == key_value
    store.update("kv-key", account_url="http://127.0.0.1:1/acct")
    store.list()

    # Through the default chain: Key Vault answers, the service principal then gets a token and
    # talks to HTTPS Azurite with the SDK's HTTP logging on.
    sp = resolve_credentials("kv-sp")
    assert sp.source == "keyvault"
    service = sp.blob_service_client(logging_enable=True, connection_verify=str(azurite_https.ca_path))
    service.create_container(container_name)
    service.get_blob_client(container_name, "a.bin").upload_blob(b"x")

    # Managed identity for storage, with logging on.
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", azurite_https.account_name)
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_URL", azurite_https.blob_endpoint)
    mi = resolve_credentials()
    assert mi.source == "managed-identity"
    mi.blob_service_client(
        logging_enable=True, connection_verify=str(azurite_https.ca_path)
    ).get_container_client(container_name).get_container_properties()

    # The tokens that were issued: ask the credentials (they hand out their cached tokens).
    tokens = [
        sp.credential.get_token("https://storage.azure.com/.default").token,
        mi.credential.get_token("https://storage.azure.com/.default").token,
    ]
    secrets += tokens

    text = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert "keyvault" in text.lower() or "vault" in text.lower(), (
        "no Key Vault logging captured: blind canary"
    )
    assert any(r.name.startswith("azure.core.pipeline.policies") for r in caplog.records)
    for value in secrets:
        for form in {value, value[:32], value[-32:]}:
            assert form not in text, "a secret or token reached the logs"
