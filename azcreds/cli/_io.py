"""What every CLI command shares: errors and exit codes, output (rich tables or JSON), field flags."""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from rich.console import Console

    from azcreds.errors import AzcredsError
    from azcreds.schemas import SecretSchema

# azcreds.errors, pathlib and rich are imported where used: `azcreds --help` and `azcreds schema
# list` import this module and are timed (python -m bench cli).

MAX_FILE_VALUE = 64 * 1024  # an @file value larger than this is refused (no secret is that big)


class BadInput(Exception):
    """Bad input on the command line: one line on stderr, exit code 2."""


def cli_message(exc: AzcredsError) -> str:
    """The error in CLI words: where the library says ``overwrite=True``, the CLI says ``--overwrite``."""
    from azcreds.errors import ArtifactExistsError, SecretExistsError

    if isinstance(exc, SecretExistsError | ArtifactExistsError) and exc.overwritable:
        return f"{exc.fact}; use --overwrite to replace it"
    return str(exc)


def exit_code_for(exc: AzcredsError) -> int:
    """2 for bad input (invalid fields, names, settings or references, a taken name, a locked store, a keyring
    path that cannot hold a file), else 1."""
    from azcreds.errors import (
        InvalidReferenceError,
        SchemaValidationError,
        ScopeError,
        SecretExistsError,
        SettingsError,
        StoreLockedError,
        StorePathError,
    )

    bad_input = (
        SchemaValidationError
        | ScopeError
        | SecretExistsError
        | SettingsError
        | StoreLockedError
        | StorePathError
        | InvalidReferenceError
    )
    return 2 if isinstance(exc, bad_input) else 1


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def print_error(message: str) -> None:
    sys.stderr.write(f"azcreds: error: {one_line(message)}\n")
    sys.stderr.flush()


def print_warning(message: str) -> None:
    sys.stderr.write(f"azcreds: warning: {one_line(message)}\n")
    sys.stderr.flush()


def show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
    *,
    fallback: Callable[..., None] = warnings.showwarning,
) -> None:
    """azcreds' own warnings as one ``azcreds: warning:`` line; any other as Python shows it.

    A library's DeprecationWarning (seen only when the user turns them on) is not azcreds' to word.
    """
    from azcreds.errors import AzcredsWarning  # imported on a warning only: start-up is timed

    if issubclass(category, AzcredsWarning):
        print_warning(str(message))
    else:
        fallback(message, category, filename, lineno, file, line)


def console() -> Console:
    from rich.console import Console

    if os.environ.get("NO_COLOR"):  # rich drops colours for NO_COLOR but keeps bold/italic
        return Console(soft_wrap=False, highlight=False, color_system=None)
    return Console(soft_wrap=False, highlight=False)


def print_json(data: Any) -> None:
    import json  # not at import: `exec` never prints JSON, and its start-up is timed

    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")


def is_interactive() -> bool:
    return sys.stdin.isatty() and sys.stderr.isatty()


def prompt_secret(label: str, *, confirm: bool = False) -> str:
    import getpass

    value = getpass.getpass(f"{label}: ")
    if confirm and getpass.getpass(f"{label} (again): ") != value:
        raise BadInput(f"the two entries for {label.lower()} differ")
    return value


def prompt_text(label: str) -> str:
    sys.stderr.write(f"{label}: ")
    sys.stderr.flush()
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    return line.rstrip("\n")


# ---------------------------------------------------------------------------------- field flags


def nearest(word: str, choices: Iterable[str]) -> str | None:
    """The choice closest to ``word`` (difflib's ratio, at least 0.6), or None."""
    import difflib

    matches = difflib.get_close_matches(word, list(choices), n=1)
    return matches[0] if matches else None


class FieldFlag(NamedTuple):
    field: str  # the schema's field name (snake_case)
    value: str | None  # the raw value (None: given without one)
    flag: str  # as typed, without the dashes: "connection-string", "Connection_String"


def parse_field_flags(args: list[str]) -> list[FieldFlag]:
    """``--field=value``, ``--field value``, ``--field-name=...`` → [(field, raw value or None, flag)]."""
    out: list[FieldFlag] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--") or arg == "--":
            # Never echo it: a stray argument is often a value that lost its flag.
            raise BadInput(f"unexpected argument #{i + 1}: field values go as --FIELD=VALUE")
        flag, eq, value = arg[2:].partition("=")
        field = flag.replace("-", "_").lower()
        if not field or not field.replace("_", "").isalnum() or not field[0].isalpha() or len(field) > 64:
            raise BadInput("a field flag must look like --field_name=VALUE")
        if not eq:
            if i + 1 < len(args) and not args[i + 1].startswith("--"):
                value = args[i + 1]
                i += 1
                out.append(FieldFlag(field, value, flag))
            else:
                out.append(FieldFlag(field, None, flag))
        else:
            out.append(FieldFlag(field, value, flag))
        i += 1
    seen: set[str] = set()
    for field, _, _ in out:
        if field in seen:
            raise BadInput(f"--{field} is given twice")
        seen.add(field)
    return out


