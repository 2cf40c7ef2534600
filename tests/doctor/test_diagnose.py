"""diagnose() against Azurite: each check passes for a working credential and fails, with its
reason and fix, for what breaks it, as Azurite really answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from azure.storage.blob import BlobServiceClient, generate_container_sas

from azcreds.doctor import diagnose
from azcreds.testing import AzuriteServer, ManagedIdentityEndpoint, generate_account_key
from tests.doctor.helpers import (
    FixedClock,
    container_sas,
    key_creds,
    sas_creds,
    unvalidated_sas_creds,
)


def statuses(report) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {c.id: c.status for c in report.checks}


def test_a_working_account_key_passes_every_check(azurite: AzuriteServer, container: str) -> None:
    report = diagnose(
        credentials=key_creds(azurite.account_url(), azurite.account_name, azurite.account_key),
        container=container,
    )
    assert statuses(report) == {
        "resolve": "pass",
        "endpoint": "pass",
        "authentication": "pass",
        "shared-key": "pass",
        "clock": "pass",
        "container": "pass",
        "list": "pass",
        "read": "pass",
        "write": "pass",
        "delete": "pass",
    }, report.render()
    assert report.ok
    assert "Azurite-Blob" in report.check("endpoint").evidence
    assert report.check("write").details["code"] == "ConditionNotMet"


def test_the_probes_leave_no_data_behind(azurite: AzuriteServer, container: str) -> None:
    diagnose(
        credentials=key_creds(azurite.account_url(), azurite.account_name, azurite.account_key),
        container=container,
    )
    client = BlobServiceClient.from_connection_string(azurite.connection_string).get_container_client(
        container
    )
    assert list(client.list_blobs(include=["uncommittedblobs", "deleted", "versions"])) == []


def test_without_a_container_the_account_is_listed(azurite: AzuriteServer) -> None:
    report = diagnose(credentials=key_creds(azurite.account_url(), azurite.account_name, azurite.account_key))
    assert report.ok, report.render()
    assert report.check("list-containers").status == "pass"
    assert "container" not in statuses(report)


def test_a_wrong_account_key_fails_authentication_with_the_reason(
    azurite: AzuriteServer, container: str
) -> None:
    report = diagnose(
        credentials=key_creds(azurite.account_url(), azurite.account_name, generate_account_key()),
        container=container,
    )
    auth = report.check("authentication")
    assert auth.status == "fail"
    assert (
        auth.details["code"] == "AuthorizationFailure"
    )  # Azurite's word for it; Azure says AuthenticationFailed
    assert "account key is wrong" in auth.evidence
    assert "az storage account keys list" in (auth.fix or "")
    assert report.check("write").status == "skip"
    assert not report.ok


def test_a_missing_container_fails_the_container_check(azurite: AzuriteServer, container_name: str) -> None:
    report = diagnose(
        credentials=key_creds(azurite.account_url(), azurite.account_name, azurite.account_key),
        container=container_name,
    )
    check = report.check("container")
    assert check.status == "fail"
    assert "ContainerNotFound" in check.evidence
    assert f"az storage container create --name {container_name}" in (check.fix or "")
    assert report.check("authentication").status == "pass"


def test_an_account_url_naming_another_account_fails_the_endpoint_check(azurite: AzuriteServer) -> None:
    report = diagnose(credentials=key_creds(azurite.account_url(), "otheraccount", azurite.account_key))
    check = report.check("endpoint")
    assert check.status == "fail"
    assert "'devstoreaccount1'" in check.evidence
    assert "'otheraccount'" in check.evidence
    assert [c.id for c in report.checks] == ["resolve", "endpoint"]


def test_a_port_nothing_listens_on_fails_the_endpoint_check(azurite: AzuriteServer) -> None:
    url = f"http://127.0.0.1:1/{azurite.account_name}"  # port 1: privileged, nothing listens there
    report = diagnose(credentials=key_creds(url, azurite.account_name, azurite.account_key))
    check = report.check("endpoint")
    assert check.status == "fail"
    assert "no connection" in check.evidence
    assert "Connection refused" in check.evidence or "refused" in check.evidence.lower()


def test_an_endpoint_that_is_not_blob_storage_fails(
    azurite: AzuriteServer, managed_identity_endpoint: ManagedIdentityEndpoint
) -> None:
    url = f"{managed_identity_endpoint.base_url}/{azurite.account_name}"
    report = diagnose(credentials=key_creds(url, azurite.account_name, azurite.account_key))
    check = report.check("endpoint")
    assert check.status == "fail"
    assert "not as Azure Blob storage" in check.evidence


def test_a_read_list_sas_passes_what_it_allows_and_names_what_it_lacks(
    azurite: AzuriteServer, container: str
) -> None:
    token = container_sas(azurite, container, "rl")
    report = diagnose(
        credentials=sas_creds(azurite.account_url(), azurite.account_name, token), container=container
    )
    s = statuses(report)
    assert (s["sas-window"], s["authentication"], s["list"], s["read"]) == ("pass", "pass", "pass", "pass")
    assert (s["sas-permissions"], s["write"], s["delete"]) == ("fail", "fail", "fail")
    assert "lacks write, delete" in report.check("sas-permissions").evidence
    assert "AuthorizationPermissionMismatch" in report.check("write").evidence
    assert "lacks 'w'" in (report.check("write").fix or "")
    assert "lacks 'd'" in (report.check("delete").fix or "")


def test_a_full_sas_passes_and_need_narrows_what_must_be_allowed(
    azurite: AzuriteServer, container: str
) -> None:
    full = sas_creds(azurite.account_url(), azurite.account_name, container_sas(azurite, container, "rwdl"))
    assert diagnose(credentials=full, container=container).ok
    read_only = sas_creds(
        azurite.account_url(), azurite.account_name, container_sas(azurite, container, "rl")
    )
    report = diagnose(credentials=read_only, container=container, need="rl")
    assert report.ok, report.render()
    assert report.check("write").status == "skip"
    assert "not needed" in report.check("write").evidence
    assert report.render().splitlines()[-1] == "all checks passed (2 skipped)"


def test_a_container_sas_without_a_container_asks_for_one(azurite: AzuriteServer, container: str) -> None:
    token = container_sas(azurite, container, "rwdl")
    report = diagnose(credentials=sas_creds(azurite.account_url(), azurite.account_name, token))
    check = report.check("list-containers")
    assert check.status == "skip"
    assert "--container" in check.evidence


def test_a_sas_signed_with_another_key_fails_authentication(azurite: AzuriteServer, container: str) -> None:
    token = container_sas(azurite, container, "rwdl", key=generate_account_key())
    report = diagnose(
        credentials=sas_creds(azurite.account_url(), azurite.account_name, token), container=container
    )
    assert report.check("sas-window").status == "pass"
    auth = report.check("authentication")
    assert auth.status == "fail"
    assert "SAS is not valid" in auth.evidence


def test_an_expired_sas_fails_the_window_and_the_service_refuses_it(
    azurite: AzuriteServer, container: str
) -> None:
    token = container_sas(azurite, container, "rwdl", expiry=-timedelta(hours=1))
    report = diagnose(
        credentials=unvalidated_sas_creds(azurite.account_url(), azurite.account_name, token),
        container=container,
    )
    window = report.check("sas-window")
    assert window.status == "fail"
    assert window.evidence.startswith("expired at")
    auth = report.check("authentication")
    assert auth.status == "fail"  # Azurite really refuses it
    assert "the SAS expired at" in auth.evidence


def test_a_sas_that_starts_in_the_future_fails_the_window_and_the_service_refuses_it(
    azurite: AzuriteServer, container: str
) -> None:
    token = container_sas(azurite, container, "rwdl", start=timedelta(hours=2), expiry=timedelta(days=2))
    report = diagnose(
        credentials=sas_creds(azurite.account_url(), azurite.account_name, token), container=container
    )
    window = report.check("sas-window")
    assert window.status == "fail"
    assert window.evidence.startswith("not valid before")
    assert "start time" in (window.fix or "")
    assert report.check("authentication").status == "fail"


def test_a_sas_expiring_within_the_window_fails_on_an_injected_clock(
    azurite: AzuriteServer, container: str
) -> None:
    base = datetime.now(UTC).replace(microsecond=0)
    token = generate_container_sas(
        azurite.account_name, container, account_key=azurite.account_key, permission="rwdl",
        expiry=base + timedelta(days=3),
    )  # fmt: skip
    credentials = sas_creds(azurite.account_url(), azurite.account_name, token)
    later = diagnose(
        credentials=credentials, container=container, clock=lambda: base + timedelta(days=2, hours=20)
    )
    window = later.check("sas-window")
    assert window.status == "fail"
    assert "expires at" in window.evidence
    assert "in 4 h" in window.evidence
    now = diagnose(credentials=credentials, container=container, clock=FixedClock())
    assert now.check("sas-window").status == "pass"
    assert (
        diagnose(credentials=credentials, container=container, expiry_window=timedelta(days=4))
        .check("sas-window")
        .status
        == "fail"
    )


def test_clock_skew_against_the_service_date_fails_beyond_the_limit(
    azurite: AzuriteServer, container: str
) -> None:
    credentials = key_creds(azurite.account_url(), azurite.account_name, azurite.account_key)
    ahead = diagnose(credentials=credentials, container=container, clock=FixedClock(timedelta(minutes=20)))
    check = ahead.check("clock")
    assert check.status == "fail"
    assert "ahead of" in check.evidence
    assert 19 * 60 <= check.details["skew_seconds"] <= 21 * 60
    behind = diagnose(credentials=credentials, clock=FixedClock(-timedelta(minutes=20)))
    assert behind.check("clock").status == "fail"
    assert "behind" in behind.check("clock").evidence
    assert diagnose(credentials=credentials).check("clock").status == "pass"  # the real clock


def test_the_json_form_has_every_check(azurite: AzuriteServer, container: str) -> None:
    token = container_sas(azurite, container, "rl")
    report = diagnose(
        credentials=sas_creds(azurite.account_url(), azurite.account_name, token), container=container
    )
    data = report.to_json()
    assert data["ok"] is False
    assert data["container"] == container
    by_id = {c["id"]: c for c in data["checks"]}
    assert by_id["write"]["status"] == "fail"
    assert by_id["write"]["details"]["http_status"] == 403
    assert set(by_id["write"]) == {"id", "title", "status", "evidence", "fix", "details"}
