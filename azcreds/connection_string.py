"""Azure Storage connection strings, parsed by Azure's rules and validated without echoing values."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from azcreds._validators import check_account_key, check_account_name, check_sas_token, check_url

__all__ = [
    "AZURITE_ACCOUNT_KEY",
    "AZURITE_ACCOUNT_NAME",
    "ConnectionString",
    "format_connection_string",
    "parse_connection_string",
]

#: The well-known Azurite / storage emulator development account (public, documented by Microsoft).
AZURITE_ACCOUNT_NAME = "devstoreaccount1"
AZURITE_ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

# Canonical spelling of every key Azure's connection strings may hold (keys are case-insensitive).
_KNOWN_KEYS = {
    k.lower(): k
    for k in (
        "DefaultEndpointsProtocol",
        "AccountName",
        "AccountKey",
        "SharedAccessSignature",
        "EndpointSuffix",
        "BlobEndpoint",
        "BlobSecondaryEndpoint",
        "QueueEndpoint",
        "QueueSecondaryEndpoint",
        "TableEndpoint",
        "TableSecondaryEndpoint",
        "FileEndpoint",
        "FileSecondaryEndpoint",
        "DfsEndpoint",
        "DfsSecondaryEndpoint",
        "UseDevelopmentStorage",
        "DevelopmentStorageProxyUri",
    )
}


# What UseDevelopmentStorage=true stands for besides the Blob endpoint (Microsoft's documented equivalent).
_DEVELOPMENT_ENDPOINTS = (
    ("QueueEndpoint", "http://127.0.0.1:10001/devstoreaccount1"),
    ("TableEndpoint", "http://127.0.0.1:10002/devstoreaccount1"),
)


def format_connection_string(
    *,
    account_name: str,
    blob_endpoint: str,
    account_key: str | None = None,
    sas_token: str | None = None,
    protocol: str | None = None,
    extra: tuple[tuple[str, str], ...] = (),
) -> str:
    """A connection string that every Azure SDK and the az CLI read alike.

    ``DefaultEndpointsProtocol``, ``AccountName``, ``AccountKey`` or ``SharedAccessSignature``, and
    an explicit ``BlobEndpoint`` always, then ``extra`` (other endpoints, ``EndpointSuffix``). The
    JavaScript SDK reads a string as an account-key one only if it has both
    ``DefaultEndpointsProtocol`` and ``AccountKey`` (otherwise it wants a SAS), and matches keys
    case-sensitively: hence the fixed, canonical spelling. ``protocol`` defaults to the Blob
    endpoint's scheme.
    """
    if (account_key is None) == (sas_token is None):
        raise ValueError("give exactly one of account_key and sas_token")
    scheme = protocol or urlsplit(blob_endpoint).scheme.lower() or "https"
    credential = (
        f"AccountKey={account_key}" if account_key is not None else f"SharedAccessSignature={sas_token}"
    )
    parts = [
        f"DefaultEndpointsProtocol={scheme}",
        f"AccountName={account_name}",
        credential,
        f"BlobEndpoint={blob_endpoint}",
        *(f"{key}={value}" for key, value in extra),
    ]
    return ";".join(parts)


@dataclass(frozen=True)
class ConnectionString:
    """What a connection string says about the Blob service. Secret parts are hidden from repr.

    ``protocol`` is ``DefaultEndpointsProtocol`` as given (else the Blob endpoint's scheme);
    ``extra`` keeps the other keys that matter to other services (their endpoints,
    ``EndpointSuffix``) in the order given.
    """

    account_name: str
    blob_endpoint: str
    account_key: str | None = field(default=None, repr=False)
    sas_token: str | None = field(default=None, repr=False)
    development_storage: bool = False
    protocol: str | None = None
    extra: tuple[tuple[str, str], ...] = ()

    def canonical(self) -> str:
        """The same credentials as a full connection string (see :func:`format_connection_string`)."""
        return format_connection_string(
            account_name=self.account_name,
            blob_endpoint=self.blob_endpoint,
            account_key=self.account_key,
            sas_token=self.sas_token,
            protocol=self.protocol,
            extra=self.extra,
        )


# The keys a canonical connection string writes itself; every other key is carried over as given.
_CREDENTIAL_AND_BLOB_KEYS = frozenset(
    {"DefaultEndpointsProtocol", "AccountName", "AccountKey", "SharedAccessSignature", "BlobEndpoint"}
)


def _fail(message: str) -> ValueError:
    return ValueError(message)


def parse_connection_string(value: str) -> ConnectionString:
    """Parse and validate a connection string; ValueError names the problem, never the value."""
    parts: dict[str, str] = {}
    for segment in value.strip().split(";"):
        segment = segment.strip()
        if not segment:
            continue
        key, sep, val = segment.partition("=")
        key = key.strip()
        canonical = _KNOWN_KEYS.get(key.lower())
        if not sep:
            raise _fail("is not a list of Key=Value pairs separated by ';'")
        if canonical is None:
            shown = key if key.isascii() and key.isalpha() and len(key) <= 32 else "?"
            raise _fail(f"has an unknown key {shown!r}")
        if canonical in parts:
            raise _fail(f"repeats the key {canonical!r}")
        parts[canonical] = val.strip()

    if not parts:
        raise _fail("is empty")

    if parts.get("UseDevelopmentStorage", "").lower() == "true":
        others = set(parts) - {"UseDevelopmentStorage", "DevelopmentStorageProxyUri"}
        if others:
            raise _fail("UseDevelopmentStorage=true cannot be combined with " + ", ".join(sorted(others)))
        base = parts.get("DevelopmentStorageProxyUri", "http://127.0.0.1:10000").rstrip("/")
        try:
            check_url(base)
        except ValueError as exc:
            raise _fail(f"DevelopmentStorageProxyUri {exc}") from None
        return ConnectionString(
            account_name=AZURITE_ACCOUNT_NAME,
            blob_endpoint=f"{base}/{AZURITE_ACCOUNT_NAME}",
            account_key=AZURITE_ACCOUNT_KEY,
            development_storage=True,
            protocol=urlsplit(base).scheme.lower(),
            # Through a proxy URI only the Blob endpoint is known (it is what azcreds uses).
            extra=() if "DevelopmentStorageProxyUri" in parts else _DEVELOPMENT_ENDPOINTS,
        )
    if "UseDevelopmentStorage" in parts:
        raise _fail("UseDevelopmentStorage must be 'true' when present")

    protocol = parts.get("DefaultEndpointsProtocol", "https").lower()
    if protocol not in ("http", "https"):
        raise _fail("DefaultEndpointsProtocol must be 'http' or 'https'")
    suffix = parts.get("EndpointSuffix", "core.windows.net")
    if not suffix or "/" in suffix or any(c.isspace() for c in suffix):
        raise _fail("EndpointSuffix must be a DNS suffix such as core.windows.net")

    account = parts.get("AccountName")
    if account is not None:
        try:
            check_account_name(account)
        except ValueError as exc:
            raise _fail(f"AccountName {exc}") from None

    endpoint = parts.get("BlobEndpoint")
    if endpoint is not None:
        try:
            blob_endpoint = check_url(endpoint)
        except ValueError as exc:
            raise _fail(f"BlobEndpoint {exc}") from None
        if account is None:
            account = _account_from_endpoint(blob_endpoint)
    elif account is not None:
        blob_endpoint = f"{protocol}://{account}.blob.{suffix}"
    else:
        raise _fail("needs AccountName or BlobEndpoint")

    account_key = parts.get("AccountKey")
    sas = parts.get("SharedAccessSignature")
    if account_key is not None and sas is not None:
        raise _fail("has both AccountKey and SharedAccessSignature; keep one")
    if account_key is not None:
        if "AccountName" not in parts:
            raise _fail("has AccountKey without AccountName")
        try:
            check_account_key(account_key)
        except ValueError as exc:
            raise _fail(f"AccountKey {exc}") from None
    elif sas is not None:
        try:
            sas = check_sas_token(sas)
        except ValueError as exc:
            raise _fail(f"SharedAccessSignature {exc}") from None
    else:
        raise _fail("needs AccountKey or SharedAccessSignature")

    if account is None:
        raise _fail("names no account: add AccountName")
    extra = tuple((key, val) for key, val in parts.items() if key not in _CREDENTIAL_AND_BLOB_KEYS)
    return ConnectionString(
        account_name=account,
        blob_endpoint=blob_endpoint,
        account_key=account_key,
        sas_token=sas,
        protocol=parts["DefaultEndpointsProtocol"].lower() if "DefaultEndpointsProtocol" in parts else None,
        extra=extra,
    )


def _account_from_endpoint(endpoint: str) -> str | None:
    """The account of a blob endpoint: the first host label, or the first path segment (Azurite)."""
    parts = urlsplit(endpoint)
    path = parts.path.strip("/")
    candidate = path.split("/", 1)[0] if path else (parts.hostname or "").split(".", 1)[0]
    try:
        return check_account_name(candidate)
    except ValueError:
        return None
