"""Credentials on Dask workers: send a scoped SAS, or a reference the workers resolve themselves.

Run it with ``.venv/bin/python examples/dask_workers.py`` after ``scripts/setup``. It starts Azurite
on a free loopback port, in memory, and a ``dask.distributed`` LocalCluster of 2 worker processes
(each with the loopback-only network guard, preloaded). The secret ``lake`` is an environment
variable of this process. Then:

1. ``creds.scoped(container, permissions="racwdl", ttl="30m")``: a SAS for one container, for 30
   minutes. An ``AzureArtifactStore`` on it is what the tasks receive: they write and read
   artifacts, and the pickled graph holds the SAS, never the account key;
2. ``dask.dataframe`` writes and reads parquet on ``az://`` through adlfs with the SAS's
   ``storage_options()``;
3. a store opened by secret *name* pickles as that name: workers that can resolve ``lake``
   themselves (here: the same variable, which they inherited) get no secret from the driver at all.
"""

from __future__ import annotations

import os
import pickle
import sys


def write_report(store: object, i: int) -> str:
    """A task: runs in a worker process, on the store it received pickled."""
    from azcreds.artifact_store import AzureArtifactStore

    assert isinstance(store, AzureArtifactStore)
    path = f"{store.root}/reports/day-{i}.txt"
    with store.open(path, "w") as f:
        f.write(f"day {i}: written by worker process {os.getpid()}\n")
    with store.open(path) as f:
        return f.read().strip()


def main() -> int:
    from azcreds.testing import AzuriteServer, dask_guard, network_guard, unique_container_name

    network_guard.install()  # 127.0.0.1 only; the workers get the same guard as a preload
    with AzuriteServer() as azurite:
        os.environ["AZCREDS_LAKE__CONNECTION_STRING"] = azurite.connection_string  # before the workers start

        import dask
        import dask.dataframe as dd
        import pandas as pd
        from distributed import Client, LocalCluster

        from azcreds import resolve_credentials
        from azcreds.artifact_store import AzureArtifactStore

        creds = resolve_credentials("lake")
        container = unique_container_name("lake")
        creds.blob_service_client().create_container(container)

        # 1. A scoped SAS travels in the task graph, not the key.
        scoped = creds.scoped(container, permissions="racwdl", ttl="30m")
        store = AzureArtifactStore(f"az://{container}/run-1", credentials=scoped)
        assert azurite.account_key.encode() not in pickle.dumps(store)
        print("scoped:", scoped)

        with (
            LocalCluster(
                n_workers=2,
                processes=True,
                threads_per_worker=1,
                host="127.0.0.1",
                dashboard_address=None,
                **dask_guard.PRELOADS,
            ) as cluster,
            Client(cluster) as client,
        ):
            assert all(dask_guard.guarded_on_workers(client).values())
            lines = dask.compute(*[dask.delayed(write_report)(store, i) for i in range(4)])
            for line in lines:
                print("task:", line)

            # 2. dask.dataframe on az:// through adlfs, with the same SAS.
            url = f"az://{container}/run-1/table"
            frame = pd.DataFrame({"day": range(4), "rows": [10, 20, 30, 40]})
            dd.from_pandas(frame, npartitions=2).to_parquet(url, storage_options=scoped.storage_options())
            back = dd.read_parquet(url, storage_options=scoped.storage_options()).compute()
            print(f"parquet: wrote and read back {len(back)} rows, total {int(back['rows'].sum())}")
            assert int(back["rows"].sum()) == 100

            # 3. A store by secret name pickles as the name; each worker resolves it itself.
            by_name = AzureArtifactStore(f"az://{container}/run-2", secret="lake")
            payload = pickle.dumps(by_name)
            assert azurite.account_key.encode() not in payload
            print(f"by name: {len(payload)} pickled bytes, the secret name only")
            lines = dask.compute(*[dask.delayed(write_report)(by_name, i) for i in range(2)])
            print("task:", lines[0])

            blocked = dask_guard.blocked_on_workers(client)
            assert not any(blocked.values()), blocked

        raw = creds.blob_service_client().get_container_client(container)
        written = sorted(b.name for b in raw.list_blobs())
        print(f"the raw SDK sees {len(written)} blobs, e.g. {written[0]}")
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
