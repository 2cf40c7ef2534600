"""Secret references: recognise and strictly parse ``azcreds://``, Key Vault URIs, ``@Microsoft.KeyVault``.

Three spellings point at a secret instead of holding it:

- ``azcreds://NAME`` or ``azcreds://NAME/FIELD``: the azcreds secret ``NAME`` as the default chain
  resolves it; ``FIELD`` is one of its schema's fields (``account_key``, ``account-key``) or one
  of its exports (``AZURE_STORAGE_CONNECTION_STRING``); without it, the connection string.
- ``https://VAULT/secrets/NAME[/VERSION]``: a Key Vault secret's value, as Key Vault shows its id.
  Only a Key Vault host (``*.vault.azure.net`` and the sovereign clouds' suffixes) or the origin of
  ``AZCREDS_KEYVAULT_URL`` (passed in as ``vaults``) makes an ``https://`` value a reference; any
  other URL is an ordinary value.
- App Service's ``@Microsoft.KeyVault(SecretUri=URI)`` and
  ``@Microsoft.KeyVault(VaultName=V;SecretName=S[;SecretVersion=X])``.

:func:`parse_reference` answers ``None`` for a value that is none of these, a
:class:`SecretReference` or :class:`KeyVaultReference` for a well-formed one, and raises
:class:`~azcreds.errors.InvalidReferenceError` naming *where* the value is (a variable, a
``file:line``) for one that starts like a reference but is malformed. Parsing is local: nothing is
resolved here (that is :mod:`azcreds.reference_values`), and no message repeats the value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from azcreds.errors import InvalidReferenceError
from azcreds.names import is_secret_name

__all__ = [
    "KEYVAULT_DNS_SUFFIXES",
    "KeyVaultReference",
    "Reference",
    "SecretReference",
    "looks_like_reference",
    "parse_reference",
]

KEYVAULT_DNS_SUFFIXES = (
    ".vault.azure.net",
    ".vault.azure.cn",
    ".vault.usgovcloudapi.net",
    ".vault.microsoftazure.de",
)
"""Hosts ending so are Key Vault data planes (public, China, US Government, Germany clouds)."""

_SCHEME = "azcreds://"
_APP_SERVICE = "@microsoft.keyvault("
_FIELD = re.compile(r"[a-z][a-z0-9]*(?:[_-][a-z0-9]+)*")
_EXPORT = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")
_KV_SECRET = re.compile(r"[0-9A-Za-z-]{1,127}")
_KV_VERSION = re.compile(r"[0-9a-fA-F]{32}")
_VAULT_NAME = re.compile(r"[A-Za-z](?:[A-Za-z0-9]|-(?!-)){1,22}[A-Za-z0-9]")


@dataclass(frozen=True)
class SecretReference:
    """``azcreds://NAME[/FIELD]``: ``field`` is a snake_case schema field, an export name, or None."""

    name: str
    field: str | None = None

    def __str__(self) -> str:
        return f"{_SCHEME}{self.name}" + (f"/{self.field}" if self.field else "")


@dataclass(frozen=True)
class KeyVaultReference:
    """One Key Vault secret: ``vault_url`` (``https://host[:port]``, no slash), ``name``, ``version``."""

    vault_url: str
    name: str
    version: str | None = None

    def __str__(self) -> str:
        return f"{self.vault_url}/secrets/{self.name}" + (f"/{self.version}" if self.version else "")


Reference = SecretReference | KeyVaultReference


def _origin(url: str) -> str | None:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() != "https" or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"https://{host}" + (f":{port}" if port is not None and port != 443 else "")


def _is_vault_host(host: str) -> bool:
    return any(host.endswith(suffix) and len(host) > len(suffix) for suffix in KEYVAULT_DNS_SUFFIXES)


def looks_like_reference(value: str, *, vaults: Iterable[str] = ()) -> bool:
    """Whether ``value`` is meant as a reference (so a malformed one is an error, not a value)."""
    text = value.strip()
    lowered = text.lower()
    if lowered.startswith((_SCHEME, _APP_SERVICE)):
        return True
    return _keyvault_candidate(text, tuple(vaults)) is not None


def _keyvault_candidate(text: str, vaults: tuple[str, ...]) -> tuple[str, str] | None:
    """``(origin, path)`` when ``text`` is an https URL on a vault whose path is under /secrets."""
    if not text.lower().startswith("https://"):
        return None
    origin = _origin(text)
    if origin is None:
        return None
    host = urlsplit(text).hostname or ""
    configured = {o for o in (_origin(v) for v in vaults) if o}
    if not (_is_vault_host(host.lower()) and origin.count(":") == 1) and origin not in configured:
        return None
    path = urlsplit(text).path
    if path.lower() != "/secrets" and not path.lower().startswith("/secrets/"):
        return None
    return origin, path


def parse_reference(value: str, *, where: str, vaults: Iterable[str] = ()) -> Reference | None:
    """The reference ``value`` spells, None if it is not one; InvalidReferenceError if malformed.

    ``where`` names the value's place for the error (``"variable DB_URL"``, ``"app.env:3"``);
    ``vaults`` are vault URLs (``AZCREDS_KEYVAULT_URL``) whose ``https://`` URLs count as Key Vault
    references besides the Key Vault DNS suffixes.
    """
    vault_list = tuple(vaults)
    if value != value.strip() and looks_like_reference(value, vaults=vault_list):
        raise InvalidReferenceError(where, "a reference may not have spaces around it")
    lowered = value.lower()
    if lowered.startswith(_SCHEME):
        return _parse_azcreds(value[len(_SCHEME) :], where)
    if lowered.startswith(_APP_SERVICE):
        return _parse_app_service(value, where, vault_list)
    if _keyvault_candidate(value, vault_list) is not None:
        return _parse_keyvault_uri(value, where, vault_list)
    return None


