"""Operations that change blobs: overwrite, copyfile, rename, remove, mkdir, makedirs, rmtree."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest
from azure.storage.blob import ContainerClient

from azcreds.artifact_store import (
    AzureArtifactStore,
)
from azcreds.credentials import AzureCredentials
from azcreds.errors import (
    ArtifactExistsError,
    ArtifactNotFoundError,
    ArtifactStoreError,
)
from azcreds.testing import AzuriteServer
from tests.artifact_store.helpers import (
    BLOCK,
    RequestCounter,
    committed_blocks,
    get,
    put,
    uri,
)

pytest_plugins = ["tests.artifact_store.fixtures"]


def test_overwrite_refused_and_allowed_for_writes(store: AzureArtifactStore, raw: ContainerClient) -> None:
    path = uri(store, "o.bin")
    put(store, path, b"first")
    put(store, path, b"second")  # "wb" replaces, like a local file
    assert get(store, path) == b"second"
    for size in (3, 3 * BLOCK):  # Put Blob and Put Block List both carry If-None-Match: *
        for mode, overwrite in (("xb", True), ("wb", False)):
            with pytest.raises(ArtifactExistsError) as info, store.open(path, mode, overwrite=overwrite) as f:
                f.write(b"z" * size)
            assert isinstance(info.value, FileExistsError)
            # overwrite=True is the remedy for "wb" only: mode "x" asked for a new file.
            assert info.value.overwritable is (mode == "wb")
            assert str(info.value).endswith("; pass overwrite=True to replace it") is (mode == "wb")
    with pytest.raises(ArtifactExistsError), store.open(path, "x") as f:
        f.write("text")
    assert get(store, path) == b"second"
    assert committed_blocks(raw, "root/o.bin") == 0
    put_new = uri(store, "fresh.bin")
    with store.open(put_new, "xb") as f:
        f.write(b"created")
    assert get(store, put_new) == b"created"


def test_overwrite_false_is_enforced_by_the_service_not_by_a_check(store: AzureArtifactStore) -> None:
    """Two exclusive writers both pass any check made at open; the service lets exactly one commit."""
    path = uri(store, "race.bin")
    writers = [store.open(path, "xb") for _ in range(2)]
    for i, w in enumerate(writers):
        w.write(bytes([i]) * (2 * BLOCK))
    outcomes = []
    for w in writers:
        try:
            w.close()
            outcomes.append("ok")
        except ArtifactExistsError:
            outcomes.append("exists")
    assert sorted(outcomes) == ["exists", "ok"]
    assert get(store, path) == b"\x00" * (2 * BLOCK)


def test_copyfile_is_server_side_and_honours_overwrite(
    store: AzureArtifactStore, counter: RequestCounter
) -> None:
    data = os.urandom(3 * BLOCK)
    put(store, uri(store, "src.bin"), data)
    counter.reset()
    store.copyfile(uri(store, "src.bin"), uri(store, "copies/dst.bin"))
    assert all(method != "GET" for method, _ in counter.requests)  # no bytes came through us
    assert any(method == "PUT" for method, _ in counter.requests)
    assert get(store, uri(store, "copies/dst.bin")) == data
    put(store, uri(store, "other.bin"), b"other")
    with pytest.raises(
        ArtifactExistsError, match=r"it already exists .*; pass overwrite=True to replace it$"
    ):
        store.copyfile(uri(store, "other.bin"), uri(store, "copies/dst.bin"))
    assert get(store, uri(store, "copies/dst.bin")) == data
    store.copyfile(uri(store, "other.bin"), uri(store, "copies/dst.bin"), overwrite=True)
    assert get(store, uri(store, "copies/dst.bin")) == b"other"
    store.makedirs(uri(store, "adir"))
    with pytest.raises(ArtifactStoreError, match="directory"):
        store.copyfile(uri(store, "adir"), uri(store, "x"))


def test_rename_moves_and_honours_overwrite(store: AzureArtifactStore) -> None:
    put(store, uri(store, "a.txt"), b"A")
    put(store, uri(store, "b.txt"), b"B")
    with pytest.raises(ArtifactExistsError):
        store.rename(uri(store, "a.txt"), uri(store, "b.txt"))
    assert get(store, uri(store, "a.txt")) == b"A"
    assert get(store, uri(store, "b.txt")) == b"B"
    store.rename(uri(store, "a.txt"), uri(store, "b.txt"), overwrite=True)
    assert not store.exists(uri(store, "a.txt"))
    assert get(store, uri(store, "b.txt")) == b"A"
    store.rename(uri(store, "b.txt"), uri(store, "moved/deeper/c.txt"))
    assert store.listdir(store.root) == ["moved"]
    store.rename(uri(store, "moved/deeper/c.txt"), uri(store, "moved/deeper/c.txt"))  # same path: no-op
    assert get(store, uri(store, "moved/deeper/c.txt")) == b"A"


def test_remove(store: AzureArtifactStore) -> None:
    put(store, uri(store, "d/f"), b"1")
    store.remove(uri(store, "d/f"))
    assert not store.exists(uri(store, "d/f"))
    assert not store.exists(uri(store, "d"))
    store.makedirs(uri(store, "e"))
    with pytest.raises(ArtifactStoreError, match="directory"):
        store.remove(uri(store, "e"))
    assert store.isdir(uri(store, "e"))


def test_mkdir_makes_an_empty_directory_everyone_sees(
    store: AzureArtifactStore, raw: ContainerClient
) -> None:
    store.mkdir(uri(store, "empty"))
    assert store.isdir(uri(store, "empty"))
    assert store.exists(uri(store, "empty"))
    assert store.listdir(store.root) == ["empty"]
    assert store.listdir(uri(store, "empty")) == []
    assert list(store.walk(store.root)) == [(store.root, ["empty"], []), (uri(store, "empty"), [], [])]
    assert store.glob(uri(store, "*")) == [uri(store, "empty")]
    assert store.stat(uri(store, "empty")).is_dir
    # The marker is ADLS Gen2's: a zero-length blob named like the directory, hdi_isfolder=true.
    props = raw.get_blob_client("root/empty").get_blob_properties()
    assert props.size == 0
    assert props.metadata == {"hdi_isfolder": "true"}
    # An existing directory is fine, as in ZenML's Azure store (which passes exist_ok=True).
    store.mkdir(uri(store, "empty"))
    assert store.listdir(uri(store, "empty")) == []
    with pytest.raises(ArtifactNotFoundError):
        store.mkdir(uri(store, "no/parent"))
    put(store, uri(store, "file"), b"f")
    with pytest.raises(ArtifactExistsError) as info:
        store.mkdir(uri(store, "file"))
    assert isinstance(info.value, FileExistsError)
    assert not info.value.overwritable
    assert "overwrite" not in str(info.value)
    assert get(store, uri(store, "file")) == b"f"
    put(store, uri(store, "implicit/x"), b"x")
    store.mkdir(uri(store, "implicit"))  # a directory already: blobs below it
    assert not raw.get_blob_client("root/implicit").exists()  # and no marker was added
    store.mkdir(uri(store, "implicit/sub"))
    assert store.listdir(uri(store, "implicit")) == ["sub", "x"]


def test_makedirs_is_idempotent_and_leaves_every_level(
    store: AzureArtifactStore, raw: ContainerClient
) -> None:
    store.makedirs(uri(store, "a/b/c"))
    store.makedirs(uri(store, "a/b/c"))
    store.makedirs(uri(store, "a/b"))
    assert store.listdir(uri(store, "a")) == ["b"]
    assert store.listdir(uri(store, "a/b/c")) == []
    store.rmtree(uri(store, "a/b/c"))
    assert store.isdir(uri(store, "a/b"))
    assert store.listdir(uri(store, "a/b")) == []
    put(store, uri(store, "f"), b"1")
    with pytest.raises(ArtifactExistsError):
        store.makedirs(uri(store, "f"))
    names = sorted(raw.list_blob_names())
    assert names == ["root", "root/a", "root/a/b", "root/f"]


def test_makedirs_creates_a_missing_container(
    creds: AzureCredentials, azurite: AzuriteServer, container_name: str
) -> None:
    store = AzureArtifactStore(f"az://{container_name}/deep/root", credentials=creds)
    assert not store.isdir(store.root)
    assert list(store.walk(store.root)) == []
    with pytest.raises(ArtifactNotFoundError, match="container"):
        store.listdir(store.root)
    store.makedirs(store.root + "/x")
    assert store.isdir(store.root)
    assert store.listdir(store.root) == ["x"]
    whole = AzureArtifactStore(f"az://{container_name}", credentials=creds)
    assert whole.listdir(whole.root) == ["deep"]


def test_rmtree_removes_everything_including_markers(store: AzureArtifactStore, raw: ContainerClient) -> None:
    store.makedirs(uri(store, "t/empty/deeper"))
    with ThreadPoolExecutor(8) as pool:  # more than one 256-blob batch
        list(pool.map(lambda i: put(store, uri(store, f"t/many/{i:03d}"), b""), range(257)))
    put(store, uri(store, "t/x.bin"), os.urandom(2 * BLOCK))
    put(store, uri(store, "keep/me"), b"1")
    put(store, uri(store, "t.txt"), b"sibling with the same prefix")
    store.rmtree(uri(store, "t"))
    assert not store.exists(uri(store, "t"))
    assert sorted(raw.list_blob_names()) == ["root", "root/keep/me", "root/t.txt"]
    with pytest.raises(ArtifactNotFoundError):
        store.rmtree(uri(store, "t"))
    with pytest.raises(ArtifactStoreError, match="not a directory"):
        store.rmtree(uri(store, "t.txt"))
    store.rmtree(store.root)
    assert store.listdir(store.root) == []
    assert store.isdir(store.root)
