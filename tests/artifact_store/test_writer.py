"""open(p, 'wb'): streamed, staged blocks, bounded memory; interrupted writes commit nothing."""

from __future__ import annotations

import gc
import hashlib
import mimetypes
import os
import tracemalloc
import warnings

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import ContainerClient

from azcreds.artifact_store import (
    AzureArtifactStore,
)
from tests.artifact_store.helpers import (
    BLOCK,
    RequestCounter,
    committed_blocks,
    get,
    put,
    uri,
)

pytest_plugins = ["tests.artifact_store.fixtures"]


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
    put(store, uri(store, "dropped-ab"), b"before")
    put(store, uri(store, "dropped-a"), b"before")
    for mode in ("wb", "w", "ab", "a"):
        f = store.open(uri(store, f"dropped-{mode}"), mode)
        f.write(b"x" * (2 * BLOCK) if mode.endswith("b") else "x" * (2 * BLOCK))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            del f
            gc.collect()
        assert any(issubclass(w.category, ResourceWarning) for w in caught)
        if mode.startswith("a"):  # an append dropped unclosed appends nothing, like a write
            assert get(store, uri(store, f"dropped-{mode}")) == b"before"
        else:
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
