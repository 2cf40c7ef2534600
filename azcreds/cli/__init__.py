"""The ``azcreds`` command line: ``main()`` runs it and turns every failure into one line and an exit code.

Exit codes: 0 ok, 1 runtime failure, 2 bad input. Errors go to stderr as one line, never with a
traceback, never with a secret value (set ``AZCREDS_DEBUG=1`` to see tracebacks while developing).
"""

from __future__ import annotations

import os
import sys
import warnings

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``) and return the exit code."""
    from click.exceptions import Abort, ClickException, Exit, UsageError

    from azcreds.cli._io import BadInput, exit_code_for, print_error, show_warning
    from azcreds.cli.app import app
    from azcreds.errors import AzcredsError

    warnings.showwarning = show_warning
    args = sys.argv[1:] if argv is None else argv
    try:
        result = app(args=args, prog_name="azcreds", standalone_mode=False)
    except UsageError as exc:
        print_error(exc.format_message())
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
    except AzcredsError as exc:
        print_error(str(exc))
        return exit_code_for(exc)
    except BrokenPipeError:
        return 1
    except Exception as exc:
        if os.environ.get("AZCREDS_DEBUG"):
            raise
        print_error(f"unexpected {type(exc).__name__} (set AZCREDS_DEBUG=1 for a traceback)")
        return 1
    return result if isinstance(result, int) else 0
