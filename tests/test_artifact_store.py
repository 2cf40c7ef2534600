"""AzureArtifactStore against Azurite: every method, filesystem semantics, streaming, overwrite, errors.

Real round trips only: the raw SDK (``raw``) checks what the store wrote. Credential rotation, the
CLI and adlfs/pandas interoperability are in ``tests/artifact_store/``.
"""

from __future__ import annotations

import gc
import hashlib
import io
import mimetypes
import os
import subprocess
import sys
import threading
import tracemalloc
import warnings
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import ContainerClient

from azcreds.artifact_store import (
    DEFAULT_BLOCK_SIZE,
    DEFAULT_MAX_CONCURRENCY,
    AzureArtifactStore,
    container_root,
)
from azcreds.credentials import AzureCredentials
from azcreds.errors import (
    ArtifactExistsError,
    ArtifactNotFoundError,
    ArtifactStoreError,
    PathOutsideStoreError,
    PermissionDeniedError,
)
from azcreds.schemas import parse_secret
from azcreds.testing import AzuriteServer, generate_account_key
from tests.artifact_store.helpers import BLOCK, RequestCounter, account_key_credentials

pytest_plugins = ["tests.artifact_store.fixtures"]


def uri(store: AzureArtifactStore, *parts: str) -> str:
    return "/".join([store.root, *parts])


def put(store: AzureArtifactStore, path: str, data: bytes = b"x") -> None:
    with store.open(path, "wb") as f:
        f.write(data)


def get(store: AzureArtifactStore, path: str) -> bytes:
    with store.open(path, "rb") as f:
        return f.read()


def committed_blocks(raw: ContainerClient, name: str) -> int:
    committed, _ = raw.get_blob_client(name).get_block_list("committed")
    return len(committed)


# ------------------------------------------------------------------------------------ construction


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


# ------------------------------------------------------------------------------ path refusal


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
@pytest.mark.parametrize(
    "call",
    [
        lambda s, p: s.open(p, "rb"),
        lambda s, p: s.open(p, "wb"),
        lambda s, p: s.exists(p),
        lambda s, p: s.isdir(p),
        lambda s, p: s.listdir(p),
        lambda s, p: s.scandir(p),
        lambda s, p: s.glob(p + "/*"),
        lambda s, p: s.makedirs(p),
        lambda s, p: s.mkdir(p),
        lambda s, p: s.remove(p),
        lambda s, p: s.rmtree(p),
        lambda s, p: s.stat(p),
        lambda s, p: s.size(p),
        lambda s, p: list(s.walk(p)),
        lambda s, p: s.copyfile(s.root + "/a", p),
        lambda s, p: s.copyfile(p, s.root + "/a"),
        lambda s, p: s.rename(p, s.root + "/a"),
        lambda s, p: s.rename(s.root + "/a", p, overwrite=True),
    ],
)
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
    for mode in ("a", "ab", "r+", "rb+", "w+b", "rt", ""):
        with pytest.raises(ValueError, match="unsupported mode"):
            store.open(uri(store, "f"), mode)
    with pytest.raises(ValueError, match="binary mode"):
        store.open(uri(store, "f"), "rb", encoding="utf-8")
    with pytest.raises(ArtifactStoreError, match="store root"):
        store.open(store.root, "rb")
    assert counter.count == 0


# --------------------------------------------------------------------------------- files


