"""``azcreds store ls | put | get | rm`` against Azurite, through ``azcreds.cli.main``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from azure.storage.blob import ContainerClient

from azcreds.cli import cmd_store
from azcreds.testing import AzuriteServer
from tests.artifact_store.helpers import BLOCK, StoreCli
from tests.cli.helpers import child_env, run_in_pty

pytest_plugins = ["tests.artifact_store.fixtures"]


@pytest.fixture
def cli(
    capsysbinary: pytest.CaptureFixture[bytes],
    monkeypatch: pytest.MonkeyPatch,
    azurite: AzuriteServer,
    raw: ContainerClient,
) -> StoreCli:
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    for name in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)
    return StoreCli(capsysbinary, monkeypatch)


def test_put_ls_get_rm_round_trip(cli: StoreCli, container_name: str, tmp_path: Path) -> None:
    base = f"az://{container_name}"
    local = tmp_path / "model file.bin"
    data = os.urandom(3 * BLOCK + 7)
    local.write_bytes(data)

    put = cli("store", "put", str(local), f"{base}/models/")
    assert put.code == 0, put.err
    assert put.out == f"uploaded {len(data)} bytes to {base}/models/model file.bin\n"
    assert put.err == ""  # not a terminal: no progress bar

    assert cli("store", "ls", base).out == "models/\n"
    assert cli("store", "ls", f"{base}/models").out == "model file.bin\n"
    long = cli("store", "ls", "-l", f"{base}/models/model file.bin").out
    assert long.split()[0] == str(len(data))
    assert long.rstrip().endswith(f"{base}/models/model file.bin")
    listing = json.loads(cli("store", "ls", "--json", f"{base}/models").out)
    assert [(e["name"], e["type"], e["size"]) for e in listing] == [("model file.bin", "file", len(data))]

    target = tmp_path / "out"
    target.mkdir()
    got = cli("store", "get", f"{base}/models/model file.bin", str(target))
    assert got.code == 0, got.err
    assert (target / "model file.bin").read_bytes() == data
    assert sorted(p.name for p in target.iterdir()) == ["model file.bin"]  # no partial file left

    assert cli("store", "rm", f"{base}/models/model file.bin").out.startswith("removed ")
    assert cli("store", "ls", base).out == ""


def test_stdin_and_stdout(cli: StoreCli, container_name: str) -> None:
    uri = f"az://{container_name}/from-stdin.txt"
    assert cli("store", "put", "-", uri, stdin=b"piped bytes\n").code == 0
    got = cli("store", "get", uri, "-")
    assert (got.code, cli.stdout_bytes) == (0, b"piped bytes\n")


def test_overwrite_is_refused_unless_asked_for(cli: StoreCli, container_name: str, tmp_path: Path) -> None:
    uri = f"az://{container_name}/x.txt"
    local = tmp_path / "x.txt"
    local.write_bytes(b"one")
    assert cli("store", "put", str(local), uri).code == 0
    local.write_bytes(b"two")
    line = cli("store", "put", str(local), uri).assert_clean_error(2)
    assert line.endswith(": it already exists (HTTP 409 BlobAlreadyExists); use --overwrite to replace it"), (
        line
    )
    assert "overwrite was not given" not in line
    assert cli("store", "put", "--overwrite", str(local), uri).code == 0
    line = cli("store", "get", uri, str(local)).assert_clean_error(2)
    assert "exists" in line
    local.unlink()
    assert cli("store", "get", uri, str(local)).code == 0
    assert local.read_bytes() == b"two"


def test_rm_directories(cli: StoreCli, container_name: str, raw: ContainerClient) -> None:
    for name in ("d/a", "d/sub/b"):
        raw.upload_blob(name, b"1")
    line = cli("store", "rm", f"az://{container_name}/d").assert_clean_error(2)
    assert "--recursive" in line
    assert cli("store", "rm", "-r", f"az://{container_name}/d").code == 0
    assert list(raw.list_blob_names()) == []
    cli("store", "rm", "-r", f"az://{container_name}").assert_clean_error(2)


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (("store", "ls", "az://{c}/missing"), 1, "no such file or directory"),
        (("store", "get", "az://{c}/missing", "{tmp}/m"), 1, "no such file or directory"),
        (("store", "rm", "az://{c}/missing"), 1, "no such file"),
        (("store", "ls", "https://acct.blob.core.windows.net/{c}?sig=SECRETSIG"), 2, "az://container/path"),
        (("store", "ls", "az://{c}/../other/x"), 2, "climbs above its container"),
        (("store", "ls", "az://NO/x"), 2, "container name"),
        (("store", "put", "{tmp}/nope", "az://{c}/x"), 2, "no such file"),
        (("store", "put", "{tmp}", "az://{c}/x"), 2, "is a directory"),
        (("store", "get", "az://{c}/x", "{tmp}/no/such/dir/f"), 2, "no such directory"),
        (("store", "ls", "az://{c}", "--secret", "bad name!"), 2, "name"),
        (("store", "ls", "az://{c}", "--secret", "unknown"), 1, "not found"),
    ],
)
def test_errors_are_one_line_with_the_right_exit_code(
    cli: StoreCli, container_name: str, tmp_path: Path, args: tuple[str, ...], code: int, needle: str
) -> None:
    result = cli(*(a.format(c=container_name, tmp=tmp_path) for a in args))
    line = result.assert_clean_error(code)
    assert needle in line
    assert "SECRETSIG" not in line


def test_named_secret_and_no_secret_in_output(
    cli: StoreCli, azurite: AzuriteServer, container_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING")
    monkeypatch.setenv("AZCREDS_CLI_STORE__CONNECTION_STRING", azurite.connection_string)
    uri = f"az://{container_name}/s.txt"
    results = [
        cli("store", "put", "-", uri, "--secret", "cli_store", stdin=b"1"),
        cli("store", "ls", "-l", f"az://{container_name}", "-s", "cli_store"),
        cli("store", "ls", f"az://{container_name}"),  # no implicit credentials now
    ]
    assert [r.code for r in results] == [0, 0, 1]
    for result in results:
        result.assert_no_secret(azurite.account_key)


def test_progress_bar_only_on_a_terminal(
    azurite: AzuriteServer, raw: ContainerClient, tmp_path: Path
) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(cmd_store.PROGRESS_THRESHOLD + 1))
    env = child_env(AZURE_STORAGE_CONNECTION_STRING=azurite.connection_string, COLUMNS="100")
    uri = f"az://{raw.container_name}/big.bin"
    code, output = run_in_pty(
        [sys.executable, "-m", "azcreds", "store", "put", str(big), uri], env=env, timeout=60
    )
    assert code == 0, output
    assert b"put big.bin" in output
    assert "━".encode() in output
    assert raw.get_blob_client("big.bin").get_blob_properties().size == big.stat().st_size


@pytest.mark.parametrize(
    "spelling",
    [
        "az://{c}",
        "az://{c}/",
        "az://{c}/.",
        "az://{c}/./",
        "az://{c}/x/..",
        "abfs://{c}/.",
        "az://{c}/keep/..//",
    ],
)
@pytest.mark.parametrize("flags", [("-r",), ()])
def test_rm_refuses_every_spelling_of_the_container_root(
    cli: StoreCli, container_name: str, raw: ContainerClient, spelling: str, flags: tuple[str, ...]
) -> None:
    for name in ("keep/a", "x/b", "c"):
        raw.upload_blob(name, b"1")
    line = cli("store", "rm", *flags, spelling.format(c=container_name)).assert_clean_error(2)
    assert "whole container" in line
    assert sorted(raw.list_blob_names()) == ["c", "keep/a", "x/b"]


@pytest.mark.parametrize(
    ("uri", "needle"),
    [
        ("az://{c}/root/a\\..\\..\\outside.txt", "backslash"),
        ("az://{c}/x\\..", "backslash"),
        ("az://{c}/a\x1fb", "U+001F"),
        ("az://{c}/.../x", "ending with '.'"),
    ],
)
def test_put_get_and_rm_refuse_paths_that_break_the_rules(
    cli: StoreCli, container_name: str, raw: ContainerClient, tmp_path: Path, uri: str, needle: str
) -> None:
    raw.upload_blob("outside.txt", b"1")
    uri = uri.format(c=container_name)
    for args in (("put", "-", uri), ("get", uri, str(tmp_path)), ("rm", "-r", uri)):
        assert needle in cli("store", *args, stdin=b"x").assert_clean_error(2)
    assert list(raw.list_blob_names()) == ["outside.txt"]
    assert list(tmp_path.iterdir()) == []


def test_put_and_get_use_the_normalised_path(
    cli: StoreCli, container_name: str, raw: ContainerClient, tmp_path: Path
) -> None:
    base = f"az://{container_name}"
    assert (
        cli("store", "put", "-", f"{base}/a/./b/../f.txt", stdin=b"f").out
        == f"uploaded 1 bytes to {base}/a/f.txt\n"
    )
    assert list(raw.list_blob_names()) == ["a/f.txt"]
    out = tmp_path / "out"
    out.mkdir()
    assert cli("store", "get", f"{base}/a/f.txt/x/..", str(out)).code == 0  # named f.txt, not ".."
    assert (out / "f.txt").read_bytes() == b"f"
    assert "whole container" in cli("store", "get", f"{base}/a/..", str(out)).assert_clean_error(2)
    assert "whole container" in cli("store", "put", "-", f"{base}/a/..", stdin=b"x").assert_clean_error(2)
    assert cli("store", "rm", f"{base}/a/./f.txt").out == f"removed {base}/a/f.txt\n"
