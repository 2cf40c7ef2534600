"""The keyring file's write lock: ``flock`` on a sidecar file, a bounded wait, the holder's pid.

flock has no timeout, so a writer tries without blocking and retries with growing pauses until
its deadline, then raises StoreBusyError naming the holder: the holder writes its process id into
the lock file while it holds the lock and empties it on release, so a pid found there belongs to
the current holder — or, if that process is gone, to the process that forked the holder (a lock
is shared with forked children), which the message says. Used by :mod:`azcreds.vault_file`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from azcreds.errors import PermissionDeniedError, StoreBusyError, StorePathError

__all__ = ["write_lock"]

_LOCK_POLL_MAX = 0.02  # the longest pause between two tries for a busy lock


# (lock file, thread) pairs whose flock this process holds: a second flock on a new descriptor
# from the same thread would wait for itself forever.
_held_locks: set[tuple[str, int]] = set()
_held_locks_guard = threading.Lock()


@contextlib.contextmanager
def write_lock(path: Path, lock_path: Path, lock_timeout: float | None) -> Iterator[None]:
    """Hold ``flock(LOCK_EX)`` on ``lock_path``, the lock of the keyring file ``path``, waiting at
    most ``lock_timeout`` seconds (``None``: as long as it takes), with this process's id in it.
    RuntimeError if this thread holds it already (the thread would wait for its own lock)."""
    lock_name = str(lock_path)
    me = (os.path.abspath(lock_name), threading.get_ident())
    with _held_locks_guard:
        if me in _held_locks:
            raise RuntimeError(f"this thread already holds the write lock of {path}")
        _held_locks.add(me)
    try:
        fd = _open_lock_file(lock_path)
        try:
            _acquire(fd, path, lock_path, lock_timeout)
            try:
                _record_holder(fd)
                yield
            finally:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, 0)  # no pid left behind once the lock is free
        finally:
            os.close(fd)  # releases the flock
    finally:
        with _held_locks_guard:
            _held_locks.discard(me)


def _open_lock_file(lock_path: Path) -> int:
    try:
        return os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    except PermissionError:
        raise PermissionDeniedError(f"keyring lock file {lock_path}: permission denied") from None
    except OSError as exc:
        raise StorePathError(f"keyring lock file {lock_path} cannot be used ({exc.strerror})") from None


def _acquire(fd: int, path: Path, lock_path: Path, lock_timeout: float | None) -> None:
    """Take ``flock(LOCK_EX)`` on ``fd`` within ``lock_timeout``, else StoreBusyError.

    flock has no timeout: try without blocking, then retry with growing pauses (1 ms to 20 ms).
    """
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    except BlockingIOError:
        if lock_timeout is None:
            fcntl.flock(fd, fcntl.LOCK_EX)
            return
    deadline = time.monotonic() + lock_timeout
    pause = 0.001
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _busy(fd, path, lock_path, lock_timeout)
        time.sleep(min(pause, remaining))
        pause = min(pause * 2, _LOCK_POLL_MAX)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            continue


def _busy(fd: int, path: Path, lock_path: Path, lock_timeout: float) -> StoreBusyError:
    pid = _recorded_holder(fd)
    waited = f"for {lock_timeout:g} s"
    hint = "raise AZCREDS_KEYRING_LOCK_TIMEOUT (or lock_timeout=) to wait longer"
    where = f"keyring file {path} is locked for writing ({lock_path})"
    if pid is None:
        message = f"{where} by an unknown process, and it stayed locked {waited}; {hint}"
    elif _process_exists(pid):
        message = (
            f"{where} by process {pid}, which held the lock {waited} without finishing; "
            f"if it hangs, stop it; or {hint}"
        )
    else:
        message = (
            f"{where}: process {pid} took the lock and is no longer running, but a process "
            f"it started still holds it after {waited}; stop that one, or {hint}"
        )
    return StoreBusyError(message, holder_pid=pid)


def _record_holder(fd: int) -> None:
    """Write this process's id into the lock file (for the messages of writers who wait)."""
    with contextlib.suppress(OSError):  # only messages depend on it
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)


def _recorded_holder(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() and 0 < int(text) < 2**32 else None


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True
