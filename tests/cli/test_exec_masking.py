"""``azcreds exec`` masks the child's output: real console script, real child, real pipes and pty."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from azcreds.masking import MARKER
from azcreds.resolvers.keyring import KeyringStore
from azcreds.schemas import parse_secret
from tests.cli.helpers import S1_KEY, VENV_BIN, child_env, run_in_pty, run_subprocess
from tests.helpers import b64, sas_token

AZCREDS = str(VENV_BIN / "azcreds")
MARK = MARKER.decode()
CS_KEY = b64("MASKED-CONNSTR-KEY-" + "c" * 45)
CS = f"DefaultEndpointsProtocol=https;AccountName=acctcs;AccountKey={CS_KEY};EndpointSuffix=core.windows.net"
SIG = "bWFza2VkK3NpZy9uYXR1cmU="  # '+', '/' and '=' : URL-encoded in the query string
SAS = sas_token(sig=SIG.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D"))
MIB = 1 << 20


@pytest.fixture
def secrets(populated: KeyringStore) -> KeyringStore:
    """s1 (account key S1_KEY), cs (connection string with CS_KEY), sas (SAS token with SIG)."""
    populated.register("cs", parse_secret("azure-connection-string", {"connection_string": CS}))
    populated.register("sas", parse_secret("azure-sas-token", {"account_name": "acct", "sas_token": SAS}))
    return populated


def exec_python(name: str, code: str, *options: str) -> tuple[int, str, str]:
    r = run_subprocess([AZCREDS, "exec", name, *options, "--", sys.executable, "-c", code])
    return r.code, r.out, r.err


PRINTS = {
    "plain": "print('key:', os.environ['AZURE_STORAGE_ACCOUNT_KEY'])",
    "connection-string": "print(os.environ['AZURE_STORAGE_CONNECTION_STRING'])",
    "base64": "print(base64.b64encode(('k=' + os.environ['AZURE_STORAGE_ACCOUNT_KEY']).encode()).decode())",
    "url-encoded": "print(urllib.parse.quote(os.environ['AZURE_STORAGE_ACCOUNT_KEY'], safe=''))",
    "stderr": "print(os.environ['AZURE_STORAGE_ACCOUNT_KEY'], file=sys.stderr)",
    "split-across-writes": (
        "k = os.environ['AZURE_STORAGE_ACCOUNT_KEY'].encode(); out = sys.stdout.buffer\n"
        "for i in range(0, len(k), 7):\n"
        "    out.write(k[i:i + 7]); out.flush()\n"
        "out.write(b'\\n')"
    ),
}
PRELUDE = "import base64, os, sys, urllib.parse\n"


@pytest.mark.parametrize("form", list(PRINTS))
def test_a_child_printing_its_secret_shows_only_the_marker(secrets: KeyringStore, form: str) -> None:
    code, out, err = exec_python("s1", PRELUDE + PRINTS[form])
    assert code == 0, err
    assert MARK in out + err
    for text in (out, err):
        assert S1_KEY not in text
        assert S1_KEY[:16] not in text  # not even a piece of it
        assert b64("k=" + S1_KEY)[8:40] not in text


def test_the_key_inside_the_connection_string_is_masked(secrets: KeyringStore) -> None:
    code, out, err = exec_python("cs", PRELUDE + PRINTS["connection-string"])
    assert code == 0, err
    assert out.startswith(f"DefaultEndpointsProtocol=https;AccountName=acctcs;AccountKey={MARK};")
    assert CS_KEY not in out
    assert out.count(MARK) == 1


def test_the_signature_of_a_sas_token_is_masked(secrets: KeyringStore) -> None:
    code, out, err = exec_python(
        "sas",
        PRELUDE + "t = os.environ['AZURE_STORAGE_SAS_TOKEN']; print(t); "
        "print(urllib.parse.parse_qs(t)['sig'][0])",
    )
    assert code == 0, err
    first, second = out.splitlines()
    assert first.startswith("sv=2025-11-05&")
    assert first.endswith(f"&sig={MARK}")
    assert second == MARK


@pytest.mark.parametrize("form", ["plain", "split-across-writes", "stderr"])
def test_no_masking_passes_the_output_untouched(secrets: KeyringStore, form: str) -> None:
    code, out, err = exec_python("s1", PRELUDE + PRINTS[form], "--no-masking")
    assert code == 0, err
    assert S1_KEY in out + err
    assert MARK not in out + err


def test_100_mib_of_binary_pass_byte_exact(secrets: KeyringStore) -> None:
    write = (
        "import random, sys\n"
        "data = random.Random(15).randbytes(100 << 20)\n"
        "for i in range(0, len(data), 1 << 16): sys.stdout.buffer.write(data[i:i + (1 << 16)])\n"
    )
    want = hashlib.sha256(__import__("random").Random(15).randbytes(100 * MIB)).hexdigest()
    completed = subprocess.run(
        [AZCREDS, "exec", "s1", "--", sys.executable, "-c", write],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=child_env(),
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stderr == b""
    assert len(completed.stdout) == 100 * MIB
    assert hashlib.sha256(completed.stdout).hexdigest() == want


def test_binary_with_the_secret_inside_is_exact_but_for_the_marker(secrets: KeyringStore) -> None:
    # Odd-sized writes, so the key is cut by piece boundaries in every way.
    write = (
        "import os, random, sys\n"
        "k = os.environ['AZURE_STORAGE_ACCOUNT_KEY'].encode()\n"
        "rng = random.Random(7)\n"
        "data = b''.join(rng.randbytes(rng.randrange(1, 5000)) + k for _ in range(300))\n"
        "at = 0\n"
        "while at < len(data):\n"
        "    n = rng.randrange(1, 4099)\n"
        "    sys.stdout.buffer.write(data[at:at + n]); sys.stdout.flush(); at += n\n"
    )
    import random

    rng = random.Random(7)
    key = S1_KEY.encode()
    want = b"".join(rng.randbytes(rng.randrange(1, 5000)) + MARKER for _ in range(300))
    completed = subprocess.run(
        [AZCREDS, "exec", "s1", "--", sys.executable, "-c", write],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=child_env(),
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert key not in completed.stdout
    assert completed.stdout == want


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1])
def test_a_signal_to_azcreds_reaches_the_child_and_its_exit_code_comes_back(
    secrets: KeyringStore, tmp_path: Path, signum: signal.Signals
) -> None:
    # No terminal here (stdin, stdout and stderr are not one): SIGINT is passed on too.
    child = (
        "import os, signal, sys\n"
        "def done(signum, frame):\n"
        "    print('child got', signal.Signals(signum).name, flush=True); sys.exit(3)\n"
        f"signal.signal({int(signum)}, done)\n"
        f"open({str(tmp_path / 'pid')!r}, 'w').write(str(os.getpid()))\n"
        "print('ready', flush=True)\n"
        "while True: signal.pause()\n"
    )
    proc = subprocess.Popen(
        [AZCREDS, "exec", "s1", "--", sys.executable, "-c", child],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env(),
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"ready\n"  # the child's handler is in place
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        pid_file = tmp_path / "pid"
        if pid_file.exists():  # never leave the child behind, whatever happened
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid_file.read_text()), signal.SIGKILL)
    assert proc.returncode == 3, (out, err)
    assert out == f"child got {signum.name}\n".encode()


def test_on_a_terminal_the_child_keeps_it_unmasked_with_a_warning(secrets: KeyringStore) -> None:
    code = (
        "import os, sys\n"
        "print('stdin', os.isatty(0), 'stdout', os.isatty(1), 'stderr', os.isatty(2))\n"
        "name = input('your name? ')\n"
        "print('hello', name, os.environ['AZURE_STORAGE_ACCOUNT_NAME'])\n"
    )
    status, out = run_in_pty(
        [AZCREDS, "exec", "s1", "--", sys.executable, "-c", code], answers=[(b"your name? ", b"ada\n")]
    )
    text = out.decode()
    assert status == 0, text
    assert "stdin True stdout True stderr True" in text
    assert "hello ada acct" in text
    assert "azcreds: warning: stdout and stderr are terminals: the command keeps it" in text


def test_on_a_terminal_no_masking_has_no_warning(secrets: KeyringStore) -> None:
    status, out = run_in_pty(
        [AZCREDS, "exec", "s1", "--no-masking", "--", sys.executable, "-c", "print('quiet')"]
    )
    assert status == 0, out
    assert b"warning" not in out
    assert b"quiet" in out


def test_the_choice_is_per_stream_a_piped_stdout_is_masked_beside_a_terminal_stderr(
    secrets: KeyringStore,
) -> None:
    code = (
        "import os, sys; k = os.environ['AZURE_STORAGE_ACCOUNT_KEY']; "
        "sys.stdout.write(f'out {k}\\n'); sys.stderr.write(f'err {k}\\n')"
    )  # one write per line: the two streams reach the terminal by different ways, in any order
    script = f'{AZCREDS} exec s1 -- {sys.executable} -c "{code}" | cat'
    status, out = run_in_pty(["bash", "-c", script])
    text = out.decode()
    assert status == 0, text
    assert f"out {MARK}" in text
    assert f"err {S1_KEY}" in text  # stderr is the terminal: the child keeps it, unmasked
    assert "azcreds: warning: stderr is a terminal" in text


def test_the_scoped_sas_a_child_gets_is_masked_too(secrets: KeyringStore) -> None:
    # exec --scope gives the child a SAS minted from s1's key: that SAS is a secret it was given.
    code = PRELUDE + (
        "from urllib.parse import parse_qs\n"
        "token = os.environ['AZURE_STORAGE_SAS_TOKEN']\n"
        "print('sas:', token)\n"
        "print('sig:', parse_qs(token)['sig'][0])"
    )
    status, out, err = exec_python("s1", code, "--scope", "az://models", "--ttl", "1h")
    assert status == 0, err
    sas_line, sig_line = out.splitlines()
    assert sas_line.startswith("sas: ")
    assert MARK in sas_line  # the token is a secret value of the SAS credentials it got
    assert sig_line == f"sig: {MARK}"


def test_watch_and_scope_together_are_bad_input(secrets: KeyringStore) -> None:
    status, out, err = exec_python("s1", "print('ran')", "--scope", "az://models", "--watch")
    assert status == 2
    assert out == ""
    assert "--watch and --scope don't go together" in err
    assert "Traceback" not in err
