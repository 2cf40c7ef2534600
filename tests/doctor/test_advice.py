"""The reasons and fixes for refusals Azurite cannot produce, driven through StorageProxy faults that
answer with Azure's own codes and messages; and the service's detail never quoted with a signature."""

from __future__ import annotations

import pytest
from azure.core.credentials import AzureNamedKeyCredential
from azure.storage.blob import BlobServiceClient

from azcreds.doctor import diagnose
from azcreds.doctor.advice import safe_detail
from azcreds.testing import StorageProxy
from tests.doctor.helpers import key_creds


@pytest.fixture
def proxied_key(storage_proxy: StorageProxy, container_name: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(storage_proxy.ca_path))
    upstream = storage_proxy.upstream
    key = AzureNamedKeyCredential(upstream.account_name, upstream.account_key)
    BlobServiceClient(upstream.account_url(), credential=key).create_container(container_name)
    return key_creds(storage_proxy.account_url(), upstream.account_name, upstream.account_key)


def test_network_rules_are_named_with_their_fix(
    storage_proxy: StorageProxy, proxied_key: object, container_name: str
) -> None:
    storage_proxy.faults.add(
        status=403,
        code="AuthorizationFailure",
        message="This request is not authorized to perform this operation.",
        times=None,
    )
    report = diagnose(credentials=proxied_key, container=container_name)  # type: ignore[arg-type]
    auth = report.check("authentication")
    assert auth.status == "fail"
    assert "network rules" in auth.evidence
    assert "public IP" in (auth.fix or "")


def test_a_disabled_account_is_named(storage_proxy: StorageProxy, proxied_key: object) -> None:
    storage_proxy.faults.add(
        status=403, code="AccountIsDisabled", message="The specified account is disabled.", times=None
    )
    auth = diagnose(credentials=proxied_key).check("authentication")  # type: ignore[arg-type]
    assert auth.status == "fail"
    assert "disabled" in auth.evidence


def test_an_unknown_service_error_fails_the_operation_with_its_code(
    storage_proxy: StorageProxy, proxied_key: object, container_name: str
) -> None:
    storage_proxy.faults.add(status=503, times=None, method="DELETE")
    report = diagnose(credentials=proxied_key, container=container_name)  # type: ignore[arg-type]
    delete = report.check("delete")
    assert delete.status == "fail"
    assert "HTTP 503 ServerBusy" in delete.evidence
    assert report.check("write").status == "pass"


def test_the_services_detail_never_quotes_a_signature() -> None:
    signature = "q1w2e3r4t5y6u7i8o9p0AsDfGhJkL="
    detail = (
        f"The MAC signature found in the HTTP request '{signature}' is not the same as any computed "
        "signature. Server used following string to sign: 'GET\n\n\n...'."
    )
    shown = safe_detail(detail)
    assert shown is not None
    assert signature not in shown
    assert "string to sign" not in shown.lower()
    expired = "Signature not valid in the specified time frame: Start [x] - Expiry [y] - Current [z]"
    assert safe_detail(expired) == expired
