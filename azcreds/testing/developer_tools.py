"""Stand-in ``az`` and ``azd`` executables that answer azure-identity as the real tools do.

azure-identity's ``AzureCliCredential`` runs ``az account get-access-token --output json
--resource R [--tenant T] [--subscription S]`` and reads ``accessToken`` and ``expires_on`` (or
``expiresOn``, a local time) from its JSON; ``AzureDeveloperCliCredential`` runs ``azd auth token
--output json --no-prompt --scope S... [--tenant-id T]`` and reads ``token`` and ``expiresOn``
(``%Y-%m-%dT%H:%M:%SZ``). Both run the tool from ``/bin`` with stdin closed and kill it after
``process_timeout`` seconds. :class:`DeveloperTools` writes one executable per tool into a folder
(put it on ``PATH``) that prints exactly those documents, with a token from
:func:`~azcreds.testing.tokens.mint_token` for the resource asked for (so Azurite's ``--oauth
basic`` and :class:`~azcreds.testing.KeyVaultServer` accept it), or, per tool:

- ``"not-logged-in"``: what the tool prints when nobody is logged in, with its exit code 1
  (``ERROR: Please run 'az login' to setup account.``; azd's ``not logged in, run `azd auth
  login` to login`` console message);
- ``"hang"``: it blocks until it is killed (test a ``process_timeout`` without racing a sleep);
- ``"refuse"``: an ``AADSTS`` error, as when the login's refresh token was revoked (exit 1).

Each run is recorded (tool, arguments, working folder) in :attr:`DeveloperTools.calls`, so a test
can assert what azure-identity asked for, and that resolving asked for nothing.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import Literal

from azcreds.testing.tokens import TEST_TENANT_ID

__all__ = ["DeveloperToolMode", "DeveloperTools"]

DeveloperToolMode = Literal["ok", "not-logged-in", "hang", "refuse"]
"""How a stand-in answers: a token, not logged in, never (until killed), or an ``AADSTS`` refusal."""

_SCRIPT = r'''#!{python}
"""Stand-in for `{tool}` written by azcreds.testing.developer_tools (answers azure-identity)."""
import json
import os
import signal
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOOL = {tool!r}
args = sys.argv[1:]
state = json.loads((HERE / "state.json").read_text())
with open(HERE / "calls.jsonl", "a") as log:
    log.write(json.dumps({{"tool": TOOL, "args": args, "cwd": os.getcwd()}}) + "\n")
mode = state["modes"].get(TOOL, "ok")


def option(name):
    values = [args[i + 1] for i, a in enumerate(args[:-1]) if a == name]
    return values


if mode == "hang":
    signal.pause()  # until azure-identity kills it at process_timeout
if TOOL == "az":
    if args[:2] != ["account", "get-access-token"]:
        print(f"az: '{{' '.join(args[:2])}}' is not in the 'az' command group.", file=sys.stderr)
        sys.exit(2)
    if mode == "not-logged-in":
        print("ERROR: Please run 'az login' to setup account.", file=sys.stderr)
        sys.exit(1)
    if mode == "refuse":
        print("ERROR: AADSTS700082: The refresh token has expired due to inactivity.", file=sys.stderr)
        sys.exit(1)
    resource = (option("--resource") or option("--scope") or ["https://management.core.windows.net/"])[0]
    audience = resource.removesuffix("/.default")
else:
    if args[:2] != ["auth", "token"]:
        print(f"Error: unknown command {{args[:2]!r}} for azd", file=sys.stderr)
        sys.exit(1)
    if mode == "not-logged-in":
        message = "\nERROR: fetching token: not logged in, run `azd auth login` to login\n"
        stamp = datetime.now(timezone.utc).isoformat()
        print(json.dumps({{"type": "consoleMessage", "timestamp": stamp, "data": {{"message": message}}}}),
              file=sys.stderr)
        sys.exit(1)
    if mode == "refuse":
        print(json.dumps({{"error": "AADSTS700082: The refresh token has expired due to inactivity."}}),
              file=sys.stderr)
        sys.exit(1)
    audience = option("--scope")[0].removesuffix("/.default")
tenant = (option("--tenant") or option("--tenant-id") or [state["tenant_id"]])[0]
from azcreds.testing.tokens import mint_token

lifetime = int(state["lifetime"])
token = mint_token(audience, tenant_id=tenant, lifetime=lifetime)
expires = int(time.time()) + lifetime
if TOOL == "az":
    document = {{
        "accessToken": token,
        "expiresOn": datetime.fromtimestamp(expires).strftime("%Y-%m-%d %H:%M:%S.%f"),
        "expires_on": expires,
        "tenant": tenant,
        "tokenType": "Bearer",
    }}
    if not option("--tenant"):
        document["subscription"] = state["subscription"]
else:
    document = {{
        "token": token,
        "expiresOn": datetime.fromtimestamp(expires, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }}
print(json.dumps(document, indent=2))
'''


class DeveloperTools:
    """Stand-in developer tools in ``folder`` (created); put :attr:`folder` first on ``PATH``.

    ``tools`` picks which executables exist (``"az"``, ``"azd"``); ``tenant_id`` is the tenant of
    the tokens when none is asked for; ``lifetime`` their validity in seconds.
    """

    def __init__(
        self,
        folder: Path,
        *,
        tools: tuple[str, ...] = ("az", "azd"),
        tenant_id: str = TEST_TENANT_ID,
        lifetime: int = 3600,
        subscription: str = "4c1d3b2a-8e7f-4a6b-9c0d-1e2f3a4b5c6d",
    ) -> None:
        unknown = set(tools) - {"az", "azd"}
        if unknown:
            raise ValueError(f"no stand-in for {sorted(unknown)}: az and azd only")
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.tools = tools
        self._state = {
            "modes": dict.fromkeys(tools, "ok"),
            "tenant_id": tenant_id,
            "lifetime": lifetime,
            "subscription": subscription,
        }
        self._write_state()
        for tool in tools:
            path = self.folder / tool
            path.write_text(_SCRIPT.format(python=sys.executable, tool=tool))
            path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        (self.folder / "calls.jsonl").write_text("")

    def _write_state(self) -> None:
        temporary = self.folder / "state.json.tmp"
        temporary.write_text(json.dumps(self._state))
        os.replace(temporary, self.folder / "state.json")

    def set_mode(self, tool: str, mode: DeveloperToolMode) -> None:
        """How ``tool`` answers from its next run on (see the module docstring)."""
        if tool not in self.tools:
            raise ValueError(f"{tool!r} is not one of {self.tools}")
        self._state["modes"][tool] = mode  # type: ignore[index]
        self._write_state()

    @property
    def calls(self) -> list[dict[str, object]]:
        """Every run so far: ``{"tool", "args", "cwd"}``, oldest first."""
        lines = (self.folder / "calls.jsonl").read_text().splitlines()
        return [json.loads(line) for line in lines if line]

    def path(self, *, keep: str | None = None) -> str:
        """A ``PATH`` with the stand-ins first; ``keep`` (default: none) is appended after them.

        Without ``keep`` no real ``az``, ``azd`` or ``pwsh`` the machine has can be found.
        """
        return str(self.folder) if keep is None else f"{self.folder}{os.pathsep}{keep}"
