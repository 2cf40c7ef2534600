"""Field checks shared by the schemas and the connection-string parser; errors never echo the value.

Each check takes a string and returns it (normalised where the rule says so) or raises ValueError
with a message that says which rule it breaks, never the value it was given. They need nothing but
the standard library, so :mod:`azcreds.connection_string` and the settings use them without
loading pydantic; :mod:`azcreds.schemas` wraps them as field validators.
"""

from __future__ import annotations

import base64
import binascii
import re
import warnings
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

from azcreds.errors import ExpiringCredentialWarning

__all__ = [
    "check_account_key",
    "check_account_name",
    "check_guid",
    "check_sas_token",
    "check_tenant",
    "check_token_account_url",
    "check_url",
]

_ACCOUNT_NAME = re.compile(r"[a-z0-9]{3,24}")


def check_account_name(value: str) -> str:
    if _ACCOUNT_NAME.fullmatch(value) is None:
        raise ValueError("must be 3-24 lowercase letters and digits")
    return value


def check_account_key(value: str) -> str:
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise ValueError("must be base64 (as the Azure portal shows it)") from None
    if not raw:
        raise ValueError("must not be empty")
    return value


_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DOMAIN = re.compile(r"(?=.{4,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")


def check_guid(value: str) -> str:
    if _GUID.fullmatch(value) is None:
        raise ValueError("must be a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)")
    return value.lower()


def check_tenant(value: str) -> str:
    if _GUID.fullmatch(value) is None and _DOMAIN.fullmatch(value) is None:
        raise ValueError("must be a GUID or a domain such as contoso.onmicrosoft.com")
    return value


def check_url(value: str, *, https_only: bool = False) -> str:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise ValueError("must be a URL such as https://host[:port][/path]") from None
    allowed = ("https",) if https_only else ("http", "https")
    if parts.scheme not in allowed or not parts.hostname:
        raise ValueError(f"must be an {' or '.join(allowed)} URL with a host")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError("must not carry a query, fragment or user info")
    return value.rstrip("/")


_SAS_EXPIRY_WARNING = timedelta(hours=24)


def _parse_sas_time(value: str) -> datetime:
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%MZ", "%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise ValueError("has an expiry (se) that is not an ISO 8601 UTC time")


def check_sas_token(value: str, *, now: datetime | None = None) -> str:
    """Validate a SAS token; return it without a leading ``?``. Warn if it expires within 24 h."""
    token = value[1:] if value.startswith("?") else value
    if not token or any(c.isspace() for c in token):
        raise ValueError("must be a SAS query string such as sv=...&sig=...")
    try:
        pairs = parse_qsl(token, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise ValueError("must be a SAS query string such as sv=...&sig=...") from None
    params: dict[str, str] = {}
    for key, val in pairs:
        if key in params:
            raise ValueError(f"repeats the parameter {key!r}")
        params[key] = val
    missing = [k for k in ("sv", "sig") if not params.get(k)]
    if missing:
        raise ValueError("lacks " + " and ".join(repr(k) for k in missing) + " (not a SAS token)")
    expiry = params.get("se")
    if expiry:
        when = _parse_sas_time(expiry)
        now = now or datetime.now(UTC)
        if when <= now:
            raise ValueError("has expired (its 'se' time has passed)")
        if when - now <= _SAS_EXPIRY_WARNING:
            warnings.warn(
                f"SAS token expires within 24 hours (at {when:%Y-%m-%dT%H:%M:%SZ})",
                ExpiringCredentialWarning,
                stacklevel=2,
            )
    return token


def check_token_account_url(value: str) -> str:
    """An account URL that token credentials may be sent to: https only."""
    if urlsplit(value).scheme.lower() == "http":
        raise ValueError(
            "must be an https URL: the Blob SDK sends token credentials (service principal, "
            "managed identity) only over HTTPS"
        )
    return value
