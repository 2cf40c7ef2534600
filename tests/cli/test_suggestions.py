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
