"""What ``azcreds doctor`` found: a :class:`Check` per point, in a :class:`DoctorReport`, as text or JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from azcreds.redact import scrub

__all__ = ["Check", "DoctorReport", "Status"]

Status = Literal["pass", "fail", "skip"]

_MARKS = {"pass": "✓", "fail": "✗", "skip": "-"}
_ASCII_MARKS = {"pass": "ok", "fail": "FAIL", "skip": "-"}


@dataclass(frozen=True)
class Check:
    """One point checked: its id, what it checks, the outcome, the evidence and, on failure, the fix.

    ``details`` holds the facts behind the evidence (status and error codes, times in ms) for
    ``--json``. Nothing in a check is a secret value: texts are scrubbed of every registered secret.
    """

    id: str
    title: str
    status: Status
    evidence: str
    fix: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def make(
        cls,
        id: str,
        title: str,
        status: Status,
        evidence: str,
        fix: str | None = None,
        **details: Any,
    ) -> Check:
        return cls(id, title, status, scrub(evidence), scrub(fix) if fix else None, details)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "evidence": self.evidence,
            "fix": self.fix,
            "details": self.details,
        }


@dataclass(frozen=True)
class DoctorReport:
    """Every check run for one secret (and container); ``ok`` when none failed."""

    name: str | None
    container: str | None
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(c.status != "fail" for c in self.checks)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status == "fail"]

    def check(self, id: str) -> Check:
        """The check with this id (``KeyError`` if it was not run)."""
        for c in self.checks:
            if c.id == id:
                return c
        raise KeyError(id)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "container": self.container,
            "ok": self.ok,
            "checks": [c.to_json() for c in self.checks],
        }

    def render(self, *, unicode: bool = True) -> str:
        """The report for a terminal: a mark, the check and its evidence per line, fixes below."""
        marks = _MARKS if unicode else _ASCII_MARKS
        width = max(len(m) for m in marks.values())
        lines = []
        for c in self.checks:
            lines.append(f"{marks[c.status]:<{width}} {c.title}: {c.evidence}")
            if c.fix and c.status == "fail":
                lines.append(f"{'':<{width}}   fix: {c.fix}")
        failed = len(self.failed)
        skipped = sum(1 for c in self.checks if c.status == "skip")
        summary = "all checks passed" if not failed else f"{failed} check(s) failed"
        if skipped:  # a skipped check was not judged: say so, even when nothing failed
            summary += f" ({skipped} skipped)"
        lines.append(summary)
        return "\n".join(lines)
