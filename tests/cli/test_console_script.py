"""The real ``azcreds`` console script and ``python -m azcreds``: help, JSON, completion, exit codes."""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from azcreds.resolvers.keyring import KeyringStore
from tests.cli.helpers import S1_KEY, VENV_BIN, child_env, run_azcreds, run_subprocess

SCHEMA_IDS = [
    "azure-connection-string",
    "azure-account-key",
    "azure-sas-token",
    "azure-service-principal",
    "azure-managed-identity",
    "azure",
    "azure-developer-identity",
]


def test_console_script_is_installed() -> None:
    assert os.access(VENV_BIN / "azcreds", os.X_OK)


def test_children_run_this_venv() -> None:
    """scripts/test runs the suite in two venvs: the `azcreds` and `python` a test spawns are this one's."""
    path = child_env()["PATH"]
    script = shutil.which("azcreds", path=path)
    assert script is not None
    assert Path(script) == VENV_BIN / "azcreds"
    with open(script, "rb") as f:
        assert f.readline().strip() == b"#!" + os.fsencode(sys.executable)
    r = run_subprocess(["python", "-c", "import click, sys; print(sys.prefix, click.__version__)"])
    assert r.out.split() == [sys.prefix, importlib.metadata.version("click")], r


@pytest.mark.parametrize("how", ["script", "module"])
def test_help(how: str) -> None:
    args = ["azcreds", "--help"] if how == "script" else [sys.executable, "-m", "azcreds", "--help"]
    r = run_subprocess(args, env=child_env(NO_COLOR="1"))
    assert r.code == 0, r
    assert r.out.startswith("Usage: azcreds")
    for command in ("schema", "secret", "resolve", "env", "exec", "keyring"):
        assert f"\n  {command} " in r.out
    assert r.err == ""
    assert "\x1b[" not in r.out


def test_subcommand_help() -> None:
    r = run_subprocess(["azcreds", "secret", "register", "--help"])
    assert r.code == 0, r
    assert "--schema" in r.out
    assert "--overwrite" in r.out


def test_schema_list_json() -> None:
    r = run_subprocess(["azcreds", "schema", "list", "--json"], env=child_env(NO_COLOR="1"))
    assert r.code == 0, r
    rows = json.loads(r.out)
    assert [row["schema_id"] for row in rows] == SCHEMA_IDS
    by_id = {row["schema_id"]: row for row in rows}
    assert by_id["azure-account-key"]["required"] == ["account_name", "account_key"]
    assert by_id["azure-service-principal"]["secret_fields"] == ["client_secret"]
    assert by_id["azure"]["required"] == []


def test_schema_show_json_is_a_json_schema() -> None:
    r = run_azcreds("schema", "show", "azure-sas-token", "--json")
    assert r.code == 0, r
    schema = json.loads(r.out)
    assert set(schema["properties"]) >= {"account_name", "sas_token", "account_url"}


def test_no_arguments_shows_help_not_an_error() -> None:
    """`azcreds` alone (and `azcreds secret` alone) shows the usual multi-line help.

    Not the whole help text squeezed into one `azcreds: error: Usage: ...` line.
    """
    for args in (["azcreds"], ["azcreds", "secret"]):
        r = run_subprocess(args)
        assert r.code in (0, 2), r
        assert "Traceback" not in r.err
        assert "azcreds: error:" not in r.err, r.err
        text = r.out + r.err
        assert "\nCommands:\n" in text or "\nCommands:\r\n" in text, text


def test_shell_completion_is_available() -> None:
    r = run_subprocess(["azcreds", "--show-completion", "bash"], env=child_env(SHELL="/bin/bash"))
    assert r.code == 0, r
    assert "complete" in r.out
    assert "_AZCREDS_COMPLETE" in r.out
    assert "Traceback" not in r.err


# --------------------------------------------------------------------------- exit codes for real


@pytest.mark.parametrize(
    ("args", "stdin", "code", "fragment"),
    [
        (["schema", "show", "no-such-schema"], "", 2, "unknown schema"),
        (["secret", "get"], "", 2, "Missing argument"),
        (["no-such-command"], "", 2, "no-such-command"),
        (
            [
                "secret",
                "register",
                "s2",
                "--schema",
                "azure-account-key",
                "--account_name=acct",
                "--account_key",
            ],
            "",
            2,
            "no terminal",
        ),
        (
            [
                "secret",
                "register",
                "s2",
                "--schema",
                "azure-account-key",
                "--account_name=acct",
                "--account_key=-",
                "--account_name=again",
            ],
            S1_KEY,
            2,
            "twice",
        ),
        (["secret", "delete", "s1"], "", 2, "--yes"),
        (["secret", "get", "nope"], "", 1, "not found"),
        (["resolve", "nope"], "", 1, "Attempted resolvers"),
    ],
    ids=[
        "unknown-schema",
        "usage-error",
        "unknown-command",
        "no-terminal",
        "twice",
        "no-yes",
        "get-missing",
        "resolve-missing",
    ],
)
def test_exit_codes_of_the_real_process(
    populated: KeyringStore, args: list[str], stdin: str, code: int, fragment: str
) -> None:
    r = run_subprocess(["azcreds", *args], input=stdin)
    line = r.assert_clean_error(code)
    assert fragment in line
    r.assert_no_secret(S1_KEY)


def test_wrong_passphrase_in_a_real_process(populated: KeyringStore) -> None:
    r = run_azcreds("secret", "get", "s1", env=child_env(AZCREDS_KEYRING_PASSPHRASE="CS-WRONG-MARKER"))
    line = r.assert_clean_error(2)
    assert "passphrase" in line
    r.assert_no_secret("CS-WRONG-MARKER", S1_KEY)


def test_corrupted_keyring_in_a_real_process(populated: KeyringStore) -> None:
    data = bytearray(populated.path.read_bytes())
    data[-1] ^= 0xFF
    populated.path.write_bytes(bytes(data))
    r = run_azcreds("resolve", "s1")
    line = r.assert_clean_error(1)
    assert str(populated.path) in line
    r.assert_no_secret(S1_KEY)


def test_success_in_a_real_process(populated: KeyringStore, tmp_path: Path) -> None:
    (tmp_path / "key").write_text(S1_KEY)
    r = run_subprocess(
        [
            "azcreds",
            "secret",
            "register",
            "s2",
            "--schema",
            "azure-account-key",
            "--account_name=acct2",
            f"--account-key=@{tmp_path / 'key'}",
        ]
    )
    assert r.code == 0, r
    assert r.err == ""
    r = run_azcreds("resolve", "s2", "--json")
    assert r.code == 0, r
    assert json.loads(r.out)["source"] == "keyring"
    r.assert_no_secret(S1_KEY)


def test_closed_stdout_is_no_traceback() -> None:
    """`azcreds ... | head -0`: the reader went away; no traceback, no "Exception ignored"."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "azcreds", "schema", "list", "--json"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(),
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert completed.returncode != 0
    assert "Traceback" not in completed.stderr
    assert "Exception ignored" not in completed.stderr
