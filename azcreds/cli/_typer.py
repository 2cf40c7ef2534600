"""The typer apps of the command groups (``secret``, ``keyring``, ``store``), all built one way."""

from __future__ import annotations

import typer
from typer.core import TyperGroup

from azcreds.cli.app import Group


class _Group(Group, TyperGroup):
    """typer's group, with azcreds' wording of an unknown command (see :class:`azcreds.cli.app.Group`)."""


def group_app(help: str) -> typer.Typer:
    """A typer app for a command group: plain-text help, no completion options, one suggestion."""
    return typer.Typer(
        cls=_Group, help=help, no_args_is_help=True, rich_markup_mode=None, add_completion=False
    )
