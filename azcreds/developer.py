"""DeveloperCredential: the developer's own login (az, pwsh, azd) as one token credential.

It wraps azure-identity's ``AzureCliCredential``, ``AzurePowerShellCredential`` and
``AzureDeveloperCliCredential`` (the tools ``AZURE_TOKEN_CREDENTIALS`` selects, in
``DefaultAzureCredential``'s order) and asks them in turn **when a token is first needed**:
building it runs nothing. A tool that is not on PATH is skipped; one that is not logged in or does
not answer within ``process_timeout`` seconds (azure-identity kills it then) is noted and the next
one is asked; a tool that ran and refused stops there. When none gives a token the error is
:class:`~azcreds.errors.DeveloperIdentityError`, naming each tool and why, never a token.

Tokens are kept until five minutes before they expire (the CLI credentials cache nothing, and each
``az`` call costs about a second), per scope, tenant and claims.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from azcreds.errors import DeveloperIdentityError
from azcreds.token_selection import DEVELOPER_TOOLS, DeveloperTool

if TYPE_CHECKING:
    from types import TracebackType

    from azure.core.credentials import AccessToken, AccessTokenInfo, TokenRequestOptions

__all__ = ["AsyncDeveloperCredential", "DeveloperCredential", "tools_on_path"]

#: Seconds before expiry at which a cached token is fetched again.
REFRESH_MARGIN = 300
_LOGIN_HINTS = {"cli": "az login", "developer_cli": "azd auth login", "powershell": "Connect-AzAccount"}


def tools_on_path(tools: Sequence[DeveloperTool] = DEVELOPER_TOOLS) -> dict[str, str | None]:
    """``{label: path or None}`` for each tool: where ``shutil.which`` finds it, as azure-identity
    will. Runs nothing."""
    found: dict[str, str | None] = {}
    for tool in tools:
        found[tool.label] = next((p for p in map(shutil.which, tool.executables) if p), None)
    return found


def _why(tool: DeveloperTool, exc: BaseException, timeout: float) -> str:
    """Why a tool gave no token, in a few words (azure-identity's messages are sanitised of tokens)."""
    cause = exc.__cause__
    if isinstance(cause, subprocess.TimeoutExpired):
        return f"did not answer within {timeout:g} s (process_timeout); it was stopped"
    text = " ".join(str(getattr(exc, "message", "") or exc).split())
    hint = _LOGIN_HINTS[tool.key]
    if hint in text or "not logged in" in text.lower() or "Connect-AzAccount" in text:
        return f"not logged in: run `{hint}`"
    return text[:300] + ("..." if len(text) > 300 else "")


class DeveloperCredential:
    """An azure-core ``TokenCredential`` (and ``SupportsTokenInfo``) over the developer tools.

    ``tools`` defaults to every developer tool; ``tenant_id`` is passed to each tool;
    ``process_timeout`` (seconds) bounds each tool run, as azure-identity's option does.
    ``excluded`` is a reason to refuse every token (the tools were deselected by
    ``AZURE_TOKEN_CREDENTIALS``): the error then says so.
    """

    def __init__(
        self,
        tools: Sequence[DeveloperTool] | None = None,
        *,
        tenant_id: str | None = None,
        process_timeout: float = 10,
        excluded: str | None = None,
    ) -> None:
        self.tools: tuple[DeveloperTool, ...] = tuple(DEVELOPER_TOOLS if tools is None else tools)
        self.tenant_id = tenant_id
        self.process_timeout = process_timeout
        self._excluded = excluded
        self._credentials: dict[str, Any] = {}
        self._cache: dict[tuple[object, ...], AccessTokenInfo] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"DeveloperCredential([{', '.join(t.label for t in self.tools)}])"

    def _credential(self, tool: DeveloperTool) -> Any:
        credential = self._credentials.get(tool.key)
        if credential is None:
            import azure.identity

            kwargs: dict[str, Any] = {"process_timeout": self.process_timeout}
            if self.tenant_id:
                kwargs["tenant_id"] = self.tenant_id
            credential = self._credentials[tool.key] = getattr(azure.identity, tool.credential)(**kwargs)
        return credential

    def get_token_info(self, *scopes: str, options: TokenRequestOptions | None = None) -> AccessTokenInfo:
        """A token for ``scopes`` from the first tool that gives one (see the module docstring)."""
        from azure.core.exceptions import ClientAuthenticationError
        from azure.identity import CredentialUnavailableError

        opts = dict(options or {})
        key = (scopes, opts.get("tenant_id"), opts.get("claims"), bool(opts.get("enable_cae")))
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and cached.expires_on - REFRESH_MARGIN > time.time():
                return cached
        if self._excluded:
            raise DeveloperIdentityError(f"developer identity is off: {self._excluded}", tool=None)
        attempts: list[tuple[str, str]] = []
        failed: str | None = None
        on_path = tools_on_path(self.tools)
        for tool in self.tools:
            if on_path[tool.label] is None:
                attempts.append((tool.label, f"{'/'.join(tool.executables)} not on PATH"))
                continue
            try:
                token: AccessTokenInfo = self._credential(tool).get_token_info(*scopes, options=options)
            except CredentialUnavailableError as exc:
                attempts.append((tool.label, _why(tool, exc, self.process_timeout)))
                failed = failed or tool.label
                continue
            except ClientAuthenticationError as exc:
                attempts.append((tool.label, _why(tool, exc, self.process_timeout)))
                failed = tool.label
                break
            with self._lock:
                self._cache[key] = token
            return token
        tried = "; ".join(f"{label}: {why}" for label, why in attempts)
        message = f"developer identity got no token. Tried {tried}"
        raise DeveloperIdentityError(message, tool=failed, attempts=attempts)

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        """As :meth:`get_token_info`, as an ``AccessToken``."""
        from azure.core.credentials import AccessToken

        options: dict[str, Any] = {"enable_cae": enable_cae}
        if claims:
            options["claims"] = claims
        if tenant_id:
            options["tenant_id"] = tenant_id
        info = self.get_token_info(*scopes, options=options)  # type: ignore[arg-type]
        return AccessToken(info.token, info.expires_on)

    def close(self) -> None:
        """Nothing to release (the tools are separate processes, run per token)."""

    def __enter__(self) -> DeveloperCredential:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncDeveloperCredential:
    """The asyncio face of a :class:`DeveloperCredential` (for adlfs and the ``aio`` SDK clients):
    each token request runs the sync credential in a worker thread."""

    def __init__(self, credential: DeveloperCredential) -> None:
        self.credential = credential

    async def get_token_info(
        self, *scopes: str, options: TokenRequestOptions | None = None
    ) -> AccessTokenInfo:
        import asyncio

        return await asyncio.to_thread(self.credential.get_token_info, *scopes, options=options)

    async def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        import asyncio

        return await asyncio.to_thread(
            self.credential.get_token, *scopes, claims=claims, tenant_id=tenant_id, enable_cae=enable_cae
        )

    async def close(self) -> None:
        """Nothing to release."""

    async def __aenter__(self) -> AsyncDeveloperCredential:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
