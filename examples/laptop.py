"""The laptop case, on 127.0.0.1: the developer's own `az login` reaches Blob storage, with no key
and no secret stored anywhere.

    AZURE_TOKEN_CREDENTIALS=dev + AZURE_STORAGE_ACCOUNT_NAME
          └── resolve_credentials()  →  source "developer" (resolving runs no tool)
                └── first request: `az account get-access-token` (a stand-in that answers as az does)
                      └── bearer token ──► Azurite over HTTPS with OAuth

Run it with ``.venv/bin/python examples/laptop.py`` after ``scripts/setup``.
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
    DeveloperTools,
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
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="azcreds-laptop-")))
        certs = make_test_certificates(tmp)
        azurite = stack.enter_context(AzuriteServer(certificates=certs, oauth=True))
        tools = DeveloperTools(tmp / "bin", tools=("az",))  # a logged-in `az`, first on PATH
        os.environ["PATH"] = tools.path(keep=os.environ.get("PATH", ""))
        os.environ["REQUESTS_CA_BUNDLE"] = str(certs.ca_path)  # trust the local Azurite's test CA
        os.environ["AZCREDS_KEYRING_PATH"] = str(tmp / "no-keyring.azcv")  # not the user's keyring

        # What a developer sets once in their shell profile:
        os.environ["AZURE_TOKEN_CREDENTIALS"] = "dev"
        os.environ["AZURE_STORAGE_ACCOUNT_NAME"] = azurite.account_name
        os.environ["AZURE_STORAGE_ACCOUNT_URL"] = azurite.blob_endpoint  # only for the local Azurite

        azcreds_cli("resolve", "--explain")
        if tools.calls:
            print("UNEXPECTED: resolving ran a developer tool", file=sys.stderr)
            return 1

        from azcreds import resolve_credentials
        from azcreds.artifact_store import AzureArtifactStore

        creds = resolve_credentials()
        print(f"\n>>> resolve_credentials()\n{creds}")
        container = unique_container_name("notebooks")
        creds.blob_service_client().create_container(container)
        store = AzureArtifactStore(f"az://{container}", credentials=creds)
        with store.open(f"az://{container}/data.csv", "wb") as f:
            f.write(b"a,b\n1,2\n")
        with store.open(f"az://{container}/data.csv", "rb") as f:
            back = f.read()
        print(f"wrote and read az://{container}/data.csv: {back!r}")
        runs = [" ".join(map(str, c["args"])) for c in tools.calls]
        print(f"az runs: {len(runs)} ({runs[0]})")
        if back != b"a,b\n1,2\n" or len(runs) != 1:
            print("MISMATCH", file=sys.stderr)
            return 1
        print("laptop OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
