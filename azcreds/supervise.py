"""Run a child process for ``azcreds exec``/``run``: mask its output, pass signals on, restart it on change.

:class:`Supervisor` starts the command with the environment it is given and:

- **masks** its stdout and stderr: each goes through a pipe and a
  :class:`~azcreds.masking.StreamMasker` for the secret values the child was given, then to
  azcreds' own stdout/stderr, piece by piece as it arrives (nothing is held but a tail that could
  still become a secret). A stream that is a terminal is given to the child as it is, unmasked, so
  an interactive child keeps its terminal (``unmasked_terminals`` names them; the CLI warns).
  ``masking=False`` gives the child azcreds' own stdout and stderr;
- **passes signals on**: SIGTERM, SIGHUP, SIGUSR1, SIGUSR2 sent to azcreds go to the child;
  SIGINT and SIGQUIT too, unless the child is in the terminal's foreground process group (then
  the terminal has already delivered the key press to it, and a second copy would be one too
  many). azcreds itself waits for the child and exits with its code (128 + N when signal N ended it);
- **restarts** it when ``watch`` reports new credentials (``--watch``): SIGTERM to the child's process
  group, ``grace`` seconds, then SIGKILL; then the same command with the new environment. The
  values masked are those of every environment given so far. With ``watch``, each child runs in a
  process group of its own, so a shell's children are stopped with it.

Polls of ``watch`` come from a timer every ``watch.interval`` seconds, or from :meth:`poll_now`
(tests drive it so, with no timer and no waiting on the clock), and ``grace_wait`` can end
the grace period on an event instead of the clock.
"""

from __future__ import annotations

import contextlib
import os
import queue
import random
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

from azcreds.masking import StreamMasker, secret_forms

__all__ = ["Change", "Generation", "Supervisor", "Watch", "exit_status"]

FORWARDED_SIGNALS = ("SIGTERM", "SIGHUP", "SIGINT", "SIGQUIT", "SIGUSR1", "SIGUSR2")
_TERMINAL_SIGNALS = {"SIGINT", "SIGQUIT"}  # typed at a terminal: its foreground group already has them
_STOPPING_SIGNALS = {"SIGTERM", "SIGHUP", "SIGINT", "SIGQUIT"}
_READ_SIZE = 1 << 20
_F_SETPIPE_SZ = 1031  # Linux: a 1 MiB pipe lets a fast child write big pieces
_DRAIN_SECONDS = 5.0  # after the child exits, how long a grandchild may keep its output pipe open


@dataclass(frozen=True)
class Change:
    """New credentials for the child: its whole environment and the secret values in it."""

    env: Mapping[str, str]
    secrets: tuple[str, ...]


class Watch(Protocol):
    """What ``--watch`` polls: ``check()`` is a Change when the secret changed, else None."""

    @property
    def interval(self) -> float: ...

    def check(self) -> Change | None: ...


@dataclass
class Generation:
    """One run of the command: its pid, and how it ended (``Popen.returncode``) once it has."""

    pid: int
    returncode: int | None = None
    restarted: bool = False  # ended by a restart (SIGTERM / SIGKILL from azcreds)


@dataclass
class _Child:
    proc: subprocess.Popen[bytes]
    generation: Generation
    pumps: list[threading.Thread] = field(default_factory=list)
    exited: threading.Event = field(default_factory=threading.Event)


def exit_status(returncode: int) -> int:
    """A shell's exit status for a child's return code: 128 + N for a child ended by signal N."""
    return 128 - returncode if returncode < 0 else returncode


def _terminal_fd() -> int | None:
    for fd in (0, 1, 2):
        with contextlib.suppress(OSError, ValueError):
            if os.isatty(fd):
                return fd
    return None


