"""The ``azcreds`` command line: ``main()`` runs it and turns every failure into one line and an exit code.

Exit codes: 0 ok, 1 runtime failure, 2 bad input. Errors go to stderr as one line, never with a
traceback, never with a secret value (set ``AZCREDS_DEBUG=1`` to see tracebacks while developing).
"""

from __future__ import annotations

import functools
import os
import sys
import warnings

__all__ = ["main"]


# pydantic plugins see every value a model validates (secret fields included), and finding them
# scans the metadata of every installed distribution: the CLI loads none. Unless the user chose
# otherwise, this is set while main() runs, and never passed on to a child (cli/_launch.py).
_PLUGINS_OFF = ("PYDANTIC_DISABLE_PLUGINS", "__all__")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``) and return the exit code."""
    from azcreds.cli._io import show_warning
    from azcreds.cli._launch import CLI_ONLY_VARIABLES

    previous = warnings.showwarning
    warnings.showwarning = functools.partial(show_warning, fallback=previous)
    name, value = _PLUGINS_OFF
    own = name not in os.environ
    if own:
        os.environ[name] = CLI_ONLY_VARIABLES[name] = value
    try:
        return _run(_attach_dash_values(sys.argv[1:] if argv is None else list(argv)))
    finally:
        warnings.showwarning = previous  # main() may run in a process that goes on (tests, embedders)
        if own:
            CLI_ONLY_VARIABLES.pop(name, None)
            if os.environ.get(name) == value:
                del os.environ[name]


def _run(args: list[str]) -> int:
    from click.exceptions import Abort, ClickException, Exit, NoArgsIsHelpError, UsageError

    from azcreds.cli._io import BadInput, cli_message, exit_code_for, print_error
    from azcreds.cli.app import app

    try:
        result = app.main(args=args, prog_name="azcreds", standalone_mode=False)
    except NoArgsIsHelpError as exc:  # `azcreds` or `azcreds secret` alone: the help, as usual
        sys.stdout.write(exc.ctx.get_help() + "\n")
        return 0
    except UsageError as exc:
        message = exc.format_message()
        if message.startswith("Got unexpected extra argument"):
            message = "unexpected extra argument (not shown: it may be a value that lost its --FIELD=)"
        print_error(message)
        return 2
    except ClickException as exc:
        print_error(exc.format_message())
        return exc.exit_code if exc.exit_code else 1
    except Exit as exc:
        return int(exc.exit_code or 0)
    except (Abort, KeyboardInterrupt, EOFError):
        print_error("aborted")
        return 130
    except BadInput as exc:
        print_error(str(exc))
        return 2
    except BrokenPipeError:
        return 1
    except Exception as exc:
        from azcreds.errors import AzcredsError  # imported on failure only: start-up is timed

        if isinstance(exc, AzcredsError):
            print_error(cli_message(exc))
            return exit_code_for(exc)
        if os.environ.get("AZCREDS_DEBUG"):
            raise
        print_error(f"unexpected {type(exc).__name__} (set AZCREDS_DEBUG=1 for a traceback)")
        return 1
    return result if isinstance(result, int) else 0


# Options of `secret register` / `secret update` that take no value or are short flags; anything
# else spelt `--name` is a field flag.
_OWN_LONG = {"--schema", "--store", "--interactive", "--overwrite", "--json", "--help", "--vault-url"}
_OWN_SHORT = {"-i", "-s", "-h"}


def _attach_dash_values(args: list[str]) -> list[str]:
    """``--client_secret -xyz`` → ``--client_secret=-xyz`` for field flags of register/update.

    Without this, click would read a value that starts with ``-`` as short options (``-i``,
    ``-h``...) and silently change or drop the secret.
    """
    if len(args) < 2 or args[0] != "secret" or args[1] not in ("register", "update"):
        return args
    out: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        nxt = args[i + 1] if i + 1 < len(args) else None
        if (
            arg.startswith("--")
            and "=" not in arg
            and arg not in _OWN_LONG
            and arg != "--"
            and nxt is not None
            and nxt.startswith("-")
            and not nxt.startswith("--")
            and nxt != "-"
            and nxt not in _OWN_SHORT
        ):
            out.append(f"{arg}={nxt}")
            i += 2
            continue
        out.append(arg)
        i += 1
    return out
