"""What ZenML's BaseArtifactStore callers expect of the store (issue 12), against Azurite.

A fresh container (exists/isdir False, created by the first write), bytes paths, mkdir of an
existing directory, append mode for step logs, and what size/stat/glob/walk return.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient, ContainerClient

from azcreds.artifact_store import AzureArtifactStore
from azcreds.credentials import AzureCredentials
from azcreds.errors import ArtifactExistsError, ArtifactStoreError, PathOutsideStoreError
from azcreds.testing import AzuriteServer
from tests.artifact_store.helpers import BLOCK, get, put, uri

pytest_plugins = ["tests.artifact_store.fixtures"]


@pytest.fixture
def fresh(
    creds: AzureCredentials, azurite: AzuriteServer, container_name: str
) -> Iterator[tuple[AzureArtifactStore, ContainerClient]]:
    """A store rooted in a container that does not exist yet, and the raw SDK's view of it."""
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    raw = service.get_container_client(container_name)
    assert not raw.exists()
    with AzureArtifactStore(f"az://{container_name}/zenml", credentials=creds, block_size=BLOCK) as store:
        yield store, raw
    service.close()


def test_a_fresh_container_is_absent_until_the_first_write_creates_it(
    fresh: tuple[AzureArtifactStore, ContainerClient],
) -> None:
    store, raw = fresh
    inside = uri(store, "runs/step/output")
    for path in (store.root, inside, uri(store, "runs")):
        assert store.exists(path) is False
        assert store.isdir(path) is False
    assert store.glob(uri(store, "runs/*")) == []
    assert not raw.exists()  # asking created nothing
    with store.open(inside, "wb") as f:  # ZenML creates nothing first: the write must
        f.write(b"artifact")
    assert raw.exists()
    assert raw.get_blob_client("zenml/runs/step/output").download_blob().readall() == b"artifact"
    assert store.isdir(uri(store, "runs"))
    assert store.exists(inside)


def test_a_multi_block_first_write_and_a_text_write_create_the_container_too(
    creds: AzureCredentials, azurite: AzuriteServer, container_name: str
) -> None:
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    data = os.urandom(3 * BLOCK + 5)
    with AzureArtifactStore(f"az://{container_name}", credentials=creds, block_size=BLOCK) as store:
        with store.open(f"az://{container_name}/big.bin", "wb") as f:  # Put Block finds no container
            f.write(data)
        assert get(store, f"az://{container_name}/big.bin") == data
    raw = service.get_container_client(container_name)
    committed, _ = raw.get_blob_client("big.bin").get_block_list("committed")
    assert len(committed) == 4
    raw.delete_container()
    with AzureArtifactStore(f"az://{container_name}/p", credentials=creds) as store:
        with store.open(f"az://{container_name}/p/t.txt", "w") as t:
            t.write("text")
        assert get(store, f"az://{container_name}/p/t.txt") == b"text"
    service.close()


def test_nothing_is_committed_when_a_first_write_raises(
    fresh: tuple[AzureArtifactStore, ContainerClient],
) -> None:
    store, _ = fresh

    def failing_step() -> None:
        with store.open(uri(store, "x"), "wb") as f:
            f.write(b"partial")
            raise RuntimeError("step failed")

    with pytest.raises(RuntimeError):
        failing_step()
    assert not store.exists(uri(store, "x"))


def test_every_method_takes_bytes_paths(store: AzureArtifactStore) -> None:
    def b(path: str) -> bytes:
        return uri(store, path).encode()

    with store.open(b("d/f.txt"), "wb") as f:
        f.write(b"one")
    with store.open(b("d/f.txt"), "rb") as r:
        assert r.read() == b"one"
    assert store.exists(b("d/f.txt"))
    assert store.isdir(b("d"))
    assert store.listdir(b("d")) == ["f.txt"]
    assert store.glob(b("d/*.txt")) == [uri(store, "d/f.txt")]
    assert store.size(b("d/f.txt")) == 3
    assert store.stat(b("d/f.txt")).st_size == 3
    assert list(store.walk(b("d"))) == [(uri(store, "d"), [], ["f.txt"])]
    store.copyfile(b("d/f.txt"), b("d/g.txt"))
    store.rename(b("d/g.txt"), b("d/h.txt"))
    store.mkdir(b("d/m"))
    store.makedirs(b("d/n/o"))
    assert store.listdir(uri(store, "d")) == ["f.txt", "h.txt", "m", "n"]
    store.remove(b("d/h.txt"))
    store.rmtree(b("d/n"))
    assert store.listdir(b("d")) == ["f.txt", "m"]
    with pytest.raises(PathOutsideStoreError, match="not valid UTF-8"):
        store.exists(b"az://" + store.container.encode() + b"/root/\xff")
    with pytest.raises(PathOutsideStoreError, match="outside the store root"):
        store.exists(b"az://othercontainer/x")


