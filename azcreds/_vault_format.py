"""The keyring file's bytes: header layout, scrypt parameters, key schedule, AEAD over the JSON payload.

One file holds one JSON object (the store above decides its shape). Every byte of it is
authenticated: the header is the AEAD's associated data, and it also carries a SHA-256 digest of
itself, so a damaged header is told apart from a wrong key.

File layout (format version 1; integers big-endian)::

    offset  size  field
    0       8     magic  b"AZCRVLT\\x00"
    8       2     format version (1)
    10      2     header length H (bytes, digest included)
    12      1     cipher: 1 = AES-256-GCM
    13      1     key source: 1 = passphrase, 2 = OS keyring
    14      1     KDF: 1 = scrypt (passphrase), 0 = none (OS keyring: the key is random)
    15      1     reserved, 0
    16      16    vault id: random at creation, kept for the file's life (re-keying included)
    32      8     generation: 1 at creation, +1 on every write
    40      ...   key source section
                    passphrase: scrypt n (4), r (4), p (4), salt length (1), salt (16..64)
                    OS keyring: key id (16), service length (1), service (UTF-8, 1..255)
    H-64    32    key check: HKDF-SHA256(data key, info "azcreds vault v1 key check")
    H-32    32    SHA-256 of bytes 0..H-32
    H       12    nonce, fresh and random for every write
    H+12    ...   AES-256-GCM(key = HKDF-SHA256(data key, info "azcreds vault v1 aead key"),
                  plaintext = UTF-8 JSON object, associated data = bytes 0..H) with its 16-byte tag

Checks run in that order: header shape and digest (else StoreCorruptedError), then the key check
(else StoreLockedError: wrong passphrase or key), then the AEAD tag (else StoreCorruptedError). The
data key is scrypt(passphrase, salt) or 32 random bytes kept in the OS keyring under
``(service, "vault-<key id hex>")``. It is derived once per :meth:`VaultFile.unlock` and cached by the
``(service, "vault-<key id hex>")`` (see :mod:`azcreds._vault_keys`). Reading and writing the file
itself — locks, temporary files, fsync, replace — is :mod:`azcreds.vault_file`'s job; import the
public names from there.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from azcreds.errors import StoreCorruptedError

__all__ = ["FORMAT_VERSION", "MAGIC", "KdfFunction", "ScryptParams", "VaultHeader", "derive_scrypt"]

FORMAT_VERSION = 1
MAGIC = b"AZCRVLT\x00"

_FIXED = struct.Struct(">8sHHBBBB16sQ")  # magic .. generation: 40 bytes
_SCRYPT = struct.Struct(">IIIB")  # n, r, p, salt length
_CIPHER_AES_256_GCM = 1
_SOURCE_PASSPHRASE = 1
_SOURCE_OS_KEYRING = 2
_KDF_NONE = 0
_KDF_SCRYPT = 1
_KEY_CHECK_SIZE = 32
_DIGEST_SIZE = 32
_NONCE_SIZE = 12
_TAG_SIZE = 16
_SALT_SIZE = 16
_SALT_RANGE = (16, 64)
_KEY_SIZE = 32
_INFO_AEAD = b"azcreds vault v1 aead key"
_INFO_KEY_CHECK = b"azcreds vault v1 key check"

# Bounds on scrypt parameters. The floor keeps files from being brute-forced cheaply (tests use
# it); the ceiling keeps a crafted header from making unlock allocate gigabytes or run for minutes.
_SCRYPT_MIN_N = 2**14
_SCRYPT_MAX_N = 2**20
_SCRYPT_R_RANGE = (8, 32)
_SCRYPT_P_RANGE = (1, 16)
_SCRYPT_MAX_MEMORY = 2**30  # 128 * n * r bytes
_SCRYPT_MAX_WORK = 2**17 * 8 * 16  # n * r * p: sixteen times the default


@dataclass(frozen=True)
class ScryptParams:
    """scrypt cost parameters. The default is OWASP's recommendation (N=2**17, r=8, p=1).

    Accepted: ``n`` a power of two in 2**14..2**20, ``r`` in 8..32, ``p`` in 1..16, at most 1 GiB of
    memory and sixteen times the default work. Anything else raises ValueError here, and a file
    whose header records it is refused as corrupted.
    """

    n: int = 2**17
    r: int = 8
    p: int = 1

    def __post_init__(self) -> None:
        for name in ("n", "r", "p"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"scrypt {name} must be an int")
        if not _SCRYPT_MIN_N <= self.n <= _SCRYPT_MAX_N or self.n & (self.n - 1):
            raise ValueError("scrypt n must be a power of two from 2**14 to 2**20")
        if not _SCRYPT_R_RANGE[0] <= self.r <= _SCRYPT_R_RANGE[1]:
            raise ValueError(f"scrypt r must be from {_SCRYPT_R_RANGE[0]} to {_SCRYPT_R_RANGE[1]}")
        if not _SCRYPT_P_RANGE[0] <= self.p <= _SCRYPT_P_RANGE[1]:
            raise ValueError(f"scrypt p must be from {_SCRYPT_P_RANGE[0]} to {_SCRYPT_P_RANGE[1]}")
        if 128 * self.n * self.r > _SCRYPT_MAX_MEMORY:
            raise ValueError("scrypt parameters need more than 1 GiB of memory (128 * n * r)")
        if self.n * self.r * self.p > _SCRYPT_MAX_WORK:
            raise ValueError("scrypt parameters ask for more than 16x the default work")


KdfFunction = Callable[[bytes, bytes, ScryptParams], bytes]
"""``(passphrase, salt, params) -> 32-byte key``: how a :class:`VaultFile` runs scrypt."""


def derive_scrypt(passphrase: bytes, salt: bytes, params: ScryptParams) -> bytes:
    """The 32-byte data key scrypt derives from ``passphrase`` and ``salt`` (cryptography's Scrypt)."""
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=_KEY_SIZE, n=params.n, r=params.r, p=params.p).derive(passphrase)