def _parse_azcreds(rest: str, where: str) -> SecretReference:
    kind = "azcreds:// reference"
    if any(c in rest for c in "?#") or any(c.isspace() for c in rest):
        raise InvalidReferenceError(where, f"an {kind} is azcreds://NAME[/FIELD], with no query or spaces")
    parts = rest.split("/")
    if len(parts) > 2:
        raise InvalidReferenceError(where, f"an {kind} has at most two parts, azcreds://NAME/FIELD")
    name = parts[0]
    if not is_secret_name(name):
        raise InvalidReferenceError(
            where,
            f"the secret name of an {kind} is 1-64 letters, digits, '_' and '-', starting with a letter "
            "or digit",
        )
    if len(parts) == 1:
        return SecretReference(name)
    field = parts[1]
    if _EXPORT.fullmatch(field):
        return SecretReference(name, field)
    if _FIELD.fullmatch(field):
        return SecretReference(name, field.replace("-", "_"))
    raise InvalidReferenceError(
        where,
        f"the field of an {kind} is a schema field (account_key) or an export name "
        "(AZURE_STORAGE_CONNECTION_STRING)",
    )


def _parse_keyvault_uri(text: str, where: str, vaults: tuple[str, ...]) -> KeyVaultReference:
    kind = "Key Vault secret URI"
    candidate = _keyvault_candidate(text, vaults)
    if candidate is None:
        raise InvalidReferenceError(
            where,
            f"a {kind} is https://VAULT.vault.azure.net/secrets/NAME[/VERSION] (or on AZCREDS_KEYVAULT_URL)",
        )
    origin, path = candidate
    parts = urlsplit(text)
    if parts.query or parts.fragment or "#" in text or "?" in text:
        raise InvalidReferenceError(where, f"a {kind} has no query or fragment")
    if parts.username is not None or parts.password is not None:
        raise InvalidReferenceError(where, f"a {kind} has no user name or password")
    segments = path.split("/")[2:]  # after "", "secrets"
    if segments and segments[-1] == "":
        segments = segments[:-1]  # one trailing slash, as App Service's examples write it
    if not 1 <= len(segments) <= 2 or path.split("/")[1] != "secrets":
        raise InvalidReferenceError(where, f"a {kind} is https://VAULT/secrets/NAME[/VERSION]")
    name = segments[0]
    if not _KV_SECRET.fullmatch(name):
        raise InvalidReferenceError(where, f"the secret name of a {kind} is 1-127 letters, digits and '-'")
    version = segments[1] if len(segments) == 2 else None
    if version is not None and not _KV_VERSION.fullmatch(version):
        raise InvalidReferenceError(where, f"the version of a {kind} is 32 hexadecimal digits")
    return KeyVaultReference(origin, name, version)


def _parse_app_service(value: str, where: str, vaults: tuple[str, ...]) -> KeyVaultReference:
    kind = "@Microsoft.KeyVault(...) reference"
    if not value.endswith(")") or value.count("(") != 1 or value.count(")") != 1:
        raise InvalidReferenceError(where, f"a {kind} ends with its only ')'")
    body = value[len(_APP_SERVICE) : -1]
    pairs: dict[str, str] = {}
    for item in body.split(";"):
        key, sep, val = item.partition("=")
        key = key.strip().lower()
        if not sep or not key or not val.strip():
            raise InvalidReferenceError(where, f"a {kind} holds KEY=VALUE items separated by ';'")
        if key in pairs:
            raise InvalidReferenceError(where, f"a {kind} names each key once")
        pairs[key] = val.strip()
    if set(pairs) == {"secreturi"}:
        reference = parse_reference(pairs["secreturi"], where=where, vaults=vaults)
        if not isinstance(reference, KeyVaultReference):
            raise InvalidReferenceError(where, f"the SecretUri of a {kind} must be a Key Vault secret URI")
        return reference
    if {"vaultname", "secretname"} <= set(pairs) <= {"vaultname", "secretname", "secretversion"}:
        vault = pairs["vaultname"]
        if not _VAULT_NAME.fullmatch(vault):
            raise InvalidReferenceError(
                where,
                f"the VaultName of a {kind} is 3-24 letters, digits and single '-', starting with a letter",
            )
        name = pairs["secretname"]
        if not _KV_SECRET.fullmatch(name):
            raise InvalidReferenceError(where, f"the SecretName of a {kind} is 1-127 letters, digits and '-'")
        version = pairs.get("secretversion")
        if version is not None and not _KV_VERSION.fullmatch(version):
            raise InvalidReferenceError(where, f"the SecretVersion of a {kind} is 32 hexadecimal digits")
        return KeyVaultReference(f"https://{vault.lower()}.vault.azure.net", name, version)
    raise InvalidReferenceError(
        where, f"a {kind} holds SecretUri=..., or VaultName=...;SecretName=...[;SecretVersion=...]"
    )
