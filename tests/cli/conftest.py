"""Fixtures for the CLI tests: a cheap keyring, and ``cli``, which runs ``azcreds.cli.main`` in-process.

Every CLI test either calls ``azcreds.cli.main`` in this process (fast; settings and caches are
cleared before each call, as a fresh process would have them) or runs the real console script in
a subprocess (see :mod:`tests.cli.helpers`) to prove exit codes and the absence of tracebacks.

Speed: the keyring files are made once per session with cheap scrypt parameters (n=2**14) and
copied into each test; in this process scrypt results are memoised by (passphrase, salt, params),
so unlocking a copied file costs nothing. Subprocesses pay the (cheap) scrypt for real.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from azcreds import vault_file
from azcreds.resolvers.keyring import KeyringStore
from azcreds.schemas import parse_secret
from azcreds.testing import KeyVaultServer, ManagedIdentityEndpoint
from tests.cli.helpers import CHEAP, OUTPUT_ENV, PASSPHRASE, S1_KEY, Cli

_REAL_DERIVE = vault_file.derive_scrypt
_KDF_MEMO: dict[tuple[bytes, bytes, vault_file.ScryptParams], bytes] = {}


def memo_derive(passphrase: bytes, salt: bytes, params: vault_file.ScryptParams) -> bytes:
    """scrypt, remembered: the same inputs give the same key, only faster the second time."""
    key = (passphrase, salt, params)
    if key not in _KDF_MEMO:
        _KDF_MEMO[key] = _REAL_DERIVE(passphrase, salt, params)
    return _KDF_MEMO[key]


@pytest.fixture(autouse=True)
def _memoised_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vault_file, "derive_scrypt", memo_derive)


@pytest.fixture(scope="session")
def keyring_templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Keyring files made once: ``empty``, and ``s1`` (holding the account-key secret ``s1``)."""
    folder = tmp_path_factory.mktemp("cli-keyring-templates")
    empty, s1 = folder / "empty.azcv", folder / "s1.azcv"
    KeyringStore(empty, passphrase=PASSPHRASE, scrypt_params=CHEAP, kdf=memo_derive).create()
    shutil.copyfile(empty, s1)
    KeyringStore(s1, passphrase=PASSPHRASE, kdf=memo_derive).register(
        "s1", parse_secret("azure-account-key", {"account_name": "acct", "account_key": S1_KEY})
    )
    return {"empty": empty, "s1": s1}


def install_keyring(template: Path, path: Path) -> None:
    """Copy a template keyring to ``path`` with the modes azcreds gives them (folder 0700, file 0600)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    shutil.copyfile(template, path)
    os.chmod(path, 0o600)


@pytest.fixture(autouse=True)
def _cli_output_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same terminal width and colour settings on every machine."""
    for name in OUTPUT_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.delenv("AZCREDS_DEBUG", raising=False)


@pytest.fixture
def keyring_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test keyring file (its folder does not exist yet); AZCREDS_KEYRING_PATH points here."""
    path = tmp_path / "kr" / "keyring.azcv"
    monkeypatch.setenv("AZCREDS_KEYRING_PATH", str(path))
    return path


@pytest.fixture
def keyring(keyring_path: Path, keyring_templates: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty keyring file made with cheap scrypt params; AZCREDS_KEYRING_PASSPHRASE unlocks it."""
    install_keyring(keyring_templates["empty"], keyring_path)
    monkeypatch.setenv("AZCREDS_KEYRING_PASSPHRASE", PASSPHRASE)
    return keyring_path


@pytest.fixture
def store(keyring: Path) -> KeyringStore:
    """A Python handle on the test keyring, to check what the CLI wrote."""
    return KeyringStore(keyring, passphrase=PASSPHRASE)


@pytest.fixture
def populated(store: KeyringStore, keyring_templates: dict[str, Path]) -> KeyringStore:
    """The keyring holding ``s1``: an account-key secret for account ``acct`` (key ``S1_KEY``)."""
    install_keyring(keyring_templates["s1"], store.path)
    return store


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    return Cli(capsys, monkeypatch)


@pytest.fixture
def vault_env(
    keyvault_server: KeyVaultServer,
    managed_identity_endpoint: ManagedIdentityEndpoint,
    monkeypatch: pytest.MonkeyPatch,
) -> KeyVaultServer:
    """The local Key Vault reachable with a managed identity (App Service variables, the test CA),
    not yet configured as azcreds' vault."""
    for key, value in managed_identity_endpoint.app_service_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(keyvault_server.ca_path))
    return keyvault_server


@pytest.fixture
def vault(vault_env: KeyVaultServer, monkeypatch: pytest.MonkeyPatch) -> KeyVaultServer:
    """The local Key Vault, configured as AZCREDS_KEYVAULT_URL, reached with a managed identity."""
    monkeypatch.setenv("AZCREDS_KEYVAULT_URL", vault_env.vault_url)
    return vault_env
