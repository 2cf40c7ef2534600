"""Tests for azcreds.vault_file: round trips, permissions, transactions, processes, re-keying, locking."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from azcreds.errors import StoreBusyError, StoreCorruptedError, StoreLockedError
from azcreds.vault_file import (
    OSKeyringKey,
    PassphraseKey,
    ScryptParams,
    VaultFile,
    derive_scrypt,
)
from tests.vault_helpers import (
    CHEAP,
    JSON_VALUES,
    PASSPHRASE,
    DictKeyring,
    cached_kdf,
    cheap_key,
    make_vault,
    scrypt_salt,
    temporaries,
)

WORKER = Path(__file__).parent / "vault_file_helpers" / "worker.py"
REPO = Path(__file__).resolve().parents[1]

# -- defaults and key objects ----------------------------------------------------------------


def test_importing_vault_file_does_not_import_cryptography_or_keyring() -> None:
    code = (
        "import sys, azcreds; before = set(sys.modules); import azcreds.vault_file; "
        "new = set(sys.modules) - before; "
        "bad = sorted(m for m in new if m.split('.')[0] in ('cryptography', 'keyring')); "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


# -- round trips -----------------------------------------------------------------------------


def test_round_trip(vault_path: Path) -> None:
    payload = {"secrets": {"az_secret": {"schema": "azure-account-key", "fields": {"k": "v"}}}}
    vault = make_vault(vault_path, payload)
    assert vault.unlocked
    assert vault.read() == payload

    other = VaultFile(vault_path, kdf=cached_kdf)
    assert not other.unlocked
    other.unlock(cheap_key())
    assert other.read() == payload
    with other.transaction() as data:
        data["secrets"]["second"] = {"x": [1, 2.5, None, True]}
    assert vault.read()["secrets"]["second"] == {"x": [1, 2.5, None, True]}


def test_create_without_payload_is_empty(vault_path: Path) -> None:
    assert make_vault(vault_path).read() == {}


@pytest.fixture(scope="module")
def shared_vault(tmp_path_factory: pytest.TempPathFactory) -> VaultFile:
    return make_vault(tmp_path_factory.mktemp("shared") / "vault")


@settings(max_examples=60, deadline=None)
@given(payload=st.dictionaries(st.text(), JSON_VALUES, max_size=6))
def test_unicode_payloads_round_trip(shared_vault: VaultFile, payload: dict[str, Any]) -> None:
    with shared_vault.transaction() as data:
        data.clear()
        data.update(payload)
    fresh = VaultFile(shared_vault.path, kdf=cached_kdf)
    fresh.unlock(cheap_key())
    assert fresh.read() == payload


# -- permissions -----------------------------------------------------------------------------


@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_modes_are_private_from_creation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, umask: int) -> None:
    def no_chmod(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("modes must be set at creation, not changed afterwards")

    old_umask = os.umask(umask)
    try:
        existing = tmp_path / "existing"
        existing.mkdir(mode=0o755)
        monkeypatch.setattr(os, "chmod", no_chmod)
        monkeypatch.setattr(os, "fchmod", no_chmod)
        path = existing / "a" / "b" / "vault"
        vault = make_vault(path, {"a": 1})
        assert os.stat(existing).st_mode & 0o777 == 0o755  # folders it did not create: left alone
        assert os.stat(existing / "a").st_mode & 0o777 == 0o700
        assert os.stat(path.parent).st_mode & 0o777 == 0o700
        assert os.stat(path).st_mode & 0o777 == 0o600
        assert os.stat(vault.lock_path).st_mode & 0o777 == 0o600
        with vault.transaction() as data:
            data["b"] = 2
        assert os.stat(path).st_mode & 0o777 == 0o600
        vault.rekey(cheap_key("another passphrase"))
        assert os.stat(path).st_mode & 0o777 == 0o600
    finally:
        os.umask(old_umask)


# -- missing files, wrong keys, locked instances ---------------------------------------------


def test_missing_file(vault_path: Path) -> None:
    vault = VaultFile(vault_path, kdf=cached_kdf)
    assert not vault.exists()
    with pytest.raises(FileNotFoundError):
        vault.header()
    with pytest.raises(FileNotFoundError):
        vault.unlock(cheap_key())
    assert not vault.unlocked

    vault.create(cheap_key(), {"a": 1})
    assert vault.exists()
    vault_path.unlink()
    with pytest.raises(FileNotFoundError):
        vault.read()
    with pytest.raises(FileNotFoundError), vault.transaction() as data:
        data["b"] = 2
    assert not vault_path.exists()


def test_create_refuses_an_existing_file(vault_path: Path) -> None:
    make_vault(vault_path, {"a": 1})
    before = vault_path.read_bytes()
    with pytest.raises(FileExistsError):
        VaultFile(vault_path, kdf=cached_kdf).create(cheap_key("other"), {"b": 2})
    assert vault_path.read_bytes() == before


def test_wrong_passphrase_is_locked_and_yields_nothing(vault_path: Path) -> None:
    make_vault(vault_path, {"secret": "value"})
    before = vault_path.read_bytes()
    vault = VaultFile(vault_path, kdf=cached_kdf)
    with pytest.raises(StoreLockedError, match="wrong passphrase") as caught:
        vault.unlock(cheap_key("wrong passphrase!"))
    assert "wrong passphrase!" not in str(caught.value)
    assert str(vault_path) in str(caught.value)
    assert not vault.unlocked
    with pytest.raises(StoreLockedError):
        vault.read()
    with pytest.raises(StoreLockedError), vault.transaction():
        pass
    assert vault_path.read_bytes() == before
    vault.unlock(cheap_key())
    assert vault.read() == {"secret": "value"}


def test_locked_instance_refuses_everything(vault_path: Path) -> None:
    make_vault(vault_path)
    vault = VaultFile(vault_path)
    with pytest.raises(StoreLockedError, match="unlock it first"):
        vault.read()
    with pytest.raises(StoreLockedError), vault.transaction():
        pass
    with pytest.raises(StoreLockedError):
        vault.rekey(cheap_key("new"))
    vault.unlock(cheap_key())
    vault.lock()
    assert not vault.unlocked
    with pytest.raises(StoreLockedError):
        vault.read()


# -- tampering -------------------------------------------------------------------------------


def test_swapped_in_store_is_corruption_for_an_unlocked_instance(tmp_path: Path) -> None:
    a, b = tmp_path / "a" / "vault", tmp_path / "b" / "vault"
    vault = make_vault(a, {"who": "a"})
    make_vault(b, {"who": "b"})  # same passphrase, same parameters
    a.write_bytes(b.read_bytes())
    with pytest.raises(StoreCorruptedError, match="different store"):
        vault.read()
    with pytest.raises(StoreCorruptedError), vault.transaction() as data:
        data["who"] = "overwritten"
    assert a.read_bytes() == b.read_bytes()


def test_swapped_in_store_is_a_valid_store_for_a_fresh_instance(tmp_path: Path) -> None:
    """The limit of the check above: without a memory of the original, a swapped file is just a store
    (binding files to their path would break moving them). Documented here, not hidden."""
    a, b = tmp_path / "a" / "vault", tmp_path / "b" / "vault"
    make_vault(a, {"who": "a"})
    make_vault(b, {"who": "b"})
    a.write_bytes(b.read_bytes())
    fresh = VaultFile(a, kdf=cached_kdf)
    fresh.unlock(cheap_key())
    assert fresh.read() == {"who": "b"}


def test_rolled_back_file_is_corruption_for_an_unlocked_instance(vault_path: Path) -> None:
    vault = make_vault(vault_path, {"n": 1})
    old = vault_path.read_bytes()
    with vault.transaction() as data:
        data["n"] = 2
    vault_path.write_bytes(old)
    with pytest.raises(StoreCorruptedError, match="older copy"):
        vault.read()
    assert vault_path.read_bytes() == old


# -- key derivation runs once per unlock -----------------------------------------------------


def test_kdf_runs_once_per_unlock(vault_path: Path) -> None:
    calls: list[ScryptParams] = []

    def counting_kdf(passphrase: bytes, salt: bytes, params: ScryptParams) -> bytes:
        calls.append(params)
        return derive_scrypt(passphrase, salt, params)

    vault = VaultFile(vault_path, kdf=counting_kdf)
    vault.create(cheap_key(), {})
    assert len(calls) == 1
    for i in range(100):
        with vault.transaction() as data:
            data[f"k{i}"] = i
        assert vault.read()[f"k{i}"] == i
    assert len(calls) == 1

    other = VaultFile(vault_path, kdf=counting_kdf)
    other.unlock(cheap_key())
    assert len(calls) == 2
    for i in range(50):
        with other.transaction() as data:
            data[f"other{i}"] = i
    assert len(vault.read()) == 150
    assert len(calls) == 2

    vault.rekey(cheap_key("new passphrase"))
    assert len(calls) == 3
    with pytest.raises(StoreLockedError, match="re-keyed"):
        other.read()
    other.unlock(cheap_key("new passphrase"))
    assert len(calls) == 4
    assert other.read() == vault.read()
    assert calls == [CHEAP] * 4


# -- transactions ----------------------------------------------------------------------------


def test_exception_in_transaction_writes_nothing(vault_path: Path) -> None:
    vault = make_vault(vault_path, {"a": 1})
    before = vault_path.read_bytes()

    def fail_midway() -> None:
        with vault.transaction() as data:
            data["a"] = 2
            raise KeyError("boom")

    with pytest.raises(KeyError):
        fail_midway()
    assert vault_path.read_bytes() == before
    with vault.transaction() as data:  # the lock was released
        assert data == {"a": 1}
        data["a"] = 3
    assert vault.read() == {"a": 3}


def test_unchanged_transaction_does_not_write(vault_path: Path) -> None:
    vault = make_vault(vault_path, {"a": 1})
    before = vault_path.read_bytes()
    with vault.transaction() as data:
        assert data == {"a": 1}
    assert vault_path.read_bytes() == before


def test_non_json_payload_is_refused_before_writing(vault_path: Path) -> None:
    with pytest.raises(TypeError):
        VaultFile(vault_path, kdf=cached_kdf).create(cheap_key(), {"bad": {1, 2}})
    assert not vault_path.exists()
    vault = make_vault(vault_path, {"a": 1})
    before = vault_path.read_bytes()
    with pytest.raises(TypeError), vault.transaction() as data:
        data["bad"] = object()
    with pytest.raises(ValueError), vault.transaction() as data:
        data["bad"] = float("nan")
    assert vault_path.read_bytes() == before


def test_nested_transaction_is_an_error_not_a_deadlock(vault_path: Path) -> None:
    vault = make_vault(vault_path)
    same_file = VaultFile(vault_path, kdf=cached_kdf)
    same_file.unlock(cheap_key())
    with vault.transaction():
        with pytest.raises(RuntimeError), vault.transaction():
            pass
        with pytest.raises(RuntimeError), same_file.transaction():
            pass


def test_stale_temporaries_are_removed_by_the_next_writer(vault_path: Path) -> None:
    vault = make_vault(vault_path)
    stale = vault_path.parent / f".{vault_path.name}.0123456789abcdef.tmp"
    unrelated = vault_path.parent / f".{vault_path.name}.other.0123456789abcdef.tmp"
    stale.write_bytes(b"half a file")
    unrelated.write_bytes(b"someone else's")
    with vault.transaction() as data:
        data["a"] = 1
    assert not stale.exists()
    assert unrelated.exists()


def test_threads_do_not_lose_updates(vault_path: Path) -> None:
    make_vault(vault_path)
    errors: list[BaseException] = []

    def register(worker: int) -> None:
        try:
            vault = VaultFile(vault_path, kdf=cached_kdf)
            vault.unlock(cheap_key())
            for i in range(50):
                with vault.transaction() as data:
                    data[f"t{worker}-{i}"] = i
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=register, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    vault = VaultFile(vault_path, kdf=cached_kdf)
    vault.unlock(cheap_key())
    assert len(vault.read()) == 200


# -- processes -------------------------------------------------------------------------------


def start_worker(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "AZCREDS_TEST_PASSPHRASE": PASSPHRASE}
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "ready\n"
    return proc


def test_concurrent_processes_lose_no_registration(vault_path: Path) -> None:
    workers, per_worker = 8, 200
    vault = make_vault(vault_path)
    procs = [start_worker("register", str(vault_path), str(w), str(per_worker)) for w in range(workers)]
    started = time.monotonic()
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        out, _ = proc.communicate(timeout=180)
        assert (proc.returncode, out) == (0, "done\n")
    elapsed = time.monotonic() - started

    payload = vault.read()
    expected = {f"w{w}-{i}": i for w in range(workers) for i in range(per_worker)}
    assert payload == expected
    assert vault.header().generation == 1 + workers * per_worker  # every write saw the one before
    fresh = VaultFile(vault_path, kdf=cached_kdf)
    fresh.unlock(cheap_key())
    assert fresh.read() == expected
    assert temporaries(vault_path.parent) == []
    print(f"\n{workers * per_worker} transactions from {workers} processes in {elapsed:.1f} s")


def test_killed_writers_leave_the_old_or_the_new_state(vault_path: Path) -> None:
    vault = make_vault(vault_path, {"counters": []})
    rng = random.Random(20240601)
    kills = 0
    killed_mid_write = 0
    acknowledged = 0
    started = time.monotonic()
    while kills < 60:
        proc = start_worker("count", str(vault_path))
        assert proc.stdin is not None
        assert proc.stdout is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
        for _ in range(rng.randint(0, 3)):
            acknowledged = int(proc.stdout.readline())
        # A random moment inside the following transactions: reading, encrypting, fsync, replace.
        time.sleep(rng.uniform(0, 0.004))
        proc.kill()
        proc.stdin.close()
        rest = proc.stdout.read()  # through the same buffer readline() filled, not communicate()
        proc.stdout.close()
        proc.wait(timeout=30)
        for line in rest.split():
            acknowledged = int(line)
        kills += 1
        killed_mid_write += bool(temporaries(vault_path.parent))

        counters = vault.read()["counters"]
        assert counters == list(range(len(counters)))
        assert len(counters) in (acknowledged, acknowledged + 1)  # the old state or the new one
        acknowledged = len(counters)
    elapsed = time.monotonic() - started

    with vault.transaction() as data:
        data["counters"].append(len(data["counters"]))
    assert temporaries(vault_path.parent) == []
    fresh = VaultFile(vault_path, kdf=cached_kdf)
    fresh.unlock(cheap_key())
    assert fresh.read() == vault.read()
    print(
        f"\n{kills} kills ({killed_mid_write} left a temporary file), {acknowledged} commits, {elapsed:.1f} s"
    )


# -- re-keying -------------------------------------------------------------------------------


def test_rekey_to_a_new_passphrase(vault_path: Path) -> None:
    payload = {"secrets": {"a": {"k": "v"}}}
    vault = make_vault(vault_path, payload)
    before = vault.header()
    old_salt = scrypt_salt(vault_path.read_bytes())
    new_params = ScryptParams(n=2**15)
    vault.rekey(PassphraseKey("a new passphrase", new_params))

    after = vault.header()
    assert after.vault_id == before.vault_id
    assert after.generation == before.generation + 1
    assert after.kdf_params == new_params
    assert scrypt_salt(vault_path.read_bytes()) != old_salt
    assert vault.read() == payload

    with pytest.raises(StoreLockedError):
        VaultFile(vault_path, kdf=cached_kdf).unlock(cheap_key())
    fresh = VaultFile(vault_path, kdf=cached_kdf)
    fresh.unlock(PassphraseKey("a new passphrase"))
    assert fresh.read() == payload


# -- the OS keyring --------------------------------------------------------------------------


def test_rekey_between_passphrase_and_os_keyring(vault_path: Path, os_keyring: DictKeyring) -> None:
    vault = make_vault(vault_path, {"a": 1})
    vault.rekey(OSKeyringKey())
    assert vault.header().key_source == "os-keyring"
    assert len(os_keyring.entries) == 1
    with pytest.raises(StoreLockedError):
        VaultFile(vault_path, kdf=cached_kdf).unlock(cheap_key())
    other = VaultFile(vault_path)
    other.unlock(OSKeyringKey())
    assert other.read() == {"a": 1}

    vault.rekey(OSKeyringKey())  # a new key under a new id; the old entry goes
    assert len(os_keyring.entries) == 1
    with pytest.raises(StoreLockedError, match="re-keyed"):
        other.read()

    vault.rekey(cheap_key("back to a passphrase"))
    assert os_keyring.entries == {}
    fresh = VaultFile(vault_path, kdf=cached_kdf)
    fresh.unlock(cheap_key("back to a passphrase"))
    assert fresh.read() == {"a": 1}


def test_failed_write_leaves_file_and_keyring_as_they_were(
    vault_path: Path, os_keyring: DictKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = make_vault(vault_path, {"a": 1})
    before = vault_path.read_bytes()

    def disk_full(*args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError, match="No space"):
        vault.rekey(OSKeyringKey())
    with pytest.raises(OSError, match="No space"), vault.transaction() as data:
        data["b"] = 2
    monkeypatch.undo()

    assert os_keyring.entries == {}  # the new key was taken back out of the keyring
    assert vault_path.read_bytes() == before
    assert temporaries(vault_path.parent) == []
    assert vault.read() == {"a": 1}  # still unlocked with the old key
    fresh = VaultFile(vault_path, kdf=cached_kdf)
    fresh.unlock(cheap_key())


# -- lock waits --------------------------------------------------------------------------------


def send_line(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.write("go\n")
    proc.stdin.flush()


def hold_lock(path: Path, mode: str = "hold") -> subprocess.Popen[str]:
    """A second process that holds the write lock of ``path`` until ``send_line`` lets it go."""
    proc = start_worker(mode, str(path))
    send_line(proc)
    assert proc.stdout is not None
    assert proc.stdout.readline() == "locked\n"
    return proc


def test_a_writer_stuck_holding_the_lock_gives_a_bounded_wait_naming_its_pid(vault_path: Path) -> None:
    make_vault(vault_path, {"n": 0})
    vault = VaultFile(vault_path, kdf=cached_kdf, lock_timeout=0.05)
    vault.unlock(cheap_key())
    holder = hold_lock(vault_path)
    try:
        for attempt in (lambda: vault.transaction().__enter__(), lambda: vault.rekey(cheap_key("new"))):
            with pytest.raises(StoreBusyError) as info:
                attempt()
            assert info.value.holder_pid == holder.pid
            assert f"process {holder.pid}" in str(info.value)
            assert str(vault_path) in str(info.value)
            assert "AZCREDS_KEYRING_LOCK_TIMEOUT" in str(info.value)
        assert vault.read() == {"n": 0}  # readers take no lock: they never wait
    finally:
        send_line(holder)
        assert holder.wait(timeout=60) == 0
    with vault.transaction() as payload:  # released: the next writer gets it at once
        payload["n"] = 1
    assert vault_path.with_name(vault_path.name + ".lock").read_text() == ""  # no pid left behind


def test_a_stale_pid_in_the_lock_file_is_reported_as_such(vault_path: Path) -> None:
    make_vault(vault_path)
    vault = VaultFile(vault_path, kdf=cached_kdf, lock_timeout=0.02)
    vault.unlock(cheap_key())
    holder = hold_lock(vault_path, "hold-forked")  # its forked child keeps the lock
    assert holder.wait(timeout=60) == 0  # reaped: the recorded pid is no longer a process
    try:
        with pytest.raises(StoreBusyError) as info, vault.transaction():
            pass
        assert info.value.holder_pid == holder.pid
        assert f"process {holder.pid}" in str(info.value)
        assert "no longer running" in str(info.value)
    finally:
        send_line(holder)  # the forked child shares the worker's stdin
    # The child exits on that line; the next writer waits for it without any bound.
    unbounded = VaultFile(vault_path, kdf=cached_kdf, lock_timeout=None)
    unbounded.unlock(cheap_key())
    with unbounded.transaction() as payload:
        payload["after"] = True


def test_a_lock_held_without_a_recorded_pid_says_the_holder_is_unknown(vault_path: Path) -> None:
    import fcntl

    make_vault(vault_path)
    vault = VaultFile(vault_path, kdf=cached_kdf, lock_timeout=0)
    vault.unlock(cheap_key())
    lock_path = vault_path.with_name(vault_path.name + ".lock")
    # Another program's flock (no pid written), from an open file description of its own.
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, b"not a pid")
        with pytest.raises(StoreBusyError, match="unknown process") as info, vault.transaction():
            pass
        assert info.value.holder_pid is None
    finally:
        os.close(fd)


def test_lock_timeout_is_validated() -> None:
    for bad in (-1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="lock_timeout"):
            VaultFile("x", lock_timeout=bad)
