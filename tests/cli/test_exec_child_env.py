"""What an ``azcreds exec`` child inherits: its secret's credentials, and nothing that carries,
unlocks or selects another one; ``--clean-env``: a minimal environment plus the credentials."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from azcreds.child_env import CLEAN_ENV_VARIABLES
from azcreds.resolvers.keyring import KeyringStore
from tests.cli.helpers import PASSPHRASE, S1_KEY, Cli
from tests.helpers import CLIENT_ID, TENANT_ID, b64

DUMP_ALL = "import json, os, sys; json.dump(dict(os.environ), open(sys.argv[1], 'w'))"
OTHER_KEY = b64("OTHER-SECRET-KEY-MARKER-" + "o" * 40)

# Variables of other secrets and identities a parent shell may hold: none may reach the child.
SECRET_BEARING = {
    "AZCREDS_OTHER__ACCOUNT_NAME": "other",
    "AZCREDS_OTHER__ACCOUNT_KEY": OTHER_KEY,
    "AZCREDS_KEYRING_SESSION": "SESSION-MARKER",
    "azcreds_keyring_session": "LOWER-SESSION-MARKER",  # azcreds reads names in any case
    "AZURE_STORAGE_KEY": "STORAGE-KEY-MARKER",
    "AZURE_STORAGE_AUTH_MODE": "login",
    "AZURE_CLIENT_SECRET": "CLIENT-SECRET-MARKER",
    "AZURE_CLIENT_ID": "11111111-2222-3333-4444-555555555555",
    "AZURE_TENANT_ID": TENANT_ID,
    "AZURE_AUTHORITY_HOST": "https://login.example.com",
    "AZURE_CLIENT_CERTIFICATE_PATH": "/secrets/cert.pem",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD": "CERT-PASSWORD-MARKER",
    "AZURE_USERNAME": "someone@example.com",
    "AZURE_PASSWORD": "PASSWORD-MARKER",
    "AZURE_FEDERATED_TOKEN_FILE": "/var/run/secrets/token",
    "AZURE_TOKEN_CREDENTIALS": "dev",
    "IDENTITY_ENDPOINT": "http://127.0.0.1:1/msi/token",
    "IDENTITY_HEADER": "IDENTITY-HEADER-MARKER",
    "MSI_ENDPOINT": "http://127.0.0.1:1/msi",
    "MSI_SECRET": "MSI-SECRET-MARKER",
}
# Settings and plain configuration a child legitimately needs.
INHERITED = {
    "AZCREDS_CACHE_TTL": "7",
    "AZCREDS_MANAGED_IDENTITY": "auto",
    "AZURE_SUBSCRIPTION_ID": "00000000-0000-0000-0000-000000000001",
    "HTTPS_PROXY": "http://127.0.0.1:3128",
    "NODE_EXTRA_CA_CERTS": "/etc/ssl/test-ca.pem",
    "REQUESTS_CA_BUNDLE": "/etc/ssl/test-ca.pem",
    "KEEP_ME": "kept",
}


def run_child(cli: Cli, tmp_path: Path, *args: str) -> dict[str, str]:
    dump = tmp_path / "child-env.json"
    r = cli("exec", *args, "--", sys.executable, "-c", DUMP_ALL, str(dump))
    assert r.code == 0, r
    assert r.err == ""
    seen: dict[str, str] = json.loads(dump.read_text())
    return seen


@pytest.fixture
def parent(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {**SECRET_BEARING, **INHERITED}.items():
        monkeypatch.setenv(key, value)


@pytest.mark.usefixtures("parent")
def test_exec_child_gets_its_secret_and_nothing_that_unlocks_or_carries_another(
    cli: Cli, populated: KeyringStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZCREDS_S1__ACCOUNT_NAME", "acct")  # the env resolver wins over the keyring
    monkeypatch.setenv("AZCREDS_S1__ACCOUNT_KEY", S1_KEY)
    seen = run_child(cli, tmp_path, "s1")
    exported = populated.get("s1").env_vars()
    assert {k: seen[k] for k in exported} == exported
    assert "AZCREDS_KEYRING_PASSPHRASE" not in seen  # it unlocks every secret in the keyring
    for key in [*SECRET_BEARING, "AZCREDS_S1__ACCOUNT_NAME", "AZCREDS_S1__ACCOUNT_KEY"]:
        assert key not in seen or seen[key] == exported.get(key), key
    assert {k: seen.get(k) for k in INHERITED} == INHERITED
    assert seen["AZCREDS_KEYRING_PATH"] == str(populated.path)  # where, not how to open it
    assert seen["PATH"]
    values = "\n".join(seen.values())
    for secret in (PASSPHRASE, OTHER_KEY, *(v for v in SECRET_BEARING.values() if "MARKER" in v)):
        assert secret not in values


@pytest.mark.usefixtures("parent")
def test_exec_service_principal_child_authenticates_as_that_principal_only(
    cli: Cli, populated: KeyringStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for field, value in {
        "ACCOUNT_NAME": "acctsp",
        "TENANT_ID": "contoso.onmicrosoft.com",
        "CLIENT_ID": CLIENT_ID,
        "CLIENT_SECRET": "SP-SECRET",
    }.items():
        monkeypatch.setenv(f"AZCREDS_SP__{field}", value)
    seen = run_child(cli, tmp_path, "sp")
    identity = {k: v for k, v in seen.items() if k.startswith(("AZURE_", "IDENTITY_", "MSI_"))}
    assert identity == {
        "AZURE_STORAGE_ACCOUNT_NAME": "acctsp",
        "AZURE_STORAGE_ACCOUNT": "acctsp",
        "AZURE_STORAGE_ACCOUNT_URL": "https://acctsp.blob.core.windows.net",
        "AZURE_STORAGE_TENANT_ID": "contoso.onmicrosoft.com",
        "AZURE_STORAGE_CLIENT_ID": CLIENT_ID,
        "AZURE_STORAGE_CLIENT_SECRET": "SP-SECRET",
        "AZURE_TENANT_ID": "contoso.onmicrosoft.com",
        "AZURE_CLIENT_ID": CLIENT_ID,
        "AZURE_CLIENT_SECRET": "SP-SECRET",
        # the parent's authority host went with the parent's identity; this secret has none
        "AZURE_SUBSCRIPTION_ID": INHERITED["AZURE_SUBSCRIPTION_ID"],
    }


@pytest.mark.parametrize("client_id", [None, CLIENT_ID])
def test_exec_managed_identity_child_keeps_the_identity_endpoint(
    client_id: str | None, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDENTITY_ENDPOINT", "http://127.0.0.1:1/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", "header")
    monkeypatch.setenv("AZURE_CLIENT_ID", "11111111-2222-3333-4444-555555555555")  # another identity's
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "CLIENT-SECRET-MARKER")
    monkeypatch.setenv("AZCREDS_MI__SCHEMA", "azure-managed-identity")
    monkeypatch.setenv("AZCREDS_MI__ACCOUNT_NAME", "acctmi")
    if client_id:
        monkeypatch.setenv("AZCREDS_MI__CLIENT_ID", client_id)
    seen = run_child(cli, tmp_path, "mi")
    assert seen["IDENTITY_ENDPOINT"] == "http://127.0.0.1:1/msi/token"
    assert seen["IDENTITY_HEADER"] == "header"
    assert seen.get("AZURE_CLIENT_ID") == client_id  # the secret's identity, or the system-assigned one
    assert "AZURE_CLIENT_SECRET" not in seen
    assert not any(k.startswith("AZCREDS_MI__") for k in seen)


def test_exec_managed_identity_child_keeps_workload_identity(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workload = {
        "AZURE_FEDERATED_TOKEN_FILE": str(tmp_path / "token"),
        "AZURE_CLIENT_ID": CLIENT_ID,
        "AZURE_TENANT_ID": TENANT_ID,
        "AZURE_AUTHORITY_HOST": "https://login.microsoftonline.com/",
    }
    for key, value in workload.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AZCREDS_MI__SCHEMA", "azure-managed-identity")
    monkeypatch.setenv("AZCREDS_MI__ACCOUNT_NAME", "acctmi")
    seen = run_child(cli, tmp_path, "mi")
    assert {k: seen.get(k) for k in workload} == workload


@pytest.mark.usefixtures("parent")
@pytest.mark.parametrize("where", ["before", "after"])
def test_exec_clean_env_gives_only_the_minimal_set_and_the_credentials(
    where: str, cli: Cli, populated: KeyringStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    monkeypatch.setenv("TZ", "UTC")
    args = ("--clean-env", "s1") if where == "before" else ("s1", "--clean-env")
    seen = run_child(cli, tmp_path, *args)
    minimal = {k: v for k, v in os.environ.items() if k in CLEAN_ENV_VARIABLES or k.startswith("LC_")}
    assert {"PATH", "LC_ALL", "REQUESTS_CA_BUNDLE"} <= minimal.keys()
    assert seen == minimal | populated.get("s1").env_vars()


def test_exec_clean_env_keeps_a_managed_identitys_endpoint(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDENTITY_ENDPOINT", "http://127.0.0.1:1/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", "header")
    monkeypatch.setenv("KEEP_ME", "not with --clean-env")
    monkeypatch.setenv("AZCREDS_MI__SCHEMA", "azure-managed-identity")
    monkeypatch.setenv("AZCREDS_MI__ACCOUNT_NAME", "acctmi")
    seen = run_child(cli, tmp_path, "--clean-env", "mi")
    assert seen["IDENTITY_ENDPOINT"] == "http://127.0.0.1:1/msi/token"
    assert seen["IDENTITY_HEADER"] == "header"
    assert seen["AZURE_STORAGE_ACCOUNT_NAME"] == "acctmi"
    assert "KEEP_ME" not in seen


def test_exec_clean_env_after_the_double_dash_belongs_to_the_command(
    cli: Cli, populated: KeyringStore, tmp_path: Path
) -> None:
    dump = tmp_path / "argv.json"
    script = "import json, sys; json.dump(sys.argv[2:], open(sys.argv[1], 'w'))"
    r = cli("exec", "s1", "--", sys.executable, "-c", script, str(dump), "--clean-env")
    assert r.code == 0, r
    assert json.loads(dump.read_text()) == ["--clean-env"]
