"""``--watch``: a rotated secret restarts the child once, with the new value (keyring and Key Vault).

The supervisor runs in a thread with no timer: the test rotates the secret and calls
``poll_now()``, which returns once the poll (and any restart) is done. Real children are waited
for through the lines they write to a log (tests/cli/watch_child.py), never through the clock.
One test runs the real console script with its real timer, waiting for the same lines.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from azcreds import clear_cache, resolve_credentials
from azcreds.child_env import child_environment
from azcreds.masking import MARKER
from azcreds.resolvers.keyring import KeyringStore
from azcreds.resolvers.keyvault import KeyVaultStore, encode_name
from azcreds.schemas import parse_secret
from azcreds.supervise import Supervisor
from azcreds.testing import KeyVaultServer
from azcreds.watch import SecretWatch
from tests.cli.helpers import S1_KEY, VENV_BIN, child_env, run_subprocess
from tests.helpers import b64

CHILD = str(Path(__file__).with_name("watch_child.py"))
KEY2 = b64("ROTATED-KEY-TWO-" + "2" * 48)
KEY3 = b64("ROTATED-KEY-THREE-" + "3" * 46)
BOUND = 60.0  # generous: how long an expected line may take to appear on a busy machine


class Log:
    """The lines the watch children append to one file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def lines(self) -> list[list[str]]:
        if not self.path.exists():
            return []
        return [line.split() for line in self.path.read_text().splitlines()]

    def starts(self) -> list[str]:
        """The key each started child had, in order."""
        return [words[1] for words in self.lines() if words[0] == "start"]

    def wait_for(self, what: Callable[[Log], bool], description: str) -> None:
        deadline = time.monotonic() + BOUND
        while not what(self):
            if time.monotonic() > deadline:
                raise AssertionError(f"never saw {description}; log: {self.lines()}")
            time.sleep(0.02)  # polling an observable file, not timing anything


class Sink(io.RawIOBase):
    """A thread-safe stdout for the supervisor: keeps every byte."""

    def __init__(self) -> None:
        self.data = bytearray()
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    def write(self, b: object) -> int:
        with self._lock:
            chunk = bytes(b)  # type: ignore[call-overload]
            self.data += chunk
            return len(chunk)


class Running:
    """A Supervisor running in a thread; ``result`` is its exit status once it returned."""

    def __init__(self, supervisor: Supervisor) -> None:
        self.supervisor = supervisor
        self.result: int | BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.result = self.supervisor.run()
        except BaseException as exc:
            self.result = exc

    def current_pid(self) -> int:
        return self.supervisor.generations[-1].pid

    def end(self) -> int | BaseException | None:
        """SIGUSR1 to the current child (it exits 5), then the supervisor's result."""
        os.kill(self.current_pid(), signal.SIGUSR1)
        self.thread.join(BOUND)
        assert not self.thread.is_alive(), "the supervisor did not return"
        return self.result

    def kill_all(self) -> None:
        for generation in self.supervisor.generations:
            if generation.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(generation.pid, signal.SIGKILL)


def watched(name: str, log: Log, mode: str, **options: object) -> tuple[Running, Sink]:
    """``exec NAME --watch`` as the CLI builds it, in a thread, with polls by ``poll_now``."""
    clear_cache()
    credentials = resolve_credentials(name)
    make_env = lambda creds: child_environment(creds)  # noqa: E731
    sink = Sink()
    supervisor = Supervisor(
        [sys.executable, CHILD, str(log.path), mode],
        make_env(credentials),
        secrets=credentials.secret.secret_values(),
        stdout=sink,  # type: ignore[arg-type]
        stderr=sink,  # type: ignore[arg-type]
        watch=SecretWatch(name, credentials, make_env),
        timer=False,
        **options,  # type: ignore[arg-type]
    )
    return Running(supervisor), sink


@pytest.fixture
def log(tmp_path: Path) -> Log:
    return Log(tmp_path / "children.log")


def test_keyring_rotation_restarts_the_child_once_per_change(populated: KeyringStore, log: Log) -> None:
    running, sink = watched("s1", log, "polite", grace=BOUND)
    try:
        log.wait_for(lambda lg: len(lg.starts()) == 1, "the first child")
        assert running.supervisor.poll_now()  # nothing changed: no restart
        populated.register(  # another secret in the same file: not ours, no restart
            "other", parse_secret("azure-account-key", {"account_name": "other", "account_key": KEY3})
        )
        assert running.supervisor.poll_now()
        assert log.starts() == [S1_KEY]

        populated.update("s1", account_key=KEY2)
        assert running.supervisor.poll_now()  # returns once the new child is started
        log.wait_for(lambda lg: len(lg.starts()) == 2, "the restarted child")
        assert running.supervisor.poll_now()  # the same value again: no second restart

        populated.update("s1", account_key=KEY3)
        assert running.supervisor.poll_now()
        log.wait_for(lambda lg: len(lg.starts()) == 3, "the second restart")
        assert running.end() == 5
    finally:
        running.kill_all()
    assert log.starts() == [S1_KEY, KEY2, KEY3]
    generations = running.supervisor.generations
    assert [g.restarted for g in generations] == [True, True, False]
    assert [g.returncode for g in generations] == [0, 0, 5]  # polite: each left on SIGTERM
    assert [w[0] for w in log.lines()] == ["start", "term", "start", "term", "start", "usr1"]
    # Every key, old and new, is masked in the output.
    assert sink.data.count(b"child has key " + MARKER) == 3
    for key in (S1_KEY, KEY2, KEY3):
        assert key.encode() not in sink.data


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace_period(
    populated: KeyringStore, log: Log
) -> None:
    grace_asked: list[float] = []

    def grace_wait(exited: threading.Event, seconds: float) -> bool:
        # The grace period "passes" once the child has shown it got SIGTERM and ignored it.
        grace_asked.append(seconds)
        log.wait_for(lambda lg: any(w[0] == "ignored" for w in lg.lines()), "SIGTERM ignored")
        return exited.is_set()

    running, _ = watched("s1", log, "stubborn", grace=7.5, grace_wait=grace_wait)
    try:
        log.wait_for(lambda lg: len(lg.starts()) == 1, "the first child")
        populated.update("s1", account_key=KEY2)
        assert running.supervisor.poll_now()
        log.wait_for(lambda lg: len(lg.starts()) == 2, "the restarted child")
        assert running.end() == 5
    finally:
        running.kill_all()
    assert grace_asked == [7.5]
    first, second = running.supervisor.generations
    assert first.returncode == -signal.SIGKILL  # SIGTERM ignored, so SIGKILL
    assert first.restarted
    assert second.returncode == 5
    assert [w[0] for w in log.lines()] == ["start", "ignored", "start", "usr1"]
    assert log.starts() == [S1_KEY, KEY2]


