"""AzureArtifactStore as a whole: construction, path refusal, names, errors, threads."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest
from azure.storage.blob import ContainerClient

from azcreds.artifact_store import (
    DEFAULT_BLOCK_SIZE,
    DEFAULT_MAX_CONCURRENCY,
    AzureArtifactStore,
    container_root,
)
from azcreds.credentials import AzureCredentials
from azcreds.errors import (
    ArtifactNotFoundError,
    ArtifactStoreError,
    PathOutsideStoreError,
    PermissionDeniedError,
)
from azcreds.schemas import parse_secret
from azcreds.testing import AzuriteServer, generate_account_key
from tests.artifact_store.helpers import (
    BLOCK,
    STORE_CALLS,
    RequestCounter,
    account_key_credentials,
    get,
    put,
    uri,
)

pytest_plugins = ["tests.artifact_store.fixtures"]


def test_root_is_normalised_and_both_schemes_work(creds: AzureCredentials) -> None:
    assert AzureArtifactStore("az://box/a//b/./", credentials=creds).root == "az://box/a/b"
    store = AzureArtifactStore("ABFS://box", credentials=creds)
    assert (store.root, store.container, store.prefix) == ("abfs://box", "box", "")
    assert container_root("az://box/x/y") == "az://box"
    assert "explicit credentials" in repr(store)


@pytest.mark.parametrize(
    "root",
    [
        "box/prefix",
        "s3://box/prefix",
        "az://Box",
        "az://b",
        "az://box@acct.dfs.core.windows.net/x",
        "az://box/..",
        "https://acct.blob.core.windows.net/box?sv=2025-11-05&sig=SECRETSIG",
    ],
)
def test_invalid_roots_are_refused_without_echoing_them(creds: AzureCredentials, root: str) -> None:
    with pytest.raises(PathOutsideStoreError) as info:
        AzureArtifactStore(root, credentials=creds)
    assert isinstance(info.value, ValueError)
    assert "SECRETSIG" not in str(info.value)


def test_secret_and_credentials_together_and_bad_tuning_are_refused(creds: AzureCredentials) -> None:
    with pytest.raises(ValueError, match="not both"):
        AzureArtifactStore("az://box", secret="s", credentials=creds)
    with pytest.raises(ValueError, match="block_size"):
        AzureArtifactStore("az://box", credentials=creds, block_size=1000)
    with pytest.raises(ValueError, match="max_concurrency"):
        AzureArtifactStore("az://box", credentials=creds, max_concurrency=0)
    assert DEFAULT_BLOCK_SIZE >= 4 * 1024 * 1024
    assert DEFAULT_MAX_CONCURRENCY >= 2


def test_implicit_chain_and_named_secret(
    azurite: AzuriteServer, raw: ContainerClient, container_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    implicit = AzureArtifactStore(f"az://{container_name}")
    put(implicit, f"az://{container_name}/implicit.txt", b"1")
    monkeypatch.setenv("AZCREDS_MY_STORE__CONNECTION_STRING", azurite.connection_string)
    named = AzureArtifactStore(f"abfs://{container_name}", secret="my_store")
    assert get(named, f"abfs://{container_name}/implicit.txt") == b"1"
    assert named.credentials.name == "my_store"
    assert "secret='my_store'" in repr(named)


def test_importing_the_store_does_not_import_the_sdk() -> None:
    code = "import sys, azcreds.artifact_store; assert 'azure.storage.blob' not in sys.modules, 'eager'"
    subprocess.run([sys.executable, "-c", code], check=True)


OUTSIDE = [
    "az://other-box/root/x",
    "az://{c}/root/../x",
    "az://{c}/root/../../x",
    "az://{c}/rootx/y",
    "az://{c}/x",
    "az://{c}",
    "https://acct.blob.core.windows.net/{c}/root/x?sig=SECRETSIG",
    "root/x",
]


@pytest.mark.parametrize("template", OUTSIDE)
@pytest.mark.parametrize("call", STORE_CALLS)
def test_paths_outside_the_root_are_refused_before_any_request(
    creds: AzureCredentials, counter: RequestCounter, container_name: str, template: str, call: object
) -> None:
    store = AzureArtifactStore(
        f"az://{container_name}/root", credentials=creds, client_kwargs=counter.client_kwargs()
    )
    path = template.format(c=container_name)
    with pytest.raises(PathOutsideStoreError) as info:
        call(store, path)  # type: ignore[operator]
    assert counter.count == 0
    assert "SECRETSIG" not in str(info.value)


def test_dot_segments_inside_the_root_are_fine(store: AzureArtifactStore) -> None:
    put(store, uri(store, "a/b/c.txt"), b"abc")
    assert get(store, uri(store, "a/./x/../b//c.txt")) == b"abc"
    assert store.exists(store.root + "/a/b/../../a/b/c.txt")


def test_unsupported_modes_fail_clearly_before_any_request(
    store: AzureArtifactStore, counter: RequestCounter
) -> None:
    for mode in ("a+", "ab+", "r+", "rb+", "w+b", "rt", ""):
        with pytest.raises(ValueError, match="unsupported mode"):
            store.open(uri(store, "f"), mode)
    with pytest.raises(ValueError, match="binary mode"):
        store.open(uri(store, "f"), "rb", encoding="utf-8")
    with pytest.raises(ArtifactStoreError, match="store root"):
        store.open(store.root, "rb")
    assert counter.count == 0


def test_unicode_and_spaces_through_every_method(store: AzureArtifactStore, raw: ContainerClient) -> None:
    folder = "dir with spaces/ünïcödé 文件夹"
    name = "file 🎉 #1 %20 ?.txt"
    path = uri(store, folder, name)
    put(store, path, "contenu é".encode())
    assert f"root/{folder}/{name}" in set(raw.list_blob_names())
    assert get(store, path) == "contenu é".encode()
    assert store.exists(path)
    assert store.isdir(uri(store, folder))
    assert store.listdir(uri(store, folder)) == [name]
    assert store.listdir(uri(store, "dir with spaces")) == ["ünïcödé 文件夹"]
    assert store.glob(uri(store, "dir with spaces/*/*.txt")) == [path]
    assert store.glob(uri(store, "**/*🎉*")) == [path]
    assert list(store.walk(uri(store, folder))) == [(uri(store, folder), [], [name])]
    assert store.stat(path).size == len("contenu é".encode())
    store.copyfile(path, uri(store, folder, "cöpy 2.txt"))
    store.rename(uri(store, folder, "cöpy 2.txt"), uri(store, "ëmpty dïr", "moved.txt"))
    store.mkdir(uri(store, "ñew dir"))
    assert store.listdir(store.root) == ["dir with spaces", "ëmpty dïr", "ñew dir"]
    store.remove(path)
    store.rmtree(uri(store, "ëmpty dïr"))
    assert store.listdir(store.root) == ["ñew dir"]  # implicit directories go with their last file


def test_abfs_scheme_paths_round_trip(store: AzureArtifactStore) -> None:
    abfs = store.root.replace("az://", "abfs://")
    put(store, abfs + "/x/y.txt", b"y")
    assert get(store, uri(store, "x/y.txt")) == b"y"
    assert store.glob(abfs + "/x/*") == [abfs + "/x/y.txt"]


def test_wrong_key_is_permission_denied_without_the_key(
    azurite: AzuriteServer, raw: ContainerClient, container_name: str
) -> None:
    wrong = generate_account_key()
    store = AzureArtifactStore(
        f"az://{container_name}",
        credentials=account_key_credentials(azurite, wrong),
        client_kwargs={"retry_total": 0},
    )
    with pytest.raises(PermissionDeniedError) as info:
        store.listdir(store.root)
    assert "HTTP 403" in str(info.value)
    assert wrong not in str(info.value)
    assert isinstance(info.value, PermissionError)
    assert isinstance(info.value.__cause__, Exception)  # raised from the SDK error


def test_missing_container_and_unreachable_service(
    creds: AzureCredentials, azurite: AzuriteServer, container_name: str
) -> None:
    store = AzureArtifactStore(f"az://{container_name}", credentials=creds)
    with pytest.raises(ArtifactNotFoundError, match=f"container '{container_name}' does not exist"):
        store.listdir(store.root)
    assert not store.exists(store.root)
    assert not store.isdir(store.root)
    closed_port = azurite.connection_string.replace(f":{azurite.port}/", ":9/")
    secret = parse_secret("azure-connection-string", {"connection_string": closed_port})
    dead = AzureCredentials.from_secret(secret, name=None, source="env")
    unreachable = AzureArtifactStore(
        f"az://{container_name}", credentials=dead, client_kwargs={"retry_total": 0}
    )
    with pytest.raises(ArtifactStoreError, match="request failed") as info:
        unreachable.exists(f"az://{container_name}/x")
    assert "127.0.0.1:9" not in str(info.value)


def test_many_readers_and_writers_in_threads(store: AzureArtifactStore) -> None:
    payloads = {f"t/{i}.bin": os.urandom(BLOCK + i) for i in range(8)}
    threads = [threading.Thread(target=put, args=(store, uri(store, n), d)) for n, d in payloads.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(get(store, uri(store, n)) == d for n, d in payloads.items())
