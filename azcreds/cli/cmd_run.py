"""``azcreds run`` and ``azcreds inject``: resolve secret references in an environment or a file.

Both find references (:mod:`azcreds.references`), refuse a malformed one before anything is
resolved (exit 2, naming the variable or ``file:line``), then resolve every one
(:mod:`azcreds.reference_values`) before the child starts or the file is written: a missing secret
means no child and no file. Env files are read by python-dotenv's parser, without ``${VAR}``
expansion (it would copy variables such as the keyring passphrase into the child). Plain click:
no typer or rich on the way to the child beyond what resolving needs.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import click

from azcreds.cli._io import BadInput

if TYPE_CHECKING:
    from azcreds.reference_values import ReferenceResolver

_TEMPLATE_REFERENCE = re.compile(r"\{\{\s*([^{}\n]*?)\s*\}\}")


@dataclass(frozen=True)
class _Value:
    where: str  # "variable X", "app.env:3", "config.tpl:12"
    key: str  # the variable (run) or "" (inject)
    text: str


class _Failed(Exception):
    """Resolving the reference at ``where`` failed with ``error`` (an AzcredsError)."""

    def __init__(self, where: str, error: Exception) -> None:
        self.where = where
        self.error = error


def _report(failed: _Failed) -> int:
    from azcreds.cli._io import cli_message, exit_code_for, print_error
    from azcreds.errors import AzcredsError, InvalidReferenceError

    error = failed.error
    assert isinstance(error, AzcredsError)
    message = cli_message(error)
    if not isinstance(error, InvalidReferenceError):  # those name their place already
        message = f"{failed.where}: {message}"
    print_error(message)
    return exit_code_for(error)


def _resolver() -> ReferenceResolver:
    from azcreds.reference_values import ReferenceResolver

    return ReferenceResolver()


def _resolve_all(values: list[_Value], resolver: ReferenceResolver) -> dict[_Value, str]:
    """Parse every value (all malformed ones refused first), then resolve each reference."""
    from azcreds.errors import AzcredsError

    parsed = []
    for value in values:
        reference = resolver.parse(value.text, where=value.where)
        if reference is not None:
            parsed.append((value, reference))
    resolved: dict[_Value, str] = {}
    for value, reference in parsed:
        try:
            resolved[value] = resolver.value(reference, where=value.where)
        except AzcredsError as exc:
            raise _Failed(value.where, exc) from None
    return resolved


# ------------------------------------------------------------------------------------------ run


def _read_text(path: str, label: str) -> str:
    """The UTF-8 text of ``path``; each way it can fail is bad input starting with ``label``."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        raise BadInput(f"{label}: no such file") from None
    except IsADirectoryError:
        raise BadInput(f"{label}: is a folder, not a file") from None
    except PermissionError:
        raise BadInput(f"{label}: permission denied") from None
    except UnicodeDecodeError:
        raise BadInput(f"{label}: not UTF-8 text") from None


def _env_file_values(path: str) -> Iterator[_Value]:
    from dotenv.parser import parse_stream

    text = _read_text(path, f"--env-file {path}")
    import io

    for binding in parse_stream(io.StringIO(text)):
        text = binding.original.string
        # The parser counts from where the blank lines before a binding start.
        line = binding.original.line + text[: len(text) - len(text.lstrip())].count("\n")
        if binding.error:
            raise BadInput(f"{path}:{line}: not a KEY=VALUE line")
        if binding.key is None:
            continue  # a comment or a blank line
        if binding.value is None:
            raise BadInput(f"{path}:{line}: {binding.key} has no '=' and no value")
        yield _Value(f"{path}:{line} ({binding.key})", binding.key, binding.value)


