"""The runnable examples users follow: each one runs to completion here, for real."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from azcreds.connection_string import AZURITE_ACCOUNT_KEY

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# Examples another test runs, in the environment they need, with checks of their own.
RUN_ELSEWHERE = {"zenml_pipeline.py": "tests/integrations/test_zenml.py (in .venv-zenml, with --report)"}


def run_example(script: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZCREDS_", "AZURE_"))}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"  # never the user's OS keyring
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script)], capture_output=True, text=True, env=env, timeout=180
    )


@pytest.mark.parametrize(
    "script", sorted(p.name for p in EXAMPLES.glob("*.py") if p.name not in RUN_ELSEWHERE)
)
def test_example_runs(script: str) -> None:
    result = run_example(script)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert "OK" in result.stdout
    assert AZURITE_ACCOUNT_KEY not in result.stdout + result.stderr
    if script == "demo.py":
        assert "$ azcreds secret register az_secret --schema azure --connection_string=@" in result.stdout
        assert "from keyring" in result.stdout


def test_examples_run_elsewhere_are_run_there() -> None:
    root = EXAMPLES.parent
    for script, where in RUN_ELSEWHERE.items():
        assert (EXAMPLES / script).exists()
        assert f"examples/{script}" in (root / where.split()[0]).read_text().replace('" / "', "/")
