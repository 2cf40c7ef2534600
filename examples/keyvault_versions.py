"""Key Vault versions and lifetimes, on 127.0.0.1: register with an expiry, rotate, see the
history, find the newest version disabled, roll back.

Run it with ``.venv/bin/python examples/keyvault_versions.py`` after ``scripts/setup``.
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
)


def azcreds_cli(*args: str, stdin: str = "", check: bool = True) -> subprocess.CompletedProcess[str]:
    print(f"\n$ azcreds {' '.join(args)}", flush=True)
    done = subprocess.run(
        [sys.executable, "-m", "azcreds", *args], input=stdin, text=True, capture_output=True
    )
    print(done.stdout + done.stderr, end="", flush=True)
    if check and done.returncode != 0:
        raise SystemExit(f"exit {done.returncode}")
    return done


def main() -> int:
    network_guard.install()
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="azcreds-versions-")))
        certs = make_test_certificates(tmp)
        azurite = stack.enter_context(AzuriteServer())
        vault = stack.enter_context(KeyVaultServer(certificates=certs))
        identity = stack.enter_context(ManagedIdentityEndpoint())
        os.environ.update(identity.app_service_env())
        os.environ["AZCREDS_KEYVAULT_URL"] = vault.vault_url
        os.environ["REQUESTS_CA_BUNDLE"] = str(certs.ca_path)
        os.environ["AZCREDS_KEYRING_PATH"] = str(tmp / "no-keyring.azcv")
        os.environ["COLUMNS"] = "120"

        kv = ("--store", "keyvault")
        azcreds_cli("secret", "register", "az_secret", "--schema", "azure", *kv, "--expires", "90d",
                    "--connection_string=-", stdin=azurite.connection_string)  # fmt: skip
        good = vault.secret_versions("azcreds-az-secret-1")[0]
        bad = azurite.connection_string.replace("AccountKey=", "AccountKey=AAAA")
        azcreds_cli("secret", "update", "az_secret", *kv, "--connection_string=-", stdin=bad)
        azcreds_cli("secret", "history", "az_secret")

        # Someone disables the newest version (az keyvault secret set-attributes --enabled false):
        from azure.keyvault.secrets import SecretClient

        from azcreds.identity import default_keyvault_credential

        sdk = SecretClient(vault.vault_url, default_keyvault_credential(), verify_challenge_resource=False)
        sdk.update_secret_properties("azcreds-az-secret-1", enabled=False)
        refused = azcreds_cli("resolve", "az_secret", check=False)
        if refused.returncode != 1 or "disabled" not in refused.stderr:
            print("UNEXPECTED: a disabled secret resolved", file=sys.stderr)
            return 1

        azcreds_cli("secret", "rollback", "az_secret", "--version", good, "--expires", "30d")
        azcreds_cli("resolve", "az_secret", "--explain")
        from azcreds import resolve_credentials

        creds = resolve_credentials("az_secret")
        names = [c.name for c in creds.blob_service_client().list_containers()]
        print(f"the rolled-back key works: {len(names)} containers listed")
        print("versions OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
