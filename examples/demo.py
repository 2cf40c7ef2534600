"""The azcreds demo: a secret, resolved by name, used to write and read artifacts on local Azurite.

Run it with ``scripts/demo`` (which sets everything up first). It starts Azurite on a free
loopback port, in memory, and stops it at the end; nothing leaves this machine.
"""

from __future__ import annotations

import os
import sys

import azcreds
from azcreds.testing import AzuriteServer, network_guard, unique_container_name


def main() -> int:
    network_guard.install()  # the demo talks to 127.0.0.1 only; anything else fails loudly
    with AzuriteServer() as azurite:
        print(f"1. Azurite is listening on {azurite.blob_endpoint}")

        # The secret `az_secret`, as a CI job or a laptop would provide it: environment variables.
        os.environ["AZCREDS_AZ_SECRET__ACCOUNT_NAME"] = azurite.account_name
        os.environ["AZCREDS_AZ_SECRET__ACCOUNT_KEY"] = azurite.account_key
        os.environ["AZCREDS_AZ_SECRET__ACCOUNT_URL"] = azurite.blob_endpoint
        print("2. az_secret is set as AZCREDS_AZ_SECRET__{ACCOUNT_NAME,ACCOUNT_KEY,ACCOUNT_URL}")

        resolution = azcreds.explain_resolution("az_secret")
        for attempt in resolution.attempts:
            print(f"3. resolver {attempt.source}: {attempt.outcome} ({attempt.detail})")
        creds = azcreds.resolve_credentials("az_secret")
        print(f"4. resolved: {creds}")  # no secret in it, ever
        print(f"   credential type: {type(creds.credential).__name__}")

        service = creds.blob_service_client()
        container = unique_container_name("demo")
        service.create_container(container)
        payload = b"model weights, or anything else worth keeping\n" * 100
        blob = service.get_blob_client(container, "models/v1/weights.bin")
        blob.upload_blob(payload)
        data = blob.download_blob().readall()
        print(f"5. wrote and read back {len(data)} bytes at {container}/models/v1/weights.bin")
        if data != payload:
            print("   MISMATCH: the bytes read differ from the bytes written", file=sys.stderr)
            return 1
        print("6. round trip OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
