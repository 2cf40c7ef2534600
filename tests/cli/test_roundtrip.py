"""Every schema through the CLI: register, list, get, update, resolve, delete; then blob I/O on Azurite."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas

from azcreds import SecretExistsError, clear_cache, resolve_credentials
from azcreds.resolvers.keyring import KeyringStore
from azcreds.schemas import get_schema, parse_secret
from azcreds.testing import AzuriteServer
from tests.cli.helpers import S1_KEY, Cli
from tests.helpers import CLIENT_ID, TENANT_ID, b64, sas_token

MASK = "**********"

KEY = b64("RT-ACCOUNT-KEY-MARKER-" + "a" * 42)
KEY2 = b64("RT-ACCOUNT-KEY-TWO-MARKER-" + "b" * 38)
CS_KEY = b64("RT-CONNSTR-KEY-MARKER-" + "c" * 42)
CS = f"DefaultEndpointsProtocol=https;AccountName=acctcs;AccountKey={CS_KEY};EndpointSuffix=core.windows.net"
CS2_KEY = b64("RT-CONNSTR-KEY-TWO-MARKER-" + "d" * 38)
CS2 = CS.replace(CS_KEY, CS2_KEY)
SAS = sas_token(sig=b64("RT-SAS-SIG-MARKER"))
SAS2 = sas_token(sig=b64("RT-SAS-SIG-TWO-MARKER"))
SP_SECRET = "RT~client.secret-MARKER_0123456789"
SP_SECRET2 = "RT~client.secret-TWO-MARKER_0123456789"


@dataclass
class SchemaCase:
    schema: str
    args: list[str]  # the field flags given to `secret register`
    stored_schema: str  # what the keyring keeps (the flat `azure` is normalised)
    account_name: str
    revealed: dict[str, str]  # `secret get --reveal --json` fields after register
    secrets: list[str]  # values that must never appear unless revealed
    update: list[str]
    updated: dict[str, str]  # `secret get --reveal --json` fields after update
    secrets_after_update: list[str] = field(default_factory=list)


CASES = [
    SchemaCase(
        schema="azure-connection-string",
        args=["--connection-string", CS],
        stored_schema="azure-connection-string",
        account_name="acctcs",
        revealed={"connection_string": CS},
        secrets=[CS_KEY],
        update=[f"--connection_string={CS2}"],
        updated={"connection_string": CS2},
        secrets_after_update=[CS2_KEY],
    ),
    SchemaCase(
        schema="azure-account-key",
        args=[
            "--account_name=acctkey",
            f"--account-key={KEY}",
            "--account_url",
            "https://acctkey.example.com",
        ],
        stored_schema="azure-account-key",
        account_name="acctkey",
        revealed={
            "account_name": "acctkey",
            "account_url": "https://acctkey.example.com",
            "account_key": KEY,
        },
        secrets=[KEY],
        update=[f"--account-key={KEY2}", "--account_url="],  # change the key, drop the URL
        updated={"account_name": "acctkey", "account_key": KEY2},
        secrets_after_update=[KEY2],
    ),
    SchemaCase(
        schema="azure-sas-token",
        args=["--account-name", "acctsas", f"--sas_token={SAS}"],
        stored_schema="azure-sas-token",
        account_name="acctsas",
        revealed={"account_name": "acctsas", "sas_token": SAS},
        secrets=[SAS, SAS.rsplit("sig=", 1)[1]],
        update=["--sas-token", SAS2],
        updated={"account_name": "acctsas", "sas_token": SAS2},
        secrets_after_update=[SAS2.rsplit("sig=", 1)[1]],
    ),
    SchemaCase(
        schema="azure-service-principal",
        args=[
            "--account_name=acctsp",
            f"--tenant-id={TENANT_ID}",
            "--client_id",
            CLIENT_ID,
            f"--client-secret={SP_SECRET}",
        ],
        stored_schema="azure-service-principal",
        account_name="acctsp",
        revealed={
            "account_name": "acctsp",
            "tenant_id": TENANT_ID,
            "client_id": CLIENT_ID,
            "client_secret": SP_SECRET,
        },
        secrets=[SP_SECRET],
        update=[f"--client_secret={SP_SECRET2}"],
        updated={
            "account_name": "acctsp",
            "tenant_id": TENANT_ID,
            "client_id": CLIENT_ID,
            "client_secret": SP_SECRET2,
        },
        secrets_after_update=[SP_SECRET2],
    ),
    SchemaCase(
        schema="azure-managed-identity",
        args=["--account-name=acctmi", "--client_id", CLIENT_ID],
        stored_schema="azure-managed-identity",
        account_name="acctmi",
        revealed={"account_name": "acctmi", "client_id": CLIENT_ID},
        secrets=[],
        update=["--client-id="],  # back to the system-assigned identity
        updated={"account_name": "acctmi"},
    ),
    SchemaCase(
        schema="azure",
        args=["--account_name=acctflat", "--sas-token", SAS],
        stored_schema="azure-sas-token",
        account_name="acctflat",
        revealed={"account_name": "acctflat", "sas_token": SAS},
        secrets=[SAS, SAS.rsplit("sig=", 1)[1]],
        update=["--account-url=https://acctflat.example.com"],
        updated={"account_name": "acctflat", "account_url": "https://acctflat.example.com", "sas_token": SAS},
    ),
]


def only_warnings(err: str) -> None:
    """stderr may hold argv-visibility warnings, nothing else."""
    for line in err.splitlines():
        assert line.startswith("azcreds: warning: "), err


@pytest.mark.parametrize("case", CASES, ids=[c.schema for c in CASES])
def test_round_trip_every_schema(cli: Cli, store: KeyringStore, case: SchemaCase) -> None:
    secrets = case.secrets + case.secrets_after_update

    r = cli("secret", "register", "az_secret", "--schema", case.schema, *case.args)
    assert r.code == 0, r
    assert "registered" in r.out
    assert "az_secret" in r.out
    only_warnings(r.err)
    r.assert_no_secret(*secrets)
    assert store.get("az_secret").schema_id == case.stored_schema

    r = cli("secret", "list")
    assert r.code == 0, r
    assert "az_secret" in r.out
    assert case.stored_schema in r.out
    assert r.err == ""

    r = cli("secret", "list", "--json")
    assert r.code == 0, r
    rows = json.loads(r.out)
    assert [(row["name"], row["schema"], row["store"]) for row in rows] == [
        ("az_secret", case.stored_schema, "keyring")
    ]

    r = cli("secret", "get", "az_secret")
    assert r.code == 0, r
    assert "az_secret" in r.out
    assert case.stored_schema in r.out
    for name, value in case.revealed.items():
        assert name in r.out
        if name not in get_schema(case.stored_schema).secret_fields() and len(value) < 40:
            assert value in r.out
    if case.secrets:
        assert MASK in r.out
    r.assert_no_secret(*secrets)

    r = cli("secret", "get", "az_secret", "--json")
    assert r.code == 0, r
    data = json.loads(r.out)
    assert data["name"] == "az_secret"
    assert data["schema"] == case.stored_schema
    assert data["store"] == "keyring"
    secret_fields = get_schema(case.stored_schema).secret_fields()
    masked = {k: (MASK if k in secret_fields else v) for k, v in case.revealed.items()}
    assert data["fields"] == masked
    r.assert_no_secret(*secrets)

    r = cli("secret", "get", "az_secret", "--reveal", "--json")
    assert r.code == 0, r
    assert json.loads(r.out)["fields"] == case.revealed

    r = cli("secret", "update", "az_secret", *case.update)
    assert r.code == 0, r
    assert "updated" in r.out
    only_warnings(r.err)
    r.assert_no_secret(*secrets)
    r = cli("secret", "get", "az_secret", "--reveal", "--json")
    assert json.loads(r.out)["fields"] == case.updated

    r = cli("resolve", "az_secret")
    assert r.code == 0, r
    assert "keyring" in r.out
    assert case.stored_schema in r.out
    assert case.account_name in r.out
    r.assert_no_secret(*secrets)

    r = cli("resolve", "az_secret", "--explain")
    assert r.code == 0, r
    assert "env" in r.out
    assert "keyring" in r.out
    assert "hit" in r.out
    r.assert_no_secret(*secrets)

    r = cli("resolve", "az_secret", "--json")
    assert r.code == 0, r
    data = json.loads(r.out)
    assert data["ok"] is True
    assert data["source"] == "keyring"
    assert data["schema"] == case.stored_schema
    assert data["account_name"] == case.account_name
    assert [a["source"] for a in data["attempts"]] == ["env", "keyring"]
    r.assert_no_secret(*secrets)

    clear_cache()
    creds = resolve_credentials("az_secret")
    assert creds.source == "keyring"
    assert creds.schema_id == case.stored_schema
    assert creds.account_name == case.account_name

    r = cli("secret", "delete", "az_secret", "--yes")
    assert r.code == 0, r
    assert "deleted" in r.out
    assert cli("secret", "get", "az_secret").code == 1
    assert json.loads(cli("secret", "list", "--json").out) == []


def test_names_are_case_insensitive_and_keep_their_spelling(cli: Cli, populated: KeyringStore) -> None:
    r = cli("secret", "get", "S1", "--json")
    assert r.code == 0, r
    assert json.loads(r.out)["name"] == "s1"
    r = cli("secret", "register", "My-Secret", "--schema", "azure-managed-identity", "--account_name=acct")
    assert r.code == 0, r
    assert [row["name"] for row in json.loads(cli("secret", "list", "--json").out)] == ["My-Secret", "s1"]
    assert json.loads(cli("resolve", "MY-SECRET", "--json").out)["source"] == "keyring"


def test_list_of_an_empty_or_absent_keyring(cli: Cli, keyring_path: Path) -> None:
    r = cli("secret", "list", "--json")
    assert (r.code, json.loads(r.out)) == (0, [])
    r = cli("secret", "list")
    assert r.code == 0
    assert "no secrets" in r.out


def test_register_json_is_masked(cli: Cli, store: KeyringStore) -> None:
    r = cli(
        "secret",
        "register",
        "s2",
        "--schema",
        "azure-account-key",
        "--account_name=acct",
        "--account_key=-",
        "--json",
        stdin=KEY + "\n",
    )
    assert r.code == 0, r
    assert json.loads(r.out)["fields"] == {"account_name": "acct", "account_key": MASK}
    r.assert_no_secret(KEY)


def test_overwrite_replaces_a_secret(cli: Cli, populated: KeyringStore) -> None:
    r = cli(
        "secret",
        "register",
        "s1",
        "--schema",
        "azure-account-key",
        "--account_name=other",
        "--account_key=-",
        "--overwrite",
        stdin=KEY,
    )
    assert r.code == 0, r
    assert populated.get("s1").account_name == "other"  # type: ignore[attr-defined]


def test_get_reveal_table_shows_whole_values(cli: Cli, populated: KeyringStore) -> None:
    """`secret get --reveal` (table, output not a terminal: 80 columns) must show the whole key.

    A value cut short with an ellipsis is neither hidden nor usable.
    """
    r = cli("secret", "get", "s1", "--reveal")
    assert r.code == 0, r
    unwrapped = "".join(r.out.replace("│", "").split())  # a value folded over lines counts
    assert S1_KEY in unwrapped, f"the revealed key is not whole in:\n{r.out}"


# --------------------------------------------------------------------------- Azurite


def _account_sas(azurite: AzuriteServer) -> str:
    return generate_account_sas(
        azurite.account_name,
        azurite.account_key,
        resource_types=ResourceTypes(service=True, container=True, object=True),
        permission=AccountSasPermissions(read=True, list=True, write=True, create=True, add=True),
        expiry=datetime.now(UTC) + timedelta(days=2),
    )


@pytest.mark.parametrize("kind", ["connection-string", "account-key", "sas"])
def test_cli_registered_secret_works_on_azurite(
    cli: Cli,
    store: KeyringStore,
    azurite: AzuriteServer,
    container_name: str,
    tmp_path: Path,
    kind: str,
) -> None:
    stdin = ""
    if kind == "connection-string":
        args = ["--schema", "azure-connection-string", "--connection_string=-"]
        stdin = azurite.connection_string + "\n"
        secret = azurite.account_key
    elif kind == "account-key":
        args = [
            "--schema",
            "azure-account-key",
            f"--account_name={azurite.account_name}",
            "--account-key=-",
            "--account-url",
            azurite.blob_endpoint,
        ]
        stdin = azurite.account_key
        secret = azurite.account_key
    else:
        sas = _account_sas(azurite)
        (tmp_path / "sas.txt").write_text(sas + "\n")
        args = [
            "--schema",
            "azure-sas-token",
            "--account-name",
            azurite.account_name,
            f"--sas-token=@{tmp_path / 'sas.txt'}",
            f"--account_url={azurite.blob_endpoint}",
        ]
        secret = sas.rsplit("sig=", 1)[1]

    r = cli("secret", "register", "az_secret", *args, stdin=stdin)
    assert r.code == 0, r
    assert r.err == ""  # nothing literal on argv: no warning either
    r.assert_no_secret(secret)

    clear_cache()
    creds = resolve_credentials("az_secret")
    assert creds.source == "keyring"
    assert creds.account_url.rstrip("/") == azurite.blob_endpoint.rstrip("/")
    service = creds.blob_service_client(retry_total=0)
    service.create_container(container_name)
    blob = service.get_blob_client(container_name, "cli/artifact.bin")
    blob.upload_blob(b"registered through the CLI")
    assert blob.download_blob().readall() == b"registered through the CLI"


def test_resolve_reports_the_env_resolver(
    cli: Cli, populated: KeyringStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A named secret in AZCREDS_<NAME>__* variables wins over the keyring; the CLI says so."""
    monkeypatch.setenv("AZCREDS_S1__CONNECTION_STRING", CS)
    r = cli("resolve", "s1", "--json")
    assert r.code == 0, r
    data = json.loads(r.out)
    assert (data["source"], data["schema"], data["account_name"]) == (
        "env",
        "azure-connection-string",
        "acctcs",
    )
    r.assert_no_secret(CS_KEY, S1_KEY)


def test_resolve_without_a_name_uses_the_implicit_variables(
    cli: Cli, keyring_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", "acctimplicit")
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_KEY", KEY)
    r = cli("resolve", "--json")
    assert r.code == 0, r
    data = json.loads(r.out)
    assert (data["name"], data["source"], data["schema"]) == (None, "env", "azure-account-key")
    r = cli("resolve")
    assert r.code == 0, r
    assert "implicit credentials" in r.out
    r.assert_no_secret(KEY)


def test_a_taken_name_says_the_cli_flag(cli: Cli, populated: KeyringStore) -> None:
    """The CLI says --overwrite; the library (KeyringStore.register) says overwrite=True."""
    line = cli(
        "secret", "register", "S1", "--schema", "azure-managed-identity", "--account_name=acct"
    ).assert_clean_error(2)
    assert line == "azcreds: error: secret 's1' already exists in the keyring; use --overwrite to replace it"
    with pytest.raises(SecretExistsError) as caught:
        populated.register("s1", parse_secret("azure-managed-identity", {"account_name": "acct"}))
    assert str(caught.value) == "secret 's1' already exists in the keyring; pass overwrite=True to replace it"
    assert caught.value.overwritable
