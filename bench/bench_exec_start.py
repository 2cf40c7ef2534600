"""`azcreds exec NAME -- true` end to end: from the environment, from the keyring with the passphrase
(one scrypt run) and with a keyring session (none), against a bare interpreter.

Each row is the median of ``AZCREDS_BENCH_EXEC_START_RUNS`` (default 11) runs of the console script,
azcreds byte-compiled first as ``pip install`` does. Fewer than 7 runs is a smoke run (the tests'),
and the section title says so. The keyring uses the default scrypt
parameters (N=2**17), as a user's does.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from pathlib import Path

from bench._report import command_ms, figure, row, section, target

KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
CONNECTION_STRING = (
    f"DefaultEndpointsProtocol=https;AccountName=benchacct;AccountKey={KEY};EndpointSuffix=core.windows.net"
)
PASSPHRASE = "bench passphrase, not a secret"

# The smallest programs that do what `exec` must with the libraries the design names: from the
# environment, validate one pydantic model and start the child; from the keyring, also settings on
# pydantic-settings and AES-GCM from cryptography. Their time is a floor under the exec rows.
FLOOR_ENV = """
import os, subprocess, sys
import click
from pydantic import BaseModel, ConfigDict, SecretStr
class Secret(BaseModel):
    model_config = ConfigDict(defer_build=True)
    connection_string: SecretStr
Secret(connection_string=os.environ["AZCREDS_AZ_SECRET__CONNECTION_STRING"])
sys.exit(subprocess.run(["true"]).returncode)
"""
FLOOR_KEYRING = FLOOR_ENV.replace(
    "import click\n",
    "import click\n"
    "from cryptography.hazmat.primitives.ciphers.aead import AESGCM\n"
    "from pydantic_settings import BaseSettings\n"
    "class Settings(BaseSettings):\n"
    "    keyring_session: str | None = None\n"
    "Settings()\n",
)


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("AZCREDS_", "AZURE_"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    return env


def run() -> None:
    import compileall
    import subprocess

    import azcreds

    runs = max(1, int(os.environ.get("AZCREDS_BENCH_EXEC_START_RUNS", "11")))
    compileall.compile_dir(Path(azcreds.__file__).parent, quiet=1)
    script = str(Path(sys.executable).parent / "azcreds")
    smoke = " - A SMOKE RUN, NOT A MEASUREMENT" if runs < 7 else ""
    section(f"azcreds exec NAME -- true (median of {runs} runs each; azcreds byte-compiled){smoke}")
    with tempfile.TemporaryDirectory() as tmp:
        runtime = Path(tmp) / "run"
        runtime.mkdir(mode=0o700)
        base = _clean_env() | {"XDG_RUNTIME_DIR": str(runtime)}
        from_env = base | {"AZCREDS_AZ_SECRET__CONNECTION_STRING": CONNECTION_STRING}
        keyring = base | {"AZCREDS_KEYRING_PATH": str(Path(tmp) / "keyring.azcv")}
        with_passphrase = keyring | {"AZCREDS_KEYRING_PASSPHRASE": PASSPHRASE}
        subprocess.run(
            [script, "secret", "register", "az_secret", "--schema", "azure", "--connection_string=-"],
            input=CONNECTION_STRING,
            text=True,
            env=with_passphrase,
            check=True,
            capture_output=True,
        )
        unlocked = subprocess.run(
            [script, "keyring", "unlock", "--for", "30m"],
            env=with_passphrase,
            check=True,
            capture_output=True,
            text=True,
        )
        session = unlocked.stdout.strip().split("=", 1)[1]
        with_session = keyring | {"AZCREDS_KEYRING_SESSION": session}

        bare = statistics.median(command_ms([sys.executable, "-c", "pass"], runs, base))
        row("python -c pass", f"{bare:.0f} ms", "baseline: bare interpreter")
        floors = Path(tmp) / "floor"
        floors.mkdir()
        for label, key, program in (
            ("click + one pydantic model + the child", "floor_env", FLOOR_ENV),
            ("the same + pydantic-settings + AES-GCM", "floor_keyring", FLOOR_KEYRING),
        ):
            script_path = floors / f"{key}.py"
            script_path.write_text(program)
            ms = statistics.median(command_ms([sys.executable, str(script_path)], runs, from_env))
            figure(f"exec.{key}_ms", ms)
            row(f"(floor: {label})", f"{ms:.0f} ms", "what the named libraries take, no azcreds")
        exec_argv = [script, "exec", "az_secret", "--", "true"]
        for label, env, limit, key in (
            ("from the environment", from_env, 120, "env"),
            ("from the keyring, with a session", with_session, 150, "session"),
            ("from the keyring, with the passphrase", with_passphrase, None, "passphrase"),
        ):
            ms = statistics.median(command_ms(exec_argv, runs, env))
            figure(f"exec.{key}_ms", ms)
            figure(f"exec.{key}_vs_bare", ms / bare)
            row(
                f"azcreds exec, {label}",
                f"{ms:.0f} ms (+{ms - bare:.0f} ms)",
                f"x{ms / bare:.1f} python -c pass",
                target(ms <= limit, f"<= {limit} ms") if limit else "one scrypt run (N=2**17)",
            )
