"""`azcreds resolve` with the developer identity: --explain names the tools on PATH, resolving runs
none, and a bad AZURE_TOKEN_CREDENTIALS is bad input (exit 2, one line)."""

from __future__ import annotations

import json

import pytest

from azcreds.testing import DeveloperTools
from tests.cli.helpers import Cli


@pytest.fixture
def laptop(developer_tools: DeveloperTools, monkeypatch: pytest.MonkeyPatch) -> DeveloperTools:
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", "devstoreaccount1")
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "dev")
    return developer_tools


def test_explain_names_the_developer_tools_on_path(cli: Cli, laptop: DeveloperTools) -> None:
    result = cli("resolve", "--explain")
    assert result.code == 0, result.err
    assert "implicit credentials: azure-developer-identity from developer" in result.out
    assert "developer tools: az, azd on PATH; pwsh not on PATH" in result.out
    assert laptop.calls == []


def test_json_lists_where_each_tool_is(cli: Cli, laptop: DeveloperTools) -> None:
    result = cli("resolve", "--json")
    data = json.loads(result.out)
    assert data["source"] == "developer"
    tools = data["developer_tools"]
    assert tools["Azure CLI (az)"] == str(laptop.folder / "az")
    assert tools["Azure PowerShell (pwsh)"] is None
    assert laptop.calls == []


def test_explain_shows_the_tools_even_when_the_identity_is_off(
    cli: Cli, laptop: DeveloperTools, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AZURE_TOKEN_CREDENTIALS")
    result = cli("resolve", "--explain")
    assert result.code == 1
    assert "developer tools: az, azd on PATH; pwsh not on PATH" in result.out
    assert "developer identity is off" in result.out


def test_a_bad_selection_is_bad_input(
    cli: Cli, laptop: DeveloperTools, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "my-secret-laptop")
    result = cli("resolve")
    line = result.assert_clean_error(2)
    assert "AZURE_TOKEN_CREDENTIALS" in line
    result.assert_no_secret("my-secret-laptop")


def test_a_stored_developer_identity(cli: Cli, keyring: object, laptop: DeveloperTools) -> None:
    result = cli(
        "secret", "register", "lab", "--schema", "azure-developer-identity",
        "--account-name=labstorage", "--tenant-id=contoso.onmicrosoft.com",
    )  # fmt: skip
    assert result.code == 0, result.err
    shown = cli("secret", "get", "lab", "--json")
    assert json.loads(shown.out)["fields"] == {
        "account_name": "labstorage",
        "tenant_id": "contoso.onmicrosoft.com",
    }
    resolved = json.loads(cli("resolve", "lab", "--json").out)
    assert (resolved["source"], resolved["schema"]) == ("keyring", "azure-developer-identity")
    assert laptop.calls == []
