"""``azcreds keyring init | status | passwd``."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from azcreds.resolvers.keyring import KeyringStore
from tests.cli.helpers import PASSPHRASE, S1_KEY, Cli

NEW_PASSPHRASE = "KR-NEW-PASSPHRASE-MARKER"
INIT_PASSPHRASE = "KR-INIT-PASSPHRASE-MARKER"


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_init_from_stdin_then_status(cli: Cli, keyring_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert not keyring_path.parent.exists()
    r = cli("keyring", "init", "--passphrase-stdin", stdin=INIT_PASSPHRASE + "\n")
    assert r.code == 0, r
    assert str(keyring_path) in r.out
    assert r.err == ""
    r.assert_no_secret(INIT_PASSPHRASE)
    assert keyring_path.is_file()
    assert mode(keyring_path) == 0o600
    assert mode(keyring_path.parent) == 0o700
    assert KeyringStore(keyring_path, passphrase=INIT_PASSPHRASE).list() == []

    # Status without the passphrase: the header, but locked.
    r = cli("keyring", "status", "--json")
    assert r.code == 0, r
    data = json.loads(r.out)
    assert data["path"] == str(keyring_path)
    assert data["exists"] is True
    assert data["key_source"] == "passphrase"
    assert data["kdf"] == "scrypt"
    assert data["unlocked"] is False

    monkeypatch.setenv("AZCREDS_KEYRING_PASSPHRASE", INIT_PASSPHRASE)
    r = cli("keyring", "status", "--json")
    assert r.code == 0, r
    data = json.loads(r.out)
    assert (data["key_source"], data["kdf"], data["unlocked"], data["secrets"]) == (
        "passphrase",
        "scrypt",
        True,
        0,
    )
    r.assert_no_secret(INIT_PASSPHRASE)

    # A second init refuses to replace the file: bad input.
    before = keyring_path.read_bytes()
    line = cli("keyring", "init", "--passphrase-stdin", stdin="other\n").assert_clean_error(2)
    assert "already exists" in line
    assert keyring_path.read_bytes() == before


def test_init_with_configured_passphrase(
    cli: Cli, keyring_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZCREDS_KEYRING_PASSPHRASE", INIT_PASSPHRASE)
    r = cli("keyring", "init")
    assert r.code == 0, r
    assert mode(keyring_path) == 0o600
    assert KeyringStore(keyring_path, passphrase=INIT_PASSPHRASE).header().key_source == "passphrase"


def test_status_counts_secrets(cli: Cli, populated: KeyringStore) -> None:
    r = cli("keyring", "status", "--json")
    assert r.code == 0, r
    data = json.loads(r.out)
    assert data["secrets"] == 1
    assert data["kdf_params"]["n"] == 2**14
    r.assert_no_secret(PASSPHRASE, S1_KEY)
    r = cli("keyring", "status")
    assert r.code == 0, r
    assert "passphrase" in r.out
    r.assert_no_secret(PASSPHRASE, S1_KEY)


def test_status_without_a_file(cli: Cli, keyring_path: Path) -> None:
    r = cli("keyring", "status", "--json")
    assert r.code == 0, r
    assert json.loads(r.out) == {"path": str(keyring_path), "exists": False}


def test_passwd_from_stdin(cli: Cli, populated: KeyringStore, monkeypatch: pytest.MonkeyPatch) -> None:
    r = cli("keyring", "passwd", "--new-passphrase-stdin", stdin=NEW_PASSPHRASE + "\n")
    assert r.code == 0, r
    assert "re-encrypted" in r.out
    r.assert_no_secret(NEW_PASSPHRASE, PASSPHRASE)
    assert mode(populated.path) == 0o600

    # The old passphrase (still in AZCREDS_KEYRING_PASSPHRASE) no longer opens it: exit 2.
    line = cli("secret", "list").assert_clean_error(2)
    assert "passphrase" in line

    monkeypatch.setenv("AZCREDS_KEYRING_PASSPHRASE", NEW_PASSPHRASE)
    r = cli("secret", "get", "s1", "--reveal", "--json")
    assert r.code == 0, r
    assert json.loads(r.out)["fields"] == {"account_name": "acct", "account_key": S1_KEY}
    assert json.loads(cli("keyring", "status", "--json").out)["secrets"] == 1
