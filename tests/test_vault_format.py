"""Tests for azcreds._vault_format: scrypt bounds, the header, tamper detection, nonces."""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from azcreds.errors import StoreCorruptedError
from azcreds.vault_file import (
    FORMAT_VERSION,
    OSKeyringKey,
    PassphraseKey,
    ScryptParams,
    VaultFile,
    VaultHeader,
)
from tests.vault_helpers import (
    CHEAP,
    FIXED,
    NONCE,
    PASSPHRASE,
    SCRYPT_SECTION,
    DictKeyring,
    cached_kdf,
    cheap_key,
    craft_passphrase_file,
    header_length,
    make_vault,
    scrypt_salt,
)


def test_default_scrypt_params_are_owasp() -> None:
    assert ScryptParams() == ScryptParams(n=2**17, r=8, p=1)
    assert PassphraseKey("x").params == ScryptParams(n=2**17, r=8, p=1)
    assert PassphraseKey("x", None).params == ScryptParams()


def test_default_key_records_n_2_17_in_header(vault_path: Path) -> None:
    VaultFile(vault_path).create(PassphraseKey(PASSPHRASE), {"a": 1})
    header = VaultFile(vault_path).header()
    assert header.kdf == "scrypt"
    assert header.kdf_params == ScryptParams(n=2**17, r=8, p=1)
    n, r, p, _ = SCRYPT_SECTION.unpack_from(vault_path.read_bytes(), FIXED.size)
    assert (n, r, p) == (2**17, 8, 1)