class Supervisor:
    """Runs ``command`` with ``env`` (see the module docstring); :meth:`run` returns its exit status."""

    def __init__(
        self,
        command: Sequence[str],
        env: Mapping[str, str],
        *,
        secrets: Iterable[str] = (),
        masking: bool = True,
        stdout: IO[bytes] | None = None,
        stderr: IO[bytes] | None = None,
        watch: Watch | None = None,
        grace: float = 10.0,
        grace_wait: Callable[[threading.Event, float], bool] | None = None,
        timer: bool = True,
        on_warning: Callable[[str], None] | None = None,
    ) -> None:
        self.command = list(command)
        self._env = dict(env)
        self._secrets = set(secrets)
        self._sinks = {"stdout": stdout or sys.stdout.buffer, "stderr": stderr or sys.stderr.buffer}
        self._masked = {name: masking and not _isatty(sink) for name, sink in self._sinks.items()}
        self.unmasked_terminals = [n for n, s in self._sinks.items() if masking and _isatty(s)]
        self._watch = watch
        self._grace = grace
        # How the grace period is waited for: the child's exit event and the grace; True if it
        # exited. Tests end the period on an event of theirs instead of the clock.
        self._grace_wait = grace_wait or (lambda exited, seconds: exited.wait(seconds))
        self._timer = timer and watch is not None
        self._warn = on_warning or (lambda message: None)
        self._events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._stop = threading.Event()
        self._stopping = False  # a signal asked the child to end: no more restarts
        self._child: _Child | None = None
        self._deferred: list[int] = []  # signals for the child about to start
        self.generations: list[Generation] = []

    # -- the child ---------------------------------------------------------------------------

    def _start_child(self) -> _Child:
        forms = secret_forms(self._secrets)
        pipes = {
            name: subprocess.PIPE if self._masked[name] else _fd_of(sink)
            for name, sink in self._sinks.items()
        }
        for name, sink in self._sinks.items():
            with contextlib.suppress(Exception):
                sink.flush()
            if self._masked[name]:
                _enlarge_pipe(sink)
        proc = subprocess.Popen(
            self.command,
            env=self._env,
            stdout=pipes["stdout"],
            stderr=pipes["stderr"],
            process_group=0 if self._watch is not None else None,
        )
        child = _Child(proc, Generation(proc.pid))
        for name, stream in (("stdout", proc.stdout), ("stderr", proc.stderr)):
            if stream is not None:
                _enlarge_pipe(stream)
                pump = threading.Thread(
                    target=self._pump,
                    args=(stream, self._sinks[name], StreamMasker(forms)),
                    name=f"azcreds-mask-{name}",
                    daemon=True,
                )
                pump.start()
                child.pumps.append(pump)
        threading.Thread(target=self._wait_for, args=(child,), name="azcreds-wait", daemon=True).start()
        self.generations.append(child.generation)
        self._child = child
        # Signals that came while no child was running (between a restart's stop and this
        # start) are this child's. Handlers run in this (the main) thread, between statements.
        deferred, self._deferred = self._deferred, []
        for signum in deferred:
            self._signal(child, signum)
        return child

    def _wait_for(self, child: _Child) -> None:
        child.generation.returncode = child.proc.wait()
        child.exited.set()
        self._events.put(("exit", child))

    @staticmethod
    def _pump(stream: IO[bytes], sink: IO[bytes], masker: StreamMasker) -> None:
        """Copy ``stream`` to ``sink`` through ``masker`` until end of file."""
        fd = stream.fileno()
        try:
            while data := os.read(fd, _READ_SIZE):
                out = masker.feed(data)
                if out:
                    sink.write(out)
                    sink.flush()
            tail = masker.finish()
            if tail:
                sink.write(tail)
                sink.flush()
        except (BrokenPipeError, ValueError):
            pass  # nobody reads: closing our end gives the child EPIPE, as a pipe would
        finally:
            stream.close()

    def _finish(self, child: _Child) -> None:
        """Let the output of an ended child drain (a lingering grandchild gets a few seconds)."""
        for pump in child.pumps:
            pump.join(_DRAIN_SECONDS)

    def _signal(self, child: _Child, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if self._watch is not None:
                os.killpg(child.proc.pid, signum)
            else:
                child.proc.send_signal(signum)

    def _terminate(self, child: _Child) -> None:
        """SIGTERM, ``grace`` seconds to exit, then SIGKILL."""
        child.generation.restarted = True
        self._signal(child, signal.SIGTERM)
        if not self._grace_wait(child.exited, self._grace):
            self._signal(child, signal.SIGKILL)
            child.exited.wait()
        self._finish(child)

    # -- signals -----------------------------------------------------------------------------

    def _on_signal(self, signum: int, frame: object) -> None:
        name = signal.Signals(signum).name
        child = self._child
        if name in _STOPPING_SIGNALS:
            self._stopping = True
        if child is None or child.exited.is_set():  # between two children: for the next one
            self._deferred.append(signum)
            return
        if name in _TERMINAL_SIGNALS and self._child_in_foreground(child):
            return
        self._signal(child, signum)

    @staticmethod
    def _child_in_foreground(child: _Child) -> bool:
        fd = _terminal_fd()
        if fd is None:
            return False
        try:
            return os.tcgetpgrp(fd) == os.getpgid(child.proc.pid)
        except OSError:
            return False

    def _install_signal_handlers(self) -> dict[int, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}  # signal handlers can only be set in the main thread (tests run us elsewhere)
        previous: dict[int, Any] = {}
        for name in FORWARDED_SIGNALS:
            signum = getattr(signal, name, None)
            if signum is not None:
                previous[signum] = signal.signal(signum, self._on_signal)
        return previous

    # -- watching ----------------------------------------------------------------------------

    def poll_now(self, timeout: float = 60.0) -> bool:
        """Ask for one poll of ``watch`` and wait until it (and any restart) is done; False on timeout."""
        done = threading.Event()
        self._events.put(("poll", done))
        return done.wait(timeout)

    def _ticks(self, watch: Watch) -> None:
        # The first poll at a random point of the first interval: a fleet started together does
        # not poll together. The interval is asked each time: it follows the secret's source.
        wait = random.uniform(0.5, 1.0) * watch.interval  # noqa: S311 (jitter, not a secret)
        while not self._stop.wait(wait):
            self._events.put(("poll", None))
            wait = watch.interval

    def _poll(self) -> None:
        if self._watch is None or self._stopping:
            return
        try:
            change = self._watch.check()
        except Exception as exc:  # the source is down or locked: keep the child, try again later
            self._warn(f"--watch: could not check for a new secret: {exc}")
            return
        if change is None or self._stopping:
            return
        current = self._child
        self._env = dict(change.env)
        self._secrets |= set(change.secrets)  # old values stay masked: they may still be printed
        if current is not None:
            self._terminate(current)
        if not self._stopping:
            self._start_child()

    # -- the loop ----------------------------------------------------------------------------

    def run(self) -> int:
        """Run the command until it ends on its own (restarting it on change); its exit status.

        Raises FileNotFoundError / PermissionError when the command cannot be started.
        """
        previous = self._install_signal_handlers()
        try:
            self._start_child()
            if self._timer and self._watch is not None:
                threading.Thread(
                    target=self._ticks, args=(self._watch,), name="azcreds-watch", daemon=True
                ).start()
            while True:
                kind, payload = self._events.get()
                if kind == "exit" and isinstance(payload, _Child) and payload is self._child:
                    self._finish(payload)  # an earlier child's exit was a restart's doing
                    code = payload.generation.returncode
                    assert code is not None
                    return exit_status(code)
                if kind == "poll":
                    try:
                        self._poll()
                    finally:
                        if payload is not None:
                            payload.set()
        finally:
            self._stop.set()
            current = self._child
            if current is not None and current.proc.poll() is None:  # we are failing: no orphan
                self._signal(current, signal.SIGKILL)
            for signum, handler in previous.items():
                signal.signal(signum, handler)


def _enlarge_pipe(stream: IO[bytes]) -> None:
    """Give a pipe a 1 MiB buffer (Linux), so that a fast writer moves big pieces: fewer switches
    between the child, azcreds and the reader. Only for the pipes azcreds itself reads or writes."""
    try:
        import fcntl
        import stat

        fd = stream.fileno()
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            fcntl.fcntl(fd, _F_SETPIPE_SZ, _READ_SIZE)
    except (AttributeError, ValueError, OSError):
        pass


def _isatty(sink: IO[bytes]) -> bool:
    try:
        return sink.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def _fd_of(sink: IO[bytes]) -> int | None:
    """The file descriptor to hand the child for an unmasked stream (None: inherit ours)."""
    try:
        return sink.fileno()
    except (AttributeError, ValueError, OSError):
        return None