def test_mkdir_of_an_existing_directory_is_a_no_op_but_a_file_is_refused(
    fresh: tuple[AzureArtifactStore, ContainerClient],
) -> None:
    store, _ = fresh
    store.mkdir(uri(store, "logs"))  # its parent is the root, in a container that did not exist
    store.mkdir(uri(store, "logs"))
    store.makedirs(uri(store, "logs"))
    assert store.isdir(uri(store, "logs"))
    assert store.listdir(uri(store, "logs")) == []
    put(store, uri(store, "logs/a.log"), b"a")
    store.mkdir(uri(store, "logs"))
    with pytest.raises(ArtifactExistsError, match="a file is there"):
        store.mkdir(uri(store, "logs/a.log"))
    assert get(store, uri(store, "logs/a.log")) == b"a"


def test_append_mode_adds_to_the_blob_and_commits_nothing_on_an_exception(
    fresh: tuple[AzureArtifactStore, ContainerClient],
) -> None:
    store, _ = fresh
    log = uri(store, "logs/step.log")
    with store.open(log, "a") as f:  # no blob, no container: both are created
        f.write('{"message": "one"}\n')
    with store.open(log, "a") as f:
        f.write('{"message": "two"}\n')
    with store.open(log, "ab") as fb:
        fb.write(b'{"message": "three"}\n')

    def interrupted() -> None:
        with store.open(log, "a") as f:
            f.write("lost\n")
            raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        interrupted()
    with store.open(log, "r") as r:
        assert r.read().splitlines() == ['{"message": "one"}', '{"message": "two"}', '{"message": "three"}']
    store.makedirs(uri(store, "dir"))
    appender = store.open(uri(store, "dir"), "a")
    appender.write("x")
    with pytest.raises(ArtifactStoreError, match="it is a directory"):
        appender.close()


def test_an_append_that_loses_a_race_reads_again_instead_of_overwriting(
    store: AzureArtifactStore, raw: ContainerClient, creds: AzureCredentials
) -> None:
    log = uri(store, "race.log")
    put(store, log, b"first\n")
    writes = 0

    def another_writer_between_our_read_and_write(request: Any) -> None:
        nonlocal writes
        if request.http_request.method == "PUT":
            writes += 1
            if writes == 1:  # the other writer appends after we read: our If-Match must fail
                blob = raw.get_blob_client("root/race.log")
                blob.upload_blob(blob.download_blob().readall() + b"theirs\n", overwrite=True)

    hooked = {"raw_request_hook": another_writer_between_our_read_and_write}
    racing = AzureArtifactStore(store.root, credentials=creds, client_kwargs=hooked)
    with racing, racing.open(log, "ab") as f:
        f.write(b"mine\n")
    assert writes == 2  # the refused conditional write, then the one after reading again
    assert get(store, log) == b"first\ntheirs\nmine\n"


def test_size_stat_glob_and_walk_give_what_zenml_callers_use(store: AzureArtifactStore) -> None:
    put(store, uri(store, "a/1.bin"), b"12345")
    put(store, uri(store, "a/b/2.bin"), b"12")
    assert store.size(uri(store, "a/1.bin")) == 5
    stat = store.stat(uri(store, "a/1.bin"))
    assert (stat.st_size, stat.is_dir) == (5, False)
    assert stat.st_mtime > 0
    assert store.stat(uri(store, "a")).is_dir
    assert store.glob(uri(store, "a/**/*.bin")) == [uri(store, "a/1.bin"), uri(store, "a/b/2.bin")]
    assert store.glob(uri(store, "a/*/*.bin")) == [uri(store, "a/b/2.bin")]
    assert store.glob(uri(store, "a/*")) == [uri(store, "a/1.bin"), uri(store, "a/b")]
    assert list(store.walk(uri(store, "a"))) == [
        (uri(store, "a"), ["b"], ["1.bin"]),
        (uri(store, "a/b"), [], ["2.bin"]),
    ]
