"""Helpers shared by the keyring-file tests (test_vault_file, test_vault_format, test_vault_keys)."""

from __future__ import annotations

import functools
import hashlib
import os
import struct
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from keyring.backend import KeyringBackend
from keyring.backends import chainer
from keyring.errors import PasswordDeleteError

from azcreds.vault_file import (
    FORMAT_VERSION,
    PassphraseKey,
    ScryptParams,
    VaultFile,
    derive_scrypt,
)

CHEAP = ScryptParams(n=2**14)


PASSPHRASE = "correct horse battery staple"

# Layout constants from the format description in azcreds/_vault_format.py, restated here so the
# tests check the documented format rather than the module's own constants.
MAGIC = b"AZCRVLT\x00"


FIXED = struct.Struct(">8sHHBBBB16sQ")


SCRYPT_SECTION = struct.Struct(">IIIB")


NONCE = 12


@functools.cache
def _memo_scrypt(passphrase: bytes, salt: bytes, params: ScryptParams) -> bytes:
    return derive_scrypt(passphrase, salt, params)


def cached_kdf(passphrase: bytes, salt: bytes, params: ScryptParams) -> bytes:
    """The real scrypt, memoised: property tests unlock the same file hundreds of times."""
    return _memo_scrypt(passphrase, salt, params)


def cheap_key(passphrase: str = PASSPHRASE) -> PassphraseKey:
    return PassphraseKey(passphrase, CHEAP)


def header_length(data: bytes) -> int:
    return int(FIXED.unpack_from(data)[2])


def scrypt_salt(data: bytes) -> bytes:
    size = SCRYPT_SECTION.unpack_from(data, FIXED.size)[3]
    start = FIXED.size + SCRYPT_SECTION.size
    return data[start : start + size]


def craft_passphrase_file(n: int, r: int, p: int, *, version: int = FORMAT_VERSION) -> bytes:
    """A file with a well-formed header and a valid digest (the body is noise)."""
    salt = os.urandom(16)
    section = SCRYPT_SECTION.pack(n, r, p, len(salt)) + salt
    length = FIXED.size + len(section) + 64
    fixed = FIXED.pack(MAGIC, version, length, 1, 1, 1, 0, os.urandom(16), 1)
    body = fixed + section + os.urandom(32)
    return body + hashlib.sha256(body).digest() + os.urandom(NONCE + 40)


class DictKeyring(KeyringBackend):
    """A real keyring backend that keeps entries in a dict (and counts lookups)."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}
        self.lookups = 0

    def get_password(self, service: str, username: str) -> str | None:
        self.lookups += 1
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.entries[(service, username)]
        except KeyError:
            raise PasswordDeleteError(username) from None


class LowPriorityKeyring(DictKeyring):
    priority = 0.5


class EmptyChainer(chainer.ChainerBackend):
    backends: list[KeyringBackend] = []


class WeakChainer(chainer.ChainerBackend):
    backends: list[KeyringBackend] = [LowPriorityKeyring()]


def make_vault(path: Path, payload: dict[str, Any] | None = None, **kwargs: Any) -> VaultFile:
    vault = VaultFile(path, kdf=cached_kdf, **kwargs)
    vault.create(cheap_key(), payload)
    return vault


def temporaries(folder: Path) -> list[str]:
    return [name for name in os.listdir(folder) if name.endswith(".tmp")]


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)


JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)
