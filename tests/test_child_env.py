"""The child-environment rule of ``azcreds exec``, as a function of the parent's environment."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from azcreds import AzureCredentials, parse_secret
from azcreds.child_env import KEPT_AZCREDS_SETTINGS, child_environment, other_credential_variables
from azcreds.settings import AzcredsSettings
from tests.helpers import CLIENT_ID, b64

KEY = b64("k" * 64)


def creds(**fields: str) -> AzureCredentials:
    return AzureCredentials.from_secret(parse_secret("azure", fields), name="x", source="env")


def test_every_setting_is_either_inherited_or_secret() -> None:
    # A new setting must be a deliberate decision: listed as safe for children, or a SecretStr.
    for name, info in AzcredsSettings.model_fields.items():
        variable = f"AZCREDS_{name.upper()}"
        secret = info.annotation in (SecretStr, SecretStr | None)
        assert (variable in KEPT_AZCREDS_SETTINGS) != secret, variable
    assert "AZCREDS_KEYRING_PASSPHRASE" not in KEPT_AZCREDS_SETTINGS


@pytest.mark.parametrize(
    "name",
    [
        "AZCREDS_KEYRING_PASSPHRASE",
        "azcreds_keyring_passphrase",
        "AZCREDS_KEYRING_SESSION",
        "AZCREDS_SOMETHING_NEW",
        "AZCREDS_AZ_SECRET__CONNECTION_STRING",
        "AZCREDS_KEYVAULT_URL__ACCOUNT_KEY",  # a secret named keyvault_url, not the setting
        "Azure_Storage_Account_Key",
        "azure_client_secret",
    ],
)
def test_names_are_matched_in_any_case_and_unknown_azcreds_names_are_dropped(name: str) -> None:
    child = child_environment(creds(account_name="acct", account_key=KEY), {name: "value", "PATH": "/bin"})
    assert name not in child
    assert child["PATH"] == "/bin"


def test_exports_win_over_inherited_values() -> None:
    child = child_environment(
        creds(account_name="acct", client_id=CLIENT_ID),
        {"IDENTITY_ENDPOINT": "http://127.0.0.1:1/t", "AZURE_CLIENT_ID": "another"},
    )
    assert child["AZURE_CLIENT_ID"] == CLIENT_ID
    assert child["IDENTITY_ENDPOINT"] == "http://127.0.0.1:1/t"


def test_other_credential_variables_never_lists_azcreds_settings_or_plain_configuration() -> None:
    environ = {
        "AZCREDS_KEYRING_PASSPHRASE": "p",
        "AZURE_STORAGE_SAS_TOKEN": "s",
        "AZURE_CLIENT_SECRET": "c",
        "IDENTITY_ENDPOINT": "http://127.0.0.1:1/t",
        "AZURE_SUBSCRIPTION_ID": "sub",
        "HOME": "/home/x",
    }
    assert other_credential_variables(creds(account_name="acct", account_key=KEY), environ) == [
        "AZURE_STORAGE_SAS_TOKEN",
        "AZURE_CLIENT_SECRET",
        "IDENTITY_ENDPOINT",
    ]
    assert other_credential_variables(creds(account_name="acct"), environ) == [
        "AZURE_STORAGE_SAS_TOKEN",
        "AZURE_CLIENT_SECRET",
    ]
