"""DeveloperIdentityResolver: the developer's own login (az, pwsh, azd) for the storage account.

It closes both chains, after managed identity, and answers only when asked to:
``AZURE_TOKEN_CREDENTIALS`` is ``dev`` or names a developer credential (``azureclicredential``,
``azuredeveloperclicredential``, ``azurepowershellcredential``), or ``AZCREDS_DEVELOPER_IDENTITY=on``
(which ``AZURE_TOKEN_CREDENTIALS=prod``, or naming a production credential, overrides). The
account comes from ``AZURE_STORAGE_ACCOUNT_NAME`` (and ``AZURE_STORAGE_ACCOUNT_URL``).

Resolving runs no tool: it looks the selected tools up on PATH (a miss when none is there, with
the reason) and answers an ``azure-developer-identity`` secret whose credential runs them when a
token is first needed.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Literal

from azcreds.errors import ResolverUnavailableError
from azcreds.resolvers.env import parse_variables

if TYPE_CHECKING:
    from azcreds.schemas import SecretSchema
    from azcreds.token_selection import DeveloperTool

__all__ = ["DeveloperIdentityResolver", "developer_tools_summary"]


def developer_tools_summary(tools: tuple[DeveloperTool, ...] | None = None) -> tuple[str, bool]:
    """("az on PATH; azd, pwsh not on PATH", whether any is on PATH) for ``tools`` (default: all)."""
    from azcreds.developer import tools_on_path
    from azcreds.token_selection import DEVELOPER_TOOLS

    chosen = DEVELOPER_TOOLS if tools is None else tools
    found = tools_on_path(chosen)
    present = [t.executables[0] for t in chosen if found[t.label]]
    absent = [t.executables[0] for t in chosen if not found[t.label]]
    parts = []
    if present:
        parts.append(f"{', '.join(present)} on PATH")
    if absent:
        parts.append(f"{', '.join(absent)} not on PATH")
    return "; ".join(parts) or "no developer tool selected", bool(present)


class DeveloperIdentityResolver:
    """The developer's login for ``AZURE_STORAGE_ACCOUNT_NAME``, when selected (module docstring)."""

    @property
    def source(self) -> Literal["developer"]:
        return "developer"

    def __repr__(self) -> str:
        return "DeveloperIdentityResolver()"

    def resolve(self, name: str | None) -> SecretSchema:
        return self.resolve_explained(name)[0]

    def resolve_explained(self, name: str | None) -> tuple[SecretSchema, str]:
        """The secret, and a note for ``resolve --explain``: which tools are on PATH."""
        from azcreds.settings import get_settings
        from azcreds.token_selection import token_selection

        selection = token_selection()
        tools = selection.developer_tools()
        if selection.explicit and not tools:
            raise ResolverUnavailableError(f"{selection.describe()} excludes developer credentials")
        if not selection.explicit and get_settings().developer_identity != "on":
            raise ResolverUnavailableError(
                "developer identity is off: set AZURE_TOKEN_CREDENTIALS=dev or AZCREDS_DEVELOPER_IDENTITY=on"
            )
        summary, any_found = developer_tools_summary(tools)
        if not any_found:
            raise ResolverUnavailableError(f"no developer tool on PATH ({summary})")
        account = os.environ.get("AZURE_STORAGE_ACCOUNT_NAME")
        if not account:
            raise ResolverUnavailableError(f"{summary}, but AZURE_STORAGE_ACCOUNT_NAME is not set")
        fields = {"account_name": account}
        variables = {"account_name": "AZURE_STORAGE_ACCOUNT_NAME"}
        url = os.environ.get("AZURE_STORAGE_ACCOUNT_URL")
        if url:
            fields["account_url"] = url
            variables["account_url"] = "AZURE_STORAGE_ACCOUNT_URL"
        return parse_variables("azure-developer-identity", fields, variables), summary
