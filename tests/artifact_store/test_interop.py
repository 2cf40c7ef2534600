"""``AzureCredentials.storage_options()`` with adlfs, fsspec and pandas, and adlfs reading the store's files.

Everything talks to Azurite on 127.0.0.1 (adlfs through aiohttp).
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from azure.storage.blob import ContainerClient, ContainerSasPermissions, generate_container_sas

from azcreds.artifact_store import AzureArtifactStore
from azcreds.credentials import AzureCredentials
from azcreds.resolve import resolve_credentials
from azcreds.testing import AzuriteServer
from tests.artifact_store.helpers import account_key_credentials

pytest_plugins = ["tests.artifact_store.fixtures"]

CSV = "name,size\nweights.bin,1024\nconfig.json,17\n"


@pytest.fixture
def sas_credentials(
    azurite: AzuriteServer, raw: ContainerClient, monkeypatch: pytest.MonkeyPatch
) -> AzureCredentials:
    sas = generate_container_sas(
        azurite.account_name,
        raw.container_name,
        account_key=azurite.account_key,
        permission=ContainerSasPermissions(read=True, write=True, create=True, list=True, delete=True),
        expiry=datetime.now(UTC) + timedelta(days=2),  # beyond the 24-hour warning
    )
    monkeypatch.setenv("AZCREDS_PANDAS_SAS__ACCOUNT_NAME", azurite.account_name)
    monkeypatch.setenv("AZCREDS_PANDAS_SAS__SAS_TOKEN", sas)
    monkeypatch.setenv("AZCREDS_PANDAS_SAS__ACCOUNT_URL", azurite.blob_endpoint)
    return resolve_credentials("pandas_sas")


@pytest.mark.parametrize("kind", ["connection-string", "account-key", "sas"])
def test_pandas_reads_a_csv_with_storage_options(
    kind: str,
    creds: AzureCredentials,
    azurite: AzuriteServer,
    sas_credentials: AzureCredentials,
    raw: ContainerClient,
) -> None:
    chosen = {
        "connection-string": creds,
        "account-key": account_key_credentials(azurite),
        "sas": sas_credentials,
    }[kind]
    raw.upload_blob("tables/t.csv", CSV.encode())
    options = chosen.storage_options()
    if kind == "connection-string":
        assert options == {"connection_string": azurite.connection_string.rstrip(";")}
    frame = pd.read_csv(f"az://{raw.container_name}/tables/t.csv", storage_options=options)
    assert frame.to_dict("list") == {"name": ["weights.bin", "config.json"], "size": [1024, 17]}
    frame.to_csv(f"abfs://{raw.container_name}/tables/out-{kind}.csv", index=False, storage_options=options)
    store = AzureArtifactStore(f"az://{raw.container_name}/tables", credentials=chosen)
    with store.open(f"az://{raw.container_name}/tables/out-{kind}.csv") as f:
        assert f.read() == CSV


def test_adlfs_sees_the_stores_directories_and_files(creds: AzureCredentials, raw: ContainerClient) -> None:
    import adlfs

    store = AzureArtifactStore(f"az://{raw.container_name}/root", credentials=creds)
    store.makedirs(f"{store.root}/empty dir")
    with store.open(f"{store.root}/data/frame.pkl", "wb") as f:
        pd.DataFrame({"a": [1, 2, 3]}).to_pickle(f)
    fs = adlfs.AzureBlobFileSystem(**creds.storage_options())
    base = f"{raw.container_name}/root"
    assert fs.isdir(f"{base}/empty dir")  # the hdi_isfolder marker, as ADLS Gen2 writes it
    assert not fs.isfile(f"{base}/empty dir")
    kinds = {
        entry["name"].rstrip("/").rsplit("/", 1)[-1]: entry["type"] for entry in fs.ls(base, detail=True)
    }
    assert kinds == {"data": "directory", "empty dir": "directory"}
    with fs.open(f"{base}/data/frame.pkl", "rb") as f:
        assert pd.read_pickle(io.BytesIO(f.read()))["a"].tolist() == [1, 2, 3]
    with store.open(f"{store.root}/data/frame.pkl", "rb") as f:
        assert pd.read_pickle(f)["a"].tolist() == [1, 2, 3]
