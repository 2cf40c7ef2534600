"""What ``AZURE_TOKEN_CREDENTIALS`` selects, read as azure-identity (1.23+) defines it.

azure-identity's ``DefaultAzureCredential`` reads the variable (stripped, case-insensitive):

- unset or empty: every credential of its chain;
- ``dev``: the developer credentials only (Visual Studio Code, Azure CLI, Azure Developer CLI,
  Azure PowerShell, the shared token cache, the broker);
- ``prod``: the production credentials only (environment, workload identity, managed identity);
- one credential's class name, lower-cased (``azureclicredential``, ``managedidentitycredential``,
  ...): that credential alone;
- anything else: an error naming the valid values.

azcreds applies the same selection to its own identities: the managed-identity resolver, the
developer-identity resolver, the credential of an ``azure-developer-identity`` secret and
:func:`azcreds.identity.default_keyvault_credential`. An invalid value is a
:class:`~azcreds.errors.SettingsError` (bad input), worded from the valid values only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from azcreds.errors import FieldError, SettingsError

__all__ = [
    "DEVELOPER_TOOLS",
    "VARIABLE",
    "DeveloperTool",
    "TokenSelection",
    "token_selection",
]

VARIABLE = "AZURE_TOKEN_CREDENTIALS"

#: azure-identity's credential keys and the class name ``AZURE_TOKEN_CREDENTIALS`` may name.
CREDENTIAL_NAMES: dict[str, str | None] = {
    "environment": "environmentcredential",
    "workload_identity": "workloadidentitycredential",
    "managed_identity": "managedidentitycredential",
    "shared_token_cache": None,
    "visual_studio_code": "visualstudiocodecredential",
    "cli": "azureclicredential",
    "developer_cli": "azuredeveloperclicredential",
    "powershell": "azurepowershellcredential",
    "interactive_browser": "interactivebrowsercredential",
    "broker": None,
}
_DEV = frozenset({"visual_studio_code", "cli", "developer_cli", "powershell", "shared_token_cache", "broker"})
_PROD = frozenset({"environment", "workload_identity", "managed_identity"})


@dataclass(frozen=True)
class DeveloperTool:
    """A developer login azure-identity can use: its credential key, class, program and label."""

    key: str  # azure-identity's credential key ("cli", ...)
    credential: str  # the azure.identity class name
    executables: tuple[str, ...]  # what azure-identity looks for on PATH, in its order
    label: str  # for messages: "Azure CLI (az)"


#: The developer tools, in ``DefaultAzureCredential``'s order (CLI, PowerShell, Developer CLI).
DEVELOPER_TOOLS: tuple[DeveloperTool, ...] = (
    DeveloperTool("cli", "AzureCliCredential", ("az",), "Azure CLI (az)"),
    DeveloperTool(
        "powershell", "AzurePowerShellCredential", ("pwsh", "powershell"), "Azure PowerShell (pwsh)"
    ),
    DeveloperTool("developer_cli", "AzureDeveloperCliCredential", ("azd",), "Azure Developer CLI (azd)"),
)


@dataclass(frozen=True)
class TokenSelection:
    """The parsed value: ``value`` is ``""`` (unset), ``"dev"``, ``"prod"`` or a credential key."""

    value: str

    @property
    def explicit(self) -> bool:
        """Whether the variable is set (to a valid value)."""
        return bool(self.value)

    def allows(self, key: str) -> bool:
        """Whether the credential ``key`` (``"cli"``, ``"managed_identity"``, ...) is selected."""
        if not self.value:
            return True
        if self.value == "dev":
            return key in _DEV
        if self.value == "prod":
            return key in _PROD
        return key == self.value

    def developer_tools(self) -> tuple[DeveloperTool, ...]:
        """The developer tools this selection allows, in azure-identity's order."""
        return tuple(t for t in DEVELOPER_TOOLS if self.allows(t.key))

    @property
    def selects_developer(self) -> bool:
        """Whether the variable is set and asks for one developer tool or more."""
        return self.explicit and bool(self.developer_tools())

    def describe(self) -> str:
        """``AZURE_TOKEN_CREDENTIALS=dev`` (or ``... is not set``), for messages."""
        if not self.value:
            return f"{VARIABLE} is not set"
        shown = self.value if self.value in ("dev", "prod") else CREDENTIAL_NAMES[self.value]
        return f"{VARIABLE}={shown}"


def token_selection() -> TokenSelection:
    """The selection ``AZURE_TOKEN_CREDENTIALS`` makes now (read at each call, as azure-identity
    reads it each time a ``DefaultAzureCredential`` is built). SettingsError for a bad value."""
    raw = os.environ.get(VARIABLE, "").strip().lower()
    if raw in ("", "dev", "prod"):
        return TokenSelection(raw)
    for key, name in CREDENTIAL_NAMES.items():
        if name == raw:
            return TokenSelection(key)
    valid = ["dev", "prod", *sorted(n for n in CREDENTIAL_NAMES.values() if n)]
    raise SettingsError([FieldError(VARIABLE, f"must be one of {', '.join(valid)}")])
