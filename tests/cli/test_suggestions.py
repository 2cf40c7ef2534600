"""Mistyped commands, fields, schemas, stores and names get one suggestion of the nearest spelling.

click 8.4+ suggests commands itself and typer's groups add their own suggestion on top; azcreds
words the message once, whichever versions are installed (scripts/test runs this in both venvs).
"""

from __future__ import annotations

import pytest

from tests.cli.helpers import Cli, run_azcreds


@pytest.mark.parametrize(
    ("args", "suggestion"),
    [
        (["sceret", "list"], "secret"),
        (["secret", "regster", "s1"], "register"),
        (["secret", "lst"], "list"),
        (["schema", "shw", "azure"], "show"),
        (["keyring", "stat"], "status"),
        (["store", "lss", "az://c"], "ls"),
    ],
    ids=lambda v: "-".join(v) if isinstance(v, list) else v,
)
def test_a_mistyped_command_gets_one_suggestion(cli: Cli, args: list[str], suggestion: str) -> None:
    r = cli(*args)
    line = r.assert_clean_error(2)
    typo = next(a for a in args if a not in ("secret", "schema", "keyring", "store"))
    assert f"No such command {typo!r}." in line, line
    assert f"Did you mean {suggestion!r}?" in line, line
    assert line.lower().count("did you mean") == 1, line


def test_the_console_script_suggests_once() -> None:
    r = run_azcreds("secret", "regster")
    line = r.assert_clean_error(2)
    assert line == "azcreds: error: No such command 'regster'. Did you mean 'register'?"


def test_a_command_nothing_like_any_other_gets_no_suggestion(cli: Cli) -> None:
    line = cli("secret", "zzzz").assert_clean_error(2)
    assert line == "azcreds: error: No such command 'zzzz'."


REGISTER = ["secret", "register", "s2", "--schema"]


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            [*REGISTER, "azure", "--connection-sting=x"],
            "unknown field 'connection-sting' for schema azure; did you mean --connection-string?",
        ),
        (
            [*REGISTER, "azure", "--connection_sting=x"],
            "unknown field 'connection_sting' for schema azure; did you mean --connection_string?",
        ),
        (
            [*REGISTER, "azure-account-key", "--account_name=acct", "--acount-key"],
            "unknown field 'acount-key' for schema azure-account-key; did you mean --account-key?",
        ),
        (
            [*REGISTER, "azure-managed-identity", "--account_name=acct", "--colour=blue"],
            "unknown field 'colour' for schema azure-managed-identity; "
            "its fields are --account-name, --account-url, --client-id",
        ),
        (["secret", "update", "s1", "--acount-name=x"], "did you mean --account-name?"),
        ([*REGISTER, "azur", "--account_name=acct"], "unknown schema 'azur'; did you mean 'azure'?"),
        (
            ["secret", "list", "--store", "keyrng"],
            "--store must be one of: keyring, keyvault; did you mean 'keyring'?",
        ),
        (["secret", "list", "--store", "vault"], "did you mean 'keyvault'?"),
    ],
    ids=["kebab", "snake", "no-value", "no-near-field", "update", "schema", "store", "store-vault"],
)
def test_bad_input_names_the_nearest_choice(cli: Cli, populated: object, args: list[str], line: str) -> None:
    error = cli(*args).assert_clean_error(2)
    assert error == f"azcreds: error: {line}" or line in error, error
    assert "invalid" not in error


def test_two_unknown_fields_are_both_named(cli: Cli, keyring: object) -> None:
    error = cli(*REGISTER, "azure", "--acount-name=a", "--colour=b").assert_clean_error(2)
    assert "unknown fields for schema azure: 'acount-name' (did you mean --account-name?), 'colour'" in error


@pytest.mark.parametrize(
    "args",
    [
        ["secret", "get", "az_secert"],
        ["secret", "update", "az_secert", "--account_name=b"],
        ["secret", "delete", "AZ-secret", "--yes"],
    ],
)
def test_a_missing_secret_names_the_nearest_registered_one(
    cli: Cli, populated: object, args: list[str]
) -> None:
    assert (
        cli(
            "secret", "register", "az_secret", "--schema", "azure-managed-identity", "--account_name=acct"
        ).code
        == 0
    )
    error = cli(*args).assert_clean_error(1)
    assert f"secret {args[2]!r} not found" in error
    assert error.endswith("; did you mean 'az_secret'?"), error
    assert "did you mean" not in cli("secret", "get", "zzzzzz").err
