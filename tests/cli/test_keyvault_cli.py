"""`--store keyvault`: every secret verb against the local Key Vault server."""

from __future__ import annotations

import json

import pytest

from azcreds.cli import main
from azcreds.testing import KeyVaultServer, ManagedIdentityEndpoint
from tests.helpers import AZURITE_ACCOUNT_KEY


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    from azcreds import clear_cache

    clear_cache()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_every_secret_verb_on_keyvault(vault_env: KeyVaultServer, capsys: pytest.CaptureFixture[str]) -> None:
    url = vault_env.vault_url
    code, out, err = run(
        capsys,
        "secret",
        "register",
        "az_secret",
        "--schema",
        "azure",
        "--store",
        "keyvault",
        "--vault-url",
        url,
        "--account_name=acct",
        f"--account_key={AZURITE_ACCOUNT_KEY}",
    )
    assert code == 0, err
    assert vault_env.secret_names() == ["azcreds-az-secret-1"]
    code, out, _ = run(capsys, "secret", "list", "--store", "keyvault", "--vault-url", url, "--json")
    assert [(r["name"], r["schema"], r["store"]) for r in json.loads(out)] == [
        ("az_secret", "azure-account-key", "keyvault")
    ]
    code, out, _ = run(
        capsys, "secret", "get", "az_secret", "--store", "keyvault", "--vault-url", url, "--json"
    )
    assert json.loads(out)["fields"]["account_key"] == "**********"
    assert AZURITE_ACCOUNT_KEY not in out
    code, out, err = run(
        capsys,
        "secret",
        "update",
        "az_secret",
        "--store",
        "keyvault",
        "--vault-url",
        url,
        "--account_url=http://127.0.0.1:1/acct",
    )
    assert code == 0, err
    assert len(vault_env.secret_versions("azcreds-az-secret-1")) == 2
    code, out, err = run(
        capsys, "secret", "delete", "az_secret", "--yes", "--store", "keyvault", "--vault-url", url
    )
    assert code == 0, err
    assert "recoverable" in out
    assert vault_env.deleted_secret_names() == ["azcreds-az-secret-1"]
    code, out, err = run(
        capsys, "secret", "delete", "az_secret", "--yes", "--purge", "--store", "keyvault", "--vault-url", url
    )
    assert code == 0, err
    assert vault_env.deleted_secret_names() == []


def test_vault_url_from_settings_and_resolve(
    vault_env: KeyVaultServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZCREDS_KEYVAULT_URL", vault_env.vault_url)
    code, _, err = run(
        capsys,
        "secret",
        "register",
        "kv1",
        "--schema",
        "azure-managed-identity",
        "--store",
        "keyvault",
        "--account_name=acct",
    )
    assert code == 0, err
    code, out, _ = run(capsys, "resolve", "kv1", "--json")
    assert json.loads(out)["source"] == "keyvault"


@pytest.mark.parametrize(
    "args",
    [
        ["secret", "list", "--store", "keyvault"],  # no URL anywhere
        ["secret", "list", "--store", "keyvault", "--vault-url", "http://127.0.0.1:1"],  # not https
        ["secret", "list", "--store", "keyring", "--vault-url", "https://127.0.0.1:1"],
    ],
)
def test_keyvault_bad_input(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys, *args)
    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith("azcreds: error:")


def test_403_is_a_one_line_runtime_error(
    vault_env: KeyVaultServer,
    managed_identity_endpoint: ManagedIdentityEndpoint,
    capsys: pytest.CaptureFixture[str],
) -> None:
    vault_env.faults.deny(managed_identity_endpoint.system_assigned.object_id)
    code, _, err = run(capsys, "secret", "list", "--store", "keyvault", "--vault-url", vault_env.vault_url)
    assert code == 1
    assert err.count("\n") == 1
    assert "refused the caller (403)" in err


def test_a_taken_name_says_the_cli_flag(
    vault_env: KeyVaultServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI says --overwrite; the library (KeyVaultStore.register) says overwrite=True."""
    args = ["secret", "register", "az_secret", "--schema", "azure-managed-identity", "--account_name=acct"]
    where = ["--store", "keyvault", "--vault-url", vault_env.vault_url]
    assert run(capsys, *args, *where)[0] == 0
    code, _, err = run(capsys, *args, *where)
    assert code == 2, err
    assert err.strip().endswith(
        "already exists in Key Vault " + vault_env.vault_url + "; use --overwrite to replace it"
    )
    assert "overwrite=True" not in err
    assert run(capsys, *args, *where, "--overwrite")[0] == 0