@pytest.mark.parametrize(
    "params",
    [
        {"n": 2**13},
        {"n": 2**10},
        {"n": 3 * 2**14},
        {"n": 2**21},
        {"r": 1},
        {"r": 64},
        {"p": 0},
        {"p": 17},
        {"n": 2**20, "r": 16},
        {"n": 2**20, "r": 8, "p": 3},
    ],
)
def test_scrypt_params_outside_the_bounds_are_refused(params: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        ScryptParams(**params)


def test_header_is_readable_without_unlocking(vault_path: Path) -> None:
    make_vault(vault_path, {"a": 1})
    header = VaultFile(vault_path).header()
    assert isinstance(header, VaultHeader)
    assert header.format_version == FORMAT_VERSION == 1
    assert header.cipher == "AES-256-GCM"
    assert header.key_source == "passphrase"
    assert header.kdf == "scrypt"
    assert header.kdf_params == CHEAP
    assert header.keyring_service is None
    assert header.generation == 1
    assert re.fullmatch(r"[0-9a-f]{32}", header.vault_id)
    assert PASSPHRASE not in repr(header)


@dataclass(frozen=True)
class TamperSamples:
    """One original file per key source, the key that opens it, and a folder for scratch copies."""

    folder: Path
    files: dict[str, tuple[bytes, Any]]


@pytest.fixture(scope="module")
def tamper_samples(tmp_path_factory: pytest.TempPathFactory) -> TamperSamples:
    folder = tmp_path_factory.mktemp("tamper")
    payload = {"secrets": {"one": {"k": "v" * 40}, "two": {"ключ": "значение"}}}
    make_vault(folder / "passphrase", payload)
    backend_key = OSKeyringKey(backend=DictKeyring())
    VaultFile(folder / "os-keyring").create(backend_key, payload)
    return TamperSamples(
        folder,
        {
            "passphrase": ((folder / "passphrase").read_bytes(), cheap_key()),
            "os-keyring": ((folder / "os-keyring").read_bytes(), backend_key),
        },
    )


def assert_tampering_refused(samples: TamperSamples, kind: str, tampered: bytes) -> None:
    """Neither a fresh unlock nor an instance unlocked earlier reads it; the file stays as it is."""
    original, key = samples.files[kind]
    assert tampered != original
    folder = Path(tempfile.mkdtemp(dir=samples.folder))
    try:
        path = folder / "vault"
        path.write_bytes(tampered)
        fresh = VaultFile(path, kdf=cached_kdf)
        with pytest.raises(StoreCorruptedError, match=re.escape(str(path))):
            fresh.unlock(key)
        assert not fresh.unlocked

        path.write_bytes(original)
        held = VaultFile(path, kdf=cached_kdf)
        held.unlock(key)
        path.write_bytes(tampered)
        with pytest.raises(StoreCorruptedError, match=re.escape(str(path))):
            held.read()
        with pytest.raises(StoreCorruptedError), held.transaction() as data:
            data["overwritten"] = True
        with pytest.raises(StoreCorruptedError):
            held.rekey(cheap_key("new"))
        assert path.read_bytes() == tampered
    finally:
        shutil.rmtree(folder)


@pytest.mark.parametrize("kind", ["passphrase", "os-keyring"])
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_any_byte_flip_is_corruption(tamper_samples: TamperSamples, kind: str, data: st.DataObject) -> None:
    original = tamper_samples.files[kind][0]
    position = data.draw(st.integers(0, len(original) - 1), label="position")
    mask = data.draw(st.integers(1, 255), label="xor mask")
    tampered = bytearray(original)
    tampered[position] ^= mask
    assert_tampering_refused(tamper_samples, kind, bytes(tampered))


@pytest.mark.parametrize("kind", ["passphrase", "os-keyring"])
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_any_truncation_or_extension_is_corruption(
    tamper_samples: TamperSamples, kind: str, data: st.DataObject
) -> None:
    original = tamper_samples.files[kind][0]
    if data.draw(st.booleans(), label="truncate"):
        tampered = original[: data.draw(st.integers(0, len(original) - 1), label="length")]
    else:
        tampered = original + data.draw(st.binary(min_size=1, max_size=64), label="extra")
    assert_tampering_refused(tamper_samples, kind, tampered)


@pytest.mark.parametrize("kind", ["passphrase", "os-keyring"])
def test_every_position_and_length_is_checked(tamper_samples: TamperSamples, kind: str) -> None:
    """Exhaustive companion to the property tests: each bit 0 and 7 of each byte, each length."""
    original = tamper_samples.files[kind][0]
    for position in range(len(original)):
        for mask in (0x01, 0x80):
            tampered = bytearray(original)
            tampered[position] ^= mask
            assert_tampering_refused(tamper_samples, kind, bytes(tampered))
    for length in range(len(original)):
        assert_tampering_refused(tamper_samples, kind, original[:length])


@pytest.mark.parametrize(("n", "r", "p"), [(2**10, 8, 1), (2**13, 8, 1), (2**14, 1, 1), (2**30, 8, 1)])
def test_unsafe_kdf_params_in_a_header_are_corruption(vault_path: Path, n: int, r: int, p: int) -> None:
    vault_path.parent.mkdir()
    vault_path.write_bytes(craft_passphrase_file(n, r, p))
    calls: list[ScryptParams] = []

    def never_called(passphrase: bytes, salt: bytes, params: ScryptParams) -> bytes:
        calls.append(params)
        raise AssertionError("the KDF must not run on unsafe parameters")

    vault = VaultFile(vault_path, kdf=never_called)
    with pytest.raises(StoreCorruptedError, match="unsafe KDF parameters"):
        vault.header()
    with pytest.raises(StoreCorruptedError, match="unsafe KDF parameters"):
        vault.unlock(cheap_key())
    assert calls == []


def test_future_format_version_is_refused(vault_path: Path) -> None:
    vault_path.parent.mkdir()
    vault_path.write_bytes(craft_passphrase_file(2**14, 8, 1, version=2))
    with pytest.raises(StoreCorruptedError, match="unsupported format version 2"):
        VaultFile(vault_path).unlock(cheap_key())


def test_foreign_file_is_corruption(vault_path: Path) -> None:
    vault_path.parent.mkdir()
    vault_path.write_text('{"not": "a vault"}' * 10)
    with pytest.raises(StoreCorruptedError, match="signature"):
        VaultFile(vault_path).header()


def test_writes_keep_the_salt_and_draw_a_fresh_nonce(vault_path: Path) -> None:
    vault = make_vault(vault_path)
    salts, nonces, generations = set(), set(), []
    for i in range(20):
        with vault.transaction() as data:
            data["i"] = i
        raw = vault_path.read_bytes()
        salts.add(scrypt_salt(raw))
        start = header_length(raw)
        nonces.add(raw[start : start + NONCE])
        generations.append(vault.header().generation)
    assert len(salts) == 1
    assert len(nonces) == 20
    assert generations == list(range(2, 22))
