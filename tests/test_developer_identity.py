"""The developer identity end to end: stand-in az/azd on PATH → azure-identity's developer
credentials → DeveloperCredential → BlobServiceClient → HTTPS Azurite with OAuth.

Resolving runs no tool (the stand-ins record every run); the first blob request does. A tool that
is missing is a miss at resolve time; one that is not logged in, hangs or refuses is a
DeveloperIdentityError naming it at first use.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from azcreds import (
    AzureCredentials,
    DeveloperIdentityError,
    SecretNotFoundError,
    SettingsError,
    explain_resolution,
    resolve_credentials,
)
from azcreds.testing import TEST_TENANT_ID, AzuriteServer, DeveloperTools

STORAGE_ARGS = ["account", "get-access-token", "--output", "json", "--resource", "https://storage.azure.com"]
AZD_ARGS = [
    "auth",
    "token",
    "--output",
    "json",
    "--no-prompt",
    "--scope",
    "https://storage.azure.com/.default",
]


@pytest.fixture
def laptop(azurite_https: AzuriteServer, monkeypatch: pytest.MonkeyPatch) -> AzuriteServer:
    """A laptop: only the storage account is configured (no key, no managed identity)."""
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", azurite_https.account_name)
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_URL", azurite_https.blob_endpoint)
    # Generous: a stand-in that starts slowly on a loaded machine is not a hung tool.
    monkeypatch.setenv("AZCREDS_DEVELOPER_TIMEOUT", "120")
    return azurite_https


def round_trip(creds: AzureCredentials, azurite: AzuriteServer, container: str) -> bytes:
    service = creds.blob_service_client(connection_verify=str(azurite.ca_path), retry_total=0)
    service.create_container(container)
    blob = service.get_blob_client(container, "notebook/data.csv")
    blob.upload_blob(b"a,b\n1,2\n")
    return blob.download_blob().readall()


def tools_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *tools: str) -> DeveloperTools:
    stand_ins = DeveloperTools(tmp_path / "only", tools=tools)
    monkeypatch.setenv("PATH", stand_ins.path())
    return stand_ins


def test_resolving_runs_no_tool_and_the_first_request_runs_az(
    laptop: AzuriteServer,
    developer_tools: DeveloperTools,
    container_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "dev")
    creds = resolve_credentials()
    assert (creds.source, creds.schema_id) == ("developer", "azure-developer-identity")
    assert creds.account_url == laptop.blob_endpoint
    _ = creds.credential  # building the credential runs nothing either
    assert developer_tools.calls == []

    assert round_trip(creds, laptop, container_name) == b"a,b\n1,2\n"

    calls = developer_tools.calls
    assert [c["tool"] for c in calls] == ["az"]  # one token, cached for the three requests
    assert calls[0]["args"] == STORAGE_ARGS
    assert Path(str(calls[0]["cwd"])).resolve() == Path("/bin").resolve()  # as azure-identity runs it


def test_azd_alone_gives_the_token(
    laptop: AzuriteServer, tmp_path: Path, container_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stand_ins = tools_only(tmp_path, monkeypatch, "azd")
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "dev")
    creds = resolve_credentials()
    assert round_trip(creds, laptop, container_name) == b"a,b\n1,2\n"
    assert [(c["tool"], c["args"]) for c in stand_ins.calls] == [("azd", AZD_ARGS)]


def test_naming_one_credential_uses_that_tool_only(
    laptop: AzuriteServer,
    developer_tools: DeveloperTools,
    container_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "AzureDeveloperCliCredential")  # case-insensitive
    creds = resolve_credentials()
    assert round_trip(creds, laptop, container_name) == b"a,b\n1,2\n"
    assert {c["tool"] for c in developer_tools.calls} == {"azd"}


def test_named_secret_falls_to_the_developer_login_with_the_setting_on(
    laptop: AzuriteServer,
    developer_tools: DeveloperTools,
    container_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AZCREDS_DEVELOPER_IDENTITY", "on")
    resolution = explain_resolution("az_secret")
    assert [(a.source, a.outcome) for a in resolution.attempts] == [
        ("env", "miss"),
        ("keyring", "miss"),
        ("managed-identity", "miss"),
        ("developer", "hit"),
    ]
    assert "az, azd on PATH; pwsh not on PATH" in resolution.attempts[-1].detail
    creds = resolve_credentials("az_secret")
    assert round_trip(creds, laptop, container_name) == b"a,b\n1,2\n"


def test_a_tenant_goes_to_the_tool(
    laptop: AzuriteServer,
    developer_tools: DeveloperTools,
    container_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AZCREDS_LAB__SCHEMA", "azure-developer-identity")
    monkeypatch.setenv("AZCREDS_LAB__ACCOUNT_NAME", laptop.account_name)
    monkeypatch.setenv("AZCREDS_LAB__ACCOUNT_URL", laptop.blob_endpoint)
    monkeypatch.setenv("AZCREDS_LAB__TENANT_ID", TEST_TENANT_ID)
    creds = resolve_credentials("lab")
    assert creds.source == "env"
    assert round_trip(creds, laptop, container_name) == b"a,b\n1,2\n"
    assert developer_tools.calls[0]["args"] == [*STORAGE_ARGS, "--tenant", TEST_TENANT_ID]


def test_off_by_default(laptop: AzuriteServer, developer_tools: DeveloperTools) -> None:
    with pytest.raises(SecretNotFoundError) as missed:
        resolve_credentials()
    assert "developer: developer identity is off" in str(missed.value)
    assert developer_tools.calls == []


def test_no_tool_on_path_is_a_miss_with_the_reason(
    laptop: AzuriteServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tools_only(tmp_path, monkeypatch)
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "dev")
    with pytest.raises(SecretNotFoundError) as missed:
        resolve_credentials()
    assert "developer: no developer tool on PATH (az, pwsh, azd not on PATH)" in str(missed.value)


def test_the_named_tool_missing_is_a_miss_even_if_another_is_there(
    laptop: AzuriteServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stand_ins = tools_only(tmp_path, monkeypatch, "azd")
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "azureclicredential")
    with pytest.raises(SecretNotFoundError) as missed:
        resolve_credentials()
    assert "(az not on PATH)" in str(missed.value)
    assert stand_ins.calls == []


def test_not_logged_in_is_a_typed_error_naming_the_tool_at_first_use(
    laptop: AzuriteServer, tmp_path: Path, container_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stand_ins = tools_only(tmp_path, monkeypatch, "az")
    stand_ins.set_mode("az", "not-logged-in")
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "dev")
    creds = resolve_credentials()  # resolving does not notice: it runs nothing
    assert stand_ins.calls == []
    with pytest.raises(DeveloperIdentityError) as failed:
        round_trip(creds, laptop, container_name)  # raised through the Blob SDK's pipeline
    assert failed.value.tool == "Azure CLI (az)"
    assert "Azure CLI (az): not logged in: run `az login`" in str(failed.value)
    assert ("Azure PowerShell (pwsh)", "pwsh/powershell not on PATH") in failed.value.attempts


def test_azd_not_logged_in_names_azd(
    tmp_path: Path, laptop: AzuriteServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    stand_ins = tools_only(tmp_path, monkeypatch, "azd")
    stand_ins.set_mode("azd", "not-logged-in")
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "dev")
    with pytest.raises(DeveloperIdentityError) as failed:
        resolve_credentials().credential.get_token("https://storage.azure.com/.default")
    assert failed.value.tool == "Azure Developer CLI (azd)"
    assert "not logged in: run `azd auth login`" in str(failed.value)


def test_a_hanging_tool_is_stopped_at_process_timeout_and_named(
    laptop: AzuriteServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The stand-in blocks until killed: the outcome does not depend on how fast anything is.
    stand_ins = tools_only(tmp_path, monkeypatch, "az")
    stand_ins.set_mode("az", "hang")
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "azureclicredential")
    monkeypatch.setenv("AZCREDS_DEVELOPER_TIMEOUT", "1")
    creds = resolve_credentials()
    with pytest.raises(DeveloperIdentityError) as failed:
        creds.credential.get_token("https://storage.azure.com/.default")
    assert failed.value.tool == "Azure CLI (az)"
    assert "did not answer within 1 s (process_timeout)" in str(failed.value)
    assert [c["tool"] for c in stand_ins.calls] == ["az"]


def test_a_refusing_tool_stops_there(
    laptop: AzuriteServer, developer_tools: DeveloperTools, monkeypatch: pytest.MonkeyPatch
) -> None:
    developer_tools.set_mode("az", "refuse")
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "dev")
    with pytest.raises(DeveloperIdentityError) as failed:
        resolve_credentials().credential.get_token("https://storage.azure.com/.default")
    assert failed.value.tool == "Azure CLI (az)"
    assert "AADSTS700082" in str(failed.value)
    assert [c["tool"] for c in developer_tools.calls] == ["az"]  # azd is not asked after a refusal


def test_a_stored_developer_secret_under_prod_refuses_tokens(
    laptop: AzuriteServer, developer_tools: DeveloperTools, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZCREDS_LAB__SCHEMA", "azure-developer-identity")
    monkeypatch.setenv("AZCREDS_LAB__ACCOUNT_NAME", laptop.account_name)
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "prod")
    creds = resolve_credentials("lab")
    with pytest.raises(
        DeveloperIdentityError, match="AZURE_TOKEN_CREDENTIALS=prod selects no developer tool"
    ):
        creds.credential.get_token("https://storage.azure.com/.default")
    assert developer_tools.calls == []


def test_async_credential_for_adlfs(
    laptop: AzuriteServer, developer_tools: DeveloperTools, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "dev")
    options = resolve_credentials().storage_options()
    assert options["account_name"] == laptop.account_name
    assert options["account_host"] == laptop.blob_endpoint.split("://", 1)[1].split("/", 1)[0]

    async def token() -> str:
        async with options["credential"] as credential:
            return (await credential.get_token("https://storage.azure.com/.default")).token

    assert asyncio.run(token()).count(".") == 2  # a JWT
    assert [c["tool"] for c in developer_tools.calls] == ["az"]


def test_children_are_told_to_use_the_developer_login(
    laptop: AzuriteServer, developer_tools: DeveloperTools, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "azureclicredential")
    env = resolve_credentials().to_env()
    assert env["AZURE_TOKEN_CREDENTIALS"] == "azureclicredential"
    assert env["AZURE_STORAGE_ACCOUNT_NAME"] == laptop.account_name
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "dev")
    assert resolve_credentials(refresh=True).to_env()["AZURE_TOKEN_CREDENTIALS"] == "dev"


def test_an_invalid_selection_is_a_settings_error_without_the_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "laptopcredential")
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", "devstoreaccount1")
    with pytest.raises(SettingsError) as bad:
        resolve_credentials()
    assert bad.value.variables == ("AZURE_TOKEN_CREDENTIALS",)
    assert "azureclicredential" in str(bad.value)
    assert "laptopcredential" not in str(bad.value)
