"""The checks before any storage request: resolving the secret, the account URL, and the token.

Each function returns one :class:`~azcreds.doctor.report.Check`; none of them shows a secret value.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import time
import warnings
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from azcreds.doctor.report import Check

if TYPE_CHECKING:
    from azcreds.credentials import AzureCredentials

__all__ = ["check_endpoint", "check_resolve", "check_token", "credential_kind", "principal_words"]

STORAGE_SCOPE = "https://storage.azure.com/.default"

# Blob endpoint suffixes of the public clouds, classic and DNS-zone endpoints.
_BLOB_SUFFIXES = (
    ".blob.core.windows.net",
    ".blob.core.chinacloudapi.cn",
    ".blob.core.usgovcloudapi.net",
    ".blob.storage.azure.net",
)


def credential_kind(credentials: AzureCredentials) -> str:
    """``key`` (shared key), ``sas`` or ``token`` (an Entra ID credential)."""
    from azure.core.credentials import AzureNamedKeyCredential, AzureSasCredential

    credential = credentials.credential
    if isinstance(credential, AzureNamedKeyCredential):
        return "key"
    if isinstance(credential, AzureSasCredential):
        return "sas"
    return "token"


def principal_words(credentials: AzureCredentials) -> str:
    """Who a role must be assigned to, from the secret's non-secret fields."""
    client_id = getattr(credentials.secret, "client_id", None)
    if credentials.schema_id == "azure-service-principal":
        return f"the service principal of client id {client_id}"
    if credentials.schema_id == "azure-managed-identity":
        if client_id:
            return f"the user-assigned managed identity of client id {client_id}"
        return "this resource's system-assigned managed identity"
    if credentials.schema_id == "azure-developer-identity":
        return "your signed-in account (az account show)"
    return "the identity"


def check_resolve(name: str | None) -> tuple[Check, AzureCredentials | None]:
    """Resolve ``name`` through the default chain, as ``resolve --explain`` does."""
    from azcreds.errors import (
        PermissionDeniedError,
        SchemaValidationError,
        SecretNotFoundError,
        ServiceError,
        StoreLockedError,
    )
    from azcreds.resolve import explain_resolution

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = explain_resolution(name)
    tried = ", ".join(f"{a.source}: {a.outcome}" for a in res.attempts)
    creds, error = res.credentials, res.error
    if creds is not None:
        evidence = (
            f"{creds.schema_id} from {creds.source} (tried {tried}); account {creds.account_name} "
            f"at {creds.account_url}"
        )
        notes = [str(w.message) for w in caught if issubclass(w.category, Warning)]
        if notes:
            evidence += "; " + "; ".join(notes)
        check = Check.make(
            "resolve", "secret resolves", "pass", evidence, source=creds.source, schema=creds.schema_id
        )
        return check, creds
    fix = "see the error above"
    if isinstance(error, SecretNotFoundError):
        fix = (
            "register it (azcreds secret register NAME --schema SCHEMA ...) or set AZCREDS_<NAME>__<FIELD> "
            "variables; azcreds resolve NAME --explain shows each resolver"
        )
    elif isinstance(error, SchemaValidationError):
        fix = (
            "the stored secret is invalid: correct the named field (azcreds secret update NAME --FIELD=@FILE)"
        )
    elif isinstance(error, StoreLockedError):
        fix = "unlock the keyring: set AZCREDS_KEYRING_PASSPHRASE, or run azcreds keyring unlock"
    elif isinstance(error, PermissionDeniedError):
        fix = "grant this identity read access to the store's secrets (Key Vault: 'Key Vault Secrets User')"
    elif isinstance(error, ServiceError):
        fix = "the store is unreachable or throttled: try again, or check its URL and network"
    return Check.make("resolve", "secret resolves", "fail", str(error), fix), None


def _account_in_url(host: str, path: str) -> str | None:
    for suffix in _BLOB_SUFFIXES:
        if host.endswith(suffix):
            return host[: -len(suffix)].split(".")[-1]
    try:
        ipaddress.ip_address(host)
        path_style = True
    except ValueError:
        path_style = host == "localhost"
    if path_style:  # the emulator's (and IP endpoints') path-style URLs: /{account}
        segment = path.strip("/").split("/", 1)[0]
        return segment or None
    return None  # a custom domain: the account is not in the URL


