"""Tests for azcreds._vault_keys: passphrase keys, OS keyring keys and the backends refused."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null

from azcreds.errors import StoreLockedError
from azcreds.vault_file import (
    OSKeyringKey,
    PassphraseKey,
    VaultFile,
)
from tests.vault_helpers import (
    CHEAP,
    DictKeyring,
    EmptyChainer,
    LowPriorityKeyring,
    WeakChainer,
    cached_kdf,
    cheap_key,
    make_vault,
)


def test_passphrase_never_in_repr() -> None:
    key = PassphraseKey("hunter2-secret")
    assert "hunter2" not in repr(key)
    assert "hunter2" not in str(key)
    with pytest.raises(ValueError):
        PassphraseKey("")


def test_unicode_passphrase_is_normalised(vault_path: Path) -> None:
    composed = unicodedata.normalize("NFC", "pässwörd 🔑 ключ")
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    VaultFile(vault_path, kdf=cached_kdf).create(PassphraseKey(composed, CHEAP), {"名前": "値"})
    vault = VaultFile(vault_path, kdf=cached_kdf)
    vault.unlock(PassphraseKey(decomposed))
    assert vault.read() == {"名前": "値"}


def test_os_keyring_key_round_trip(vault_path: Path, os_keyring: DictKeyring) -> None:
    VaultFile(vault_path).create(OSKeyringKey(), {"a": 1})
    header = VaultFile(vault_path).header()
    assert header.key_source == "os-keyring"
    assert header.kdf is None
    assert header.kdf_params is None
    assert header.keyring_service == "azcreds"
    assert header.keyring_username is not None
    assert list(os_keyring.entries) == [("azcreds", header.keyring_username)]
    assert header.vault_id not in header.keyring_username  # a key id, not the file's id

    vault = VaultFile(vault_path)
    lookups = os_keyring.lookups
    vault.unlock(OSKeyringKey())
    assert os_keyring.lookups == lookups + 1
    for i in range(20):
        with vault.transaction() as data:
            data[str(i)] = i
        vault.read()
    assert os_keyring.lookups == lookups + 1  # fetched once per unlock
    assert len(vault.read()) == 21


def test_os_keyring_key_mismatches_are_locked(vault_path: Path, os_keyring: DictKeyring) -> None:
    VaultFile(vault_path).create(OSKeyringKey(), {"a": 1})
    before = vault_path.read_bytes()
    (entry,) = os_keyring.entries
    with pytest.raises(StoreLockedError, match="OS keyring"):
        VaultFile(vault_path).unlock(cheap_key())
    with pytest.raises(StoreLockedError, match="service"):
        VaultFile(vault_path).unlock(OSKeyringKey(service="elsewhere"))
    os_keyring.entries[entry] = "bm90IGEga2V5"
    with pytest.raises(StoreLockedError, match="not a key"):
        VaultFile(vault_path).unlock(OSKeyringKey())
    os_keyring.entries[entry] = "A" * 43 + "="  # a well-formed 32-byte key, but not this one
    with pytest.raises(StoreLockedError, match="wrong OS keyring key"):
        VaultFile(vault_path).unlock(OSKeyringKey())
    del os_keyring.entries[entry]
    with pytest.raises(StoreLockedError, match="no key"):
        VaultFile(vault_path).unlock(OSKeyringKey())
    assert vault_path.read_bytes() == before

    passphrase_file = vault_path.with_name("other")
    make_vault(passphrase_file)
    with pytest.raises(StoreLockedError, match="passphrase"):
        VaultFile(passphrase_file).unlock(OSKeyringKey())


def test_os_keyring_backend_can_be_injected(vault_path: Path) -> None:
    backend = DictKeyring()
    VaultFile(vault_path).create(OSKeyringKey("my-service", backend=backend), {"a": 1})
    vault = VaultFile(vault_path)
    vault.unlock(OSKeyringKey("my-service", backend=backend))
    assert vault.read() == {"a": 1}
    assert [service for service, _ in backend.entries] == ["my-service"]


@pytest.mark.parametrize(
    "backend",
    [fail.Keyring(), null.Keyring(), EmptyChainer(), WeakChainer(), LowPriorityKeyring()],
    ids=["fail", "null", "empty-chainer", "chainer-of-weak-backends", "priority-below-1"],
)
def test_backends_that_keep_nothing_are_refused(vault_path: Path, backend: KeyringBackend) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        with pytest.raises(StoreLockedError, match="no usable OS keyring backend"):
            VaultFile(vault_path).create(OSKeyringKey())
        assert not vault_path.parent.exists()  # refused before creating anything
        with pytest.raises(StoreLockedError, match="no usable OS keyring backend"):
            VaultFile(vault_path).create(OSKeyringKey(backend=backend))

        VaultFile(vault_path).create(OSKeyringKey(backend=DictKeyring()), {"a": 1})
        before = vault_path.read_bytes()
        with pytest.raises(StoreLockedError, match="no usable OS keyring backend"):
            VaultFile(vault_path).unlock(OSKeyringKey())
        vault = make_vault(vault_path.with_name("passphrase"))
        with pytest.raises(StoreLockedError, match="no usable OS keyring backend"):
            vault.rekey(OSKeyringKey())
        assert vault.read() == {}
        assert vault_path.read_bytes() == before
    finally:
        keyring.set_keyring(previous)
