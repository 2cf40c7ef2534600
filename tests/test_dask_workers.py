"""Credentials on Dask workers: a real ``dask.distributed`` LocalCluster with 2 worker processes.

Tasks write and read artifacts through a pickled ``AzureArtifactStore``, ``dask.dataframe`` writes
and reads parquet on ``az://`` through adlfs with a scoped SAS, workers re-resolve a pickled
reference by name from the local Key Vault server; results are checked with the raw SDK, and the
pickled task graphs, the workers' logs and everything the worker processes printed are scanned for
the account key, a client secret and the keyring passphrase (random canaries of this run). Every
worker process (and nanny) runs the loopback-only network guard (azcreds.testing.dask_guard).
"""

from __future__ import annotations

import os
import pickle
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

import cloudpickle  # noqa: E402 - after the importorskip that names what is missing
import dask.dataframe as dd  # noqa: E402
import pandas as pd  # noqa: E402
from azure.storage.blob import BlobServiceClient, ContainerClient  # noqa: E402

import azcreds  # noqa: E402
from azcreds import AzureCredentials, KeyringStore, KeyVaultStore, parse_secret  # noqa: E402
from azcreds.artifact_store import AzureArtifactStore  # noqa: E402
from azcreds.testing import (  # noqa: E402
    AzuriteServer,
    KeyVaultServer,
    ManagedIdentityEndpoint,
    TestCertificates,
    dask_guard,
    generate_account_key,
    unique_container_name,
)
from tests.helpers import CLIENT_ID, TENANT_ID  # noqa: E402

ACCOUNT = "daskacct"
ACCOUNT_KEY = generate_account_key()  # this run's canary: a key no library or fixture holds
CLIENT_SECRET = f"client-secret-{secrets.token_hex(16)}"
PASSPHRASE = f"keyring-passphrase-{secrets.token_hex(16)}"
CANARIES = (ACCOUNT_KEY, CLIENT_SECRET, PASSPHRASE)


def _leaks(data: bytes | str) -> list[str]:
    """Which canaries ``data`` holds: as text, and as the UTF-8 bytes pickle stores."""
    text = data if isinstance(data, str) else data.decode("latin-1")
    return [c for c in CANARIES if c in text]


@pytest.fixture(scope="module")
def azurite_account() -> Iterator[AzuriteServer]:
    """Azurite with one account whose key is this run's canary."""
    with AzuriteServer(accounts={ACCOUNT: ACCOUNT_KEY}) as server:
        yield server


@pytest.fixture
def raw(azurite_account: AzuriteServer) -> Iterator[ContainerClient]:
    """The raw SDK's view of a fresh container, with the account key."""
    service = BlobServiceClient.from_connection_string(azurite_account.connection_string)
    client = service.get_container_client(unique_container_name())
    client.create_container()
    yield client
    client.close()


