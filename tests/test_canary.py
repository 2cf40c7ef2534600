"""Canary: secrets carry unique markers; none may show in logs, reprs, strs or exception texts."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from azcreds import (
    AzcredsError,
    AzureCredentials,
    EnvResolver,
    explain_resolution,
    get_schema,
    parse_secret,
    resolve_credentials,
)
from azcreds.testing import AzuriteServer
from tests.helpers import CLIENT_ID, TENANT_ID, b64, sas_time


class Canaries:
    """Unique marker strings, and every form in which they could leak."""

    def __init__(self) -> None:
        self.raw: list[str] = []

    def marker(self, label: str) -> str:
        value = f"CANARY{label}{uuid.uuid4().hex}"
        self.raw.append(value)
        return value

    def key(self, label: str) -> str:
        value = b64(self.marker(label) + "padding-to-a-real-key-length")
        self.raw.append(value)
        return value

    def assert_absent(self, text: str, where: str) -> None:
        for value in self.raw:
            for form in {value, value[:24], value.rstrip("=")}:
                assert form not in text, f"secret marker leaked into {where}"


@pytest.fixture
def canaries() -> Canaries:
    return Canaries()


@pytest.fixture
def debug_everywhere(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)  # root: every logger, azure.* and azcreds included
    for name in ("azure", "azure.core.pipeline.policies.http_logging_policy", "azcreds", "msal", "urllib3"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    return caplog


def secrets_for_every_schema(c: Canaries, azurite: AzuriteServer) -> dict[str, dict[str, str]]:
    sig = c.marker("SIG")
    return {
        "azure-connection-string": {
            "connection_string": (
                f"DefaultEndpointsProtocol=http;AccountName={azurite.account_name};"
                f"AccountKey={c.key('CSKEY')};BlobEndpoint={azurite.blob_endpoint}"
            )
        },
        "azure-account-key": {
            "account_name": azurite.account_name,
            "account_key": c.key("KEY"),
            "account_url": azurite.blob_endpoint,
        },
        "azure-sas-token": {
            "account_name": azurite.account_name,
            "sas_token": f"sv=2025-11-05&ss=b&srt=sco&sp=rl&se={sas_time(timedelta(days=3))}&sig={sig}",
            "account_url": azurite.blob_endpoint,
        },
        "azure-service-principal": {
            "account_name": "acct",
            "tenant_id": TENANT_ID,
            "client_id": CLIENT_ID,
            "client_secret": c.marker("CLIENTSECRET"),
            "authority_host": "https://127.0.0.1:9",
        },
        "azure-managed-identity": {"account_name": "acct", "client_id": CLIENT_ID},
        "azure": {"account_name": "acct", "account_key": c.key("FLATKEY")},
    }


def bad_inputs(c: Canaries) -> list[tuple[str, dict[str, str]]]:
    expired = (
        f"sv=2025-11-05&se={(datetime.now(UTC) - timedelta(days=1)):%Y-%m-%dT%H:%M:%SZ}&sig={c.marker('OLD')}"
    )
    return [
        ("azure-account-key", {"account_name": "acct", "account_key": c.marker("NOTB64") + "!!"}),
        ("azure-sas-token", {"account_name": "acct", "sas_token": expired}),
        ("azure-sas-token", {"account_name": "acct", "sas_token": "sig=" + c.marker("NOSV")}),
        ("azure-connection-string", {"connection_string": c.marker("GARBAGE")}),
        ("azure-connection-string", {"connection_string": f"AccountName=acct;{c.marker('LOOSE')}=x"}),
        (
            "azure-connection-string",
            {"connection_string": f"AccountName=acct;AccountKey={c.marker('CSBAD')}!"},
        ),
        (
            "azure",
            {"account_name": "acct", "account_key": c.key("A"), "sas_token": "sv=1&sig=" + c.marker("B")},
        ),
        ("azure", {"account_name": "acct", "client_secret": c.marker("PARTIAL")}),
        ("azure-account-key", {"account_name": c.marker("NAME"), "account_key": c.key("K2")}),
        ("azure-managed-identity", {"account_name": "acct", "client_id": c.marker("CLIENTID")}),
        ("azure-service-principal", {"account_name": "acct", c.marker("FIELD").lower(): "x"}),
    ]


def test_no_marker_reaches_logs_reprs_or_errors(
    canaries: Canaries,
    debug_everywhere: pytest.LogCaptureFixture,
    azurite: AzuriteServer,
    container_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    texts: list[tuple[str, str]] = []

    for schema_id, fields in secrets_for_every_schema(canaries, azurite).items():
        name = "s-" + schema_id.replace("azure-", "")[:20]
        monkeypatch.setenv(f"AZCREDS_{name.upper().replace('-', '_')}__SCHEMA", schema_id)
        for field, value in fields.items():
            monkeypatch.setenv(f"AZCREDS_{name.upper().replace('-', '_')}__{field.upper()}", value)
        creds = resolve_credentials(name)
        resolution = explain_resolution(name)
        secret = parse_secret(schema_id, fields)
        for label, obj in [
            ("credentials", creds),
            ("credential", creds.credential),
            ("resolution", resolution),
            ("secret", secret),
            ("field_values", secret.field_values()),
            ("model_dump", secret.model_dump()),
            ("model_dump_json", secret.model_dump_json()),
            ("schema class", get_schema(schema_id)),
        ]:
            texts += [
                (f"repr({label}) of {schema_id}", repr(obj)),
                (f"str({label}) of {schema_id}", str(obj)),
            ]

    # A real request with the SDK's own HTTP logging on, through the SAS and key credentials.
    for name in ("s-sas-token", "s-account-key"):
        client = resolve_credentials(name).blob_service_client(logging_enable=True, retry_total=0)
        try:
            client.create_container(f"{container_name}-{name[2:5]}")
        except Exception as exc:  # the SAS is forged (marker sig): a 403 is expected
            texts.append((f"SDK error via {name}", f"{exc!r} {exc}"))

    for schema_id, fields in bad_inputs(canaries):
        with pytest.raises(AzcredsError) as info:
            parse_secret(schema_id, fields)
        texts.append((f"error for {schema_id}", f"{info.value!r} {info.value} {info.value.__cause__!r}"))
        env = {f"AZCREDS_BAD__{k.upper()}": v for k, v in fields.items()} | {"AZCREDS_BAD__SCHEMA": schema_id}
        with pytest.raises(AzcredsError) as info:
            EnvResolver(env).resolve("bad")
        texts.append((f"env error for {schema_id}", f"{info.value!r} {info.value}"))

    for record in debug_everywhere.records:
        texts.append((f"log record {record.name}", record.getMessage()))
    texts.append(("captured log text", debug_everywhere.text))

    assert debug_everywhere.records, "DEBUG logging captured nothing: the canary would be blind"
    # urllib3 logs each request URL: the SAS token must be there, masked.
    assert any(
        "restype=container&***" in r.getMessage()
        for r in debug_everywhere.records
        if r.name.startswith("urllib3")
    )
    for where, text in texts:
        canaries.assert_absent(text, where)


def test_markers_do_reach_to_env_and_storage_options(canaries: Canaries) -> None:
    """The canary must be able to fail: the secret is there where it is meant to be."""
    key = canaries.key("VISIBLE")
    creds = AzureCredentials.from_secret(
        parse_secret("azure-account-key", {"account_name": "acct", "account_key": key}),
        name="v",
        source="env",
    )
    with pytest.raises(AssertionError):
        canaries.assert_absent(str(creds.to_env()), "to_env")
    with pytest.raises(AssertionError):
        canaries.assert_absent(str(creds.storage_options()), "storage_options")
    assert creds.secret.field_values(reveal=True)["account_key"] == key
