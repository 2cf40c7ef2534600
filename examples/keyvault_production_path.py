"""The production path, on 127.0.0.1: a managed identity reads `az_secret` from Key Vault, and the
artifact store writes and reads artifacts with it.

    workload identity (local token endpoint) ──token──► Key Vault (local HTTPS server)
          └── resolve_credentials("az_secret") ◄──JSON── azcreds-az-secret-1
                └── AzureArtifactStore("az://models", secret="az_secret") ──► Azurite

Run it with ``.venv/bin/python examples/keyvault_production_path.py`` after ``scripts/setup``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from azcreds.testing import (
    AzuriteServer,
    KeyVaultServer,
    ManagedIdentityEndpoint,
    make_test_certificates,
    network_guard,
    unique_container_name,
)


def azcreds_cli(*args: str) -> None:
    print(f"\n$ azcreds {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, "-m", "azcreds", *args], check=True)


def main() -> int:
    network_guard.install()  # 127.0.0.1 only; anything else fails loudly
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="azcreds-prod-")))
        certs = make_test_certificates(tmp)
        azurite = stack.enter_context(AzuriteServer())
        vault = stack.enter_context(KeyVaultServer(certificates=certs))
        identity = stack.enter_context(ManagedIdentityEndpoint())
        print(f"Azurite {azurite.blob_endpoint}, Key Vault {vault.vault_url}")
        print(f"managed identity endpoint {identity.app_service_url}")

        # What the platform gives the workload: an identity endpoint. What the team sets: the vault.
        os.environ.update(identity.app_service_env())
        os.environ["AZCREDS_KEYVAULT_URL"] = vault.vault_url
        os.environ["REQUESTS_CA_BUNDLE"] = str(certs.ca_path)  # trust the local vault's test CA
        os.environ["AZCREDS_KEYRING_PATH"] = str(tmp / "no-keyring.azcv")  # not the user's keyring

        secret_file = tmp / "conn.txt"
        fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(azurite.connection_string)
        azcreds_cli(
            "secret",
            "register",
            "az_secret",
            "--schema",
            "azure",
            "--store",
            "keyvault",
            f"--connection_string=@{secret_file}",
        )
        secret_file.unlink()
        print(f"Key Vault now holds: {vault.secret_names()}")
        azcreds_cli("resolve", "az_secret", "--explain")

        from azcreds import resolve_credentials
        from azcreds.artifact_store import AzureArtifactStore

        creds = resolve_credentials("az_secret")
        print(f"\n>>> resolve_credentials('az_secret')\n{creds}")
        if creds.source != "keyvault":
            print("UNEXPECTED: the secret did not come from Key Vault", file=sys.stderr)
            return 1

        container = unique_container_name("models")
        store = AzureArtifactStore(f"az://{container}", secret="az_secret")
        store.makedirs(f"az://{container}/v1")
        payload = os.urandom(3 * 1024 * 1024)
        with store.open(f"az://{container}/v1/weights.bin", "wb") as f:
            f.write(payload)
        with store.open(f"az://{container}/v1/weights.bin", "rb") as f:
            back = f.read()
        print(
            f"wrote and read {len(back):,} bytes at az://{container}/v1/weights.bin; listdir: {store.listdir(f'az://{container}/v1')}"
        )
        if back != payload:
            print("MISMATCH", file=sys.stderr)
            return 1
        tokens = identity.token_count("app_service")
        gets = vault.count("GET", "/secrets/", authorized=True)
        print(f"managed identity token requests: {tokens}; Key Vault GETs: {gets}")
        print("production path OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
