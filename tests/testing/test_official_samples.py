"""The official samples of azure-keyvault-secrets run, unmodified but for two edits, against KeyVaultServer.

``scripts/setup`` downloads the source distribution of the pinned ``azure-keyvault-secrets``
(``pip download --no-binary :all: --no-deps``) into ``.venv/samples``; its ``samples/`` folder holds
the eight samples below. Each reads ``VAULT_URL`` and authenticates with ``DefaultAzureCredential``,
which finds the local managed identity endpoint App Service style (``IDENTITY_ENDPOINT`` +
``IDENTITY_HEADER``); the test CA is trusted through ``REQUESTS_CA_BUNDLE`` (requests) and
``SSL_CERT_FILE`` (aiohttp). The source edits, printed and checked to apply exactly once: every
sample gets ``verify_challenge_resource=False`` on its ``SecretClient`` (``127.0.0.1`` is not under
``vault.azure.net``), and the two backup samples' 60 s sleep after purging, there for a real vault,
becomes 0 (ours purges at once; the restore that follows would fail if it did not).

Each sample runs in its own process under the loopback-only guard
(:mod:`azcreds.testing.guarded_python`), against its own vault. The eight start together.
"""

from __future__ import annotations

import os
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from azcreds.testing import KeyVaultServer, ManagedIdentityEndpoint
from azcreds.testing.guarded_python import PythonResult, command, parse_blocked
from azcreds.testing.pytest_plugin import CLEARED_ENV_PREFIXES

if TYPE_CHECKING:
    from collections.abc import Iterator

    from azcreds.testing import TestCertificates

ROOT = Path(__file__).resolve().parents[2]
SAMPLES_CACHE = ROOT / ".venv" / "samples"
CLIENT_LINE = "SecretClient(vault_url=VAULT_URL, credential=credential)"
EDITED_LINE = "SecretClient(vault_url=VAULT_URL, credential=credential, verify_challenge_resource=False)"
PURGE_WAITS = ("await asyncio.sleep(60)", "time.sleep(60)")  # the backup samples' wait after a purge


@dataclass(frozen=True)
class Expected:
    """What a sample must print, and the vault it must leave behind."""

    output: tuple[str, ...]
    secrets: tuple[str, ...]
    deleted: tuple[str, ...]
    requests: tuple[tuple[str, str], ...]  # (method, path) it must have made, answered 2xx


def _hello(suffix: str) -> Expected:
    name = f"helloWorldSecretName{suffix}"
    new_value = "newSecretValueAsync" if suffix else "newSecretValue"
    return Expected(
        output=(
            f"Secret with name '{name}' created with value 'helloWorldSecretValue'",
            f"Secret with name '{name}' was found with value 'helloWorldSecretValue'.",
            f"Secret with name '{name}' was updated to expire on",
            f"Secret with name '{name}' created with value '{new_value}'",
            f"Secret with name '{name}' was deleted.",
        ),
        secrets=(),
        deleted=(name,),
        requests=(
            ("PUT", f"/secrets/{name}"),
            ("PATCH", f"/secrets/{name}/"),
            ("DELETE", f"/secrets/{name}"),
        ),
    )


def _lists(suffix: str) -> Expected:
    bank, storage = f"listOpsBankSecretName{suffix}", f"listOpsStorageSecretName{suffix}"
    return Expected(
        output=(
            f"Secret with name '{bank}' was created.",
            f"Secret with name '{storage}' was created.",
            f"Secret with name '{bank}' was updated with new value 'newSecretValue'",
            f"Bank Secret with name '{bank}' has version: '",
            f"Secret with name '{bank}' has recovery id 'https://127.0.0.1:",
            f"Secret with name '{storage}' has recovery id 'https://127.0.0.1:",
        ),
        secrets=(),
        deleted=(bank, storage),
        requests=(("GET", "/secrets"), ("GET", f"/secrets/{bank}/versions"), ("GET", "/deletedsecrets")),
    )


def _recover_purge(suffix: str) -> Expected:
    bank, storage = f"recoverPurgeBankSecretName{suffix}", f"recoverPurgeStorageSecretName{suffix}"
    return Expected(
        output=(
            f"Secret with name '{bank}' was deleted on date ",
            f"Recovered Secret with name '{bank}'.",
            "Secret has been permanently deleted.",
        ),
        secrets=(bank,),
        deleted=(),
        requests=(("POST", f"/deletedsecrets/{bank}/recover"), ("DELETE", f"/deletedsecrets/{storage}")),
    )


def _backup_restore(suffix: str) -> Expected:
    name = f"backupRestoreSecretName{suffix}"
    return Expected(
        output=(
            f"Secret with name '{name}' created with value 'backupRestoreSecretValue'",
            f"Backup created for secret with name '{name}'.",
            f"Deleted secret with name '{name}'",
            f"Purged secret with name '{name}'",
            f"Restored secret with name '{name}'",
        ),
        secrets=(name,),
        deleted=(),
        requests=(
            ("POST", f"/secrets/{name}/backup"),
            ("DELETE", f"/deletedsecrets/{name}"),
            ("POST", "/secrets/restore"),
        ),
    )


