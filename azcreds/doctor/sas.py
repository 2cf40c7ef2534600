"""What a SAS token says about itself (kind, permissions, validity window), and the doctor's two SAS checks.

Only the token's public fields are read (``sv``, ``sp``, ``st``, ``se``, ``sr``, ``ss``, ``srt``,
``skoid``, ``spr``); the signature (``sig``) is never shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

from azcreds.doctor.report import Check

__all__ = ["NEEDED_PERMISSIONS", "SasFacts", "check_sas_permissions", "check_sas_window", "parse_sas"]

NEEDED_PERMISSIONS = {"r": "read", "l": "list", "w": "write", "d": "delete"}
"""What the artifact store (and ``azcreds store``) needs on a container, as SAS permission letters."""

_TIME_FORMATS = ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%MZ", "%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%d")


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


@dataclass(frozen=True)
class SasFacts:
    """The public fields of a SAS token."""

    kind: str  # "account SAS", "service SAS", "user-delegation SAS"
    permissions: str  # sp
    start: datetime | None  # st
    expiry: datetime | None  # se
    resource: str | None  # sr (service SAS): c container, b blob, d directory
    services: str | None  # ss (account SAS)
    resource_types: str | None  # srt (account SAS)
    protocol: str | None  # spr
    stored_policy: bool  # si: permissions and times may come from a stored access policy

    @property
    def key_signed(self) -> bool:
        """Signed with an account key (account and service SAS), which shared-key settings govern."""
        return self.kind != "user-delegation SAS"

    @property
    def one_container(self) -> bool:
        """A service or user-delegation SAS: valid for one container (or blob), not the account."""
        return self.kind != "account SAS"


def parse_sas(token: str) -> SasFacts:
    params = dict(parse_qsl(token.lstrip("?"), keep_blank_values=True))
    if "ss" in params or "srt" in params:
        kind = "account SAS"
    elif "skoid" in params:
        kind = "user-delegation SAS"
    else:
        kind = "service SAS"
    return SasFacts(
        kind=kind,
        permissions=params.get("sp", ""),
        start=_time(params.get("st")),
        expiry=_time(params.get("se")),
        resource=params.get("sr"),
        services=params.get("ss"),
        resource_types=params.get("srt"),
        protocol=params.get("spr"),
        stored_policy="si" in params,
    )


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _span(delta: timedelta) -> str:
    seconds = abs(int(delta.total_seconds()))
    if seconds >= 2 * 86400:
        return f"{seconds // 86400} days"
    if seconds >= 2 * 3600:
        return f"{seconds // 3600} h"
    if seconds >= 120:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def check_sas_window(facts: SasFacts, now: datetime, expiry_window: timedelta) -> Check:
    """Whether the token is valid now and for longer than ``expiry_window``."""
    title = "SAS validity"
    details = {
        "start": _stamp(facts.start) if facts.start else None,
        "expiry": _stamp(facts.expiry) if facts.expiry else None,
        "now": _stamp(now),
    }
    if facts.expiry is not None and facts.expiry <= now:
        return Check.make(
            "sas-window",
            title,
            "fail",
            f"expired at {_stamp(facts.expiry)} ({_span(now - facts.expiry)} ago)",
            "issue a new SAS and store it (azcreds secret update NAME --sas_token=@FILE); a SAS signed "
            "with a key also dies when that key is rotated",
            **details,
        )
    if facts.start is not None and facts.start > now:
        return Check.make(
            "sas-window",
            title,
            "fail",
            f"not valid before {_stamp(facts.start)} (in {_span(facts.start - now)}); now is {_stamp(now)}",
            "issue the SAS without a start time (st), or with one a few minutes in the past to allow "
            "for clock skew; if this machine's clock is behind, fix the clock (see the clock check)",
            **details,
        )
    if facts.expiry is not None and facts.expiry - now <= expiry_window:
        return Check.make(
            "sas-window",
            title,
            "fail",
            f"expires at {_stamp(facts.expiry)}, in {_span(facts.expiry - now)} "
            f"(within {_span(expiry_window)})",
            "issue a SAS that lasts longer, or renew this one before it expires",
            **details,
        )
    if facts.expiry is None:
        where = "a stored access policy (si)" if facts.stored_policy else "nothing"
        return Check.make(
            "sas-window", title, "pass", f"no expiry (se) in the token; it comes from {where}", **details
        )
    since = f"from {_stamp(facts.start)} " if facts.start else ""
    return Check.make(
        "sas-window",
        title,
        "pass",
        f"valid {since}until {_stamp(facts.expiry)} (in {_span(facts.expiry - now)})",
        **details,
    )


def check_sas_permissions(facts: SasFacts, need: str = "rlwd") -> Check:
    """Permissions the token carries against those needed (``need``: letters of
    :data:`NEEDED_PERMISSIONS`; by default all four, as the artifact store uses them), from the
    token alone."""
    wanted = {k: v for k, v in NEEDED_PERMISSIONS.items() if k in need}
    present = [name for letter, name in wanted.items() if letter in facts.permissions]
    missing = [name for letter, name in wanted.items() if letter not in facts.permissions]
    scope = facts.kind
    problems = []
    if facts.kind == "account SAS":
        scope += f" (ss={facts.services or ''}, srt={facts.resource_types or ''})"
        if "b" not in (facts.services or ""):
            problems.append("its services (ss) lack b (Blob)")
        if not {"c", "o"} <= set(facts.resource_types or ""):
            problems.append("its resource types (srt) need c (container) and o (object)")
    elif facts.resource:
        scope += f" (sr={facts.resource})"
    evidence = (
        f"{scope}, sp={facts.permissions or '(none)'}: has {', '.join(present) or 'none'}"
        + (f"; lacks {', '.join(missing)}" if missing else "")
        + (f"; {'; '.join(problems)}" if problems else "")
    )
    if not missing and not problems:
        return Check.make(
            "sas-permissions", "SAS permissions", "pass", evidence, permissions=facts.permissions
        )
    fix = f"issue a SAS with sp={''.join(wanted)}" + (" ss=b srt=co" if facts.kind == "account SAS" else "")
    fix += f" ({', '.join(wanted.values())})"
    return Check.make(
        "sas-permissions",
        "SAS permissions",
        "fail",
        evidence,
        fix,
        permissions=facts.permissions,
        missing=missing,
    )