@pytest.fixture
def vault_store(vault: KeyVaultServer, keyring_path: Path) -> KeyVaultStore:
    """AZCREDS_KEYVAULT_URL on the local server (no keyring file): secrets resolve from Key Vault."""
    return KeyVaultStore(vault.vault_url)


def test_key_vault_rotation_restarts_the_child_with_the_new_version(
    vault_store: KeyVaultStore, keyvault_server: KeyVaultServer, log: Log
) -> None:
    secret = parse_secret("azure-account-key", {"account_name": "acct", "account_key": S1_KEY})
    vault_store.register("kv1", secret)
    running, sink = watched("kv1", log, "polite", grace=BOUND)
    try:
        log.wait_for(lambda lg: len(lg.starts()) == 1, "the first child")
        assert running.supervisor.poll_now()  # the same version: no restart
        assert log.starts() == [S1_KEY]

        vault_store.update("kv1", account_key=KEY2)  # a new version in the vault
        assert len(keyvault_server.secret_versions(encode_name("kv1"))) == 2
        assert running.supervisor.poll_now()
        log.wait_for(lambda lg: len(lg.starts()) == 2, "the restarted child")
        assert running.supervisor.poll_now()
        assert running.end() == 5
    finally:
        running.kill_all()
    assert log.starts() == [S1_KEY, KEY2]
    assert [g.restarted for g in running.supervisor.generations] == [True, False]
    assert S1_KEY.encode() not in sink.data
    assert KEY2.encode() not in sink.data


def test_a_failing_poll_keeps_the_child_and_warns(populated: KeyringStore, log: Log) -> None:
    warnings: list[str] = []
    running, _ = watched("s1", log, "polite", grace=BOUND, on_warning=warnings.append)
    try:
        log.wait_for(lambda lg: len(lg.starts()) == 1, "the first child")
        populated.path.write_bytes(b"not a keyring any more")
        assert running.supervisor.poll_now()
        assert len(warnings) == 1
        assert "could not check" in warnings[0]
        assert S1_KEY not in warnings[0]
        assert running.end() == 5
    finally:
        running.kill_all()
    assert log.starts() == [S1_KEY]


def test_watch_through_the_console_script_with_its_timer(populated: KeyringStore, log: Log) -> None:
    proc = subprocess.Popen(
        [str(VENV_BIN / "azcreds"), "exec", "s1", "--watch", "--watch-grace", "60", "--",
         sys.executable, CHILD, str(log.path), "polite"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env(),
    )  # fmt: skip
    try:
        log.wait_for(lambda lg: len(lg.starts()) == 1, "the first child")
        populated.update("s1", account_key=KEY2)
        log.wait_for(lambda lg: len(lg.starts()) == 2, "the restarted child")
        proc.send_signal(signal.SIGTERM)  # passed on to the child, which exits 0
        out, err = proc.communicate(timeout=BOUND)
    finally:
        if proc.poll() is None:
            proc.kill()
        for words in log.lines():
            if words[0] == "start":
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(words[-1]), signal.SIGKILL)
    assert proc.returncode == 0, err
    assert err == b""
    assert log.starts() == [S1_KEY, KEY2]
    assert [w[0] for w in log.lines()] == ["start", "term", "start", "term"]
    assert out == b"child has key " + MARKER + b"\n" + b"child has key " + MARKER + b"\n"


@pytest.mark.parametrize("interval", ["1", "0", "-5", "nan"])
def test_a_watch_interval_below_the_floor_is_bad_input(populated: KeyringStore, interval: str) -> None:
    r = run_subprocess(
        [str(VENV_BIN / "azcreds"), "exec", "s1", "--watch", "--watch-interval", interval, "--", "true"]
    )
    line = r.assert_clean_error(2)
    assert "--watch-interval" in line


def test_watch_of_a_secret_from_the_environment_warns_and_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZCREDS_E1__ACCOUNT_NAME", "acct")
    monkeypatch.setenv("AZCREDS_E1__ACCOUNT_KEY", S1_KEY)
    r = run_subprocess([str(VENV_BIN / "azcreds"), "exec", "e1", "--watch", "--", "true"])
    assert r.code == 0, r
    assert r.err_lines == [
        "azcreds: warning: --watch: 'e1' comes from env, which does not change; not watched"
    ]
