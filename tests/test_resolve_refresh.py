"""The resolve cache's refresh ahead and jitter: background refresh in the last part of the TTL, at a
refresh point drawn per process, with single flight and stale-if-error as before.

Time is a ManualClock, the random source is injected and background refreshes run when the test
says (ManualSpawner) or on a real thread the test joins; nothing sleeps or reads the wall clock.
"""

from __future__ import annotations

import os
import random
import signal
import threading
from collections.abc import Callable

import pytest

import azcreds.resolve
from azcreds import (
    EnvResolver,
    SecretNotFoundError,
    ServiceError,
    StaleCredentialWarning,
    clear_cache,
    resolve_credentials,
)
from azcreds.schemas import SecretSchema
from tests.helpers import AZURITE_ACCOUNT_KEY, ManualClock, ManualSpawner

TTL = 100.0


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> ManualClock:
    manual = ManualClock()
    monkeypatch.setattr(azcreds.resolve, "_clock", manual)
    return manual


@pytest.fixture
def spawner(monkeypatch: pytest.MonkeyPatch) -> ManualSpawner:
    manual = ManualSpawner()
    monkeypatch.setattr(azcreds.resolve, "_spawn", manual)
    return manual


@pytest.fixture
def draws(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The jitter's random draws, in order; a test appends the values it wants drawn."""
    values: list[float] = []
    monkeypatch.setattr(azcreds.resolve, "_random", lambda: values.pop(0))
    return values


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """Every time the env resolver (the source here) is asked."""
    monkeypatch.setenv("AZCREDS_AZ_SECRET__ACCOUNT_NAME", "acct")
    monkeypatch.setenv("AZCREDS_AZ_SECRET__ACCOUNT_KEY", AZURITE_ACCOUNT_KEY)
    monkeypatch.setenv("AZCREDS_CACHE_TTL", str(TTL))
    monkeypatch.setenv("AZCREDS_CACHE_MAX_STALE", "1000")
    clear_cache()
    asked: list[str | None] = []
    original = EnvResolver.resolve

    def counting(self: EnvResolver, name: str | None) -> SecretSchema:
        asked.append(name)
        return original(self, name)

    monkeypatch.setattr(EnvResolver, "resolve", counting)
    return asked


def _source_fails(monkeypatch: pytest.MonkeyPatch, error: Exception, asked: list[str | None]) -> None:
    def failing(self: EnvResolver, name: str | None) -> SecretSchema:
        asked.append(name)
        raise error

    monkeypatch.setattr(EnvResolver, "resolve", failing)


@pytest.mark.parametrize(("draw", "refresh_at"), [(0.0, 50.0), (0.5, 70.0), (0.999999, 89.99996)])
def test_the_refresh_point_is_drawn_between_half_and_nine_tenths_of_the_ttl(
    clock: ManualClock,
    spawner: ManualSpawner,
    draws: list[float],
    calls: list[str | None],
    draw: float,
    refresh_at: float,
) -> None:
    draws.append(draw)
    first = resolve_credentials("az_secret")
    clock.advance(refresh_at - 1e-6)
    assert resolve_credentials("az_secret") is first
    assert spawner.started == 0
    clock.advance(2e-6)
    assert resolve_credentials("az_secret") is first  # served at once, from the cache
    assert spawner.started == 1
    assert calls == ["az_secret"]  # the caller did not ask the source


def test_a_resolve_past_the_refresh_point_refreshes_in_the_background_once(
    clock: ManualClock, spawner: ManualSpawner, draws: list[float], calls: list[str | None]
) -> None:
    draws.extend([0.5, 0.0])  # refresh at 70, then at 50 past the refresh
    first = resolve_credentials("az_secret")
    clock.advance(75)
    for _ in range(10):
        assert resolve_credentials("az_secret") is first
    assert spawner.started == 1  # one background refresh for all of them
    spawner.run()
    assert len(calls) == 2
    second = resolve_credentials("az_secret")
    assert second is not first
    # The new entry counts its TTL and refresh point from the refresh: 75 + 50 = 125.
    clock.advance(49)
    assert resolve_credentials("az_secret") is second
    assert spawner.started == 1
    clock.advance(1)
    assert resolve_credentials("az_secret") is second
    assert spawner.started == 2


def test_callers_never_wait_for_a_background_refresh_under_way(
    clock: ManualClock, draws: list[float], calls: list[str | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real background thread holds the source; resolves meanwhile are answered from the cache."""
    draws.extend([0.0, 0.0])
    first = resolve_credentials("az_secret")
    in_source, release = threading.Event(), threading.Event()
    original = EnvResolver.resolve

    def held(self: EnvResolver, name: str | None) -> SecretSchema:
        in_source.set()
        release.wait()
        return original(self, name)

    monkeypatch.setattr(EnvResolver, "resolve", held)
    threads: list[threading.Thread] = []

    def spawn(work: Callable[[], None]) -> None:
        thread = threading.Thread(target=work, daemon=True)
        threads.append(thread)
        thread.start()

    monkeypatch.setattr(azcreds.resolve, "_spawn", spawn)
    clock.advance(60)
    assert resolve_credentials("az_secret") is first
    assert in_source.wait(30)  # the refresh is now inside the source, holding the name's gate
    for _ in range(100):  # each returns while the source is provably still busy
        assert resolve_credentials("az_secret") is first
    assert not release.is_set()
    assert len(threads) == 1
    release.set()
    threads[0].join()
    assert resolve_credentials("az_secret") is not first


def test_past_the_ttl_a_caller_waits_and_a_late_background_refresh_does_no_second_request(
    clock: ManualClock, spawner: ManualSpawner, draws: list[float], calls: list[str | None]
) -> None:
    draws.extend([0.0, 0.0])
    first = resolve_credentials("az_secret")
    clock.advance(60)
    resolve_credentials("az_secret")  # starts a refresh that has not run yet
    clock.advance(41)  # past the TTL
    second = resolve_credentials("az_secret")  # single flight: this caller does the work
    assert second is not first
    assert len(calls) == 2
    spawner.run()  # the kept refresh finds the entry already renewed
    assert len(calls) == 2
    assert resolve_credentials("az_secret") is second


def test_a_transient_failure_in_the_background_serves_the_cache_until_the_ttl_then_stale_if_error(
    clock: ManualClock,
    spawner: ManualSpawner,
    draws: list[float],
    calls: list[str | None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    draws.append(0.0)
    good = resolve_credentials("az_secret")
    _source_fails(monkeypatch, ServiceError("503 after retries"), calls)
    clock.advance(50)
    assert resolve_credentials("az_secret") is good
    spawner.run()  # fails quietly: these credentials are within their TTL
    assert len(calls) == 2
    clock.advance(29)  # within the retry pause (30 s): no new background refresh
    assert resolve_credentials("az_secret") is good
    assert spawner.started == 1
    clock.advance(1)
    assert resolve_credentials("az_secret") is good
    assert spawner.started == 2
    spawner.run()
    assert len(calls) == 3
    clock.advance(21)  # 101: past the TTL, the caller asks the source: stale-if-error as before
    with pytest.warns(StaleCredentialWarning, match="past their TTL"):
        assert resolve_credentials("az_secret") is good
    assert len(calls) == 4


def test_a_secret_gone_in_the_background_is_served_until_the_ttl_then_the_error_is_raised(
    clock: ManualClock,
    spawner: ManualSpawner,
    draws: list[float],
    calls: list[str | None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    draws.append(0.0)
    good = resolve_credentials("az_secret")
    monkeypatch.delenv("AZCREDS_AZ_SECRET__ACCOUNT_KEY")
    monkeypatch.delenv("AZCREDS_AZ_SECRET__ACCOUNT_NAME")
    clock.advance(60)
    assert resolve_credentials("az_secret") is good
    spawner.run()
    assert len(calls) == 2
    clock.advance(41)
    with pytest.raises(SecretNotFoundError):
        resolve_credentials("az_secret")


def test_a_refresh_under_way_when_the_cache_is_cleared_stores_nothing(
    clock: ManualClock, spawner: ManualSpawner, draws: list[float], calls: list[str | None]
) -> None:
    draws.extend([0.0, 0.0, 0.0])
    first = resolve_credentials("az_secret")
    clock.advance(60)
    resolve_credentials("az_secret")
    clear_cache()
    fresh = resolve_credentials("az_secret")
    spawner.run()
    assert resolve_credentials("az_secret") is fresh is not first


def test_refresh_true_and_ttl_zero_are_unchanged(
    clock: ManualClock,
    spawner: ManualSpawner,
    draws: list[float],
    calls: list[str | None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    draws.extend([0.0, 0.0])
    first = resolve_credentials("az_secret")
    clock.advance(60)
    assert resolve_credentials("az_secret", refresh=True) is not first  # waits, no background work
    assert spawner.started == 0
    monkeypatch.setenv("AZCREDS_CACHE_TTL", "0")
    clear_cache()
    resolve_credentials("az_secret")
    resolve_credentials("az_secret")
    assert (len(calls), spawner.started) == (4, 0)


def test_a_fleet_started_together_spreads_its_refreshes(
    clock: ManualClock, spawner: ManualSpawner, calls: list[str | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """100 'processes' (a cleared cache and a seeded random source each) resolving at the same
    instant refresh at 100 different points, spread over [50, 90] s."""
    points = []
    for seed in range(100):
        monkeypatch.setattr(azcreds.resolve, "_random", random.Random(seed).random)
        clear_cache()
        clock.now = 1000.0
        resolve_credentials("az_secret")
        points.append(azcreds.resolve._entries["az_secret"].refresh_at - 1000.0)
    assert len(set(points)) == 100
    assert 50 <= min(points) < 55
    assert 85 < max(points) <= 90
    in_each_tenth = [sum(50 + 4 * i <= p < 54 + 4 * i for p in points) for i in range(10)]
    assert max(in_each_tenth) <= 25  # no quarter of the fleet in one tenth of the span


def test_forked_children_draw_different_refresh_points() -> None:
    """The jitter uses the random source Python reseeds in a forked child: children forked from
    one parent must not all refresh at the same instant."""
    children = []
    for _ in range(4):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            os.close(read)
            os.write(write, repr(azcreds.resolve._random()).encode())
            os._exit(0)
        os.close(write)
        children.append((pid, read))
    drawn = []
    for pid, read in children:
        with os.fdopen(read) as f:
            drawn.append(f.read())
        assert os.waitpid(pid, 0)[1] == 0
    assert len(set(drawn)) == 4


def test_a_child_forked_while_a_refresh_holds_the_lock_can_resolve(
    clock: ManualClock, draws: list[float], calls: list[str | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    draws.extend([0.0] * 3)
    resolve_credentials("az_secret")
    in_source, release = threading.Event(), threading.Event()
    original = EnvResolver.resolve

    def held(self: EnvResolver, name: str | None) -> SecretSchema:
        if threading.current_thread() is not threading.main_thread():
            in_source.set()
            release.wait()
        return original(self, name)

    monkeypatch.setattr(EnvResolver, "resolve", held)
    threads: list[threading.Thread] = []

    def spawn(work: Callable[[], None]) -> None:
        threads.append(threading.Thread(target=work, daemon=True))
        threads[-1].start()

    monkeypatch.setattr(azcreds.resolve, "_spawn", spawn)
    clock.advance(60)
    resolve_credentials("az_secret")
    assert in_source.wait(30)  # the background thread holds the name's gate
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child: without the at-fork reset this would hang
        signal.alarm(60)  # a safety net, so a regression fails instead of hanging the suite
        try:
            resolve_credentials("az_secret", refresh=True)
            os._exit(0)
        except BaseException:
            os._exit(3)
    status = os.waitpid(pid, 0)[1]
    release.set()
    threads[0].join()
    assert os.waitstatus_to_exitcode(status) == 0