def check_endpoint(credentials: AzureCredentials) -> tuple[Check, bool]:
    """The account URL: its account is the secret's and its host resolves. ``(check, reachable)``."""
    url = credentials.account_url
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    named = _account_in_url(host, parts.path)
    title = "account URL"
    if named is not None and named != credentials.account_name:
        return (
            Check.make(
                "endpoint",
                title,
                "fail",
                f"{url} names account {named!r}, the secret's account is {credentials.account_name!r}",
                "make account_url (or the connection string's BlobEndpoint) and account_name agree",
                url=url,
            ),
            False,
        )
    started = time.perf_counter()
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        return (
            Check.make(
                "endpoint",
                title,
                "fail",
                f"{host} does not resolve ({type(exc).__name__}: {exc})",
                "check the account name (a deleted or misspelt account has no DNS name); behind a private "
                "endpoint, this network's DNS must resolve the privatelink zone",
                url=url,
            ),
            False,
        )
    ms = (time.perf_counter() - started) * 1000
    addresses = sorted({str(info[4][0]) for info in infos})
    private = any(ipaddress.ip_address(a.split("%")[0]).is_private for a in addresses)
    public_name = host.endswith(_BLOB_SUFFIXES)
    note = " (private addresses: a private endpoint)" if private and public_name else ""
    if named is None:
        note += "; a custom domain: the account is not in the URL"
    evidence = f"{url} → {', '.join(addresses)}{note}; DNS {ms:.0f} ms"
    if named is not None:
        evidence += f"; names account {named}"
    return Check.make("endpoint", title, "pass", evidence, url=url, addresses=addresses), True


def _token_source(credentials: AzureCredentials) -> str:
    secret: Any = credentials.secret
    if credentials.schema_id == "azure-service-principal":
        authority = (secret.authority_host or "https://login.microsoftonline.com").rstrip("/")
        return f"the authority {authority}/{secret.tenant_id}"
    if credentials.schema_id == "azure-managed-identity":
        for variable in ("IDENTITY_ENDPOINT", "MSI_ENDPOINT", "AZURE_POD_IDENTITY_AUTHORITY_HOST"):
            value = os.environ.get(variable)
            if value:
                return f"the managed identity endpoint {value.split('?', 1)[0]} ({variable})"
        if os.environ.get("AZURE_FEDERATED_TOKEN_FILE"):
            return "workload identity (AZURE_FEDERATED_TOKEN_FILE)"
        return "the instance metadata service (IMDS)"
    return type(credentials.credential).__name__


def check_token(credentials: AzureCredentials, clock: Any) -> Check:
    """Get a storage token, timed (reported, not judged): the identity endpoint or authority works."""
    from azure.core.exceptions import AzureError, ClientAuthenticationError

    from azcreds.identity import identity_environment, managed_identity_available

    source = _token_source(credentials)
    title = "token"
    if credentials.schema_id == "azure-managed-identity" and not managed_identity_available():
        found = ", ".join(identity_environment()) or "none"
        return Check.make(
            "token",
            title,
            "fail",
            f"no managed identity endpoint is configured here (identity variables: {found})",
            "run where a managed identity is assigned (IDENTITY_ENDPOINT / workload identity are set), or "
            "set AZCREDS_MANAGED_IDENTITY=imds to use the instance metadata service",
        )
    # azure-identity logs a failed get_token as a WARNING; this check reports it instead.
    identity_logger = logging.getLogger("azure.identity")
    was_disabled, identity_logger.disabled = identity_logger.disabled, True
    started = time.perf_counter()
    try:
        token = credentials.credential.get_token(STORAGE_SCOPE)
    except (ClientAuthenticationError, AzureError, ValueError) as exc:
        ms = (time.perf_counter() - started) * 1000
        first = str(exc).strip().split("\n", 1)[0][:300]
        if credentials.schema_id == "azure-service-principal":
            fix = (
                "check tenant_id, client_id and client_secret (client secrets expire: az ad app credential "
                "reset makes a new one) and authority_host"
            )
        elif credentials.schema_id == "azure-managed-identity":
            fix = "assign a managed identity to this resource; client_id must name one assigned to it"
        else:
            fix = "sign in again with the tool the credential uses"
        kind = "unavailable" if isinstance(exc, ClientAuthenticationError) else type(exc).__name__
        return Check.make(
            "token",
            title,
            "fail",
            f"no token from {source} after {ms:.0f} ms ({kind}): {first}",
            fix,
            ms=round(ms, 1),
        )
    finally:
        identity_logger.disabled = was_disabled
    ms = (time.perf_counter() - started) * 1000
    now = clock()
    left = datetime.fromtimestamp(token.expires_on, UTC) - now
    minutes = int(left.total_seconds() // 60)
    return Check.make(
        "token",
        title,
        "pass",
        f"token for https://storage.azure.com from {source} in {ms:.0f} ms; it expires in {minutes} min",
        ms=round(ms, 1),
        expires_in_minutes=minutes,
    )
