"""Values shared by the tests: valid-looking secrets built at run time, never real ones."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from azcreds.connection_string import AZURITE_ACCOUNT_KEY, AZURITE_ACCOUNT_NAME

__all__ = [
    "AZURITE_ACCOUNT_KEY",
    "AZURITE_ACCOUNT_NAME",
    "CLIENT_ID",
    "TENANT_ID",
    "ManualClock",
    "ManualSpawner",
    "b64",
    "sas_time",
    "sas_token",
]


class ManualClock:
    """A monotonic clock that moves only when a test says so: ``clock.advance(seconds)``.

    Put in place of the resolve cache's clock (``monkeypatch.setattr(azcreds.resolve, "_clock",
    clock)``), it makes TTL tests exact: nothing expires because the machine was slow, and no
    test sleeps to let a TTL pass.
    """

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class ManualSpawner:
    """Stands in for the resolve cache's background-thread starter: keeps each refresh until
    ``run()``, so a test decides exactly when a background refresh happens (and sees how many
    were started). ``monkeypatch.setattr(azcreds.resolve, "_spawn", spawner)``.
    """

    def __init__(self) -> None:
        self.pending: list[Callable[[], None]] = []
        self.started = 0

    def __call__(self, work: Callable[[], None]) -> None:
        self.started += 1
        self.pending.append(work)

    def run(self) -> None:
        """Run every kept refresh, oldest first, in this thread."""
        while self.pending:
            self.pending.pop(0)()


CLIENT_ID = "0b7a3c1e-2d4f-4a6b-8c9d-0e1f2a3b4c5d"
TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def sas_time(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def sas_token(sig: str = "c2lnbmF0dXJl", expires_in: timedelta = timedelta(days=30)) -> str:
    return f"sv=2025-11-05&ss=b&srt=sco&sp=rl&se={sas_time(expires_in)}&sig={sig}"
