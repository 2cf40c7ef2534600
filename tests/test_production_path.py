"""The production path as one test: a managed identity reads az_secret (registered with
`azcreds secret register --store keyvault`) from Key Vault, and the artifact store uses it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from azcreds import resolve_credentials
from azcreds.artifact_store import AzureArtifactStore
from azcreds.testing import AzuriteServer, KeyVaultServer, ManagedIdentityEndpoint


def test_managed_identity_keyvault_artifact_store(
    azurite: AzuriteServer,
    keyvault_server: KeyVaultServer,
    managed_identity_endpoint: ManagedIdentityEndpoint,
    container_name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in managed_identity_endpoint.app_service_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AZCREDS_KEYVAULT_URL", keyvault_server.vault_url)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(keyvault_server.ca_path))
    secret_file = tmp_path / "conn.txt"
    secret_file.write_text(azurite.connection_string)

    # Registered by the CLI, as an operator would, in a process of its own.
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "azcreds",
            "secret",
            "register",
            "az_secret",
            "--schema",
            "azure",
            "--store",
            "keyvault",
            f"--connection_string=@{secret_file}",
        ],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert azurite.account_key not in result.stdout + result.stderr
    assert keyvault_server.secret_names() == ["azcreds-az-secret-1"]

    # The workload: nothing but the identity endpoint and the vault URL.
    keyvault_server.clear_requests()
    assert resolve_credentials("az_secret").source == "keyvault"
    store = AzureArtifactStore(f"az://{container_name}/runs", secret="az_secret")
    store.makedirs(f"az://{container_name}/runs/1")
    with store.open(f"az://{container_name}/runs/1/model.bin", "wb") as f:
        f.write(b"weights" * 1000)
    with store.open(f"az://{container_name}/runs/1/model.bin", "rb") as f:
        assert f.read() == b"weights" * 1000
    assert store.listdir(f"az://{container_name}/runs/1") == ["model.bin"]
    assert managed_identity_endpoint.token_count("app_service") >= 1
    assert keyvault_server.count("GET", "/secrets/", authorized=True) == 1  # cached after that
