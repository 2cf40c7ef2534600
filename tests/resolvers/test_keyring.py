"""KeyringStore: the store contract, unlock rules, the resolver in the default chain, concurrency."""

from __future__ import annotations

import multiprocessing
import os
import stat
from pathlib import Path

import pytest

from azcreds import (
    KeyringStore,
    StoreCorruptedError,
    StoreLockedError,
    clear_cache,
    explain_resolution,
    parse_secret,
    resolve_credentials,
)
from azcreds.testing import AzuriteServer
from azcreds.testing.store_contract import WritableStoreContract
from azcreds.vault_file import ScryptParams
from tests.helpers import AZURITE_ACCOUNT_KEY

CHEAP = ScryptParams(n=2**14)
PASSPHRASE = "correct horse battery staple"


def counting_kdf(calls: list[int]):  # type: ignore[no-untyped-def]
    from azcreds.vault_file import derive_scrypt

    def kdf(passphrase: bytes, salt: bytes, params: ScryptParams) -> bytes:
        calls.append(1)
        return derive_scrypt(passphrase, salt, params)

    return kdf


class TestKeyringStoreContract(WritableStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> KeyringStore:
        return KeyringStore(tmp_path / "k.azcv", passphrase=PASSPHRASE, scrypt_params=CHEAP)


@pytest.fixture
def keyring_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "store" / "keyring.azcv"
    monkeypatch.setenv("AZCREDS_KEYRING_PATH", str(path))
    monkeypatch.setenv("AZCREDS_KEYRING_PASSPHRASE", PASSPHRASE)
    KeyringStore(path, scrypt_params=CHEAP).create()
    return path


def test_path_and_passphrase_come_from_settings(keyring_env: Path) -> None:
    store = KeyringStore()
    assert store.path == keyring_env
    assert store.header().key_source == "passphrase"
    assert store.header().kdf_params == CHEAP
    assert stat.S_IMODE(os.stat(keyring_env).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(keyring_env.parent).st_mode) == 0o700


def test_default_params_are_owasp_strength(tmp_path: Path) -> None:
    store = KeyringStore(tmp_path / "k.azcv", passphrase=PASSPHRASE)
    store.create()
    assert store.header().kdf_params == ScryptParams(n=2**17, r=8, p=1)


def test_missing_passphrase_and_wrong_passphrase_lock(
    keyring_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    KeyringStore().register("s", parse_secret("azure", {"account_name": "acct"}))
    with pytest.raises(StoreLockedError, match="wrong passphrase"):
        KeyringStore(passphrase="nope").get("s")
    monkeypatch.delenv("AZCREDS_KEYRING_PASSPHRASE")
    clear_cache()
    with pytest.raises(StoreLockedError, match="AZCREDS_KEYRING_PASSPHRASE"):
        KeyringStore().get("s")


def test_creating_without_passphrase_or_os_keyring_is_refused(tmp_path: Path) -> None:
    store = KeyringStore(tmp_path / "k.azcv")  # the plugin sets the null keyring backend
    with pytest.raises(StoreLockedError, match="passphrase"):
        store.register("s", parse_secret("azure", {"account_name": "acct"}))
    assert not store.exists()


def test_kdf_runs_once_per_unlock(tmp_path: Path) -> None:
    calls: list[int] = []
    path = tmp_path / "k.azcv"
    KeyringStore(path, passphrase=PASSPHRASE, scrypt_params=CHEAP).create()
    store = KeyringStore(path, passphrase=PASSPHRASE, kdf=counting_kdf(calls))
    for i in range(20):
        store.register(f"s{i}", parse_secret("azure", {"account_name": "acct"}))
        store.get(f"s{i}")
        store.list()
    assert len(calls) == 1


def test_resolves_from_keyring_after_env_and_completes_a_round_trip(
    keyring_env: Path, azurite: AzuriteServer, container_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    KeyringStore().register(
        "az_secret", parse_secret("azure-connection-string", {"connection_string": azurite.connection_string})
    )
    creds = resolve_credentials("az_secret")
    assert creds.source == "keyring"
    service = creds.blob_service_client(retry_total=0)
    service.create_container(container_name)
    blob = service.get_blob_client(container_name, "x.bin")
    blob.upload_blob(b"from the keyring")
    assert blob.download_blob().readall() == b"from the keyring"
    # env still wins over the keyring
    monkeypatch.setenv("AZCREDS_AZ_SECRET__CONNECTION_STRING", "UseDevelopmentStorage=true")
    assert resolve_credentials("az_secret", refresh=True).source == "env"


def test_resolver_misses_without_file_and_fails_when_locked(
    keyring_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    KeyringStore().register("locked", parse_secret("azure", {"account_name": "acct"}))
    res = explain_resolution("other")
    assert [(a.source, a.outcome) for a in res.attempts] == [
        ("env", "miss"),
        ("keyring", "miss"),
        ("managed-identity", "miss"),
        ("developer", "miss"),
    ]
    monkeypatch.setenv("AZCREDS_KEYRING_PASSPHRASE", "wrong")
    clear_cache()
    res = explain_resolution("locked")
    assert isinstance(res.error, StoreLockedError)
    assert res.attempts[-1].outcome == "failed"
    monkeypatch.setenv("AZCREDS_KEYRING_PATH", str(keyring_env.parent / "absent.azcv"))
    clear_cache()
    res = explain_resolution("locked")
    assert "no keyring file" in res.attempts[1].detail


def test_corrupted_file_fails_the_chain_and_is_not_rewritten(keyring_env: Path) -> None:
    KeyringStore().register("c", parse_secret("azure", {"account_name": "acct"}))
    data = bytearray(keyring_env.read_bytes())
    data[-5] ^= 0x01
    keyring_env.write_bytes(bytes(data))
    clear_cache()
    with pytest.raises(StoreCorruptedError, match=str(keyring_env)):
        resolve_credentials("c")
    with pytest.raises(StoreCorruptedError):
        KeyringStore().register("d", parse_secret("azure", {"account_name": "acct"}))
    assert keyring_env.read_bytes() == bytes(data)


def test_change_key(keyring_env: Path) -> None:
    store = KeyringStore()
    store.register("k", parse_secret("azure", {"account_name": "acct", "account_key": AZURITE_ACCOUNT_KEY}))
    store.change_key(passphrase="new passphrase")
    with pytest.raises(StoreLockedError):
        KeyringStore(passphrase=PASSPHRASE).get("k")
    assert KeyringStore(passphrase="new passphrase").get("k").field_values(reveal=True)["account_key"] == (
        AZURITE_ACCOUNT_KEY
    )


def _register_many(path: str, worker: int, count: int) -> None:
    # A bound far beyond any load: this test is about no lost writes, not the busy bound (tested
    # below); the default 30 s made a worker give up when a loaded machine slowed the other seven.
    store = KeyringStore(path, passphrase=PASSPHRASE, lock_timeout=3600)
    secret = parse_secret("azure", {"account_name": "acct", "account_key": AZURITE_ACCOUNT_KEY})
    for i in range(count):
        store.register(f"w{worker}-s{i}", secret)


def test_eight_processes_register_200_names_each(tmp_path: Path) -> None:
    path = tmp_path / "k.azcv"
    KeyringStore(path, passphrase=PASSPHRASE, scrypt_params=CHEAP).create()
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_register_many, args=(str(path), w, 200)) for w in range(8)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=900)  # a bound for a hang only: far beyond any machine's load
        assert p.exitcode == 0
    names = {i.name for i in KeyringStore(path, passphrase=PASSPHRASE).list()}
    assert len(names) == 1600
    assert names == {f"w{w}-s{i}" for w in range(8) for i in range(200)}


def test_a_hung_writer_makes_others_fail_after_the_bound_naming_its_pid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from azcreds import StoreBusyError
    from tests.cli.helpers import Cli
    from tests.test_vault_file import hold_lock, send_line

    path = tmp_path / "k.azcv"
    store = KeyringStore(path, passphrase=PASSPHRASE, scrypt_params=CHEAP, lock_timeout=0.05)
    store.register("before", parse_secret("azure", {"account_name": "acct"}))
    holder = hold_lock(path)
    try:
        with pytest.raises(StoreBusyError, match=f"process {holder.pid}"):
            store.register("during", parse_secret("azure", {"account_name": "acct"}))
        assert [i.name for i in store.list()] == ["before"]  # reading never waits
        monkeypatch.setenv("AZCREDS_KEYRING_PATH", str(path))
        monkeypatch.setenv("AZCREDS_KEYRING_PASSPHRASE", PASSPHRASE)
        monkeypatch.setenv("AZCREDS_KEYRING_LOCK_TIMEOUT", "0.05")
        r = Cli(capsys, monkeypatch)(
            "secret", "register", "during", "--schema", "azure", "--account_name=acct"
        )
        line = r.assert_clean_error(1)
        assert f"process {holder.pid}" in line
    finally:
        send_line(holder)
        assert holder.wait(timeout=60) == 0
    store.register("after", parse_secret("azure", {"account_name": "acct"}))