@click.command(
    "run",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.option(
    "--env-file",
    "env_files",
    multiple=True,
    metavar="FILE",
    help="A dotenv file of variables for COMMAND (repeatable; later files win over earlier ones "
    "and over the environment).",
)
@click.option("--no-masking", is_flag=True, help="Pass COMMAND's output through untouched.")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def run(env_files: tuple[str, ...], no_masking: bool, command: tuple[str, ...]) -> None:
    """Run COMMAND with every secret reference in its environment resolved: azcreds run -- COMMAND ...

    A variable whose value is azcreds://NAME[/FIELD], a Key Vault secret URI
    (https://VAULT.vault.azure.net/secrets/NAME[/VERSION]) or @Microsoft.KeyVault(...) gets the
    secret's value. Every reference is resolved before COMMAND starts; if one fails, COMMAND is
    not started. AZCREDS_* variables other than plain settings (the keyring passphrase and
    session, AZCREDS_<NAME>__<FIELD> secrets) do not reach COMMAND. Its output has every resolved
    value replaced by <concealed by azcreds>, as with exec (docs/exec.md).
    """
    from azcreds.child_env import without_azcreds_secrets
    from azcreds.cli._launch import run_child

    if not command:
        raise BadInput("give a command after --")
    values = {
        key: _Value(f"variable {key}", key, value)
        for key, value in os.environ.items()
        if not key.upper().startswith("AZCREDS_")
    }
    extra: dict[str, str] = {}
    for path in env_files:
        for value in _env_file_values(path):
            values[value.key] = value
            extra[value.key] = value.text
    try:
        resolved = _resolve_all(
            [v for v in values.values() if not v.key.upper().startswith("AZCREDS_")], _resolver()
        )
    except _Failed as failed:
        raise click.exceptions.Exit(_report(failed)) from None
    env = dict(os.environ) | extra
    for value, secret in resolved.items():
        env[value.key] = secret
    run_child(command, without_azcreds_secrets(env), secrets=list(resolved.values()), masking=not no_masking)


# --------------------------------------------------------------------------------------- inject


def _render(text: str, where: str) -> str:
    lines = text.splitlines(keepends=True)
    found: list[tuple[int, re.Match[str], _Value]] = []
    from azcreds.references import looks_like_reference

    resolver = _resolver()
    for number, line in enumerate(lines, 1):
        for match in _TEMPLATE_REFERENCE.finditer(line):
            if looks_like_reference(match[1], vaults=resolver.vaults):
                found.append((number, match, _Value(f"{where}:{number}", "", match[1])))
    resolved = _resolve_all([value for _, _, value in found], resolver)
    by_line: dict[int, list[tuple[re.Match[str], str]]] = {}
    for number, match, value in found:
        by_line.setdefault(number, []).append((match, resolved[value]))
    out: list[str] = []
    for number, line in enumerate(lines, 1):
        pieces, start = [], 0
        for match, secret in by_line.get(number, []):
            pieces += [line[start : match.start()], secret]
            start = match.end()
        out.append("".join(pieces) + line[start:])
    return "".join(out)


def _write_private(path: str, data: bytes) -> None:
    """Write ``path`` atomically, mode 0600 from the start: temporary file, fsync, replace."""
    from pathlib import Path

    from azcreds._atomic_file import replace_private

    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise BadInput(f"-o {path}: is a folder")
    if not os.path.isdir(folder):
        raise BadInput(f"-o {path}: the folder {folder} does not exist")
    try:
        replace_private(Path(folder) / os.path.basename(path), data)
    except PermissionError:
        raise BadInput(f"-o {path}: cannot write in {folder} (permission denied)") from None


@click.command("inject")
@click.option("-i", "--in", "template", required=True, metavar="TEMPLATE", help="The template ('-': stdin).")
@click.option("-o", "--out", "output", default=None, metavar="OUT", help="Write here (0600, atomically).")
@click.option("--reveal", is_flag=True, help="Print the result even to a terminal.")
def inject(template: str, output: str | None, reveal: bool) -> None:
    """Write TEMPLATE with its {{ azcreds://NAME/FIELD }} references resolved: azcreds inject -i T -o OUT

    Every {{ REFERENCE }} (azcreds://NAME[/FIELD], a Key Vault secret URI or
    @Microsoft.KeyVault(...)) is replaced by the secret's value; other {{ ... }} are left as they
    are. OUT is written with mode 0600 through a temporary file and an atomic rename, only once
    every reference has resolved: after a failure there is no new file, and an old OUT is kept.
    Without -o the result goes to standard output (a pipe; a terminal needs --reveal).
    """
    if output is None and sys.stdout.isatty() and not reveal:
        raise BadInput("the result holds secrets: give -o OUT, pipe it, or add --reveal to print it here")
    where = "<stdin>" if template == "-" else template
    text = sys.stdin.read() if template == "-" else _read_text(template, f"-i {template}")
    try:
        rendered = _render(text, where)
    except _Failed as failed:
        raise click.exceptions.Exit(_report(failed)) from None
    if output is None:
        sys.stdout.write(rendered)
        sys.stdout.flush()
        return
    _write_private(output, rendered.encode("utf-8"))
