"""Azure Storage connection strings, parsed by Azure's rules and validated without echoing values."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = [
    "AZURITE_ACCOUNT_KEY",
    "AZURITE_ACCOUNT_NAME",
    "ConnectionString",
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


@dataclass(frozen=True)
class ConnectionString:
    """What a connection string says about the Blob service. Secret parts are hidden from repr."""

    account_name: str
    blob_endpoint: str
    account_key: str | None = field(default=None, repr=False)
    sas_token: str | None = field(default=None, repr=False)
    development_storage: bool = False


def _fail(message: str) -> ValueError:
    return ValueError(message)


def parse_connection_string(value: str) -> ConnectionString:
    """Parse and validate a connection string; ValueError names the problem, never the value."""
    from azcreds.schemas import check_account_key, check_account_name, check_sas_token, check_url

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
    return ConnectionString(
        account_name=account, blob_endpoint=blob_endpoint, account_key=account_key, sas_token=sas
    )


def _account_from_endpoint(endpoint: str) -> str | None:
    """The account of a blob endpoint: the first host label, or the first path segment (Azurite)."""
    parts = urlsplit(endpoint)
    path = parts.path.strip("/")
    candidate = path.split("/", 1)[0] if path else (parts.hostname or "").split(".", 1)[0]
    from azcreds.schemas import check_account_name

    try:
        return check_account_name(candidate)
    except ValueError:
        return None
