"""Keyring paths that cannot be used: each one a typed outcome, in the store, the chain and the CLI.

A missing file is a miss (docs/keyring.md). A path that is a folder, a dangling or looping
symbolic link, a FIFO or other non-file, or that sits under a file is StorePathError (bad input:
exit 2); an empty or truncated file is StoreCorruptedError (exit 1).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from azcreds import (
    KeyringStore,
    ResolverFailedError,
    StoreCorruptedError,
    StorePathError,
    clear_cache,
    explain_resolution,
    parse_secret,
    resolve_credentials,
)
from tests.cli.helpers import Cli

PASSPHRASE = "keyring paths passphrase"
SECRET = parse_secret("azure", {"account_name": "acct"})


def dangling(tmp: Path) -> Path:
    (tmp / "link").symlink_to(tmp / "nowhere" / "keyring.azcv")
    return tmp / "link"


def looping(tmp: Path) -> Path:
    (tmp / "a").symlink_to(tmp / "b")
    (tmp / "b").symlink_to(tmp / "a")
    return tmp / "a"


def folder(tmp: Path) -> Path:
    (tmp / "dir").mkdir()
    return tmp / "dir"


def under_a_file(tmp: Path) -> Path:
    (tmp / "file").write_bytes(b"")
    return tmp / "file" / "keyring.azcv"


def fifo(tmp: Path) -> Path:
    os.mkfifo(tmp / "fifo")  # opening it for reading would wait for a writer forever
    return tmp / "fifo"


BAD_PATHS: list[tuple[Callable[[Path], Path], str]] = [
    (dangling, "symbolic link"),
    (looping, "symbolic link"),
    (folder, "folder"),
    (under_a_file, "not a folder"),
    (fifo, "not a regular file"),
]
IDS = [f.__name__ for f, _ in BAD_PATHS]


@pytest.fixture
def use_path(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], None]:
    def set_path(path: Path) -> None:
        monkeypatch.setenv("AZCREDS_KEYRING_PATH", str(path))
        monkeypatch.setenv("AZCREDS_KEYRING_PASSPHRASE", PASSPHRASE)
        clear_cache()

    return set_path


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize(("make", "expect"), BAD_PATHS, ids=IDS)
def test_unusable_paths_are_store_path_errors(
    tmp_path: Path, use_path: Callable[[Path], None], make: Callable[[Path], Path], expect: str
) -> None:
    path = make(tmp_path)
    use_path(path)
    before = listing(tmp_path)
    with pytest.raises(StorePathError) as info:
        resolve_credentials("x")
    assert isinstance(info.value, ResolverFailedError)  # it stops the chain: not a silent miss
    assert str(path) in str(info.value)
    assert expect in str(info.value)
    res = explain_resolution("x")
    assert [(a.source, a.outcome) for a in res.attempts] == [("env", "miss"), ("keyring", "failed")]
    store = KeyringStore()
    for call in (
        store.list,
        lambda: store.get("x"),
        lambda: store.register("x", SECRET),
        lambda: store.update("x", account_name="other"),
        lambda: store.delete("x"),
        store.create,
        store.exists,
        store.header,
    ):
        with pytest.raises(StorePathError, match=expect):
            call()
    assert listing(tmp_path) == before, "nothing may be created, replaced or removed"


def test_an_empty_path_argument_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StorePathError, match="empty"):
        KeyringStore("")


def test_a_missing_file_is_still_a_miss_even_in_a_missing_folder(
    tmp_path: Path, use_path: Callable[[Path], None]
) -> None:
    use_path(tmp_path / "not" / "yet" / "keyring.azcv")
    res = explain_resolution("x")
    assert [(a.source, a.outcome) for a in res.attempts][:2] == [("env", "miss"), ("keyring", "miss")]
    assert KeyringStore().list() == []
    KeyringStore().register("x", SECRET)  # and the first write creates it
    assert resolve_credentials("x").source == "keyring"


def test_a_symlink_to_a_keyring_file_is_followed_for_reading(
    tmp_path: Path, use_path: Callable[[Path], None]
) -> None:
    real = tmp_path / "real.azcv"
    KeyringStore(real, passphrase=PASSPHRASE).register("x", SECRET)
    (tmp_path / "link").symlink_to(real)
    use_path(tmp_path / "link")
    assert resolve_credentials("x").source == "keyring"


@pytest.mark.parametrize("size", [0, 1, 39, 100])
def test_empty_and_truncated_files_are_corruption(
    tmp_path: Path, use_path: Callable[[Path], None], size: int
) -> None:
    real = tmp_path / "k.azcv"
    KeyringStore(real, passphrase=PASSPHRASE).register("x", SECRET)
    real.write_bytes(real.read_bytes()[:size])
    use_path(real)
    with pytest.raises(StoreCorruptedError, match="corrupted"):
        resolve_credentials("x")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_an_unreadable_file_is_permission_denied(tmp_path: Path, use_path: Callable[[Path], None]) -> None:
    from azcreds import PermissionDeniedError

    real = tmp_path / "k.azcv"
    KeyringStore(real, passphrase=PASSPHRASE).register("x", SECRET)
    real.chmod(0)
    use_path(real)
    with pytest.raises(PermissionDeniedError, match=str(real)):
        resolve_credentials("x")


# ------------------------------------------------------------------------------ the CLI


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setenv("COLUMNS", "80")
    return Cli(capsys, monkeypatch)


@pytest.mark.parametrize(("make", "expect"), BAD_PATHS, ids=IDS)
@pytest.mark.parametrize(
    "command",
    [
        ["resolve", "x"],
        ["secret", "list"],
        ["secret", "get", "x"],
        ["secret", "register", "x", "--schema", "azure", "--account_name=acct"],
        ["keyring", "status"],
        ["keyring", "init"],
    ],
    ids=["resolve", "list", "get", "register", "status", "init"],
)
def test_cli_exits_2_naming_the_path(
    cli: Cli,
    tmp_path: Path,
    use_path: Callable[[Path], None],
    make: Callable[[Path], Path],
    expect: str,
    command: list[str],
) -> None:
    path = make(tmp_path)
    use_path(path)
    line = cli(*command).assert_clean_error(2)
    assert str(path) in line
    assert expect in line
    assert "unexpected" not in line


def test_cli_empty_keyring_path_setting_exits_2(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZCREDS_KEYRING_PATH", "")
    line = cli("resolve", "x").assert_clean_error(2)
    assert "AZCREDS_KEYRING_PATH" in line
