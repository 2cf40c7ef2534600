"""Pickling credentials and stores: references resolved again by name, never a long-lived secret.

Each test scans the pickle bytes, and pickletools' disassembly of them, for canary markers.
Unpickling in another process (a worker) is done for real with ``sys.executable``.
"""

from __future__ import annotations

import copy
import io
import pickle
import pickletools
import subprocess
import sys

import pytest

from azcreds import (
    AccountKeySecret,
    AzureArtifactStore,
    AzureCredentials,
    EnvResolver,
    ResolverChain,
    clear_cache,
    resolve_credentials,
)
from azcreds.testing import AzuriteServer
from tests.test_canary import Canaries, secrets_for_every_schema

PROTOCOLS = range(2, pickle.HIGHEST_PROTOCOL + 1)


@pytest.fixture
def canaries() -> Canaries:
    return Canaries()


def set_env_secret(monkeypatch: pytest.MonkeyPatch, name: str, fields: dict[str, str], schema: str) -> None:
    prefix = f"AZCREDS_{name.upper().replace('-', '_')}__"
    monkeypatch.setenv(prefix + "SCHEMA", schema)
    for field, value in fields.items():
        monkeypatch.setenv(prefix + field.upper(), value)


def payload_texts(payload: bytes) -> list[tuple[str, str]]:
    listing = io.StringIO()
    pickletools.dis(payload, out=listing)
    return [
        ("pickle bytes", payload.decode("latin-1")),
        ("pickletools.dis", listing.getvalue()),
        ("repr(bytes)", repr(payload)),
    ]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_every_schema_pickles_as_a_reference_without_its_secret(
    protocol: int, canaries: Canaries, azurite: AzuriteServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for schema_id, fields in secrets_for_every_schema(canaries, azurite).items():
        name = "p-" + schema_id.replace("azure-", "")[:20]
        set_env_secret(monkeypatch, name, fields, schema_id)
        creds = resolve_credentials(name)
        assert creds.pickle_as == "reference"
        payload = pickle.dumps(creds, protocol=protocol)
        for where, text in payload_texts(payload):
            canaries.assert_absent(text, f"{where} of {schema_id}")
        assert name.encode() in payload
        assert creds.schema_id.encode() in payload
        back = pickle.loads(payload)
        assert back is creds  # resolved again by name: the process cache's own object
        assert (back.name, back.schema_id, back.source) == (name, creds.schema_id, "env")


def test_a_reference_resolves_again_where_it_is_unpickled(
    azurite: AzuriteServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_env_secret(
        monkeypatch, "ref", {"connection_string": azurite.connection_string}, "azure-connection-string"
    )
    payload = pickle.dumps(resolve_credentials("ref"))
    # Elsewhere the same name is an account key secret: unpickling finds that one.
    monkeypatch.delenv("AZCREDS_REF__CONNECTION_STRING")
    set_env_secret(
        monkeypatch,
        "ref",
        {
            "account_name": azurite.account_name,
            "account_key": azurite.account_key,
            "account_url": azurite.blob_endpoint,
        },
        "azure-account-key",
    )
    clear_cache()
    back = pickle.loads(payload)
    assert (back.name, back.schema_id) == ("ref", "azure-account-key")
    assert back.blob_service_client(retry_total=0).get_account_information()["sku_name"]


def test_implicit_credentials_re_run_the_implicit_chain(
    azurite: AzuriteServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    creds = resolve_credentials()
    payload = pickle.dumps(creds)
    assert azurite.account_key.encode() not in payload
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING")
    clear_cache()
    with pytest.raises(Exception, match="AZURE_STORAGE"):  # the implicit chain ran again, and missed
        pickle.loads(payload)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    back = pickle.loads(payload)
    assert back.name is None
    assert back.schema_id == "azure-connection-string"


def test_credentials_built_in_code_refuse_to_pickle_pointing_to_scoped(azurite: AzuriteServer) -> None:
    secret = AccountKeySecret(
        account_name=azurite.account_name, account_key=azurite.account_key, account_url=azurite.blob_endpoint
    )
    creds = AzureCredentials.from_secret(secret, name="in-code", source="env")
    for protocol in PROTOCOLS:
        with pytest.raises(TypeError, match=r"scoped\(") as info:
            pickle.dumps(creds, protocol=protocol)
        assert azurite.account_key not in str(info.value)
    # copying is not pickling: an immutable object copies as itself
    assert copy.copy(creds) is creds
    assert copy.deepcopy(creds) is creds


def test_credentials_of_a_chain_of_your_own_refuse_to_pickle(
    azurite: AzuriteServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_env_secret(
        monkeypatch, "own", {"connection_string": azurite.connection_string}, "azure-connection-string"
    )
    creds = resolve_credentials("own", chain=ResolverChain([EnvResolver()]))
    with pytest.raises(TypeError, match=r"scoped\("):
        pickle.dumps(creds)


WORKER = """
import pickle, sys
store = pickle.loads(sys.stdin.buffer.read())
print(repr(store))
with store.open(store.root + "/from-worker.txt", "wb") as f:
    f.write(b"written by a worker process")
print(store.listdir(store.root))
"""


def test_a_store_pickled_to_another_process_resolves_by_name_and_writes(
    azurite: AzuriteServer, container_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_env_secret(
        monkeypatch, "art", {"connection_string": azurite.connection_string}, "azure-connection-string"
    )
    store = AzureArtifactStore(f"az://{container_name}/runs", secret="art", client_kwargs={"retry_total": 0})
    store.makedirs(store.root)
    payload = pickle.dumps(store)
    for where, text in payload_texts(payload):
        assert azurite.account_key not in text, where
        assert azurite.account_key[:24] not in text, where
    assert pickle.loads(payload).root == store.root
    import os

    done = subprocess.run(
        [sys.executable, "-c", WORKER], input=payload, capture_output=True, check=False, env=dict(os.environ)
    )
    assert done.returncode == 0, done.stderr.decode()
    assert f"AzureArtifactStore('az://{container_name}/runs', secret='art')" in done.stdout.decode()
    raw = azurite.connection_string
    from azure.storage.blob import BlobServiceClient

    blob = BlobServiceClient.from_connection_string(raw).get_blob_client(
        container_name, "runs/from-worker.txt"
    )
    assert blob.download_blob().readall() == b"written by a worker process"


def test_a_store_with_credentials_built_in_code_refuses_to_pickle(
    azurite: AzuriteServer, container_name: str
) -> None:
    secret = AccountKeySecret(
        account_name=azurite.account_name, account_key=azurite.account_key, account_url=azurite.blob_endpoint
    )
    creds = AzureCredentials.from_secret(secret, name=None, source="env")
    store = AzureArtifactStore(f"az://{container_name}", credentials=creds)
    with pytest.raises(TypeError, match=r"scoped\("):
        pickle.dumps(store)


def test_a_store_with_reference_credentials_pickles_them(
    azurite: AzuriteServer, container_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_env_secret(
        monkeypatch, "given", {"connection_string": azurite.connection_string}, "azure-connection-string"
    )
    store = AzureArtifactStore(
        f"abfs://{container_name}/x", credentials=resolve_credentials("given"), block_size=1 << 20
    )
    back = pickle.loads(pickle.dumps(store))
    assert (
        repr(back) == repr(store) == f"AzureArtifactStore('abfs://{container_name}/x', explicit credentials)"
    )
    assert back.block_size == 1 << 20
    assert back.credentials.name == "given"


def test_scoped_credentials_pickle_with_their_sas_and_not_the_key(
    azurite: AzuriteServer, container_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_env_secret(
        monkeypatch, "key", {"connection_string": azurite.connection_string}, "azure-connection-string"
    )
    creds = resolve_credentials("key")
    creds.blob_service_client().create_container(container_name)
    scoped = creds.scoped(container_name, permissions="rw", ttl="10m")
    payload = pickle.dumps(scoped)
    for where, text in payload_texts(payload):
        assert azurite.account_key not in text, where
        assert azurite.account_key[:24] not in text, where
    assert scoped.secret.field_values(reveal=True)["sas_token"].encode() in payload
    monkeypatch.delenv("AZCREDS_KEY__CONNECTION_STRING")
    clear_cache()  # the worker has no way to the key: the SAS alone works
    back = pickle.loads(payload)
    assert (back.schema_id, back.pickle_as, back.scope) == ("azure-sas-token", "scoped", scoped.scope)
    blob = back.blob_service_client(retry_total=0).get_blob_client(container_name, "w.txt")
    blob.upload_blob(b"through the SAS")
    assert blob.download_blob().readall() == b"through the SAS"
    store = AzureArtifactStore(f"az://{container_name}", credentials=scoped)
    assert pickle.loads(pickle.dumps(store)).credentials.scope == scoped.scope
