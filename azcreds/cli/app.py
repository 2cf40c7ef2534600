"""The command tree: a click group that loads a command's module only when that command is run.

Start-up is measured (``python -m bench cli``): importing typer costs about 60 ms on top of click,
pydantic about 100 ms and rich about 50 ms on the 2-core machine, so ``azcreds --help`` and
``azcreds schema ...`` must not pay for the modules of other commands. The root is therefore a plain
click group with the command names and one-line helps listed here (tests/cli/test_lazy_app.py checks
they match the commands), and each command group is imported and, for typer apps, converted to
click on first use. Shell completion is typer's, loaded only when a completion is asked for.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterable, MutableMapping
from types import ModuleType
from typing import Any, NamedTuple

import click

__all__ = ["COMMANDS", "Group", "app", "short_help", "suggestion"]


class _Entry(NamedTuple):
    module: str  # the module holding the command
    attribute: str  # a click.Command, or a typer.Typer whose click group has the command
    help: str  # the first line of the command's help, for ``azcreds --help``
    inner: bool = False  # the command is the one of this name inside that group (top-level verbs)


COMMANDS: dict[str, _Entry] = {
    "resolve": _Entry(
        "azcreds.cli.cmd_resolve",
        "app",
        "Resolve a secret and show where it came from (never its value).",
        inner=True,
    ),
    "env": _Entry(
        "azcreds.cli.cmd_resolve",
        "app",
        'Print `export` lines of the secret\'s variables: eval "$(azcreds env NAME)".',
        inner=True,
    ),
    "exec": _Entry(
        "azcreds.cli.cmd_exec",
        "exec_",
        "Run COMMAND with the secret's credentials and no other: azcreds exec NAME -- COMMAND ...",
    ),
    "run": _Entry(
        "azcreds.cli.cmd_run",
        "run",
        "Run COMMAND with every secret reference in its environment resolved: azcreds run -- COMMAND ...",
    ),
    "inject": _Entry(
        "azcreds.cli.cmd_run",
        "inject",
        "Write TEMPLATE with its {{ azcreds://NAME/FIELD }} references resolved: azcreds inject -i T -o OUT",
    ),
    "sas": _Entry(
        "azcreds.cli.cmd_sas",
        "app",
        "Print a short-lived SAS for one container or blob: azcreds sas NAME --scope az://C[/P] --ttl 1h",
    ),
    "doctor": _Entry(
        "azcreds.cli.cmd_doctor",
        "app",
        "Check a secret against Azure Storage point by point: each check, its evidence and the fix.",
    ),
    "schema": _Entry("azcreds.cli.cmd_schema", "group", "List and show secret schemas."),
    "secret": _Entry("azcreds.cli.cmd_secret", "app", "Register, list, get, update and delete secrets."),
    "keyring": _Entry("azcreds.cli.cmd_keyring", "app", "Create and manage the local encrypted keyring."),
    "store": _Entry(
        "azcreds.cli.cmd_store", "app", "List, upload, download and remove artifacts (az:// URIs)."
    ),
}

_loaded: dict[tuple[str, str], click.Command] = {}


def load_command(name: str) -> click.Command | None:
    """The click command ``name`` (importing its module and converting a typer app once), or None."""
    entry = COMMANDS.get(name)
    if entry is None:
        return None
    key = (entry.module, entry.attribute)
    command = _loaded.get(key)
    if command is None:
        obj = getattr(importlib.import_module(entry.module), entry.attribute)
        if not isinstance(obj, click.Command):
            import typer.main

            obj = typer.main.get_command(obj)
        command = _loaded[key] = obj
    if entry.inner:
        return command.commands.get(name) if isinstance(command, click.Group) else None
    command.name = name
    return command


def _typer_completion() -> ModuleType:
    """typer's completion module, with its shell classes registered (what typer does at start-up)."""
    from typer import completion
    from typer._completion_classes import completion_init

    completion_init()
    return completion


def _completion(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """``--install-completion`` / ``--show-completion``: typer's own callbacks, imported on use."""
    if not value or ctx.resilient_parsing:
        return value
    completion = _typer_completion()
    callback = completion.install_callback if param.name == "install_completion" else completion.show_callback
    # A shell named (`--show-completion bash`) is used as it is; alone, typer detects the shell
    # from the process tree (which fails under a parent that is no shell, e.g. a service).
    return callback(ctx, param, True if value == _DETECT else value)


_DETECT = "detect"  # the value of --install-completion / --show-completion given without a shell


def suggestion(word: str, choices: Iterable[str], *, style: Callable[[str], str] = repr) -> str:
    """`` Did you mean 'x'?`` for the choices closest to ``word`` (difflib's), or ``""``."""
    import difflib

    matches = difflib.get_close_matches(word, list(choices))
    return f" Did you mean {', '.join(map(style, matches))}?" if matches else ""


def short_help(help: str, limit: int) -> str:
    """The first sentence of ``help`` cut to ``limit`` columns, as click shows a command's help.

    Through a bare Command rather than click.utils.make_default_short_help, which click 8.5
    deprecates (removed in click 9).
    """
    return click.Command(None, help=help).get_short_help_str(limit)


class Group(click.Group):
    """A click group that words an unknown command itself, with one suggestion.

    click 8.4+ adds its own "Did you mean" to the error and typer's groups add another, so the
    message is built here, the same under every click and typer version pyproject allows.
    """

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        unknown = name and not name.startswith("-") and self.get_command(ctx, name) is None
        if unknown and not ctx.resilient_parsing:
            hint = suggestion(name, self.list_commands(ctx))
            raise click.UsageError(f"No such command {name!r}.{hint}", ctx)
        return super().resolve_command(ctx, args)


class AzcredsGroup(Group):
    """The root group: command names and helps come from ``COMMANDS``; modules load on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return load_command(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # click's layout, from the helps above, so that `azcreds --help` imports no command module.
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [(name, short_help(entry.help, limit)) for name, entry in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def _main_shell_completion(
        self, ctx_args: MutableMapping[str, Any], prog_name: str, complete_var: str | None = None
    ) -> None:
        # Typer's completion scripts send typer's instructions (complete_bash, ...): answer them with
        # typer's shell_complete, as a typer app would.
        if complete_var is None:
            complete_var = f"_{prog_name}_COMPLETE".replace("-", "_").upper()
        instruction = os.environ.get(complete_var)
        if not instruction:
            return
        sys.exit(_typer_completion().shell_complete(self, ctx_args, prog_name, complete_var, instruction))


app = AzcredsGroup(
    name="azcreds",
    help="Typed, leak-proof Azure Storage credentials: register, inspect and resolve secrets.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    params=[
        click.Option(
            ["--install-completion"],
            is_flag=False,
            flag_value=_DETECT,  # with no default: the SHELL may be left out (click's optional value)
            metavar="[SHELL]",
            expose_value=False,
            callback=_completion,
            help="Install completion for the current shell.",
        ),
        click.Option(
            ["--show-completion"],
            is_flag=False,
            flag_value=_DETECT,  # with no default: the SHELL may be left out (click's optional value)
            metavar="[SHELL]",
            expose_value=False,
            callback=_completion,
            help="Show completion for the current shell, to copy it or customize the installation.",
        ),
    ],
)
