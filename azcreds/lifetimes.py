"""Secret lifetimes: whether a Key Vault secret may be used now (enabled, not_before, expires_on).

Key Vault stores ``enabled``, ``nbf`` and ``exp`` on each secret version but only enforces
``enabled`` (a disabled version cannot be read); ``not_before`` and ``expires_on`` are for the
client to honour. azcreds honours them when it *resolves* a secret: a secret before its
``not_before`` or past its ``expires_on`` is a failure that stops the chain
(:class:`~azcreds.errors.SecretNotYetValidError`, :class:`~azcreds.errors.SecretExpiredError`),
and one within ``AZCREDS_EXPIRY_WARNING`` seconds of ``expires_on`` resolves with an
:class:`~azcreds.errors.ExpiringCredentialWarning`.

Time comes from :data:`_clock` (``time.time``), which tests replace with a clock they set by hand:
no check here depends on how long a test takes. :func:`parse_when` reads the CLI's ``--expires``
and ``--not-before`` values: a duration from now (``90d``, ``12h``, ``30m``, ``2w``) or a UTC date
or time (``2027-01-31``, ``2027-01-31T12:00:00Z``).
"""

from __future__ import annotations

import re
import time
import warnings
from datetime import UTC, datetime, timedelta

from azcreds.errors import (
    ExpiringCredentialWarning,
    SecretDisabledError,
    SecretExpiredError,
    SecretNotYetValidError,
)

__all__ = ["check_lifetime", "now", "parse_when", "stamp"]

# The wall clock, in seconds since the epoch; tests swap in a fixed one.
_clock = time.time

_DURATION = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def now() -> datetime:
    """The current time (from :data:`_clock`), in UTC."""
    return datetime.fromtimestamp(_clock(), UTC)


def stamp(when: datetime) -> str:
    """``2027-01-31T12:00:00Z``."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_when(text: str) -> datetime:
    """A UTC time from ``90d``/``12h``/``30m``/``2w``/``45s`` (from now) or an ISO 8601 date or time
    (no zone: UTC). ValueError saying what is accepted otherwise."""
    value = text.strip()
    match = _DURATION.fullmatch(value.lower())
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        return now() + timedelta(**{_UNITS[unit]: amount})
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(
            "must be a duration from now (90d, 12h, 30m, 2w) or a UTC date or time (2027-01-31, "
            "2027-01-31T12:00:00Z)"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _ago(delta: timedelta) -> str:
    seconds = abs(delta.total_seconds())
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.0f} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.0f} hours"
    return f"{max(1, round(seconds / 60))} minutes"


def check_lifetime(
    what: str,
    *,
    name: str,
    enabled: bool | None,
    not_before: datetime | None,
    expires_on: datetime | None,
    window: float,
) -> str | None:
    """Raise if ``what`` (``"Key Vault secret 'x'"``) may not be used now; else a note for
    ``resolve --explain`` (its expiry date, if it has one), warning when expiry is near."""
    current = now()
    if enabled is False:
        raise SecretDisabledError(f"{what} is disabled; enable it or roll back to a good version", name=name)
    if not_before is not None and current < not_before:
        raise SecretNotYetValidError(
            f"{what} is not valid before {stamp(not_before)} (in {_ago(not_before - current)})",
            name=name,
            when=not_before,
        )
    if expires_on is None:
        return None
    if current >= expires_on:
        raise SecretExpiredError(
            f"{what} expired on {stamp(expires_on)} ({_ago(current - expires_on)} ago); "
            "rotate it, or set a later --expires",
            name=name,
            when=expires_on,
        )
    left = expires_on - current
    note = f"expires {stamp(expires_on)} (in {_ago(left)})"
    if left.total_seconds() <= window:
        warnings.warn(f"{what} {note}", ExpiringCredentialWarning, stacklevel=3)
    return note
