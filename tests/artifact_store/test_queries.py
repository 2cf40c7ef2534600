"""Read-only operations: stat, exists, listdir, walk and glob."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from azure.storage.blob import ContainerClient

from azcreds.artifact_store import (
    AzureArtifactStore,
)
from azcreds.errors import (
    ArtifactNotFoundError,
    ArtifactStoreError,
    PathOutsideStoreError,
)
from tests.artifact_store.helpers import RequestCounter, put, uri

pytest_plugins = ["tests.artifact_store.fixtures"]


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


def test_listdir_errors(store: AzureArtifactStore) -> None:
    with pytest.raises(ArtifactNotFoundError) as info:
        store.listdir(uri(store, "missing"))
    assert isinstance(info.value, FileNotFoundError)
    put(store, uri(store, "file.txt"), b"1")
    with pytest.raises(ArtifactStoreError, match="not a directory"):
        store.listdir(uri(store, "file.txt"))
    assert store.listdir(store.root) == ["file.txt"]  # the root always lists


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
