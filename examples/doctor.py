"""``azcreds doctor`` on Azurite: a read-only SAS diagnosed, then a working key, from the command line.

Run it with ``.venv/bin/python examples/doctor.py`` after ``scripts/setup``. It starts Azurite on a
free loopback port, in memory, gives this process two secrets as environment variables
(``AZCREDS_<NAME>__<FIELD>``), runs ``azcreds doctor`` on each and stops everything at the end.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime, timedelta

from azcreds.testing import AzuriteServer, network_guard, unique_container_name


def doctor(*args: str) -> int:
    from azcreds.cli import main

    print(f"$ azcreds doctor {' '.join(args)}")
    return main(["doctor", *args])


def main() -> int:
    network_guard.install()  # 127.0.0.1 only; anything else fails loudly
    with AzuriteServer() as azurite:
        from azure.storage.blob import BlobServiceClient, generate_container_sas

        container = unique_container_name("doctor")
        BlobServiceClient.from_connection_string(azurite.connection_string).create_container(container)

        # A SAS that can read and list but not write or delete: the doctor says which and why.
        sas = generate_container_sas(
            azurite.account_name,
            container,
            account_key=azurite.account_key,
            permission="rl",
            expiry=datetime.now(UTC) + timedelta(days=7),
        )
        os.environ["AZCREDS_READER__ACCOUNT_NAME"] = azurite.account_name
        os.environ["AZCREDS_READER__ACCOUNT_URL"] = azurite.account_url()
        os.environ["AZCREDS_READER__SAS_TOKEN"] = sas
        code = doctor("reader", "--container", container)
        assert code == 1, "the read-only SAS should fail the write and delete checks"
        assert doctor("reader", "--container", container, "--need", "rl") == 0  # enough to read

        # The account's connection string: everything passes; --json for scripts.
        os.environ["AZCREDS_WRITER__CONNECTION_STRING"] = azurite.connection_string
        assert doctor("writer", "--container", container) == 0

        from azcreds.doctor import diagnose

        report = diagnose("writer", container=container)
        print(json.dumps([(c.id, c.status) for c in report.checks]))
        assert report.ok
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