@dataclass(frozen=True)
class VaultHeader:
    """What a vault file's header says, readable without unlocking it. It holds no secret."""

    format_version: int
    cipher: Literal["AES-256-GCM"]
    key_source: Literal["passphrase", "os-keyring"]
    kdf: Literal["scrypt"] | None
    kdf_params: ScryptParams | None
    keyring_service: str | None
    keyring_username: str | None
    vault_id: str
    generation: int


@dataclass(frozen=True)
class _Header:
    vault_id: bytes
    generation: int
    source: int
    scrypt: ScryptParams | None = None
    salt: bytes = b""
    key_id: bytes = b""
    service: str = ""
    key_check: bytes = b""

    def key_section(self) -> bytes:
        if self.source == _SOURCE_PASSPHRASE:
            assert self.scrypt is not None
            params = self.scrypt
            return _SCRYPT.pack(params.n, params.r, params.p, len(self.salt)) + self.salt
        service = self.service.encode("utf-8")
        return self.key_id + bytes([len(service)]) + service

    def to_bytes(self) -> bytes:
        section = self.key_section()
        length = _FIXED.size + len(section) + _KEY_CHECK_SIZE + _DIGEST_SIZE
        kdf = _KDF_SCRYPT if self.source == _SOURCE_PASSPHRASE else _KDF_NONE
        fixed = _FIXED.pack(
            MAGIC,
            FORMAT_VERSION,
            length,
            _CIPHER_AES_256_GCM,
            self.source,
            kdf,
            0,
            self.vault_id,
            self.generation,
        )
        body = fixed + section + self.key_check
        return body + hashlib.sha256(body).digest()

    @property
    def keyring_username(self) -> str:
        return f"vault-{self.key_id.hex()}"

    def public(self) -> VaultHeader:
        keyring = self.source == _SOURCE_OS_KEYRING
        return VaultHeader(
            format_version=FORMAT_VERSION,
            cipher="AES-256-GCM",
            key_source="os-keyring" if keyring else "passphrase",
            kdf=None if keyring else "scrypt",
            kdf_params=self.scrypt,
            keyring_service=self.service if keyring else None,
            keyring_username=self.keyring_username if keyring else None,
            vault_id=self.vault_id.hex(),
            generation=self.generation,
        )


def _corrupted(path: Path, reason: str) -> StoreCorruptedError:
    return StoreCorruptedError(f"keyring file {path} is corrupted or not an azcreds keyring: {reason}")