@pytest.fixture
def lake(azurite_account: AzuriteServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AzureCredentials:
    """The driver's long-lived secret: an account key kept in a passphrase-locked keyring, plus a
    service principal secret beside it in the environment (so all three canaries are there)."""
    monkeypatch.setenv("AZCREDS_KEYRING_PASSPHRASE", PASSPHRASE)
    KeyringStore().register(
        "lake",
        parse_secret(
            "azure-account-key",
            {
                "account_name": ACCOUNT,
                "account_key": ACCOUNT_KEY,
                "account_url": azurite_account.account_url(ACCOUNT),
            },
        ),
    )
    monkeypatch.setenv("AZCREDS_PRINCIPAL__ACCOUNT_NAME", ACCOUNT)
    monkeypatch.setenv("AZCREDS_PRINCIPAL__TENANT_ID", TENANT_ID)
    monkeypatch.setenv("AZCREDS_PRINCIPAL__CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("AZCREDS_PRINCIPAL__CLIENT_SECRET", CLIENT_SECRET)
    azcreds.clear_cache()
    creds = azcreds.resolve_credentials("lake")
    assert creds.source == "keyring"
    return creds


def _running_cluster(capfd: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """A LocalCluster of 2 worker processes (2 threads each) under the network guard, and its
    Client. The workers inherit the environment as it is now. On the way out: no worker's guard
    refused anything, and nothing the workers logged or printed holds a canary."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2,
            processes=True,
            threads_per_worker=2,
            host="127.0.0.1",
            dashboard_address=None,
            **dask_guard.PRELOADS,
        ) as cluster,
        Client(cluster) as dask_client,
    ):
        guarded = dask_guard.guarded_on_workers(dask_client)
        assert len(guarded) == 2
        assert all(guarded.values()), guarded
        yield dask_client
        assert dask_guard.blocked_on_workers(dask_client) == {address: [] for address in guarded}
        logs = dask_client.get_worker_logs()
        assert len(logs) == 2
        for address, records in logs.items():
            assert not _leaks("\n".join(message for _, message in records)), address
    printed = capfd.readouterr()
    assert not _leaks(printed.out + printed.err)


@pytest.fixture
def client(capfd: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """Workers with no secret store configured: they get only what the task graph carries."""
    yield from _running_cluster(capfd)


# -- the tasks (module-level functions: workers import this module by name) --------------------


def write_part(store: AzureArtifactStore, root: str, i: int) -> int:
    with store.open(f"{root}/parts/part-{i}.txt", "w") as f:
        f.write(f"part {i} from worker {os.getpid()}\n")
    return os.getpid()


def read_part(store: AzureArtifactStore, root: str, i: int) -> str:
    with store.open(f"{root}/parts/part-{i}.txt") as f:
        return f.read()


def resolved_here(creds: AzureCredentials) -> tuple[int, str, str | None]:
    """Unpickled on the worker: a reference was resolved there by name."""
    return os.getpid(), creds.schema_id, creds.account_name


def _graph_bytes(*collections: Any) -> bytes:
    """The task graph of dask collections, pickled as dask pickles graphs (cloudpickle)."""
    graph: dict[Any, Any] = {}
    for collection in collections:
        graph.update(dict(collection.__dask_graph__()))
    return cloudpickle.dumps(graph)


# -- tests -----------------------------------------------------------------------------------


def test_tasks_write_and_read_artifacts_through_a_pickled_store_on_a_scoped_sas(
    client: Any, lake: AzureCredentials, raw: ContainerClient
) -> None:
    scoped = lake.scoped(raw.container_name, permissions="racwdl", ttl="15m")
    root = f"az://{raw.container_name}/run-7"
    store = AzureArtifactStore(root, credentials=scoped)
    assert not _leaks(pickle.dumps(store))
    writes = [dask.delayed(write_part)(store, root, i) for i in range(8)]
    reads = [dask.delayed(read_part)(store, root, i) for i in range(8)]
    assert not _leaks(_graph_bytes(*writes, *reads))
    pids = dask.compute(*writes)
    assert len(set(pids)) >= 1
    assert os.getpid() not in pids  # the work ran in the worker processes
    texts = dask.compute(*reads)
    assert [t.split(" from ")[0] for t in texts] == [f"part {i}" for i in range(8)]
    # The raw SDK, with the account key, sees what the workers wrote.
    names = sorted(b.name for b in raw.list_blobs(name_starts_with="run-7/parts/"))
    assert names == sorted(f"run-7/parts/part-{i}.txt" for i in range(8))
    assert raw.download_blob("run-7/parts/part-3.txt").readall().decode() == texts[3]


def test_a_store_pickled_by_secret_name_is_resolved_on_each_worker(
    client_with_env: Any, raw: ContainerClient, azurite_account: AzuriteServer
) -> None:
    root = f"az://{raw.container_name}/by-name"
    store = AzureArtifactStore(root, secret="lakeenv")
    payload = pickle.dumps(store)
    assert b"lakeenv" in payload
    assert not _leaks(payload)
    writes = [dask.delayed(write_part)(store, root, i) for i in range(4)]
    assert not _leaks(_graph_bytes(*writes))
    dask.compute(*writes)
    assert len(list(raw.list_blobs(name_starts_with="by-name/parts/"))) == 4


def test_dask_dataframe_parquet_on_az_through_adlfs_with_a_scoped_sas(
    client: Any, lake: AzureCredentials, raw: ContainerClient
) -> None:
    import pyarrow.parquet as pq

    scoped = lake.scoped(raw.container_name, permissions="racwdl", ttl="15m")
    options = scoped.storage_options()
    assert not _leaks(repr(options))  # a SAS, never the account key
    frame = pd.DataFrame({"i": range(100), "square": [i * i for i in range(100)]})
    url = f"az://{raw.container_name}/table"
    # Why scoped: with the secret's own storage_options the graph would carry the account key
    # (this is also the check that the scan finds what it looks for).
    unscoped = dd.from_pandas(frame, npartitions=4).to_parquet(
        url, storage_options=lake.storage_options(), compute=False
    )
    assert _leaks(_graph_bytes(unscoped)) == [ACCOUNT_KEY]
    written = dd.from_pandas(frame, npartitions=4).to_parquet(url, storage_options=options, compute=False)
    assert not _leaks(_graph_bytes(written))
    dask.compute(written)
    back = dd.read_parquet(url, storage_options=options)
    assert not _leaks(_graph_bytes(back))
    result = back.compute().sort_values("i").reset_index(drop=True)
    pd.testing.assert_frame_equal(result[["i", "square"]], frame, check_dtype=False)
    # The raw SDK: four parquet parts, and one read back with pyarrow alone.
    parts = sorted(b.name for b in raw.list_blobs(name_starts_with="table/") if b.name.endswith(".parquet"))
    assert len(parts) == 4
    import io

    table = pq.read_table(io.BytesIO(raw.download_blob(parts[0]).readall()))
    assert table.column("square").to_pylist() == [i * i for i in table.column("i").to_pylist()]


def test_workers_resolving_by_name_from_key_vault_make_one_get_each(
    keyvault_client: tuple[Any, KeyVaultServer], raw: ContainerClient, azurite_account: AzuriteServer
) -> None:
    client, vault = keyvault_client
    reference = azcreds.resolve_credentials("vaulted")  # the driver's own resolve: one GET
    assert reference.source == "keyvault"
    payload = pickle.dumps(reference)
    assert not _leaks(payload)
    driver_gets = vault.count("GET", "/secrets/", authorized=True)
    futures = client.map(resolved_here, [reference] * 40, pure=False)
    results = client.gather(futures)
    assert {(schema, account) for _, schema, account in results} == {("azure-account-key", ACCOUNT)}
    workers_used = {pid for pid, _, _ in results}
    assert os.getpid() not in workers_used
    # Each worker process resolved the name once (single flight over its 2 threads, then its
    # cache for the TTL): at most one GET per worker.
    assert vault.count("GET", "/secrets/", authorized=True) - driver_gets == len(workers_used)
    # A second wave within the TTL is served from each worker's cache: no GET at all.
    before = vault.count("GET", "/secrets/", authorized=True)
    client.gather(client.map(resolved_here, [reference] * 40, pure=False))
    assert vault.count("GET", "/secrets/", authorized=True) == before


# -- clusters whose workers can resolve names themselves --------------------------------------


@pytest.fixture
def client_with_env(
    azurite_account: AzuriteServer, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> Iterator[Any]:
    """Workers that find ``lakeenv`` in their environment (inherited at start)."""
    connection = azurite_account.connection_string_for(ACCOUNT, ACCOUNT_KEY)
    monkeypatch.setenv("AZCREDS_LAKEENV__CONNECTION_STRING", connection)
    yield from _running_cluster(capfd)


@pytest.fixture
def keyvault_client(
    keyvault_server: KeyVaultServer,
    managed_identity_endpoint: ManagedIdentityEndpoint,
    test_certificates: TestCertificates,
    azurite_account: AzuriteServer,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> Iterator[tuple[Any, KeyVaultServer]]:
    """Workers (and the driver) configured for the local Key Vault, through a managed identity."""
    for name, value in {
        **managed_identity_endpoint.app_service_env(),
        "AZCREDS_KEYVAULT_URL": keyvault_server.vault_url,
        "REQUESTS_CA_BUNDLE": str(test_certificates.ca_path),
    }.items():
        monkeypatch.setenv(name, value)
    azcreds.clear_cache()
    KeyVaultStore().register(
        "vaulted",
        parse_secret(
            "azure-account-key",
            {
                "account_name": ACCOUNT,
                "account_key": ACCOUNT_KEY,
                "account_url": azurite_account.account_url(ACCOUNT),
            },
        ),
    )
    azcreds.clear_cache()
    keyvault_server.clear_requests()
    for dask_client in _running_cluster(capfd):
        yield dask_client, keyvault_server
