"""Bad settings and bad identity variables are typed errors that name the variable, never its value."""

from __future__ import annotations

import traceback

import pytest

from azcreds import (
    AzcredsError,
    SchemaValidationError,
    SettingsError,
    clear_cache,
    explain_resolution,
    resolve_credentials,
)
from azcreds.settings import AzcredsSettings, get_settings
from tests.cli.helpers import Cli, child_env, run_azcreds

# Looks like a secret someone pasted into the wrong variable: it must never be printed.
CANARY = "SETTINGS-CANARY-s3cr3t-Zm9vYmFy"


def everything_said(exc: BaseException) -> str:
    """The exception as a traceback would show it (causes and contexts included), and its repr."""
    return "".join(traceback.format_exception(exc)) + repr(exc) + repr(getattr(exc, "errors", ""))


BAD_SETTINGS = [
    ("AZCREDS_CACHE_TTL", CANARY, "a number of seconds"),
    ("AZCREDS_CACHE_TTL", "-5", "0 or more"),
    ("AZCREDS_CACHE_TTL", "nan", "a number of seconds"),
    ("AZCREDS_CACHE_TTL", "", "a number of seconds"),
    ("AZCREDS_CACHE_MAX_STALE", CANARY, "a number of seconds"),
    ("AZCREDS_CACHE_MAX_STALE", "-1", "0 or more"),
    ("AZCREDS_MANAGED_IDENTITY", CANARY, "auto, off or imds"),
    ("AZCREDS_KEYVAULT_URL", CANARY, "https"),
    ("AZCREDS_KEYVAULT_URL", f"https://{CANARY}.vault.azure.net/?sig={CANARY}", "query"),
    ("AZCREDS_KEYVAULT_URL", f"http://{CANARY}.vault.azure.net", "https"),
    ("AZCREDS_KEYRING_PATH", "", "empty"),
    ("AZCREDS_KEYRING_LOCK_TIMEOUT", CANARY, "a number of seconds"),
    ("AZCREDS_KEYRING_LOCK_TIMEOUT", "-1", "0 or more"),
]


@pytest.mark.parametrize(("variable", "value", "allowed"), BAD_SETTINGS)
def test_bad_setting_is_a_settings_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, allowed: str
) -> None:
    monkeypatch.setenv(variable, value)
    monkeypatch.setenv("AZCREDS_X__CONNECTION_STRING", "UseDevelopmentStorage=true")
    clear_cache()
    with pytest.raises(SettingsError) as info:
        resolve_credentials("x")
    exc = info.value
    assert isinstance(exc, AzcredsError)
    assert isinstance(exc, ValueError)
    assert exc.variables == (variable,)
    assert variable in str(exc)
    assert allowed in str(exc)
    if len(value) > 3:
        assert value not in everything_said(exc)
    assert CANARY not in everything_said(exc)
    assert "input_value" not in everything_said(exc)
    for call in (get_settings, AzcredsSettings, lambda: explain_resolution("x")):
        clear_cache()
        with pytest.raises(SettingsError):
            call()


def test_every_bad_setting_is_named_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZCREDS_CACHE_TTL", CANARY)
    monkeypatch.setenv("AZCREDS_MANAGED_IDENTITY", CANARY)
    with pytest.raises(SettingsError) as info:
        AzcredsSettings()
    assert info.value.variables == ("AZCREDS_CACHE_TTL", "AZCREDS_MANAGED_IDENTITY")
    assert CANARY not in everything_said(info.value)


def test_good_settings_still_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZCREDS_CACHE_TTL", "0")
    monkeypatch.setenv("AZCREDS_KEYVAULT_URL", "https://myvault.vault.azure.net/")
    monkeypatch.setenv("AZCREDS_KEYRING_LOCK_TIMEOUT", "0.5")
    s = AzcredsSettings()
    assert (s.cache_ttl, s.keyvault_url, s.keyring_lock_timeout) == (
        0,
        "https://myvault.vault.azure.net",
        0.5,
    )
    monkeypatch.setenv("AZCREDS_KEYVAULT_URL", "")  # empty: no vault, as before
    assert AzcredsSettings().keyvault_url is None


# ------------------------------------------------------------------------------ other variables


def test_a_bad_schema_variable_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZCREDS_X__SCHEMA", CANARY)
    monkeypatch.setenv("AZCREDS_X__ACCOUNT_NAME", "acct")
    with pytest.raises(SchemaValidationError) as info:
        resolve_credentials("x")
    assert "AZCREDS_X__SCHEMA" in str(info.value)
    assert CANARY not in everything_said(info.value)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("AZURE_CLIENT_ID", CANARY),
        ("AZURE_STORAGE_CLIENT_ID", CANARY),
        ("AZURE_STORAGE_ACCOUNT_NAME", CANARY),
        ("AZURE_STORAGE_ACCOUNT_URL", CANARY),
    ],
)
def test_bad_identity_variables_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv("IDENTITY_ENDPOINT", "http://127.0.0.1:9/token")
    monkeypatch.setenv("IDENTITY_HEADER", "h")
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", "acct")
    monkeypatch.setenv(variable, value)
    for name in ("x", None):
        clear_cache()
        with pytest.raises(SchemaValidationError) as info:
            resolve_credentials(name)
        assert variable in str(info.value)
        assert CANARY not in everything_said(info.value)


# ------------------------------------------------------------------------------ the CLI


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    return Cli(capsys, monkeypatch)


@pytest.mark.parametrize(("variable", "value", "allowed"), BAD_SETTINGS)
@pytest.mark.parametrize(
    "command",
    [["resolve", "x"], ["secret", "list"], ["env", "x"], ["exec", "x", "--", "true"]],
    ids=["resolve", "list", "env", "exec"],
)
def test_cli_exits_2_with_one_line_naming_the_variable(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, allowed: str, command: list[str]
) -> None:
    monkeypatch.setenv(variable, value)
    monkeypatch.setenv("AZCREDS_X__CONNECTION_STRING", "UseDevelopmentStorage=true")
    r = cli(*command)
    line = r.assert_clean_error(2)
    assert variable in line
    assert "unexpected" not in line
    r.assert_no_secret(CANARY)


def test_cli_in_a_real_process() -> None:
    r = run_azcreds("resolve", "x", env=child_env(AZCREDS_CACHE_TTL=CANARY, AZCREDS_MANAGED_IDENTITY="-5"))
    line = r.assert_clean_error(2)
    assert "AZCREDS_CACHE_TTL" in line
    assert "AZCREDS_MANAGED_IDENTITY" in line
    r.assert_no_secret(CANARY)


def test_the_setting_variables_are_the_settings_fields() -> None:
    # The light list the default chains check (azcreds/_setting_variables.py) against the model.
    from azcreds._setting_variables import SETTING_VARIABLES, any_setting_set

    assert {f"AZCREDS_{f.upper()}" for f in AzcredsSettings.model_fields} == SETTING_VARIABLES
    assert any_setting_set({"azcreds_cache_ttl": "1"})  # case-insensitive, as the settings read them
    assert not any_setting_set({"AZCREDS_X__CACHE_TTL": "1", "AZCREDS_CACHE_TTLX": "1"})
