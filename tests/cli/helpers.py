"""Helpers for the CLI tests: results, the subprocess and pseudo-terminal runners, shared values."""

from __future__ import annotations

import io
import os
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from azcreds.vault_file import ScryptParams
from tests.helpers import b64

PASSPHRASE = "cli tests passphrase"
CHEAP = ScryptParams(n=2**14)
VENV_BIN = Path(sys.executable).parent

# A valid account key whose every character is "secret": it must never reach stdout or stderr.
S1_KEY = b64("S1-SECRET-KEY-MARKER-" + "k" * 43)

# Terminal and colour settings that would make rich or click behave differently from run to run.
OUTPUT_ENV = ("FORCE_COLOR", "NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "TTY_COMPATIBLE", "TTY_INTERACTIVE")


@dataclass
class Result:
    """What one CLI invocation did."""

    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()

    def assert_clean_error(self, code: int) -> str:
        """Exit ``code`` with exactly one stderr line, ``azcreds: error: ...``, and no traceback."""
        assert self.code == code, (self.code, self.out, self.err)
        assert len(self.err_lines) == 1, self.err
        line = self.err_lines[0]
        assert line.startswith("azcreds: error: "), line
        assert "Traceback" not in self.out + self.err
        return line

    def assert_no_secret(self, *values: str) -> None:
        for value in values:
            assert value not in self.out, f"secret value on stdout: {self.out!r}"
            assert value not in self.err, f"secret value on stderr: {self.err!r}"


class Cli:
    """``cli("secret", "list", stdin="...")``: run ``azcreds.cli.main`` in this process."""

    def __init__(self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
        self._capsys = capsys
        self._monkeypatch = monkeypatch

    def __call__(self, *args: str, stdin: str = "") -> Result:
        from azcreds import clear_cache
        from azcreds.cli import main

        self._capsys.readouterr()
        # Not a terminal, like a pipe: nothing may prompt.
        self._monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        clear_cache()  # a fresh process reads settings afresh
        code = main(list(args))
        out, err = self._capsys.readouterr()
        return Result(code, out, err)


def child_env(**changes: str | None) -> dict[str, str]:
    """This process's (already cleaned) environment with the venv's bin first on PATH, plus changes."""
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_subprocess(
    args: list[str],
    *,
    input: str | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 60,
) -> Result:
    """Run a command (the real console script, python -m azcreds, bash) and collect what it did."""
    completed = subprocess.run(
        args,
        input=input if input is not None else "",
        capture_output=True,
        text=True,
        env=env if env is not None else child_env(),
        cwd=cwd,
        timeout=timeout,
        check=False,
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


def run_azcreds(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    """``python -m azcreds ARGS`` in a subprocess."""
    return run_subprocess([sys.executable, "-m", "azcreds", *args], input=input, env=env)


def run_in_pty(
    args: list[str],
    *,
    answers: list[tuple[bytes, bytes]] = (),  # type: ignore[assignment]
    typeahead: bytes = b"",
    env: dict[str, str] | None = None,
    timeout: float = 30,
) -> tuple[int, bytes]:
    """Run ``args`` with stdin, stdout and stderr on a pseudo-terminal; answer prompts as they appear.

    ``answers`` is a list of (text to wait for, bytes to type); ``typeahead`` is typed at once
    (``b"\\x04"``: end of input for a first prompt, if any). The child runs in its own session
    (so it can never reach the terminal pytest runs in). Everything is bounded by ``timeout``.
    """
    master, slave = os.openpty()
    try:
        proc = subprocess.Popen(
            args,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env if env is not None else child_env(),
            start_new_session=True,
            close_fds=True,
        )
    finally:
        os.close(slave)
    if typeahead:
        os.write(master, typeahead)
    output = b""
    seen = 0  # answers are looked for in the output after the previous answer's prompt
    pending = list(answers)
    deadline = time.monotonic() + timeout
    try:
        while True:
            if pending:
                wait_for, reply = pending[0]
                found = output.find(wait_for, seen)
                if found >= 0:
                    seen = found + len(wait_for)
                    os.write(master, reply)
                    pending.pop(0)
                    continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{args} did not finish in {timeout} s; output so far: {output!r}")
            ready, _, _ = select.select([master], [], [], min(remaining, 0.5))
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                output += data
            elif proc.poll() is not None and not pending:
                break
        proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        os.close(master)
    assert not pending, f"never saw prompt {pending[0][0]!r}; output: {output!r}"
    return proc.returncode, output