def read_value(field: str, raw: str, *, stdin_used: list[bool]) -> tuple[str, bool]:
    """Resolve ``@path`` / ``-`` / ``@@literal``; returns (value, given_literally)."""
    if raw == "-":
        if stdin_used[0]:
            raise BadInput(f"--{field}=-: only one field can be read from standard input")
        stdin_used[0] = True
        data = sys.stdin.read(MAX_FILE_VALUE + 1)
        if len(data) > MAX_FILE_VALUE:
            raise BadInput(f"--{field}=-: standard input is larger than {MAX_FILE_VALUE // 1024} KiB")
        return data.rstrip("\r\n"), False
    if raw.startswith("@@"):
        return raw[1:], True
    if raw.startswith("@"):
        from pathlib import Path

        path = Path(os.path.expanduser(raw[1:]))
        try:
            if path.is_dir():
                raise BadInput(f"--{field}=@{path}: is a folder, not a file")
            if not path.is_file():
                raise BadInput(f"--{field}=@{path}: no such file")
            if path.stat().st_size > MAX_FILE_VALUE:
                raise BadInput(f"--{field}=@{path}: file is larger than {MAX_FILE_VALUE // 1024} KiB")
            data = path.read_text(encoding="utf-8-sig")  # a BOM (Notepad) is not part of the value
        except UnicodeDecodeError:
            raise BadInput(f"--{field}=@{path}: file is not UTF-8 text") from None
        except OSError as exc:
            raise BadInput(f"--{field}=@{path}: cannot read it ({exc.strerror})") from None
        return data.rstrip("\r\n"), False
    return raw, True


def collect_fields(
    schema: type[SecretSchema],
    args: list[str],
    *,
    interactive: bool = False,
    prompt_missing_required: bool = True,
) -> dict[str, str | None]:
    """Field values from flags, files, stdin and prompts; warns about secrets given in argv."""
    secret_fields = set(schema.secret_fields())
    stdin_used = [False]
    fields: dict[str, str | None] = {}
    literal_secrets: list[str] = []
    flags = parse_field_flags(args)
    unknown = [flag for field, _, flag in flags if field not in schema.model_fields]
    if unknown:  # before any prompt or read: never ask for a value that will be refused
        raise BadInput(unknown_fields(schema, unknown))
    for field, raw, _ in flags:
        if raw is None:
            fields[field] = _prompt_for(field, field in secret_fields)
            continue
        value, literal = read_value(field, raw, stdin_used=stdin_used)
        if literal and field in secret_fields and value:
            literal_secrets.append(field)
        fields[field] = value
    for field in literal_secrets:
        print_warning(
            f"--{field} was given on the command line, where other processes and the shell history "
            f"can see it; prefer --{field}=@FILE, --{field}=- (stdin) or the hidden prompt (--{field})"
        )
    if interactive or (prompt_missing_required and is_interactive()):
        wanted = schema.model_fields if interactive else schema.required_fields()
        for field in wanted:
            if field not in fields:
                if not is_interactive():
                    break
                value = _prompt_for(
                    field, field in secret_fields, optional=field not in schema.required_fields()
                )
                if value:
                    fields[field] = value
    return fields


def field_flag(field: str, like: str) -> str:
    """``--field_name`` if the user typed ``like`` in snake_case, else ``--field-name``."""
    return "--" + (field if "_" in like else field.replace("_", "-"))


def unknown_fields(schema: type[SecretSchema], flags: list[str]) -> str:
    """Flags that are no field of ``schema``, each with the nearest field, in the user's spelling."""
    fields = list(schema.model_fields)

    def near(flag: str) -> str | None:
        field = nearest(flag.replace("-", "_").lower(), fields)
        return field_flag(field, flag) if field else None

    if len(flags) == 1:
        flag, hint = flags[0], near(flags[0])
        tail = (
            f"did you mean {hint}?"
            if hint
            else "its fields are " + ", ".join(field_flag(f, flag) for f in fields)
        )
        return f"unknown field {flag!r} for schema {schema.schema_id}; {tail}"
    named = [f"{f!r}" + (f" (did you mean {hint}?)" if (hint := near(f)) else "") for f in flags]
    return f"unknown fields for schema {schema.schema_id}: {', '.join(named)}"


def _prompt_for(field: str, secret: bool, *, optional: bool = False) -> str:
    if not is_interactive():
        raise BadInput(f"--{field} has no value and there is no terminal to prompt on")
    label = f"{field}{' (optional, Enter to skip)' if optional else ''}"
    return prompt_secret(label) if secret else prompt_text(label)
