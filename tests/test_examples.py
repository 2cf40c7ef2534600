"""The runnable examples users follow: each one runs to completion here, for real."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize("script", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_example_runs(script: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZCREDS_", "AZURE_"))}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script)], capture_output=True, text=True, env=env, timeout=180
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert "OK" in result.stdout


def test_demo_shows_the_keyring_flow_without_secrets() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZCREDS_", "AZURE_"))}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "demo.py")], capture_output=True, text=True, env=env, timeout=180
    )
    out = result.stdout
    assert "$ azcreds secret register az_secret --schema azure --connection_string=@" in out
    assert "from keyring" in out and "demo OK" in out
    from azcreds.connection_string import AZURITE_ACCOUNT_KEY

    assert AZURITE_ACCOUNT_KEY not in out + result.stderr
