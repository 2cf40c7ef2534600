"""Random input to every parser: only SchemaValidationError (or a valid secret) ever comes out."""

from __future__ import annotations

import contextlib
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from azcreds import EnvResolver, ResolverUnavailableError, SchemaValidationError, list_schemas, parse_secret
from azcreds.resolvers.env import IMPLICIT_VARIABLES
from tests.helpers import AZURITE_ACCOUNT_KEY, CLIENT_ID, sas_token

FLAT_FIELDS = sorted(
    {"account_name", "account_key", "sas_token", "connection_string", "client_id", "client_secret"}
    | {"tenant_id", "account_url", "authority_host"}
)
SCHEMA_IDS = [s.schema_id for s in list_schemas()]

# Strings that look like the real thing often enough to reach the deeper parsing branches.
fragments = st.sampled_from(
    [
        "AccountName=",
        "AccountKey=",
        "SharedAccessSignature=",
        "BlobEndpoint=",
        "EndpointSuffix=",
        "DefaultEndpointsProtocol=",
        "UseDevelopmentStorage=true",
        ";",
        "=",
        "&",
        "?",
        "sv=",
        "sig=",
        "se=",
        "http://",
        "https://",
        "127.0.0.1:10000/",
        "devstoreaccount1",
        AZURITE_ACCOUNT_KEY,
        CLIENT_ID,
        "2001-01-01T00:00:00Z",
        "2999-01-01",
        "%",
        "\x00",
        "é",
    ]
)
messy = st.one_of(
    st.text(max_size=80),
    st.lists(st.one_of(fragments, st.text(string.printable, max_size=6)), max_size=12).map("".join),
)
field_values = st.one_of(
    messy, st.none(), st.integers(), st.booleans(), st.lists(st.text(max_size=3), max_size=2)
)


def _ok_or_schema_error(schema_id: str, fields: dict[str, object]) -> None:
    with contextlib.suppress(SchemaValidationError):
        parse_secret(schema_id, fields)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    schema_id=st.sampled_from(SCHEMA_IDS), fields=st.dictionaries(st.sampled_from(FLAT_FIELDS), field_values)
)
def test_parse_secret_only_raises_schema_validation_error(schema_id: str, fields: dict[str, object]) -> None:
    _ok_or_schema_error(schema_id, fields)


@settings(max_examples=400, deadline=None)
@given(value=messy)
def test_connection_string_parser_only_raises_schema_validation_error(value: str) -> None:
    _ok_or_schema_error("azure-connection-string", {"connection_string": value})


@settings(max_examples=300, deadline=None)
@given(value=messy)
def test_sas_parser_only_raises_schema_validation_error(value: str) -> None:
    _ok_or_schema_error("azure-sas-token", {"account_name": "acct", "sas_token": value})
    _ok_or_schema_error("azure-sas-token", {"account_name": "acct", "sas_token": sas_token() + value})


@settings(max_examples=300, deadline=None)
@given(
    schema_id=st.one_of(st.none(), st.sampled_from(SCHEMA_IDS), st.text(max_size=10)),
    env=st.dictionaries(st.sampled_from([f.upper() for f in FLAT_FIELDS] + ["BOGUS", "X__Y"]), messy),
)
def test_env_resolver_only_raises_ours(schema_id: str | None, env: dict[str, str]) -> None:
    environ = {f"AZCREDS_AZ_SECRET__{k}": v for k, v in env.items() if "\x00" not in v}
    if schema_id is not None and "\x00" not in schema_id:
        environ["AZCREDS_AZ_SECRET__SCHEMA"] = schema_id
    with contextlib.suppress(SchemaValidationError, ResolverUnavailableError):
        EnvResolver(environ).resolve("az_secret")


@settings(max_examples=300, deadline=None)
@given(env=st.dictionaries(st.sampled_from(sorted(IMPLICIT_VARIABLES)), messy))
def test_implicit_env_only_raises_ours(env: dict[str, str]) -> None:
    with contextlib.suppress(SchemaValidationError, ResolverUnavailableError):
        EnvResolver(env).resolve(None)


@pytest.mark.parametrize("schema_id", SCHEMA_IDS)
def test_non_mapping_and_wrong_types_are_schema_errors(schema_id: str) -> None:
    for fields in ({"account_name": 5}, {"account_name": None}, {"connection_string": ["x"]}):
        _ok_or_schema_error(schema_id, fields)
