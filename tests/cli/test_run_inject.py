"""``azcreds run`` and ``azcreds inject``: every reference form resolved for real, and failures that
start no child and write no file."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from azcreds.resolvers.keyring import KeyringStore
from azcreds.testing import KeyVaultServer
from tests.cli.helpers import PASSPHRASE, S1_KEY, Cli, child_env, run_azcreds

KV_VALUE = "KV-SECRET-VALUE-MARKER-0001"
KV_VALUE_2 = "KV-SECRET-VALUE-MARKER-0002"

# The child writes its environment to a file: proof it ran, and of what it was given.
DUMP = "import json, os, sys; json.dump(dict(os.environ), open(sys.argv[1], 'w'))"


def child(out: Path) -> list[str]:
    return ["--", sys.executable, "-c", DUMP, str(out)]


def seen(out: Path) -> dict[str, str]:
    data: dict[str, str] = json.loads(out.read_text())
    return data


# ------------------------------------------------------------------------------------------ run


def test_run_resolves_azcreds_references_from_the_environment(
    cli: Cli, populated: KeyringStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACCOUNT", "azcreds://s1/account_name")
    monkeypatch.setenv("KEY", "azcreds://s1/account-key")
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", "azcreds://s1")
    monkeypatch.setenv("AZ_KEY", "azcreds://s1/AZURE_STORAGE_KEY")
    monkeypatch.setenv("PLAIN", "https://example.com/secrets/x")
    r = cli("run", *child(tmp_path / "env.json"))
    assert r.code == 0, r
    r.assert_no_secret(S1_KEY)
    env = seen(tmp_path / "env.json")
    expected = populated.get("s1").env_vars()
    assert env["ACCOUNT"] == "acct"
    assert env["KEY"] == env["AZ_KEY"] == S1_KEY
    assert env["AZURE_STORAGE_CONNECTION_STRING"] == expected["AZURE_STORAGE_CONNECTION_STRING"]
    assert env["PLAIN"] == "https://example.com/secrets/x"
    # The passphrase that unlocked the keyring does not reach the child; plain settings do.
    assert "AZCREDS_KEYRING_PASSPHRASE" not in env
    assert env["AZCREDS_KEYRING_PATH"] == str(populated.path)


def test_run_resolves_env_files_with_python_dotenv(
    cli: Cli, populated: KeyringStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OVERRIDDEN", "from the environment")
    first = tmp_path / "first.env"
    first.write_text(
        "# comment\n"
        "export KEY='azcreds://s1/account_key'\n"
        'OVERRIDDEN="azcreds://s1/account_name"\n'
        'MULTI="line one\nline two"\n'
        "LITERAL=${AZCREDS_KEYRING_PASSPHRASE}\n"
    )
    second = tmp_path / "second.env"
    second.write_text("SECOND = azcreds://s1/AZURE_STORAGE_ACCOUNT_URL\n")
    r = cli("run", "--env-file", str(first), "--env-file", str(second), *child(tmp_path / "env.json"))
    assert r.code == 0, r
    env = seen(tmp_path / "env.json")
    assert env["KEY"] == S1_KEY
    assert env["OVERRIDDEN"] == "acct"
    assert env["MULTI"] == "line one\nline two"
    assert env["LITERAL"] == "${AZCREDS_KEYRING_PASSPHRASE}"  # no expansion: no way to copy it out
    assert env["SECOND"] == "https://acct.blob.core.windows.net"
    assert PASSPHRASE not in json.dumps(env)


def test_run_resolves_key_vault_uris_and_app_service_references(
    cli: Cli, vault: KeyVaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = vault.add_secret("db-pass", KV_VALUE)
    vault.add_secret("db-pass", KV_VALUE_2)
    url = vault.vault_url.rstrip("/")
    monkeypatch.setenv("LATEST", f"{url}/secrets/db-pass")
    monkeypatch.setenv("PINNED", f"{url}/secrets/db-pass/{first}")
    monkeypatch.setenv("APP", f"@Microsoft.KeyVault(SecretUri={url}/secrets/db-pass/)")
    env_file = tmp_path / "kv.env"
    env_file.write_text(f"FROM_FILE=@Microsoft.KeyVault(SecretUri={url}/secrets/db-pass/{first})\n")
    r = cli("run", "--env-file", str(env_file), *child(tmp_path / "env.json"))
    assert r.code == 0, r
    r.assert_no_secret(KV_VALUE, KV_VALUE_2)
    env = seen(tmp_path / "env.json")
    assert (env["LATEST"], env["PINNED"], env["APP"], env["FROM_FILE"]) == (
        KV_VALUE_2,
        KV_VALUE,
        KV_VALUE_2,
        KV_VALUE,
    )


@pytest.mark.parametrize(
    ("setup", "where"),
    [
        ({"DB": "azcreds://s1/a/b"}, "variable DB"),
        ({"DB": "@Microsoft.KeyVault(VaultName=x)"}, "variable DB"),
        ({"DB": "https://myvault.vault.azure.net/secrets/bad_name"}, "variable DB"),
    ],
)
def test_a_malformed_reference_is_bad_input_and_starts_nothing(
    cli: Cli,
    populated: KeyringStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    setup: dict[str, str],
    where: str,
) -> None:
    for key, value in setup.items():
        monkeypatch.setenv(key, value)
    r = cli("run", *child(tmp_path / "env.json"))
    line = r.assert_clean_error(2)
    assert line.startswith(f"azcreds: error: {where}: malformed reference"), line
    assert not (tmp_path / "env.json").exists()


def test_a_malformed_env_file_names_the_file_and_line(
    cli: Cli, populated: KeyringStore, tmp_path: Path
) -> None:
    env_file = tmp_path / "app.env"
    env_file.write_text("OK=1\n\nREF=azcreds://s1/account_key?v=1\n")
    r = cli("run", "--env-file", str(env_file), *child(tmp_path / "env.json"))
    line = r.assert_clean_error(2)
    assert f"{env_file}:3 (REF): malformed reference" in line
    env_file.write_text("OK=1\nthis is not a binding\n")
    line = cli("run", "--env-file", str(env_file), *child(tmp_path / "env.json")).assert_clean_error(2)
    assert f"{env_file}:2: not a KEY=VALUE line" in line
    line = cli("run", "--env-file", str(tmp_path / "none.env"), "--", "true").assert_clean_error(2)
    assert "no such file" in line
    assert not (tmp_path / "env.json").exists()


def test_a_missing_secret_fails_before_the_child_starts(
    cli: Cli, populated: KeyringStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOD", "azcreds://s1/account_key")
    monkeypatch.setenv("MISSING", "azcreds://no-such-secret/account_key")
    r = cli("run", *child(tmp_path / "env.json"))
    line = r.assert_clean_error(1)
    assert "variable MISSING: secret 'no-such-secret' not found" in line
    r.assert_no_secret(S1_KEY)
    assert not (tmp_path / "env.json").exists()
    monkeypatch.delenv("MISSING")
    monkeypatch.setenv("NOFIELD", "azcreds://s1/client_secret")
    line = cli("run", *child(tmp_path / "env.json")).assert_clean_error(2)
    assert "variable NOFIELD: secret 's1' (azure-account-key) has no field 'client_secret'" in line
    assert not (tmp_path / "env.json").exists()


def test_a_missing_key_vault_secret_fails_before_the_child_starts(
    cli: Cli, vault: KeyVaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GONE", f"{vault.vault_url.rstrip('/')}/secrets/not-there")
    r = cli("run", *child(tmp_path / "env.json"))
    line = r.assert_clean_error(1)
    assert "variable GONE: secret 'not-there' not found" in line
    assert not (tmp_path / "env.json").exists()


def test_run_passes_the_exit_code_on_in_a_real_process(populated: KeyringStore, tmp_path: Path) -> None:
    env = child_env(
        AZCREDS_KEYRING_PATH=str(populated.path),
        AZCREDS_KEYRING_PASSPHRASE=PASSPHRASE,
        K="azcreds://s1/account_key",
    )
    code = "import os, sys; sys.exit(7 if os.environ['K'] == sys.argv[1] else 3)"
    r = run_azcreds("run", "--", sys.executable, "-c", code, S1_KEY, env=env)
    assert r.code == 7, r
    r = run_azcreds("run", "--", "no-such-command-anywhere", env=env)
    assert r.assert_clean_error(2).endswith("command not found: no-such-command-anywhere")


# --------------------------------------------------------------------------------------- inject


TEMPLATE = """\
account = {{ azcreds://s1/account_name }}
key = "{{azcreds://s1/account_key}}"  # and a Helm-style {{ .Values.x }} left alone
url = {{ azcreds://s1/AZURE_STORAGE_ACCOUNT_URL }}{{ azcreds://s1/AZURE_STORAGE_ACCOUNT_NAME }}
"""


def expected_render() -> str:
    return (
        "account = acct\n"
        f'key = "{S1_KEY}"  # and a Helm-style {{{{ .Values.x }}}} left alone\n'
        "url = https://acct.blob.core.windows.netacct\n"
    )


def test_inject_writes_the_file_0600(cli: Cli, populated: KeyringStore, tmp_path: Path) -> None:
    template = tmp_path / "config.tpl"
    template.write_text(TEMPLATE)
    out = tmp_path / "config.ini"
    r = cli("inject", "-i", str(template), "-o", str(out))
    assert r.code == 0, r
    assert r.out == ""
    r.assert_no_secret(S1_KEY)
    assert out.read_text() == expected_render()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.ini", "config.tpl", "kr"]  # no temporary


def test_inject_replaces_an_existing_file_with_a_private_one(
    cli: Cli, populated: KeyringStore, tmp_path: Path
) -> None:
    template = tmp_path / "config.tpl"
    template.write_text(TEMPLATE)
    out = tmp_path / "config.ini"
    out.write_text("old")
    os.chmod(out, 0o644)
    assert cli("inject", "-i", str(template), "-o", str(out)).code == 0
    assert out.read_text() == expected_render()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_inject_prints_to_a_pipe_without_o(cli: Cli, populated: KeyringStore, tmp_path: Path) -> None:
    template = tmp_path / "config.tpl"
    template.write_text(TEMPLATE)
    r = cli("inject", "-i", str(template))
    assert r.code == 0, r
    assert r.out == expected_render()
    r = cli("inject", "-i", "-", stdin="x={{ azcreds://s1/account_name }}\n")
    assert r.out == "x=acct\n"


def test_inject_resolves_key_vault_references(cli: Cli, vault: KeyVaultServer, tmp_path: Path) -> None:
    version = vault.add_secret("api-token", KV_VALUE)
    url = vault.vault_url.rstrip("/")
    template = tmp_path / "t.tpl"
    template.write_text(
        f"a={{{{ {url}/secrets/api-token }}}}\n"
        f"b={{{{ @Microsoft.KeyVault(SecretUri={url}/secrets/api-token/{version}) }}}}\n"
    )
    out = tmp_path / "out.txt"
    r = cli("inject", "-i", str(template), "-o", str(out))
    assert r.code == 0, r
    assert out.read_text() == f"a={KV_VALUE}\nb={KV_VALUE}\n"


@pytest.mark.parametrize(
    ("line", "code", "message"),
    [
        (
            "{{ azcreds://s1/account_name }} {{ azcreds://missing-one/account_key }}",
            1,
            "secret 'missing-one' not found",
        ),
        ("{{ azcreds://s1/account_name/extra }}", 2, "malformed reference"),
        ("{{ azcreds://s1/sas_token }}", 2, "has no field 'sas_token'"),
    ],
)
def test_a_failing_reference_writes_nothing_and_keeps_the_old_file(
    cli: Cli, populated: KeyringStore, tmp_path: Path, line: str, code: int, message: str
) -> None:
    template = tmp_path / "t.tpl"
    template.write_text("first = {{ azcreds://s1/account_key }}\n" + line + "\n")
    out = tmp_path / "out.txt"
    r = cli("inject", "-i", str(template), "-o", str(out))
    error = r.assert_clean_error(code)
    assert f"{template}:2: " in error
    assert message in error
    r.assert_no_secret(S1_KEY)
    assert not out.exists()
    out.write_text("previous")
    r = cli("inject", "-i", str(template), "-o", str(out))
    assert r.code == code
    assert out.read_text() == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kr", "out.txt", "t.tpl"]


def test_inject_bad_paths_are_bad_input(cli: Cli, populated: KeyringStore, tmp_path: Path) -> None:
    assert "no such file" in cli("inject", "-i", str(tmp_path / "nope")).assert_clean_error(2)
    template = tmp_path / "t.tpl"
    template.write_text("x\n")
    assert "is a folder" in cli("inject", "-i", str(template), "-o", str(tmp_path)).assert_clean_error(2)
    missing = tmp_path / "no" / "such" / "out"
    assert "does not exist" in cli("inject", "-i", str(template), "-o", str(missing)).assert_clean_error(2)
