"""The ``azure-developer-identity`` schema: the developer's own login (az, pwsh, azd) for an account.

It holds no secret: the token comes from the developer tools when the credential is first used
(:class:`azcreds.developer.DeveloperCredential`), through the tools ``AZURE_TOKEN_CREDENTIALS``
selects, bounded by ``AZCREDS_DEVELOPER_TIMEOUT``. Import it from :mod:`azcreds.schemas`.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from azcreds._validators import check_tenant
from azcreds.schemas._base import _wrap
from azcreds.schemas._concrete import _TokenAccountSchema, default_account_url

__all__ = ["DeveloperIdentitySecret"]


class DeveloperIdentitySecret(_TokenAccountSchema):
    """The developer's Azure CLI / Azure Developer CLI / Azure PowerShell login, for one account."""

    schema_id: ClassVar[str] = "azure-developer-identity"
    title: ClassVar[str] = "Developer identity"

    tenant_id: str | None = Field(
        default=None, description="Tenant to ask the tools for tokens in; default the login's own."
    )

    _check_tenant = field_validator("tenant_id")(_wrap(check_tenant))

    def build_credential(self) -> Any:
        from azcreds.developer import DeveloperCredential
        from azcreds.settings import get_settings
        from azcreds.token_selection import token_selection

        selection = token_selection()
        timeout = get_settings().developer_timeout
        tools = selection.developer_tools()
        excluded = None
        if not tools:
            excluded = f"{selection.describe()} selects no developer tool"
        return DeveloperCredential(
            tools, tenant_id=self.tenant_id, process_timeout=timeout, excluded=excluded
        )

    def storage_options(self) -> dict[str, Any]:
        from azcreds.developer import AsyncDeveloperCredential

        options: dict[str, Any] = {
            "account_name": self.account_name,
            "credential": AsyncDeveloperCredential(self.build_credential()),
        }
        if self.account_url and self.account_url != default_account_url(self.account_name):
            options["account_host"] = urlsplit(self.account_url).netloc
        return options

    def env_vars(self) -> dict[str, str]:
        # The child logs in as the developer too: azure-identity's DefaultAzureCredential (and
        # azcreds' own implicit chain) read AZURE_TOKEN_CREDENTIALS=dev as "the developer tools".
        from azcreds.token_selection import VARIABLE, token_selection

        selection = token_selection()
        env = self._account_env()
        tools = selection.developer_tools()
        if selection.explicit and len(tools) == 1:
            env[VARIABLE] = tools[0].credential.lower()
        else:
            env[VARIABLE] = "dev"
        return env
