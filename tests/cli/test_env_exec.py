"""``azcreds env`` (export lines a shell can eval) and ``azcreds exec`` (a child with the variables set)."""

from __future__ import annotations

import json
import shlex
import signal
import sys
from pathlib import Path

import pytest

from azcreds.resolvers.keyring import KeyringStore
from azcreds.schemas import parse_secret
from tests.cli.helpers import PASSPHRASE, S1_KEY, Cli, child_env, run_azcreds, run_subprocess
from tests.helpers import CLIENT_ID, TENANT_ID, b64

CS_KEY = b64("ENV-CONNSTR-KEY-MARKER-" + "e" * 41)
CS = f"DefaultEndpointsProtocol=https;AccountName=acctcs;AccountKey={CS_KEY};EndpointSuffix=core.windows.net"
# A client secret a shell would love to misread: quotes, $(...), backticks, a semicolon.
NASTY = 'it\'s $(touch PWNED) `touch PWNED2`; "x" \\ MARKER'

DUMP = (
    "import json, os, sys; "
    "json.dump({k: v for k, v in os.environ.items() if k.startswith('AZURE_STORAGE_') or k == 'KEEP_ME'}, "
    "open(sys.argv[1], 'w')); sys.exit(int(sys.argv[2]))"
)


@pytest.fixture
def secrets(populated: KeyringStore) -> KeyringStore:
    """s1 (account key), cs (connection string), sp (service principal with a shell-hostile secret)."""
    populated.register("cs", parse_secret("azure-connection-string", {"connection_string": CS}))
    populated.register(
        "sp",
        parse_secret(
            "azure-service-principal",
            {
                "account_name": "acctsp",
                "tenant_id": TENANT_ID,
                "client_id": CLIENT_ID,
                "client_secret": NASTY,
            },
        ),
    )
    return populated


def parse_exports(out: str) -> dict[str, str]:
    variables = {}
    for line in out.splitlines():
        words = shlex.split(line)
        if words[0] == "unset":
            continue
        assert words[0] == "export", line
        assert len(words) == 2, line
        key, _, value = words[1].partition("=")
        variables[key] = value
    return variables


def unsets(out: str) -> list[str]:
    return [line.split()[1] for line in out.splitlines() if line.startswith("unset ")]


@pytest.mark.parametrize("name", ["s1", "cs", "sp"])
def test_env_prints_exports_when_piped(cli: Cli, secrets: KeyringStore, name: str) -> None:
    r = cli("env", name)
    assert r.code == 0, r
    assert r.err == ""
    assert parse_exports(r.out) == secrets.get(name).env_vars()
    assert unsets(r.out) == []
    assert all(line.startswith("export AZURE_") for line in r.out.splitlines())


def test_env_unsets_the_other_credentials_of_this_environment(
    cli: Cli, secrets: KeyringStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A shell that held another credential: after eval, only s1's may be left.
    stale = {
        "AZURE_STORAGE_SAS_TOKEN": "sv=other&sig=STALE-SAS",
        "AZURE_CLIENT_SECRET": "STALE-CLIENT-SECRET",
        "AZURE_TENANT_ID": TENANT_ID,
        "IDENTITY_HEADER": "STALE-IDENTITY-HEADER",
        "AZURE_STORAGE_ACCOUNT_KEY": "STALE-KEY",  # exported anew: no unset line
    }
    for key, value in stale.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AZCREDS_OTHER__SAS_TOKEN", "sv=other&sig=OTHER")
    r = cli("env", "s1")
    assert r.code == 0, r
    assert sorted(unsets(r.out)) == [
        "AZURE_CLIENT_SECRET",
        "AZURE_STORAGE_SAS_TOKEN",
        "AZURE_TENANT_ID",
        "IDENTITY_HEADER",
    ]
    assert parse_exports(r.out) == secrets.get("s1").env_vars()
    # The caller's own azcreds settings are its business: env neither prints nor unsets them.
    assert "AZCREDS" not in r.out
    r.assert_no_secret(*stale.values(), PASSPHRASE)


def test_env_output_evals_in_bash(secrets: KeyringStore, tmp_path: Path) -> None:
    script = (
        'eval "$(azcreds env s1)" || exit 9\n'
        'printf "%s\\n" "$AZURE_STORAGE_ACCOUNT_NAME" "$AZURE_STORAGE_ACCOUNT_KEY"\n'
        'eval "$(azcreds env cs)" || exit 9\n'
        'printf "%s\\n" "$AZURE_STORAGE_CONNECTION_STRING"\n'
        'eval "$(azcreds env sp)" || exit 9\n'
        'printf "%s" "$AZURE_STORAGE_CLIENT_SECRET"\n'
    )
    r = run_subprocess(["bash", "-c", script], env=child_env(), cwd=tmp_path)
    assert r.code == 0, r
    assert r.err == ""
    lines = r.out.split("\n")
    cs = secrets.get("cs").env_vars()["AZURE_STORAGE_CONNECTION_STRING"]
    assert lines[:3] == ["acct", S1_KEY, cs]
    assert "\n".join(lines[3:]) == NASTY
    assert not (tmp_path / "PWNED").exists()
    assert not (tmp_path / "PWNED2").exists()


def test_exec_sets_variables_and_propagates_the_exit_code(
    cli: Cli, secrets: KeyringStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Variables of another credential in the parent environment must not leak into the child.
    monkeypatch.setenv("AZURE_STORAGE_SAS_TOKEN", "sv=other&sig=OTHER")
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", "AccountName=other;AccountKey=OTHER")
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_KEY", "OTHER-KEY")
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_URL", "https://other.example.com")
    monkeypatch.setenv("AZURE_STORAGE_CLIENT_SECRET", "OTHER-SECRET")
    monkeypatch.setenv("KEEP_ME", "kept")
    dump = tmp_path / "env.json"
    r = cli("exec", "s1", "--", sys.executable, "-c", DUMP, str(dump), "7")
    assert r.code == 7, r
    assert r.err == ""
    seen = json.loads(dump.read_text())
    assert seen == secrets.get("s1").env_vars() | {"KEEP_ME": "kept"}


def test_exec_connection_string_replaces_account_variables(
    cli: Cli, secrets: KeyringStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", "other")
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_KEY", "OTHER-KEY")
    dump = tmp_path / "env.json"
    r = cli("exec", "cs", "--", sys.executable, "-c", DUMP, str(dump), "0")
    assert r.code == 0, r
    assert json.loads(dump.read_text()) == secrets.get("cs").env_vars()


def test_exec_child_killed_by_a_signal_exits_128_plus_signal(cli: Cli, secrets: KeyringStore) -> None:
    r = cli(
        "exec", "s1", "--", sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"
    )
    assert r.code == 128 + signal.SIGTERM, r


def test_exec_exit_code_through_the_console_script(secrets: KeyringStore) -> None:
    r = run_subprocess(
        [
            "azcreds",
            "exec",
            "s1",
            "--",
            sys.executable,
            "-c",
            "import os, sys; print(os.environ['AZURE_STORAGE_ACCOUNT_NAME']); sys.exit(7)",
        ]
    )
    assert r.code == 7, r
    assert r.out == "acct\n"
    assert r.err == ""


def test_exec_missing_command_through_python_m(secrets: KeyringStore, tmp_path: Path) -> None:
    r = run_azcreds("exec", "s1", "--", str(tmp_path / "no-such-command"))
    line = r.assert_clean_error(2)
    assert "not found" in line
    r.assert_no_secret(S1_KEY)
