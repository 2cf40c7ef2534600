"""EnvResolver: named AZCREDS_<NAME>__<FIELD> variables and the implicit AZURE_STORAGE_* set."""

from __future__ import annotations

import pytest

from azcreds import (
    AccountKeySecret,
    ConnectionStringSecret,
    EnvResolver,
    InvalidSecretNameError,
    ManagedIdentitySecret,
    ResolverUnavailableError,
    SasTokenSecret,
    SchemaValidationError,
    ServicePrincipalSecret,
)
from azcreds.names import env_prefix
from tests.helpers import AZURITE_ACCOUNT_KEY, CLIENT_ID, TENANT_ID, sas_token


def test_env_prefix_uppercases_and_replaces_non_alphanumerics() -> None:
    assert env_prefix("az_secret") == "AZCREDS_AZ_SECRET__"
    assert env_prefix("az-Secret-2") == "AZCREDS_AZ_SECRET_2__"


def test_named_secret_is_inferred_like_the_flat_schema() -> None:
    env = {
        "AZCREDS_AZ_SECRET__ACCOUNT_NAME": "acct",
        "AZCREDS_AZ_SECRET__ACCOUNT_KEY": AZURITE_ACCOUNT_KEY,
        "AZCREDS_OTHER__SAS_TOKEN": "ignored",
    }
    assert isinstance(EnvResolver(env).resolve("az_secret"), AccountKeySecret)


def test_names_are_case_insensitive() -> None:
    env = {"AZCREDS_AZ_SECRET__CONNECTION_STRING": "UseDevelopmentStorage=true"}
    assert isinstance(EnvResolver(env).resolve("AZ_Secret"), ConnectionStringSecret)


def test_schema_variable_picks_the_schema() -> None:
    env = {"AZCREDS_MI__SCHEMA": "azure-managed-identity", "AZCREDS_MI__ACCOUNT_NAME": "acct"}
    assert isinstance(EnvResolver(env).resolve("mi"), ManagedIdentitySecret)
    env["AZCREDS_MI__SCHEMA"] = "azure-sas-token"
    with pytest.raises(SchemaValidationError) as info:
        EnvResolver(env).resolve("mi")
    assert "sas_token" in str(info.value)


def test_unknown_schema_variable_is_named() -> None:
    env = {"AZCREDS_MI__SCHEMA": "nope", "AZCREDS_MI__ACCOUNT_NAME": "acct"}
    with pytest.raises(SchemaValidationError, match="AZCREDS_MI__SCHEMA"):
        EnvResolver(env).resolve("mi")


def test_errors_name_the_variable_not_the_value() -> None:
    env = {"AZCREDS_S__ACCOUNT_NAME": "acct", "AZCREDS_S__ACCOUNT_KEY": "secret-not-b64!"}
    with pytest.raises(SchemaValidationError) as info:
        EnvResolver(env).resolve("s")
    assert "AZCREDS_S__ACCOUNT_KEY" in str(info.value)
    assert "secret-not-b64" not in str(info.value)


def test_typo_in_a_field_variable_is_an_unknown_field() -> None:
    env = {"AZCREDS_S__ACCOUNT_NAME": "acct", "AZCREDS_S__ACOUNT_KEY": AZURITE_ACCOUNT_KEY}
    with pytest.raises(SchemaValidationError, match="AZCREDS_S__ACOUNT_KEY: unknown field"):
        EnvResolver(env).resolve("s")


def test_missing_variables_are_a_miss_and_empty_values_count_as_unset() -> None:
    with pytest.raises(ResolverUnavailableError, match="AZCREDS_NOPE__"):
        EnvResolver({}).resolve("nope")
    with pytest.raises(ResolverUnavailableError):
        EnvResolver({"AZCREDS_NOPE__ACCOUNT_KEY": ""}).resolve("nope")


def test_a_longer_secret_name_does_not_leak_into_a_shorter_one() -> None:
    env = {"AZCREDS_A__B__ACCOUNT_NAME": "acct", "AZCREDS_A__B__ACCOUNT_KEY": AZURITE_ACCOUNT_KEY}
    with pytest.raises(ResolverUnavailableError):
        EnvResolver(env).resolve("a")


def test_invalid_names_are_refused() -> None:
    for bad in ("", "_x", "a b", "a" * 65, "ümlaut"):
        with pytest.raises(InvalidSecretNameError):
            EnvResolver({}).resolve(bad)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"AZURE_STORAGE_CONNECTION_STRING": "UseDevelopmentStorage=true"}, ConnectionStringSecret),
        (
            {"AZURE_STORAGE_ACCOUNT_NAME": "acct", "AZURE_STORAGE_ACCOUNT_KEY": AZURITE_ACCOUNT_KEY},
            AccountKeySecret,
        ),
        ({"AZURE_STORAGE_ACCOUNT_NAME": "acct", "AZURE_STORAGE_SAS_TOKEN": sas_token()}, SasTokenSecret),
        (
            {
                "AZURE_STORAGE_ACCOUNT_NAME": "acct",
                "AZURE_STORAGE_CLIENT_ID": CLIENT_ID,
                "AZURE_STORAGE_CLIENT_SECRET": "s",
                "AZURE_STORAGE_TENANT_ID": TENANT_ID,
            },
            ServicePrincipalSecret,
        ),
    ],
)
def test_implicit_variables_of_the_seed(env: dict[str, str], expected: type) -> None:
    assert type(EnvResolver(env).resolve(None)) is expected


def test_implicit_account_name_alone_is_left_to_managed_identity() -> None:
    with pytest.raises(ResolverUnavailableError, match="without a key"):
        EnvResolver({"AZURE_STORAGE_ACCOUNT_NAME": "acct"}).resolve(None)
    with pytest.raises(ResolverUnavailableError, match="no AZURE_STORAGE_"):
        EnvResolver({}).resolve(None)


def test_implicit_conflict_names_variables() -> None:
    env = {
        "AZURE_STORAGE_ACCOUNT_NAME": "acct",
        "AZURE_STORAGE_ACCOUNT_KEY": AZURITE_ACCOUNT_KEY,
        "AZURE_STORAGE_CLIENT_SECRET": "s",
    }
    with pytest.raises(SchemaValidationError, match="conflicting"):
        EnvResolver(env).resolve(None)


def test_reads_os_environ_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    resolver = EnvResolver()
    with pytest.raises(ResolverUnavailableError):
        resolver.resolve("late")
    monkeypatch.setenv("AZCREDS_LATE__CONNECTION_STRING", "UseDevelopmentStorage=true")
    assert isinstance(resolver.resolve("late"), ConnectionStringSecret)
