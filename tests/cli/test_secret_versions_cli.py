"""`azcreds secret history | rollback`, `get --version`, `--expires/--not-before`, and resolving a
disabled or expiring secret, against the local Key Vault server."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

import azcreds.lifetimes
from azcreds.testing import KeyVaultServer
from tests.cli.helpers import Cli
from tests.helpers import AZURITE_ACCOUNT_KEY, b64

SECOND_KEY = b64("SECOND-KEY-MARKER")
VAULT_NAME = "azcreds-az-secret-1"


def register(cli: Cli, *extra: str) -> None:
    result = cli(
        "secret", "register", "az_secret", "--schema", "azure-account-key", "--store", "keyvault",
        "--account-name=acct", "--account-key=-", *extra, stdin=AZURITE_ACCOUNT_KEY,
    )  # fmt: skip
    assert result.code == 0, result.err


def test_history_get_version_and_rollback(cli: Cli, vault: KeyVaultServer) -> None:
    register(cli)
    result = cli("secret", "update", "az_secret", "--store", "keyvault", "--account-key=-", stdin=SECOND_KEY)
    assert result.code == 0, result.err

    result = cli("secret", "history", "az_secret", "--json")
    rows = json.loads(result.out)
    first, second = vault.secret_versions(VAULT_NAME)
    assert [(r["version"], r["current"], r["enabled"]) for r in rows] == [
        (second, True, True),
        (first, False, True),
    ]
    assert set(rows[0]) == {"version", "current", "created", "updated", "enabled", "not_before", "expires"}
    result.assert_no_secret(AZURITE_ACCOUNT_KEY, SECOND_KEY)

    table = cli("secret", "history", "az_secret")
    assert second[:10] in table.out
    assert "current" in table.out
    table.assert_no_secret(AZURITE_ACCOUNT_KEY, SECOND_KEY)

    shown = cli("secret", "get", "az_secret", "--store", "keyvault", "--version", first, "--json", "--reveal")
    assert json.loads(shown.out)["fields"]["account_key"] == AZURITE_ACCOUNT_KEY
    masked = cli("secret", "get", "az_secret", "--store", "keyvault", "--version", first, "--json")
    masked.assert_no_secret(AZURITE_ACCOUNT_KEY)

    rolled = cli("secret", "rollback", "az_secret", "--version", first)
    assert rolled.code == 0, rolled.err
    newest = vault.secret_versions(VAULT_NAME)[-1]
    assert (
        rolled.out.strip() == f"rolled back secret 'az_secret' to version {first}: it is now version {newest}"
    )
    assert json.loads(vault.secret_value(VAULT_NAME))["account_key"] == AZURITE_ACCOUNT_KEY
    rolled.assert_no_secret(AZURITE_ACCOUNT_KEY)


def test_register_and_update_set_the_dates(
    cli: Cli, vault: KeyVaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime(2030, 6, 1, tzinfo=UTC)
    monkeypatch.setattr(azcreds.lifetimes, "_clock", now.timestamp)
    register(cli, "--expires", "90d", "--not-before", "2030-05-31")
    [row] = json.loads(cli("secret", "history", "az_secret", "--json").out)
    assert row["expires"] == "2030-08-30T00:00:00Z"
    assert row["not_before"] == "2030-05-31T00:00:00Z"

    result = cli("secret", "update", "az_secret", "--store", "keyvault", "--expires", "2031-01-31T12:00:00Z")
    assert result.code == 0, result.err
    assert result.out.strip() == "updated secret 'az_secret' (azure-account-key): expires"
    [row] = json.loads(cli("secret", "history", "az_secret", "--json").out)  # in place: no new version
    assert row["expires"] == "2031-01-31T12:00:00Z"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("secret", "history", "az_secret", "--store", "keyring"), "applies to --store keyvault only"),
        (("secret", "get", "az_secret", "--version", "abc"), "--version applies to --store keyvault only"),
        (("secret", "rollback", "az_secret"), "Missing option '--version'"),
        (("secret", "update", "az_secret", "--store", "keyvault", "--expires", "soon"), "--expires must be"),
        (("secret", "update", "az_secret", "--expires", "90d"), "--expires applies to --store keyvault only"),
        (
            ("secret", "update", "az_secret", "--store", "keyvault", "--expires", "1d", "--not-before", "2d"),
            "--not-before must be earlier than --expires",
        ),
    ],
)
def test_bad_input_is_exit_2_on_one_line(
    cli: Cli, vault: KeyVaultServer, args: tuple[str, ...], message: str
) -> None:
    result = cli(*args)
    line = result.assert_clean_error(2)
    assert message in line


def test_a_disabled_secret_is_a_one_line_runtime_failure(cli: Cli, vault: KeyVaultServer) -> None:
    from azure.keyvault.secrets import SecretClient

    from azcreds.testing import KEYVAULT_AUDIENCE, StaticTokenCredential, mint_token

    register(cli)
    sdk = SecretClient(
        vault.vault_url, StaticTokenCredential(mint_token(KEYVAULT_AUDIENCE)), **vault.client_kwargs()
    )
    sdk.update_secret_properties(VAULT_NAME, enabled=False)
    result = cli("resolve", "az_secret")
    line = result.assert_clean_error(1)
    assert "is disabled" in line
    history = json.loads(cli("secret", "history", "az_secret", "--json").out)  # still listed
    assert history[0]["enabled"] is False


def test_explain_shows_the_expiry_date(
    cli: Cli, vault: KeyVaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    expires = datetime(2031, 1, 31, 12, tzinfo=UTC)
    register(cli, "--expires", "2031-01-31T12:00:00Z")
    monkeypatch.setattr(azcreds.lifetimes, "_clock", (expires - timedelta(days=3)).timestamp)
    result = cli("resolve", "az_secret", "--explain", "--json")
    keyvault = next(a for a in json.loads(result.out)["attempts"] if a["source"] == "keyvault")
    assert keyvault["detail"] == "found (azure-account-key); expires 2031-01-31T12:00:00Z (in 3 days)"
    # The ExpiringCredentialWarning, on stderr as the CLI shows warnings:
    assert "warning: Key Vault secret 'az_secret'" in result.err
    assert "expires 2031-01-31T12:00:00Z (in 3 days)" in result.err
