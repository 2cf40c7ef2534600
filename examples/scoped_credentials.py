"""Scoped credentials: hand worker processes a short-lived, read-only SAS instead of the key.

Run it with ``.venv/bin/python examples/scoped_credentials.py`` after ``scripts/setup``. It starts
Azurite on a free loopback port, in memory; the secret is an environment variable of this process
only. Then:

1. ``creds.scoped(container, permissions="rl", ttl="15m")``: a SAS for one container that can read
   and list, and nothing else, for 15 minutes (a service SAS here, signed with the account key; from
   a service principal or managed identity it would be a user delegation SAS);
2. an ``AzureArtifactStore`` on those credentials is pickled to worker processes (multiprocessing,
   spawn): they read, and their write is refused by the service; the pickle holds the SAS, not the key;
3. the same SAS drives polars through ``object_store_options()``.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import sys

from azcreds.testing import AzuriteServer, network_guard, unique_container_name


def worker(store: object, name: str) -> str:
    """Runs in another process: the store arrived pickled, with the scoped SAS only."""
    from azcreds.artifact_store import AzureArtifactStore
    from azcreds.errors import AzcredsError

    assert isinstance(store, AzureArtifactStore)
    with store.open(f"{store.root}/{name}", "rb") as f:
        first_line = f.readline().decode().strip()
    try:
        with store.open(f"{store.root}/written-by-worker.txt", "wb") as f:
            f.write(b"no")
        wrote = "write allowed (unexpected)"
    except AzcredsError as exc:
        wrote = f"write refused ({type(exc).__name__})"
    return f"{name}: header {first_line!r}, {wrote}"


def main() -> int:
    network_guard.install()  # 127.0.0.1 only; anything else fails loudly
    with AzuriteServer() as azurite:
        os.environ["AZCREDS_LAKE__CONNECTION_STRING"] = azurite.connection_string

        from azcreds import resolve_credentials
        from azcreds.artifact_store import AzureArtifactStore

        creds = resolve_credentials("lake")
        container = unique_container_name("lake")
        service = creds.blob_service_client()
        service.create_container(container)
        for part in ("part-0.csv", "part-1.csv"):
            service.get_blob_client(container, f"daily/{part}").upload_blob(b"city,temp\nOslo,4\nLima,19\n")

        scoped = creds.scoped(container, permissions="rl", ttl="15m")
        print("scoped:", scoped, "-", scoped.scope)

        store = AzureArtifactStore(f"az://{container}/daily", credentials=scoped)
        payload = pickle.dumps(store)
        assert azurite.account_key.encode() not in payload  # the key never travels
        print(f"pickled store: {len(payload)} bytes, no account key in them")

        with multiprocessing.get_context("spawn").Pool(2, initializer=network_guard.install) as pool:
            for line in pool.starmap(worker, [(store, "part-0.csv"), (store, "part-1.csv")]):
                print("worker:", line)

        import polars as pl

        frame = pl.scan_csv(
            f"az://{container}/daily/*.csv", storage_options=scoped.object_store_options()
        ).collect()
        print(f"polars read {frame.height} rows through the scoped SAS")
        assert frame.height == 4
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