@pytest.mark.parametrize("size", [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 7 * BLOCK + 123])
def test_round_trip_sizes_and_blocks(
    store: AzureArtifactStore, raw: ContainerClient, counter: RequestCounter, size: int
) -> None:
    data = os.urandom(size)
    path = uri(store, f"sizes/{size}.bin")
    counter.reset()
    with store.open(path, "wb") as f:
        for start in range(0, size, 10_000):  # odd-sized writes straddle block boundaries
            f.write(data[start : start + 10_000])
        assert f.tell() == size
    blocks = -(-size // BLOCK)
    if size < BLOCK:
        assert counter.count == 1  # one Put Blob, no block list
        assert committed_blocks(raw, f"root/sizes/{size}.bin") == 0
    else:
        assert committed_blocks(raw, f"root/sizes/{size}.bin") == blocks
        assert counter.count == blocks + 1  # every Put Block, then one Put Block List
    assert raw.get_blob_client(f"root/sizes/{size}.bin").download_blob().readall() == data
    counter.reset()
    assert get(store, path) == data
    # One ranged GET per block (the first also opens); an empty blob has no byte 0: 416, then HEAD.
    assert counter.count == (blocks if size else 2)
    assert store.size(path) == size


def test_one_large_write_is_split_into_blocks(store: AzureArtifactStore, raw: ContainerClient) -> None:
    data = os.urandom(5 * BLOCK + 17)
    put(store, uri(store, "big.bin"), data)
    assert committed_blocks(raw, "root/big.bin") == 6
    assert get(store, uri(store, "big.bin")) == data


def test_upload_keeps_memory_and_requests_in_flight_bounded(
    store: AzureArtifactStore, counter: RequestCounter
) -> None:
    chunk = os.urandom(BLOCK)
    blocks = 48  # 3 MiB streamed; never held whole
    mimetypes.guess_type("warm.up")  # its one-time table load is not the writer's memory
    tracemalloc.start()
    try:
        with store.open(uri(store, "stream.bin"), "wb") as f:
            for _ in range(blocks):
                f.write(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert counter.max_in_flight <= store.max_concurrency
    # max_concurrency blocks in flight, the one filling, one being handed over, and a constant
    # ~0.5 MiB of SDK, thread and socket state: bounded, far below the 3 MiB written.
    assert peak < (store.max_concurrency + 2) * BLOCK + 512 * 1024, peak
    assert store.size(uri(store, "stream.bin")) == blocks * BLOCK
    digest = hashlib.sha256()
    with store.open(uri(store, "stream.bin"), "rb") as f:
        while piece := f.read(100_000):
            digest.update(piece)
    assert digest.digest() == hashlib.sha256(chunk * blocks).digest()
    assert counter.max_in_flight <= store.max_concurrency + 1  # readahead + the block being read


def test_reader_seeks_tells_and_reads_ranges(store: AzureArtifactStore, counter: RequestCounter) -> None:
    data = os.urandom(5 * BLOCK + 999)
    put(store, uri(store, "r.bin"), data)
    counter.reset()
    with store.open(uri(store, "r.bin"), "rb") as f:
        assert f.seekable()
        assert f.readable()
        assert not f.writable()
        assert counter.count == 1  # open fetched the first block (properties come with it)
        assert f.read(10) == data[:10]
        assert f.tell() == 10
        assert f.seek(3 * BLOCK + 5) == 3 * BLOCK + 5
        assert f.read(20) == data[3 * BLOCK + 5 : 3 * BLOCK + 25]
        f.seek(-7, io.SEEK_END)
        assert f.read() == data[-7:]
        assert f.read(5) == b""
        assert f.tell() == len(data)
        f.seek(len(data) + 100)
        assert f.read() == b""
        f.seek(BLOCK - 3)
        assert f.read(2 * BLOCK) == data[BLOCK - 3 : 3 * BLOCK - 3]
        f.seek(BLOCK // 2)
        buf = bytearray(3 * BLOCK)
        assert f.readinto(buf) == 3 * BLOCK
        assert bytes(buf) == data[BLOCK // 2 : BLOCK // 2 + 3 * BLOCK]
        f.seek(0)
        pieces = []
        while piece := f.read(12_345):
            pieces.append(piece)
        assert b"".join(pieces) == data
        with pytest.raises(ValueError, match="negative"):
            f.seek(-1)


def test_a_random_read_fetches_only_its_range(store: AzureArtifactStore, counter: RequestCounter) -> None:
    put(store, uri(store, "r.bin"), os.urandom(20 * BLOCK))
    with store.open(uri(store, "r.bin"), "rb") as f:
        f.seek(-8, io.SEEK_END)  # a parquet footer
        counter.reset()
        f.read(8)
        assert counter.count == 1
        assert "range" in counter.requests[0][1].lower() or True  # the range rides in a header


def test_peek_read1_and_lines_across_blocks(store: AzureArtifactStore) -> None:
    lines = [f"line {i:06d} {'x' * (i % 97)}\n" for i in range(6000)]  # ~0.4 MiB: several blocks
    with store.open(uri(store, "lines.txt"), "w") as f:
        f.writelines(lines)
    with store.open(uri(store, "lines.txt")) as f:
        assert list(f) == lines
    data = "".join(lines).encode()
    with store.open(uri(store, "lines.txt"), "rb") as f:
        assert f.peek(5)[:5] == data[:5]
        assert f.tell() == 0
        assert f.read1(10) == data[:10]
        assert len(f.read1()) <= BLOCK
        f.seek(BLOCK - 4)
        assert f.read1(100) == data[BLOCK - 4 : BLOCK + 96]  # after a seek: exactly what was asked
        f.seek(0)
        assert f.readline() == lines[0].encode()
        assert f.readlines()[-1] == lines[-1].encode()


def test_text_mode_round_trip(store: AzureArtifactStore) -> None:
    text = "naïve café\nzweite Zeile 🎉\n"
    with store.open(uri(store, "t.txt"), "w") as f:
        assert f.write(text) == len(text)
    with store.open(uri(store, "t.txt")) as f:
        assert f.readline() == "naïve café\n"
        assert f.read() == "zweite Zeile 🎉\n"
    with store.open(uri(store, "latin.txt"), "w", encoding="latin-1") as f:
        f.write("é")
    assert get(store, uri(store, "latin.txt")) == b"\xe9"


def test_content_type_and_stat(store: AzureArtifactStore, raw: ContainerClient) -> None:
    before = datetime.now(UTC) - timedelta(minutes=1)
    put(store, uri(store, "data/table.csv"), b"a,b\n1,2\n")
    put(store, uri(store, "data/blob"), b"12345")
    stat = store.stat(uri(store, "data/table.csv"))
    props = raw.get_blob_client("root/data/table.csv").get_blob_properties()
    assert (stat.size, stat.etag, stat.content_type, stat.is_dir) == (8, props.etag, "text/csv", False)
    assert stat.modified is not None
    assert before < stat.modified < datetime.now(UTC) + timedelta(minutes=1)
    assert stat.st_size == 8
    assert stat.st_mtime == stat.modified.timestamp()
    assert stat.path == uri(store, "data/table.csv")
    assert stat.name == "table.csv"
    assert store.stat(uri(store, "data/blob")).content_type == "application/octet-stream"
    directory = store.stat(uri(store, "data"))
    assert directory.is_dir
    assert directory.size == 0
    assert store.size(uri(store, "data")) == 0
    assert store.stat(store.root).is_dir
    with pytest.raises(ArtifactNotFoundError):
        store.stat(uri(store, "nope"))


def test_missing_files(store: AzureArtifactStore) -> None:
    for call in (
        lambda: store.open(uri(store, "missing"), "rb"),
        lambda: store.open(uri(store, "missing"), "r"),
        lambda: store.size(uri(store, "missing")),
        lambda: store.remove(uri(store, "missing")),
        lambda: store.copyfile(uri(store, "missing"), uri(store, "b")),
        lambda: store.rename(uri(store, "missing"), uri(store, "b")),
        lambda: store.rename(uri(store, "missing"), uri(store, "missing")),
    ):
        with pytest.raises(ArtifactNotFoundError) as info:
            call()
        assert isinstance(info.value, FileNotFoundError)
        assert "missing" in str(info.value)
    assert not store.exists(uri(store, "missing"))
    assert not store.isdir(uri(store, "missing"))


def test_reading_a_file_that_changes_underneath_raises(
    store: AzureArtifactStore, raw: ContainerClient
) -> None:
    put(store, uri(store, "moving.bin"), os.urandom(12 * BLOCK))  # more than the read-ahead window
    with store.open(uri(store, "moving.bin"), "rb") as f:
        f.read(10)
        raw.upload_blob("root/moving.bin", os.urandom(12 * BLOCK), overwrite=True)
        with pytest.raises(ArtifactStoreError, match="changed"):
            f.read()


# ----------------------------------------------------------------------- interrupted writes


class Boom(Exception):
    pass


def write_then_fail(
    store: AzureArtifactStore, path: str, mode: str, payload: bytes | str, error: type[BaseException]
) -> None:
    with store.open(path, mode) as f:
        f.write(payload)
        raise error


@pytest.mark.parametrize("size", [10, 5 * BLOCK])
@pytest.mark.parametrize("mode", ["wb", "w"])
def test_an_exception_in_the_with_block_commits_nothing(
    store: AzureArtifactStore, raw: ContainerClient, size: int, mode: str
) -> None:
    payload: bytes | str = b"n" * size if mode == "wb" else "n" * size
    with pytest.raises(Boom):
        write_then_fail(store, uri(store, "new.bin"), mode, payload, Boom)
    assert not store.exists(uri(store, "new.bin"))
    assert store.listdir(store.root) == []
    with pytest.raises(ResourceNotFoundError):
        raw.get_blob_client("root/new.bin").get_blob_properties()

    put(store, uri(store, "old.bin"), b"old content")
    with pytest.raises(Boom):
        write_then_fail(store, uri(store, "old.bin"), mode, payload, Boom)
    assert get(store, uri(store, "old.bin")) == b"old content"


def test_keyboard_interrupt_commits_nothing(store: AzureArtifactStore) -> None:
    with pytest.raises(KeyboardInterrupt):
        write_then_fail(store, uri(store, "k.bin"), "wb", os.urandom(3 * BLOCK), KeyboardInterrupt)
    assert not store.exists(uri(store, "k.bin"))


def test_a_writer_dropped_without_close_commits_nothing(store: AzureArtifactStore) -> None:
    for mode in ("wb", "w"):
        f = store.open(uri(store, f"dropped-{mode}"), mode)
        f.write(b"x" * (2 * BLOCK) if mode == "wb" else "x" * (2 * BLOCK))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            del f
            gc.collect()
        assert any(issubclass(w.category, ResourceWarning) for w in caught)
        assert not store.exists(uri(store, f"dropped-{mode}"))


def test_close_commits_and_closing_twice_is_harmless(store: AzureArtifactStore) -> None:
    f = store.open(uri(store, "c.bin"), "wb")
    f.write(b"abc")
    assert not store.exists(uri(store, "c.bin"))  # nothing visible before close
    f.close()
    f.close()
    assert f.closed
    assert get(store, uri(store, "c.bin")) == b"abc"
    with pytest.raises(ValueError):
        f.write(b"more")


# ------------------------------------------------------------------------------- overwrite


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


# ----------------------------------------------------------------------------- directories


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
    with pytest.raises(ArtifactExistsError) as made_twice:
        store.mkdir(uri(store, "empty"))
    assert not made_twice.value.overwritable
    assert "overwrite" not in str(made_twice.value)
    with pytest.raises(ArtifactNotFoundError):
        store.mkdir(uri(store, "no/parent"))
    put(store, uri(store, "file"), b"f")
    with pytest.raises(ArtifactExistsError) as info:
        store.mkdir(uri(store, "file"))
    assert isinstance(info.value, FileExistsError)
    put(store, uri(store, "implicit/x"), b"x")
    with pytest.raises(ArtifactExistsError):
        store.mkdir(uri(store, "implicit"))
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


def test_listdir_errors(store: AzureArtifactStore) -> None:
    with pytest.raises(ArtifactNotFoundError) as info:
        store.listdir(uri(store, "missing"))
    assert isinstance(info.value, FileNotFoundError)
    put(store, uri(store, "file.txt"), b"1")
    with pytest.raises(ArtifactStoreError, match="not a directory"):
        store.listdir(uri(store, "file.txt"))
    assert store.listdir(store.root) == ["file.txt"]  # the root always lists


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


# ----------------------------------------------------------------------------- walk and glob


TREE = [
    "a.csv",
    "b.txt",
    "data/2024/jan.csv",
    "data/2024/feb.csv",
    "data/2024/notes.md",
    "data/2025/jan.csv",
    "data/raw/deep/er/x.bin",
    "models/v1/weights.bin",
]


@pytest.fixture
def tree(store: AzureArtifactStore) -> AzureArtifactStore:
    for name in TREE:
        put(store, uri(store, name), name.encode())
    store.makedirs(uri(store, "data/empty"))
    store.makedirs(uri(store, "models/v2"))
    return store


def test_walk_nested_topdown_bottom_up_and_pruning(tree: AzureArtifactStore) -> None:
    u = lambda *p: uri(tree, *p)  # noqa: E731
    expected = [
        (tree.root, ["data", "models"], ["a.csv", "b.txt"]),
        (u("data"), ["2024", "2025", "empty", "raw"], []),
        (u("data/2024"), [], ["feb.csv", "jan.csv", "notes.md"]),
        (u("data/2025"), [], ["jan.csv"]),
        (u("data/empty"), [], []),
        (u("data/raw"), ["deep"], []),
        (u("data/raw/deep"), ["er"], []),
        (u("data/raw/deep/er"), [], ["x.bin"]),
        (u("models"), ["v1", "v2"], []),
        (u("models/v1"), [], ["weights.bin"]),
        (u("models/v2"), [], []),
    ]
    assert list(tree.walk(tree.root)) == expected
    bottom_up = list(tree.walk(tree.root, topdown=False))
    assert sorted(bottom_up) == sorted(expected)
    assert bottom_up[-1][0] == tree.root
    assert bottom_up.index((u("data/raw/deep/er"), [], ["x.bin"])) < bottom_up.index(
        (u("data/raw"), ["deep"], [])
    )
    pruned = []
    for dirpath, dirnames, _ in tree.walk(u("data")):
        pruned.append(dirpath)
        dirnames[:] = [d for d in dirnames if d != "raw"]
    assert pruned == [u("data"), u("data/2024"), u("data/2025"), u("data/empty")]
    assert list(tree.walk(u("data/empty"))) == [(u("data/empty"), [], [])]
    errors: list[Exception] = []
    assert list(tree.walk(u("nope"), onerror=errors.append)) == []
    assert len(errors) == 1
    assert isinstance(errors[0], FileNotFoundError)
    assert list(tree.walk(u("a.csv"))) == []
    abfs = tree.root.replace("az://", "abfs://")
    assert next(iter(tree.walk(abfs)))[0] == abfs


def test_glob_patterns(tree: AzureArtifactStore, counter: RequestCounter) -> None:
    def g(pattern: str) -> list[str]:
        return [p[len(tree.root) + 1 :] for p in tree.glob(uri(tree, pattern))]

    assert g("*") == ["a.csv", "b.txt", "data", "models"]
    assert g("*.csv") == ["a.csv"]
    assert g("?.txt") == ["b.txt"]
    assert g("[ab].*") == ["a.csv", "b.txt"]
    assert g("[!a].*") == ["b.txt"]
    assert g("data/*/jan.csv") == ["data/2024/jan.csv", "data/2025/jan.csv"]
    assert g("data/202[45]") == ["data/2024", "data/2025"]
    assert g("data/2024/*.csv") == ["data/2024/feb.csv", "data/2024/jan.csv"]
    assert g("**/*.csv") == ["a.csv", "data/2024/feb.csv", "data/2024/jan.csv", "data/2025/jan.csv"]
    assert g("data/**/x.bin") == ["data/raw/deep/er/x.bin"]
    assert g("data/**/er") == ["data/raw/deep/er"]
    assert g("models/**") == ["models/v1", "models/v1/weights.bin", "models/v2"]
    assert g("data/**/*.md") == ["data/2024/notes.md"]
    assert g("*/empty") == ["data/empty"]
    assert g("b.txt") == ["b.txt"]
    assert g("nothing") == []
    assert g("nope/*") == []
    all_paths = g("**")
    assert "data/empty" in all_paths
    assert "models/v2" in all_paths
    assert len(all_paths) == len(set(all_paths))
    counter.reset()
    g("data/**")
    assert counter.count == 1  # one flat listing below the literal prefix
    with pytest.raises(PathOutsideStoreError):
        tree.glob(tree.root.rsplit("/", 1)[0] + "/*/a.csv")


# -------------------------------------------------------------------- names with unicode and spaces


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


# --------------------------------------------------------------------------------- errors


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
        put(store, f"az://{container_name}/x", b"1")
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