SAMPLES = {
    "hello_world.py": _hello(""),
    "hello_world_async.py": _hello("Async"),
    "list_operations.py": _lists(""),
    "list_operations_async.py": _lists("Async"),
    "recover_purge_operations.py": _recover_purge(""),
    "recover_purge_operations_async.py": _recover_purge("Async"),
    "backup_restore_operations.py": _backup_restore(""),
    "backup_restore_operations_async.py": _backup_restore("Async"),
}


def extract_samples(destination: Path) -> Path:
    """The sdist's ``samples`` folder, unpacked into ``destination``."""
    version = _pinned("azure-keyvault-secrets")
    sdist = SAMPLES_CACHE / f"azure_keyvault_secrets-{version}.tar.gz"
    if not sdist.is_file():
        pytest.fail(
            f"{sdist} is missing: run scripts/setup, which downloads the azure-keyvault-secrets "
            "sdist with its official samples",
            pytrace=False,
        )
    prefix = f"azure_keyvault_secrets-{version}/samples/"
    with tarfile.open(sdist) as archive:
        members = [m for m in archive.getmembers() if m.name.startswith(prefix) and m.name.endswith(".py")]
        archive.extractall(destination, members=members, filter="data")
    return destination / prefix


def _pinned(package: str) -> str:
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        name, _, version = line.partition("==")
        if name.strip().lower() == package:
            return version.strip()
    raise LookupError(f"{package} is not pinned in constraints.txt")


def edit_sample(path: Path) -> None:
    """The edits: skip challenge-resource verification (127.0.0.1 is not under vault.azure.net),
    and in the two backup samples no 60 s wait for a purge that our vault does at once."""
    source = path.read_text()
    assert source.count(CLIENT_LINE) == 1, f"{path.name}: expected one {CLIENT_LINE!r}"
    edits = [(CLIENT_LINE, EDITED_LINE)]
    if path.name.startswith("backup_restore"):
        wait = next(w for w in PURGE_WAITS if w in source)
        assert source.count(wait) == 1, f"{path.name}: expected one {wait!r}"
        edits.append((wait, wait.replace("(60)", "(0)")))
    for before, after in edits:
        source = source.replace(before, after)
        print(f"{path.name}: {before}  ->  {after}")
    path.write_text(source)


@dataclass
class SampleRun:
    vault: KeyVaultServer
    argv: list[str]
    process: subprocess.Popen[str]
    result: PythonResult | None = None

    def wait(self, timeout: float = 240) -> PythonResult:
        if self.result is None:
            stdout, stderr = self.process.communicate(timeout=timeout)
            self.result = PythonResult(
                self.argv, self.process.returncode, stdout, stderr, parse_blocked(stderr)
            )
        return self.result


@pytest.fixture(scope="module")
def sample_runs(
    tmp_path_factory: pytest.TempPathFactory, test_certificates: TestCertificates
) -> Iterator[dict[str, SampleRun]]:
    """All eight samples, started at once, each against its own vault."""
    folder = extract_samples(tmp_path_factory.mktemp("keyvault-samples"))
    assert sorted(p.name for p in folder.glob("*.py")) == sorted(SAMPLES), "the sdist's samples changed"
    identity = ManagedIdentityEndpoint().start()
    ca = str(test_certificates.ca_path)
    base_env = {k: v for k, v in os.environ.items() if not k.upper().startswith(CLEARED_ENV_PREFIXES)}
    base_env.update(identity.app_service_env())
    # This machine pre-sets all three; requests reads the first, aiohttp (ssl) the last.
    base_env.update(REQUESTS_CA_BUNDLE=ca, CURL_CA_BUNDLE=ca, SSL_CERT_FILE=ca, PYTHONUNBUFFERED="1")
    runs: dict[str, SampleRun] = {}
    try:
        for name in SAMPLES:
            edit_sample(folder / name)
            vault = KeyVaultServer(certificates=test_certificates).start()
            argv = command(folder / name)
            process = subprocess.Popen(
                argv,
                env={**base_env, "VAULT_URL": vault.vault_url},
                cwd=folder,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            runs[name] = SampleRun(vault, argv, process)
        yield runs
    finally:
        for run in runs.values():
            if run.process.poll() is None:
                run.process.kill()
            run.process.communicate()
            run.vault.stop()
        identity.stop()


@pytest.mark.parametrize("sample", list(SAMPLES))
def test_official_sample_runs_against_the_local_vault(sample: str, sample_runs: dict[str, SampleRun]) -> None:
    run = sample_runs[sample]
    result = run.wait().check()
    expected = SAMPLES[sample]

    for line in expected.output:
        assert line in result.stdout, f"{sample} did not print {line!r}:\n{result.stdout}"
    if sample.endswith("_async.py"):
        assert "run_sample done" in result.stdout
    vault = run.vault
    assert vault.errors == []
    assert vault.secret_names() == list(expected.secrets)
    assert vault.deleted_secret_names() == list(expected.deleted)
    answered = {(r.method, r.path) for r in vault.requests if r.authorized and r.status and r.status < 300}
    for request in expected.requests:
        assert request in answered, f"{sample}: the vault never answered {request}"
    # Every request but the challenge carried a managed identity token.
    assert {r.authorized for r in vault.requests[1:]} == {True}
