"""The lazily loaded command tree: what ``azcreds --help`` and ``schema list`` show is what the commands
are, they import none of the heavy modules, and completion still reaches every command."""

from __future__ import annotations

import json
import sys

import click
import pytest

from azcreds.cli import app as app_module
from azcreds.cli.cmd_schema import catalog as shipped_catalog
from azcreds.schemas import catalog, list_schemas
from tests.cli.helpers import child_env, run_azcreds, run_subprocess

HEAVY = ("typer", "pydantic", "pydantic_core", "rich", "azure", "cryptography", "keyring")


@pytest.mark.parametrize("name", list(app_module.COMMANDS))
def test_root_help_lines_are_the_commands_own(name: str) -> None:
    """The one-line helps listed in app.COMMANDS are those of the loaded commands, word for word."""
    command = app_module.load_command(name)
    assert command is not None
    assert command.help is not None
    first_paragraph = " ".join(command.help.split("\n\n")[0].split())
    short_help = app_module.short_help
    assert short_help(app_module.COMMANDS[name].help, 1000) == short_help(first_paragraph, 1000)


def test_every_command_is_listed_and_loads() -> None:
    ctx = click.Context(app_module.app, info_name="azcreds")
    assert app_module.app.list_commands(ctx) == [
        "resolve",
        "env",
        "exec",
        "run",
        "inject",
        "sas",
        "doctor",
        "schema",
        "secret",
        "keyring",
        "store",
    ]
    for name in app_module.app.list_commands(ctx):
        command = app_module.app.get_command(ctx, name)
        assert isinstance(command, click.Command), name
        assert command.name == name
    assert app_module.app.get_command(ctx, "no-such-command") is None


def test_shipped_schema_catalog_matches_the_schemas() -> None:
    """schema_catalog.json is what azcreds.schemas computes (run scripts/gen-schema-catalog if not)."""
    stale = "azcreds/cli/schema_catalog.json is stale: run scripts/gen-schema-catalog"
    assert shipped_catalog() == catalog(), stale
    assert [row["schema_id"] for row in catalog()] == [s.schema_id for s in list_schemas()]


PROBE = """
import sys
from azcreds.cli import main
code = main(sys.argv[1:])
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY_NAMES))
sys.stderr.write("HEAVY=" + ",".join(heavy) + "\\n")
sys.exit(code)
""".replace("HEAVY_NAMES", repr(HEAVY))


@pytest.mark.parametrize(
    "args", [["--help"], [], ["schema", "list"], ["schema", "list", "--json"], ["schema", "--help"]]
)
def test_fast_paths_import_no_heavy_module(args: list[str]) -> None:
    r = run_subprocess([sys.executable, "-c", PROBE, *args], env=child_env())
    assert r.code == 0, r
    assert "HEAVY=\n" in r.err, r.err


def test_other_commands_do_load_their_modules() -> None:
    """The probe above can see heavy imports: `schema show` needs pydantic and rich, and gets them."""
    r = run_subprocess([sys.executable, "-c", PROBE, "schema", "show", "azure-sas-token"], env=child_env())
    assert r.code == 0, r
    heavy = r.err.split("HEAVY=")[1].split()[0].split(",")
    assert {"pydantic", "rich"} <= set(heavy), r.err


def test_schema_list_for_humans_names_every_schema_and_its_fields() -> None:
    r = run_azcreds("schema", "list", env=child_env(COLUMNS="200"))
    assert r.code == 0, r
    lines = r.out.splitlines()
    for row in catalog():
        start = next(i for i, line in enumerate(lines) if line.startswith(row["schema_id"] + " "))
        assert row["title"] in lines[start]
        block = " ".join(lines[start + 1 : start + 3])
        if row["required"]:
            assert f"required: {', '.join(row['required'])}" in block
        if row["optional"]:
            assert f"optional: {', '.join(row['optional'])}" in block


def test_schema_list_json_is_the_catalog() -> None:
    r = run_azcreds("schema", "list", "--json")
    assert r.code == 0, r
    assert json.loads(r.out) == catalog()


def test_a_mistyped_command_gets_a_suggestion() -> None:
    r = run_azcreds("sceret", "list")
    line = r.assert_clean_error(2)
    assert "No such command 'sceret'" in line
    assert "Did you mean 'secret'?" in line


@pytest.mark.parametrize(
    ("words", "cword", "expected"),
    [
        ("azcreds sec", 1, "secret"),
        ("azcreds secret reg", 2, "register"),
        ("azcreds schema ", 2, "show"),
        ("azcreds secret register s1 --sch", 4, "--schema"),
        ("azcreds ex", 1, "exec"),
    ],
)
def test_bash_completion_reaches_lazily_loaded_commands(words: str, cword: int, expected: str) -> None:
    """What the script from `--show-completion bash` runs on <TAB>, for real."""
    env = child_env(_AZCREDS_COMPLETE="complete_bash", COMP_WORDS=words, COMP_CWORD=str(cword))
    r = run_subprocess(["azcreds"], env=env)
    assert r.code == 0, r
    assert expected in r.out.split(), r.out