def _parse(data: bytes, path: Path) -> tuple[_Header, bytes]:
    """The header and its bytes, checked for shape and digest; StoreCorruptedError otherwise."""
    if len(data) < _FIXED.size:
        raise _corrupted(path, "the file is too short")
    magic, version, length, cipher, source, kdf, reserved, vault_id, generation = _FIXED.unpack_from(data)
    if magic != MAGIC:
        raise _corrupted(path, "unknown file signature")
    if version != FORMAT_VERSION:
        raise _corrupted(path, f"unsupported format version {version}")
    minimum_body = _NONCE_SIZE + _TAG_SIZE
    if not _FIXED.size + _KEY_CHECK_SIZE + _DIGEST_SIZE <= length <= len(data) - minimum_body:
        raise _corrupted(path, "the file is truncated or its header length is wrong")
    header_bytes = data[:length]
    digest = hashlib.sha256(header_bytes[:-_DIGEST_SIZE]).digest()
    if not hmac.compare_digest(digest, header_bytes[-_DIGEST_SIZE:]):
        raise _corrupted(path, "header digest mismatch")
    if cipher != _CIPHER_AES_256_GCM or reserved != 0:
        raise _corrupted(path, "unknown cipher")
    section = header_bytes[_FIXED.size : -(_KEY_CHECK_SIZE + _DIGEST_SIZE)]
    key_check = header_bytes[-(_KEY_CHECK_SIZE + _DIGEST_SIZE) : -_DIGEST_SIZE]
    if source == _SOURCE_PASSPHRASE and kdf == _KDF_SCRYPT:
        header = _parse_scrypt_section(section, vault_id, generation, key_check, path)
    elif source == _SOURCE_OS_KEYRING and kdf == _KDF_NONE:
        header = _parse_keyring_section(section, vault_id, generation, key_check, path)
    else:
        raise _corrupted(path, "unknown key source or KDF")
    if header.to_bytes() != header_bytes:
        raise _corrupted(path, "non-canonical header")
    return header, header_bytes


def _parse_scrypt_section(
    section: bytes, vault_id: bytes, generation: int, key_check: bytes, path: Path
) -> _Header:
    if len(section) < _SCRYPT.size:
        raise _corrupted(path, "malformed KDF section")
    n, r, p, salt_size = _SCRYPT.unpack_from(section)
    salt = section[_SCRYPT.size :]
    if len(salt) != salt_size or not _SALT_RANGE[0] <= salt_size <= _SALT_RANGE[1]:
        raise _corrupted(path, "malformed salt")
    try:
        params = ScryptParams(n, r, p)
    except ValueError as exc:
        raise _corrupted(path, f"unsafe KDF parameters ({exc})") from None
    return _Header(vault_id, generation, _SOURCE_PASSPHRASE, scrypt=params, salt=salt, key_check=key_check)


def _parse_keyring_section(
    section: bytes, vault_id: bytes, generation: int, key_check: bytes, path: Path
) -> _Header:
    if len(section) < 17 or section[16] != len(section) - 17 or section[16] == 0:
        raise _corrupted(path, "malformed OS keyring section")
    try:
        service = section[17:].decode("utf-8")
    except UnicodeDecodeError:
        raise _corrupted(path, "malformed OS keyring service name") from None
    return _Header(
        vault_id,
        generation,
        _SOURCE_OS_KEYRING,
        key_id=section[:16],
        service=service,
        key_check=key_check,
    )


def _decrypt(aead_key: bytes, header_bytes: bytes, data: bytes, path: Path) -> dict[str, Any]:
    """The payload of ``data``, authenticated with its header; StoreCorruptedError otherwise."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    body = data[len(header_bytes) :]
    nonce, ciphertext = body[:_NONCE_SIZE], body[_NONCE_SIZE:]
    try:
        plaintext = AESGCM(aead_key).decrypt(nonce, ciphertext, header_bytes)
    except InvalidTag:
        raise _corrupted(path, "the contents failed authentication") from None
    try:
        payload = json.loads(plaintext.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError and JSONDecodeError alike
        raise _corrupted(path, "the contents are not JSON") from None
    if not isinstance(payload, dict):
        raise _corrupted(path, "the contents are not a JSON object")
    return payload


def _encrypt(aead_key: bytes, header_bytes: bytes, plaintext: bytes) -> bytes:
    """Nonce and ciphertext of ``plaintext`` under a fresh random nonce, the header authenticated."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = secrets.token_bytes(_NONCE_SIZE)
    return nonce + AESGCM(aead_key).encrypt(nonce, plaintext, header_bytes)


def _expand_keys(master: bytes) -> tuple[bytes, bytes]:
    """The key check and the AEAD key of a data key (HKDF-SHA256, one ``info`` each)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    def expand(info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)

    return expand(_INFO_KEY_CHECK), expand(_INFO_AEAD)


def _replace_generation(header: _Header, generation: int) -> _Header:
    return _Header(
        header.vault_id,
        generation,
        header.source,
        scrypt=header.scrypt,
        salt=header.salt,
        key_id=header.key_id,
        service=header.service,
        key_check=header.key_check,
    )


def _encode(payload: dict[str, Any]) -> bytes:
    """The payload as UTF-8 JSON; TypeError/ValueError (before anything is written) if it is not."""
    if not isinstance(payload, dict):
        raise TypeError("the keyring payload must be a dict")
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.encode("utf-8")
