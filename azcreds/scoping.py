"""Scoped credentials: a short-lived SAS for one container or blob, minted from a key or a token.

:meth:`AzureCredentials.scoped` lands here. The SAS is signed by azure-storage-blob's own
functions (``generate_container_sas`` / ``generate_blob_sas``): with a **user delegation key**
(``get_user_delegation_key``, one request) when the credentials are a token credential (service
principal, managed identity, developer identity), or with the **account key** (a service SAS)
when they hold one. A SAS cannot mint a SAS. Every check that needs no service is made first and
locally: the permission vocabulary, the TTL bounds, the container and blob names.

A *prefix* is enforced only by a directory SAS (``sr=d``), which the service accepts only on
hierarchical-namespace (ADLS Gen2) accounts; on a flat account a prefix is refused, never widened
to the container.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from azcreds.errors import PermissionDeniedError, ScopeError, ServiceError

if TYPE_CHECKING:
    from azcreds.credentials import AzureCredentials, Source

__all__ = [
    "DEFAULT_TTL",
    "MAX_TTL",
    "PERMISSIONS",
    "START_SKEW",
    "SasScope",
    "parse_duration",
    "parse_permissions",
    "rebuild_scoped",
    "scoped_credentials",
]

PERMISSIONS: dict[str, str] = {
    "read": "r",
    "add": "a",
    "create": "c",
    "write": "w",
    "delete": "d",
    "list": "l",
    "tag": "t",
}
"""The permission vocabulary: words or their SAS letters (``"rl"`` is ``"read,list"``)."""

_LETTER_ORDER = "racwdlt"  # the order the service's documentation (and the SDK) writes them in
_NOT_FOR_ONE_BLOB = frozenset("l")  # a blob SAS has no list permission

DEFAULT_TTL = timedelta(hours=1)
MAX_TTL = timedelta(days=7)
"""A user delegation key lives at most 7 days; service SAS from azcreds are held to the same bound."""
START_SKEW = timedelta(minutes=15)
"""The SAS starts this long before now, as Azure recommends for clocks that differ between machines."""

_CONTAINER = re.compile(r"[a-z0-9](?:-?[a-z0-9]){2,62}")
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def _utc_now() -> datetime:
    return datetime.now(UTC)


# The clock SAS times are computed from; tests put a fixed or past time here instead of waiting.
_clock: Callable[[], datetime] = _utc_now


@dataclass(frozen=True)
class SasScope:
    """What a scoped SAS allows: one container (or one blob, or a directory), which permissions,
    from when until when, and how it was signed. Holds no secret."""

    container: str
    blob: str | None
    prefix: str | None
    permissions: str
    starts_on: datetime
    expires_on: datetime
    signed_with: Literal["user-delegation-key", "account-key"]

    @property
    def uri(self) -> str:
        """``az://container[/blob-or-prefix]``."""
        path = self.blob or self.prefix
        return f"az://{self.container}/{path}" if path else f"az://{self.container}"

    def __str__(self) -> str:
        return f"{self.uri} ({self.permissions}) until {self.expires_on:%Y-%m-%dT%H:%M:%SZ}"


def parse_permissions(permissions: str, *, one_blob: bool = False) -> str:
    """The SAS letters for ``permissions`` (words, letters, or both, comma- or space-separated)."""
    if not isinstance(permissions, str) or not permissions.strip():
        raise ScopeError(f"permissions must be a non-empty string of {_vocabulary()}")
    letters: set[str] = set()
    for token in re.split(r"[\s,]+", permissions.strip().lower()):
        if token in PERMISSIONS:
            letters.add(PERMISSIONS[token])
        elif token and all(ch in _LETTER_ORDER for ch in token):
            letters.update(token)
        elif token:
            raise ScopeError(f"unknown permission {token!r}: use {_vocabulary()}")
    if one_blob and letters & _NOT_FOR_ONE_BLOB:
        raise ScopeError("'list' is a container permission: a SAS for one blob cannot list")
    return "".join(ch for ch in _LETTER_ORDER if ch in letters)


