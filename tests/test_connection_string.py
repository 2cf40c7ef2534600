"""Connection strings: parsed by Azure's rules (keys, endpoints, Azurite), refused without echoing values."""

from __future__ import annotations

import pytest

from azcreds import ConnectionStringSecret, parse_secret
from tests.helpers import AZURITE_ACCOUNT_KEY, sas_token
from tests.schemas.helpers import AZURITE_CS, KEY, invalid


def cs(value: str) -> ConnectionStringSecret:
    s = parse_secret("azure-connection-string", {"connection_string": value})
    assert isinstance(s, ConnectionStringSecret)
    return s


def test_connection_string_with_key_and_blob_endpoint() -> None:
    s = cs(AZURITE_CS)
    assert s.account_name_value() == "devstoreaccount1"
    assert s.account_url_value() == "http://127.0.0.1:10000/devstoreaccount1"
    assert s.parsed.account_key == AZURITE_ACCOUNT_KEY


def test_connection_string_keys_are_case_insensitive_and_endpoint_derived() -> None:
    s = cs(
        f"defaultendpointsprotocol=https;ACCOUNTNAME=acct;accountkey={KEY};endpointsuffix=core.chinacloudapi.cn"
    )
    assert s.account_url_value() == "https://acct.blob.core.chinacloudapi.cn"


def test_connection_string_default_protocol_and_suffix() -> None:
    assert (
        cs(f"AccountName=acct;AccountKey={KEY}").account_url_value() == "https://acct.blob.core.windows.net"
    )


def test_connection_string_with_sas_and_blob_endpoint_derives_account() -> None:
    s = cs(f"BlobEndpoint=https://myacct.blob.core.windows.net;SharedAccessSignature={sas_token()}")
    assert s.account_name_value() == "myacct"
    assert s.parsed.sas_token is not None
    assert s.parsed.account_key is None


def test_connection_string_use_development_storage() -> None:
    s = cs("UseDevelopmentStorage=true")
    assert s.account_url_value() == "http://127.0.0.1:10000/devstoreaccount1"
    assert s.parsed.development_storage


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        ("", "empty"),
        (";;", "empty"),
        ("AccountName=acct", "AccountKey or SharedAccessSignature"),
        (f"AccountKey={KEY}", "AccountName or BlobEndpoint"),
        ("AccountName=acct;AccountKey=not-base64!", "AccountKey must be base64"),
        (f"AccountName=acct;AccountKey={KEY};AccountName=other", "repeats"),
        (f"AccountName=acct;AccountKey={KEY};Bogus=1", "unknown key 'Bogus'"),
        (f"AccountName=acct;AccountKey={KEY};SharedAccessSignature={sas_token()}", "both"),
        (f"DefaultEndpointsProtocol=ftp;AccountName=acct;AccountKey={KEY}", "DefaultEndpointsProtocol"),
        (f"AccountName=acct;AccountKey={KEY};BlobEndpoint=notaurl", "BlobEndpoint"),
        ("UseDevelopmentStorage=true;AccountName=acct", "cannot be combined"),
        ("UseDevelopmentStorage=false", "must be 'true'"),
        ("garbage", "Key=Value"),
        ("BlobEndpoint=https://h.example;SharedAccessSignature=sv=1", "SharedAccessSignature"),
    ],
)
def test_bad_connection_strings(value: str, hint: str) -> None:
    err = invalid("azure-connection-string", {"connection_string": value})
    assert err.fields == ("connection_string",)
    assert hint in str(err)


def test_unknown_connection_string_key_that_looks_secret_is_not_echoed() -> None:
    err = invalid("azure-connection-string", {"connection_string": f"AccountName=acct;{KEY}"})
    assert KEY.rstrip("=") not in str(err)
