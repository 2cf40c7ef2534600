"""Where field values come from: literal argv (warned about), ``@file`` (``~`` expanded), ``-`` and ``@@``."""

from __future__ import annotations

from pathlib import Path

import pytest

from azcreds.resolvers.keyring import KeyringStore
from tests.cli.helpers import Cli
from tests.helpers import CLIENT_ID, TENANT_ID, b64

KEY = b64("VAL-ACCOUNT-KEY-MARKER-" + "v" * 41)
ARGV_WARNING = "azcreds: warning: --account_key was given on the command line"
REGISTER = ["secret", "register", "s1", "--schema", "azure-account-key", "--account_name=acct"]


def stored_key(store: KeyringStore, name: str = "s1") -> str:
    return store.get(name).account_key.get_secret_value()  # type: ignore[attr-defined]


def test_value_from_file_with_tilde(
    cli: Cli, store: KeyringStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "key.txt").write_text(KEY + "\r\n")  # the trailing newline is not the key's
    r = cli(*REGISTER, "--account_key=@~/secrets/key.txt")
    assert r.code == 0, r
    assert r.err == ""  # from a file: no argv warning
    r.assert_no_secret(KEY)
    assert stored_key(store) == KEY


def test_value_from_file_in_update(
    cli: Cli, populated: KeyringStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "key.txt").write_text(KEY)
    r = cli("secret", "update", "s1", "--account-key=@~/key.txt")
    assert r.code == 0, r
    assert r.err == ""
    assert stored_key(populated) == KEY


@pytest.mark.parametrize("spelling", ["--account_key=-", "--account-key=-", "--account_key -"])
def test_value_from_stdin(cli: Cli, store: KeyringStore, spelling: str) -> None:
    r = cli(*REGISTER, *spelling.split(" "), stdin=KEY + "\n")
    assert r.code == 0, r
    assert r.err == ""
    r.assert_no_secret(KEY)
    assert stored_key(store) == KEY


def test_stdin_value_keeps_inner_whitespace_but_not_the_final_newline(cli: Cli, store: KeyringStore) -> None:
    secret = "VAL-SP-SECRET-MARKER with spaces"
    args = [
        "secret",
        "register",
        "sp",
        "--schema",
        "azure-service-principal",
        "--account_name=acct",
        f"--tenant_id={TENANT_ID}",
        f"--client_id={CLIENT_ID}",
        "--client_secret=-",
    ]
    r = cli(*args, stdin=secret + "\n")
    assert r.code == 0, r
    assert store.get("sp").client_secret.get_secret_value() == secret  # type: ignore[attr-defined]


def test_double_at_is_a_literal_at(cli: Cli, store: KeyringStore, tmp_path: Path) -> None:
    (tmp_path / "not-read").write_text("this file must not be read")
    args = [
        "secret",
        "register",
        "sp",
        "--schema",
        "azure-service-principal",
        "--account_name=acct",
        f"--tenant_id={TENANT_ID}",
        f"--client_id={CLIENT_ID}",
        f"--client_secret=@@{tmp_path}/not-read",
    ]
    r = cli(*args)
    assert r.code == 0, r
    stored = store.get("sp").client_secret.get_secret_value()  # type: ignore[attr-defined]
    assert stored == f"@{tmp_path}/not-read"
    # Literal on argv: warned about (without the value).
    assert len(r.err_lines) == 1
    assert r.err_lines[0].startswith("azcreds: warning: --client_secret was given on the command line")
    r.assert_no_secret(stored)


@pytest.mark.parametrize("spelling", ["--account_key={}", "--account-key={}", "--account_key {}"])
def test_literal_secret_on_argv_warns_once(cli: Cli, store: KeyringStore, spelling: str) -> None:
    r = cli(*REGISTER, *spelling.format(KEY).split(" "))
    assert r.code == 0, r
    assert len(r.err_lines) == 1, r.err
    assert r.err_lines[0].startswith(ARGV_WARNING)
    assert "argv" in r.err or "command line" in r.err
    r.assert_no_secret(KEY)
    assert stored_key(store) == KEY


def test_literal_secret_in_update_warns(cli: Cli, populated: KeyringStore) -> None:
    r = cli("secret", "update", "s1", f"--account_key={KEY}")
    assert r.code == 0, r
    assert len(r.err_lines) == 1
    assert r.err_lines[0].startswith(ARGV_WARNING)
    r.assert_no_secret(KEY)


def test_literal_non_secret_fields_do_not_warn(cli: Cli, store: KeyringStore) -> None:
    r = cli(
        "secret",
        "register",
        "mi",
        "--schema",
        "azure-managed-identity",
        "--account_name=acct",
        f"--client-id={CLIENT_ID}",
        "--account_url",
        "https://acct.example.com",
    )
    assert r.code == 0, r
    assert r.err == ""


def test_file_and_stdin_in_one_command(cli: Cli, store: KeyringStore, tmp_path: Path) -> None:
    (tmp_path / "name").write_text("acct\n")
    r = cli(
        "secret",
        "register",
        "s1",
        "--schema",
        "azure-account-key",
        f"--account_name=@{tmp_path}/name",
        "--account_key=-",
        stdin=KEY,
    )
    assert r.code == 0, r
    assert r.err == ""
    assert store.get("s1").account_name == "acct"  # type: ignore[attr-defined]
    assert stored_key(store) == KEY


def test_file_of_exactly_64_kib_is_read(cli: Cli, store: KeyringStore, tmp_path: Path) -> None:
    """The limit is "larger than 64 KiB": a 64 KiB file is read (and then fails validation, exit 2)."""
    (tmp_path / "cs").write_text("a" * (64 * 1024))
    r = cli(
        "secret",
        "register",
        "cs",
        "--schema",
        "azure-connection-string",
        f"--connection_string=@{tmp_path}/cs",
    )
    line = r.assert_clean_error(2)
    assert "connection_string" in line
    assert "64 KiB" not in line


@pytest.mark.parametrize("value", ["-iQ1-DASH-MARKER", "-hQ1-DASH-MARKER", "-xQ1-DASH-MARKER"])
def test_space_separated_value_starting_with_a_dash_is_kept_or_refused(
    cli: Cli, store: KeyringStore, value: str
) -> None:
    """`--client_secret -i...`: click must not eat `-i` (--interactive) or `-h` (--help) out of a value.

    Either the value is stored exactly as given, or the command is refused (exit 2); a secret that
    is silently stored changed, or a command that silently does nothing, is wrong.
    """
    args = [
        "secret",
        "register",
        "sp",
        "--schema",
        "azure-service-principal",
        "--account_name=acct",
        f"--tenant_id={TENANT_ID}",
        f"--client_id={CLIENT_ID}",
        "--client_secret",
        value,
    ]
    r = cli(*args)
    if r.code == 2:
        r.assert_clean_error(2)
        return
    assert r.code == 0, r
    names = [i.name for i in store.list()]
    assert names == ["sp"], f"exit 0 but nothing registered; stdout: {r.out[:200]!r}"
    assert store.get("sp").client_secret.get_secret_value() == value  # type: ignore[attr-defined]
