"""Python children under the loopback guard: loopback goes through, anything else is refused and reported."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from azcreds.testing.guarded_python import run_python

PROBE = """
import os, socket, sys
for host in sys.argv[1:]:
    try:
        socket.create_connection((host, 9), timeout=1).close()
        print(host, "connected")
    except OSError as exc:
        print(host, "refused" if "network guard" in str(exc) else "error")
print("argv0", sys.argv[0].endswith("probe.py"), "path0", sys.path[0] == os.path.dirname(sys.argv[0]))
"""


@pytest.fixture
def probe(tmp_path: Path) -> Path:
    script = tmp_path / "probe.py"
    script.write_text(PROBE)
    return script


def test_loopback_is_allowed_and_the_script_runs_as_main(probe: Path) -> None:
    result = run_python(probe, "127.0.0.1").check()
    assert "127.0.0.1 error" in result.stdout  # nothing listens on port 9: refused by the OS, not the guard
    assert "argv0 True path0 True" in result.stdout


def test_other_destinations_are_refused_and_reported_even_when_caught(probe: Path) -> None:
    result = run_python(probe, "169.254.169.254", "login.microsoftonline.com")
    assert result.returncode == 0
    assert "169.254.169.254 refused" in result.stdout
    assert "login.microsoftonline.com refused" in result.stdout
    assert [b["host"] for b in result.blocked] == ["169.254.169.254", "login.microsoftonline.com"]
    with pytest.raises(AssertionError, match="non-loopback"):
        result.check()


def test_a_failing_script_fails_check(tmp_path: Path) -> None:
    script = tmp_path / "fails.py"
    script.write_text("raise SystemExit(3)\n")
    result = run_python(script)
    assert result.returncode == 3
    assert result.args[:3] == [sys.executable, "-m", "azcreds.testing.guarded_python"]
    with pytest.raises(AssertionError, match="exited 3"):
        result.check()
