"""Keyring sessions: `keyring unlock` once, then no passphrase and no scrypt until expiry or `keyring lock`;
the session value alone and the session file alone each open nothing; no child ever sees either."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from azcreds import StoreLockedError, clear_cache, keyring_session, vault_file
from azcreds.resolvers.keyring import KeyringStore
from tests.cli.helpers import PASSPHRASE, S1_KEY, Cli, child_env, run_azcreds
from tests.helpers import ManualClock

DUMP = "import json, os, sys; json.dump(dict(os.environ), open(sys.argv[1], 'w'))"


@pytest.fixture(autouse=True)
def runtime_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "run"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    return folder


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> ManualClock:
    manual = ManualClock(start=1_900_000_000.0)
    monkeypatch.setattr(keyring_session, "_now", manual)
    return manual


def unlock(cli: Cli, *extra: str) -> str:
    r = cli("keyring", "unlock", *extra)
    assert r.code == 0, r
    (line,) = r.out.splitlines()
    assert line.startswith("export AZCREDS_KEYRING_SESSION=azks1.")
    return line.split("=", 1)[1]


def use_session(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.delenv("AZCREDS_KEYRING_PASSPHRASE", raising=False)
    monkeypatch.setenv("AZCREDS_KEYRING_SESSION", value)
    clear_cache()


def session_files(runtime_dir: Path) -> list[Path]:
    folder = runtime_dir / "azcreds" / "sessions"
    return sorted(folder.glob("*.session")) if folder.exists() else []


def test_a_session_opens_the_keyring_without_passphrase_or_scrypt(
    cli: Cli, populated: KeyringStore, monkeypatch: pytest.MonkeyPatch, runtime_dir: Path
) -> None:
    value = unlock(cli, "--for", "15m")  # runs scrypt, once
    (path,) = session_files(runtime_dir)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    use_session(monkeypatch, value)

    def forbidden(*args: object) -> bytes:
        raise AssertionError("scrypt ran although a keyring session was given")

    monkeypatch.setattr(vault_file, "derive_scrypt", forbidden)
    r = cli("secret", "get", "s1", "--json")
    assert r.code == 0, r
    assert json.loads(r.out)["schema"] == "azure-account-key"
    assert KeyringStore().get("s1").field_values(reveal=True)["account_key"] == S1_KEY


def test_the_value_alone_opens_nothing(
    cli: Cli, populated: KeyringStore, monkeypatch: pytest.MonkeyPatch, runtime_dir: Path
) -> None:
    value = unlock(cli)
    for path in session_files(runtime_dir):
        path.unlink()
    use_session(monkeypatch, value)
    line = cli("secret", "get", "s1").assert_clean_error(2)
    assert "session has ended or expired" in line
    assert value not in line


def test_the_file_alone_opens_nothing(
    cli: Cli, populated: KeyringStore, monkeypatch: pytest.MonkeyPatch, runtime_dir: Path
) -> None:
    value = unlock(cli)
    (path,) = session_files(runtime_dir)
    keys = KeyringStore(populated.path, passphrase=PASSPHRASE)._open().derived_key()
    data = path.read_bytes()
    assert keys.aead_key not in data
    assert keys.key_check not in data
    # The right session id with any other key: the file does not open.
    prefix, session_id, _ = value.split(".")
    forged = f"{prefix}.{session_id}.{'A' * 43}"
    use_session(monkeypatch, forged)
    with pytest.raises(StoreLockedError, match="does not open its session file"):
        KeyringStore().get("s1")
    assert path.exists()


def test_a_session_expires(
    cli: Cli, populated: KeyringStore, monkeypatch: pytest.MonkeyPatch, runtime_dir: Path, clock: ManualClock
) -> None:
    value = unlock(cli, "--for", "10m")
    use_session(monkeypatch, value)
    clock.advance(599)
    assert KeyringStore().get("s1").schema_id == "azure-account-key"
    clock.advance(1)
    with pytest.raises(StoreLockedError, match="expired"):
        KeyringStore().get("s1")
    assert session_files(runtime_dir) == []  # the expired file is removed


def test_a_tampered_expiry_is_refused(
    cli: Cli, populated: KeyringStore, monkeypatch: pytest.MonkeyPatch, runtime_dir: Path, clock: ManualClock
) -> None:
    value = unlock(cli, "--for", "1m")
    (path,) = session_files(runtime_dir)
    data = path.read_bytes()
    header = json.loads(data[10 : 10 + int.from_bytes(data[8:10], "big")])
    longer = data.replace(json.dumps(header["expires"]).encode(), json.dumps(header["expires"] + 9).encode())
    assert longer != data
    path.write_bytes(longer)
    use_session(monkeypatch, value)
    with pytest.raises(StoreLockedError, match="does not open"):
        KeyringStore().get("s1")


def test_lock_ends_the_session(
    cli: Cli, populated: KeyringStore, monkeypatch: pytest.MonkeyPatch, runtime_dir: Path
) -> None:
    value = unlock(cli)
    use_session(monkeypatch, value)
    r = cli("keyring", "lock")
    assert r.code == 0, r
    assert r.out == "unset AZCREDS_KEYRING_SESSION\n"
    assert session_files(runtime_dir) == []
    assert "session has ended" in cli("secret", "list").assert_clean_error(2)
    monkeypatch.delenv("AZCREDS_KEYRING_SESSION")
    assert "nothing to lock" in cli("keyring", "lock").assert_clean_error(2)


def test_lock_all_and_passwd_end_every_session(
    cli: Cli, populated: KeyringStore, monkeypatch: pytest.MonkeyPatch, runtime_dir: Path
) -> None:
    unlock(cli)
    unlock(cli)
    assert len(session_files(runtime_dir)) == 2
    assert cli("keyring", "lock", "--all").code == 0
    assert session_files(runtime_dir) == []
    value = unlock(cli)
    r = cli("keyring", "passwd", "--new-passphrase-stdin", stdin="a new passphrase\n")
    assert r.code == 0, r
    assert session_files(runtime_dir) == []  # the old key is gone, and the session with it
    use_session(monkeypatch, value)
    assert "session has ended" in cli("secret", "list").assert_clean_error(2)


def test_a_session_opens_only_its_own_keyring(
    cli: Cli, populated: KeyringStore, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    value = unlock(cli)
    other = tmp_path / "other" / "keyring.azcv"
    other.parent.mkdir(mode=0o700)
    other.write_bytes(populated.path.read_bytes())  # the same bytes, at another path
    use_session(monkeypatch, value)
    monkeypatch.setenv("AZCREDS_KEYRING_PATH", str(other))
    clear_cache()
    with pytest.raises(StoreLockedError, match="another keyring"):
        KeyringStore().get("s1")


def test_an_expired_session_falls_back_to_a_configured_passphrase(
    cli: Cli, populated: KeyringStore, monkeypatch: pytest.MonkeyPatch, clock: ManualClock
) -> None:
    value = unlock(cli, "--for", "1m")
    monkeypatch.setenv("AZCREDS_KEYRING_SESSION", value)
    clock.advance(61)
    assert KeyringStore().get("s1").schema_id == "azure-account-key"


def test_a_session_folder_that_is_not_private_is_refused(
    cli: Cli, populated: KeyringStore, runtime_dir: Path
) -> None:
    (runtime_dir / "azcreds").mkdir(mode=0o755)
    os.chmod(runtime_dir / "azcreds", 0o755)
    line = cli("keyring", "unlock").assert_clean_error(2)
    assert "not a private folder" in line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--for", "0s"], "more than 0 s"),
        (["--for", "25h"], "at most 24h"),
        (["--for", "soon"], "a duration"),
    ],
)
def test_bad_durations_are_bad_input(
    cli: Cli, populated: KeyringStore, args: list[str], message: str
) -> None:
    assert message in cli("keyring", "unlock", *args).assert_clean_error(2)


def test_unlock_needs_the_passphrase_not_a_session(
    cli: Cli, populated: KeyringStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    value = unlock(cli)
    use_session(monkeypatch, value)
    assert "no terminal to prompt on" in cli("keyring", "unlock").assert_clean_error(2)
    r = cli("keyring", "unlock", "--passphrase-stdin", stdin="wrong passphrase\n")
    assert "wrong passphrase" in r.assert_clean_error(2)
    assert value not in r.err


def test_no_session_or_passphrase_reaches_a_child_in_real_processes(
    populated: KeyringStore, runtime_dir: Path, tmp_path: Path
) -> None:
    """The whole flow as a shell runs it: unlock, then exec and run with only the session."""
    env = child_env(
        AZCREDS_KEYRING_PATH=str(populated.path),
        AZCREDS_KEYRING_PASSPHRASE=PASSPHRASE,
        XDG_RUNTIME_DIR=str(runtime_dir),
    )
    r = run_azcreds("keyring", "unlock", "--for", "5m", env=env)
    assert r.code == 0, r
    value = r.out.strip().split("=", 1)[1]
    del env["AZCREDS_KEYRING_PASSPHRASE"]
    env["AZCREDS_KEYRING_SESSION"] = value
    env["KEY"] = "azcreds://s1/account_key"
    for verb in (["exec", "s1"], ["run"]):
        out = tmp_path / f"{verb[0]}.json"
        r = run_azcreds(*verb, "--", sys.executable, "-c", DUMP, str(out), env=env)
        assert r.code == 0, r
        seen = json.loads(out.read_text())
        assert not [k for k in seen if k.upper() in ("AZCREDS_KEYRING_SESSION", "AZCREDS_KEYRING_PASSPHRASE")]
        assert value not in json.dumps(seen)
        assert S1_KEY in json.dumps(seen)
    r = run_azcreds("keyring", "lock", env=env)
    assert r.code == 0, r
    r = run_azcreds("exec", "s1", "--", "true", env=env)
    assert "session has ended" in r.assert_clean_error(2)