def _vocabulary() -> str:
    return ", ".join(f"{word} ({letter})" for word, letter in PERMISSIONS.items())


def parse_duration(value: str | float | timedelta) -> timedelta:
    """A TTL: a ``timedelta``, seconds, or text like ``90s``, ``15m``, ``1h``, ``1h30m``, ``7d``."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ScopeError("ttl must be a duration, not a bool")
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    text = str(value).strip().lower()
    if text.isdigit():
        return timedelta(seconds=int(text))
    match = _DURATION.fullmatch(text)
    if not text or match is None:
        raise ScopeError(f"ttl {value!r} is not a duration: use e.g. 90s, 15m, 1h, 1h30m or 7d")
    days, hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def _check_ttl(ttl: str | float | timedelta) -> timedelta:
    duration = parse_duration(ttl)
    if duration <= timedelta(0):
        raise ScopeError("ttl must be positive")
    if duration > MAX_TTL:
        raise ScopeError(
            f"ttl {duration} is longer than {MAX_TTL.days} days, the most a user delegation key lives"
        )
    return duration


def _check_path(kind: str, value: str | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ScopeError(f"{kind} must be a string")
    path = value.strip("/")
    if not path or any(part in ("", ".", "..") for part in path.split("/")):
        raise ScopeError(f"{kind} {value!r} must be a blob path without empty, '.' or '..' segments")
    return path


def scoped_credentials(
    credentials: AzureCredentials,
    container: str,
    prefix: str | None = None,
    permissions: str = "r",
    ttl: str | float | timedelta = DEFAULT_TTL,
    *,
    blob: str | None = None,
    client_kwargs: dict[str, Any] | None = None,
) -> AzureCredentials:
    """A short-lived SAS for ``container`` (or one ``blob`` in it, or a ``prefix`` directory).

    See :meth:`AzureCredentials.scoped`.
    """
    if not isinstance(container, str) or not _CONTAINER.fullmatch(container) or "--" in container:
        raise ScopeError(
            f"container {container!r} is not a container name "
            "(3-63 lowercase letters, digits and single hyphens)"
        )
    if prefix is not None and blob is not None:
        raise ScopeError("give prefix= or blob=, not both")
    blob = _check_path("blob", blob)
    prefix = _check_path("prefix", prefix)
    letters = parse_permissions(permissions, one_blob=blob is not None)
    duration = _check_ttl(ttl)

    from azure.core.credentials import AzureNamedKeyCredential, AzureSasCredential

    credential = credentials.credential
    if isinstance(credential, AzureSasCredential):
        raise ScopeError(
            f"{credentials} is a SAS: a SAS cannot mint a narrower SAS. Scope it from the account key or "
            "an identity (service principal, managed identity) instead"
        )
    account_key = credential.named_key.key if isinstance(credential, AzureNamedKeyCredential) else None
    if account_key is None and not hasattr(credential, "get_token"):
        raise ScopeError(
            f"{credentials} holds neither an account key nor a token credential to sign a SAS with"
        )

    kwargs = dict(client_kwargs or {})
    service = credentials.blob_service_client(**kwargs)
    if prefix is not None:
        _require_hierarchical_namespace(service, credentials, container, prefix)
    now = _clock()
    start, expiry = now - START_SKEW, now + duration
    delegation_key = None
    if account_key is None:
        delegation_key = _user_delegation_key(service, credentials, start, expiry)
    token = _sign(
        credentials,
        container,
        blob if blob is not None else prefix,
        letters,
        start,
        expiry,
        account_key=account_key,
        user_delegation_key=delegation_key,
        directory=prefix is not None,
    )
    scope = SasScope(
        container=container,
        blob=blob,
        prefix=prefix,
        permissions=letters,
        starts_on=start,
        expires_on=expiry,
        signed_with="account-key" if account_key is not None else "user-delegation-key",
    )
    fields = {
        "account_name": credentials.account_name,
        "sas_token": token,
        "account_url": credentials.account_url,
    }
    return rebuild_scoped(credentials.name, credentials.source, fields, scope)


def _sign(
    credentials: AzureCredentials,
    container: str,
    path: str | None,
    letters: str,
    start: datetime,
    expiry: datetime,
    *,
    account_key: str | None,
    user_delegation_key: Any,
    directory: bool,
) -> str:
    from azure.storage.blob import (
        BlobSasPermissions,
        ContainerSasPermissions,
        generate_blob_sas,
        generate_container_sas,
    )

    # https only, unless the account itself is reached over http (Azurite on loopback).
    protocol = "https" if credentials.account_url.lower().startswith("https://") else None
    if path is None:
        return generate_container_sas(
            credentials.account_name,
            container,
            account_key=account_key,
            user_delegation_key=user_delegation_key,
            permission=ContainerSasPermissions.from_string(letters),
            expiry=expiry,
            start=start,
            protocol=protocol,
        )
    permission: Any = (
        ContainerSasPermissions.from_string(letters) if directory else BlobSasPermissions.from_string(letters)
    )
    return generate_blob_sas(
        credentials.account_name,
        container,
        path,
        account_key=account_key,
        user_delegation_key=user_delegation_key,
        permission=permission,
        expiry=expiry,
        start=start,
        protocol=protocol,
        is_directory=directory or None,
    )


def _require_hierarchical_namespace(
    service: Any, credentials: AzureCredentials, container: str, prefix: str
) -> None:
    """Refuse a prefix unless the account has a hierarchical namespace (asks the service once)."""
    info = _call(service.get_account_information, credentials, "read the account's information")
    if str(info.get("is_hns_enabled")).lower() != "true":
        raise ScopeError(
            f"cannot scope a SAS to the prefix az://{container}/{prefix}: {credentials.account_name} has no "
            "hierarchical namespace, and only a directory SAS (on ADLS Gen2 accounts) enforces a prefix. "
            "Scope the whole container, or one blob (blob=...): azcreds never widens a prefix to the "
            "container"
        )


def _user_delegation_key(
    service: Any, credentials: AzureCredentials, start: datetime, expiry: datetime
) -> Any:
    return _call(
        lambda: service.get_user_delegation_key(start, expiry), credentials, "get a user delegation key"
    )


def _call(operation: Any, credentials: AzureCredentials, action: str) -> Any:
    """Run one service call, its failures mapped onto azcreds' errors (messages without secrets)."""
    from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ServiceRequestError

    try:
        return operation()
    except ClientAuthenticationError as exc:
        raise PermissionDeniedError(f"could not {action} for {credentials}: authentication failed") from exc
    except HttpResponseError as exc:
        code = getattr(exc, "error_code", None) or ""
        status = exc.status_code
        if status in (401, 403):
            raise PermissionDeniedError(
                f"could not {action} for {credentials}: the service refused it ({status} {code}). A user "
                "delegation key needs a role with Microsoft.Storage/storageAccounts/blobServices/"
                "generateUserDelegationKey (e.g. Storage Blob Delegator)"
            ) from exc
        raise ServiceError(f"could not {action} for {credentials}: HTTP {status} {code}") from exc
    except ServiceRequestError as exc:
        raise ServiceError(f"could not {action} for {credentials}: the service did not answer") from exc


def rebuild_scoped(
    name: str | None, source: Source, fields: dict[str, str], scope: SasScope | None
) -> AzureCredentials:
    """Scoped credentials from their SAS fields (also how they are unpickled).

    The token was minted by azcreds (or pickled from such): it is not validated again, so the
    "expires within 24 hours" warning that a hand-registered SAS gets is not raised for a SAS that
    is meant to be short-lived, and an unpickled one past its expiry fails at the service.
    """
    from pydantic import SecretStr

    from azcreds.credentials import AzureCredentials
    from azcreds.schemas import SasTokenSecret

    secret = SasTokenSecret.model_construct(
        account_name=fields["account_name"],
        sas_token=SecretStr(fields["sas_token"]),
        account_url=fields.get("account_url"),
    )
    return AzureCredentials.from_secret(secret, name=name, source=source, pickle_as="scoped", scope=scope)
