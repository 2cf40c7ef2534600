"""The azcreds demo: register a secret in the local encrypted keyring, resolve it, and write and
read artifacts through AzureArtifactStore on Azurite.

Run it with ``scripts/demo`` (which sets everything up first). It starts Azurite on a free
loopback port, in memory, keeps the keyring in a temporary folder (your real keyring is never
touched), and stops everything at the end. Nothing leaves this machine.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

from azcreds.testing import AzuriteServer, network_guard, unique_container_name


def azcreds_cli(*args: str) -> None:
    """Run the real `azcreds` command, echoing it as a user would type it."""
    print(f"\n$ azcreds {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, "-m", "azcreds", *args], check=True)


def main() -> int:
    network_guard.install()  # the demo talks to 127.0.0.1 only; anything else fails loudly
    with tempfile.TemporaryDirectory(prefix="azcreds-demo-") as tmp, AzuriteServer() as azurite:
        print(f"Azurite is listening on {azurite.blob_endpoint}")
        os.environ["AZCREDS_KEYRING_PATH"] = str(Path(tmp) / "keyring.azcv")
        os.environ["AZCREDS_KEYRING_PASSPHRASE"] = secrets.token_urlsafe(16)  # as CI would set it
        print(
            f"keyring file: {os.environ['AZCREDS_KEYRING_PATH']} (passphrase from AZCREDS_KEYRING_PASSPHRASE)"
        )

        azcreds_cli("keyring", "init")
        secret_file = Path(tmp) / "connection-string.txt"
        fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(azurite.connection_string)
        # @file keeps the secret out of argv and shell history.
        azcreds_cli(
            "secret", "register", "az_secret", "--schema", "azure", f"--connection_string=@{secret_file}"
        )
        secret_file.unlink()
        azcreds_cli("secret", "list")
        azcreds_cli("secret", "get", "az_secret")
        azcreds_cli("resolve", "az_secret", "--explain")

        import azcreds

        creds = azcreds.resolve_credentials("az_secret")
        print(f"\n>>> azcreds.resolve_credentials('az_secret')\n{creds}")  # no secret in it, ever
        print(f"credential type: {type(creds.credential).__name__}")
        if creds.source != "keyring":
            print("UNEXPECTED: the secret did not come from the keyring", file=sys.stderr)
            return 1

        from azcreds.artifact_store import AzureArtifactStore

        container = unique_container_name("demo")
        store = AzureArtifactStore(f"az://{container}", secret="az_secret")
        store.makedirs(f"az://{container}/models/v1")
        payload = b"model weights, or anything else worth keeping\n" * 100
        with store.open(f"az://{container}/models/v1/weights.bin", "wb") as f:
            f.write(payload)
        with store.open(f"az://{container}/models/v1/weights.bin", "rb") as f:
            data = f.read()
        print(f"wrote and read back {len(data)} bytes at az://{container}/models/v1/weights.bin")
        print(f"walk: {[(d, sorted(files)) for d, _, files in store.walk(f'az://{container}')]}")
        if data != payload:
            print("MISMATCH: the bytes read differ from the bytes written", file=sys.stderr)
            return 1
        print("demo OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
