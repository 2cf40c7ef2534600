"""The checks judged from the Blob service's answers: authentication, shared key, clock, container, ops."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from azcreds.doctor.advice import (
    AUTH_CODES,
    PERMISSION_CODES,
    auth_fix,
    auth_reason,
    permission_fix,
    safe_detail,
)
from azcreds.doctor.probes import Probe
from azcreds.doctor.report import Check

__all__ = ["check_authentication", "check_clock", "check_container", "check_operation", "check_shared_key"]

_OP_TITLES = {
    "list-containers": "list containers",
    "list": "list blobs",
    "read": "read blobs",
    "write": "write blobs",
    "delete": "delete blobs",
}


def _auth_refusal(probes: list[Probe]) -> Probe | None:
    return next((p for p in probes if p.code in AUTH_CODES), None)


def _shared_key_refusal(probes: list[Probe]) -> Probe | None:
    return next((p for p in probes if p.code == "KeyBasedAuthenticationNotPermitted"), None)


def check_authentication(probes: list[Probe], kind: str, account: str, sas_problem: str | None) -> Check:
    title = "authentication"
    refused = _auth_refusal(probes)
    if refused is not None:
        assert refused.code is not None
        reason = auth_reason(refused.code, refused.message, kind, sas_problem)
        detail = safe_detail(refused.detail)
        evidence = f"{refused.description}: {refused.answer()}: {reason}" + (
            f" (the service says: {detail})" if detail else ""
        )
        return Check.make(
            "authentication",
            title,
            "fail",
            evidence,
            auth_fix(refused.code, refused.message, kind, account),
            http_status=refused.status,
            code=refused.code,
        )
    if _shared_key_refusal(probes) is not None:
        return Check.make(
            "authentication",
            title,
            "skip",
            "not judged: the account refuses shared-key requests (see shared-key)",
        )
    answered = [p for p in probes if p.answered]
    if not answered:
        return Check.make("authentication", title, "skip", "not judged: no request was answered")
    what = {"key": "account key", "sas": "SAS", "token": "token"}[kind]
    answers = ", ".join(f"{p.op} {p.answer()}" for p in answered)
    return Check.make(
        "authentication", title, "pass", f"the service accepted the {what} ({answers})", answers=answers
    )


def check_shared_key(probes: list[Probe], kind: str, key_signed: bool) -> Check:
    title = "shared-key access"
    if not key_signed:
        return Check.make(
            "shared-key",
            title,
            "skip",
            "not used: a token credential (or a user-delegation SAS) does not depend on it",
        )
    refused = _shared_key_refusal(probes)
    if refused is not None:
        what = "account key" if kind == "key" else "SAS signed with an account key"
        return Check.make(
            "shared-key",
            title,
            "fail",
            f"{refused.description}: {refused.answer()}: the account has shared-key access "
            f"(allowSharedKeyAccess) turned off, so no {what} works",
            "use a token credential: register the secret with --schema azure-service-principal or "
            "azure-managed-identity (and give it a Storage Blob Data role), or a user-delegation SAS",
            http_status=refused.status,
            code=refused.code,
        )
    if not any(p.answered for p in probes):
        return Check.make("shared-key", title, "skip", "not judged: no request was answered")
    return Check.make("shared-key", title, "pass", "the account accepts shared-key requests")


def check_clock(probes: list[Probe], max_skew: timedelta) -> Check:
    """This machine's clock against the service's ``Date`` header."""
    title = "clock"
    probe = next((p for p in probes if p.headers.get("Date") and p.received is not None), None)
    if probe is None:
        return Check.make("clock", title, "skip", "no answer carried a Date header")
    try:
        service_time = parsedate_to_datetime(probe.headers["Date"])
    except (TypeError, ValueError):
        return Check.make("clock", title, "skip", "the service's Date header is not a date")
    received: datetime = probe.received  # type: ignore[assignment]
    skew = received - service_time
    seconds = int(skew.total_seconds())
    stamp = received.strftime("%Y-%m-%dT%H:%M:%SZ")
    evidence = f"service Date {probe.headers['Date']}; this machine {stamp}; skew {seconds:+d} s"
    if abs(skew) > max_skew:
        side = "ahead of" if seconds > 0 else "behind"
        return Check.make(
            "clock",
            title,
            "fail",
            f"{evidence}: this machine's clock is {side} the service's by more than "
            f"{int(max_skew.total_seconds() // 60)} min",
            "sync the clock (timedatectl set-ntp true; w32tm /resync on Windows): shared-key requests "
            "fail beyond 15 min of skew, and tokens and SAS start times beyond a few minutes",
            skew_seconds=seconds,
        )
    return Check.make("clock", title, "pass", evidence, skew_seconds=seconds)


def check_container(probes: list[Probe], container: str) -> Check:
    title = f"container {container!r} exists"
    missing = next((p for p in probes if p.missing_container), None)
    if missing is not None:
        return Check.make(
            "container",
            title,
            "fail",
            f"{missing.description}: {missing.answer()}",
            f"create it (az storage container create --name {container}, or azcreds store put into "
            "it, which creates it), or fix the container name",
        )
    found = next((p for p in probes if p.op == "container" and p.allowed), None) or next(
        (p for p in probes if p.allowed), None
    )
    if found is not None:
        return Check.make("container", title, "pass", f"{found.description}: {found.answer()}")
    return Check.make("container", title, "skip", "could not tell: no request in the container was allowed")


def check_operation(
    probe: Probe,
    *,
    kind: str,
    who: str,
    account: str,
    container: str | None,
    needed: bool,
) -> Check:
    """One operation (list, read, write, delete, list-containers): allowed, refused and why."""
    title = _OP_TITLES[probe.op] + (f" in {container!r}" if container else "")
    facts: dict[str, Any] = {"http_status": probe.status, "code": probe.code, "request": probe.description}
    if probe.allowed:
        return Check.make(
            probe.op, title, "pass", f"{probe.description}: {probe.answer()} (allowed)", **facts
        )
    if probe.code in AUTH_CODES:
        return Check.make(probe.op, title, "skip", f"{probe.answer()}: see authentication", **facts)
    if probe.code == "KeyBasedAuthenticationNotPermitted":
        return Check.make(probe.op, title, "skip", f"{probe.answer()}: see shared-key", **facts)
    if probe.missing_container:
        return Check.make(probe.op, title, "skip", f"{probe.answer()}: see container", **facts)
    if probe.error is not None:
        return Check.make(probe.op, title, "fail", f"{probe.description}: {probe.answer()}", **facts)
    if probe.code in PERMISSION_CODES:
        assert probe.code is not None
        fix = permission_fix(probe.op, probe.code, kind, who, account, container)
        what = {"key": "account key", "sas": "SAS", "token": "identity"}[kind]
        evidence = f"{probe.description}: {probe.answer()}: refused to this {what}"
        if not needed:
            return Check.make(probe.op, title, "skip", f"{evidence} (not needed)", **facts)
        return Check.make(probe.op, title, "fail", evidence, fix, **facts)
    return Check.make(
        probe.op,
        title,
        "fail" if needed else "skip",
        f"{probe.description}: {probe.answer()}" + (f": {probe.message}" if probe.message else ""),
        "see the service's error code in the Azure Storage REST reference",
        **facts,
    )
