"""``azcreds doctor``: resolve a secret, then check each thing that makes Azure Storage refuse it.

:func:`diagnose` runs the checks in order and returns a :class:`DoctorReport`; ``azcreds doctor
NAME [--container C] [--json]`` prints it. The checks (docs/doctor.md has each one's evidence and
fix):

``resolve``          the secret resolves (which store, which schema, which account)
``endpoint``         the account URL names the secret's account and its host resolves
``sas-window``       a SAS is valid now: started, not expired, not expiring within the window
``sas-permissions``  a SAS carries the permissions needed (read, list, write, delete)
``token``            a token credential gets a storage token (time reported, not judged)
``authentication``   the service accepts the credential (401/403 and the reason)
``shared-key``       shared-key access is allowed on the account, for keys and key-signed SAS
``clock``            this machine's clock agrees with the service's ``Date`` header
``container``        the container exists (with ``container``)
``list``, ``read``,  each operation is allowed, or which role or SAS permission it needs
``write``, ``delete``   (``list-containers`` without ``container``)

The storage probes leave no data behind (:mod:`azcreds.doctor.probes`). Clocks are injectable:
``clock`` is this machine's time for the SAS window, token lifetime and skew checks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from azcreds.doctor.report import Check, DoctorReport, Status

if TYPE_CHECKING:
    from azcreds.credentials import AzureCredentials

__all__ = ["Check", "DoctorReport", "Status", "diagnose"]

_CONTAINER_OPS = ("list", "read", "write", "delete")
_LETTERS = {"list": "l", "read": "r", "write": "w", "delete": "d", "list-containers": "l"}


def _now() -> datetime:
    return datetime.now(UTC)


def diagnose(
    name: str | None = None,
    *,
    container: str | None = None,
    credentials: AzureCredentials | None = None,
    need: str = "rlwd",
    clock: Callable[[], datetime] = _now,
    expiry_window: timedelta = timedelta(hours=24),
    max_skew: timedelta = timedelta(minutes=5),
    client_kwargs: Mapping[str, Any] | None = None,
) -> DoctorReport:
    """Check the secret ``name`` (resolved by the default chain) or the given ``credentials``.

    ``container`` adds the container checks and probes list, read, write and delete in it;
    ``need`` (letters of ``rlwd``) says which of them must be allowed. ``clock`` returns this
    machine's time (aware, UTC); ``client_kwargs`` go to the ``BlobServiceClient``
    (``connection_verify=`` for a test CA, say). Raises ``InvalidSecretNameError`` for a
    malformed name; every other problem is a failed check in the report.
    """
    from azcreds.doctor.checks import check_endpoint, check_resolve, check_token, credential_kind

    checks: list[Check] = []

    def report() -> DoctorReport:
        return DoctorReport(name, container, tuple(checks))

    if credentials is None:
        resolved, credentials = check_resolve(name)
        checks.append(resolved)
        if credentials is None:
            return report()
    else:
        checks.append(
            Check.make(
                "resolve",
                "secret resolves",
                "pass",
                f"given: {credentials.schema_id} from {credentials.source}; account "
                f"{credentials.account_name} at {credentials.account_url}",
            )
        )
    endpoint, reachable = check_endpoint(credentials)
    if not reachable:
        checks.append(endpoint)
        return report()
    kind = credential_kind(credentials)
    sas_problem: str | None = None
    key_signed = kind == "key"
    one_container = False
    static: list[Check] = []
    if kind == "sas":
        from azcreds.doctor.sas import check_sas_permissions, check_sas_window, parse_sas

        facts = parse_sas(credentials.credential.signature)
        window = check_sas_window(facts, clock(), expiry_window)
        static += [window, check_sas_permissions(facts, need)]
        if window.status == "fail" and window.evidence.startswith(("expired", "not valid")):
            sas_problem = window.evidence
        key_signed, one_container = facts.key_signed, facts.one_container
    if kind == "token":
        token = check_token(credentials, clock)
        static.append(token)
        if token.status == "fail":
            checks += [endpoint, *static]
            return report()
    checks += _service_checks(
        credentials, endpoint, static, kind, key_signed, one_container, sas_problem,
        container, need, clock, max_skew, client_kwargs,
    )  # fmt: skip
    return report()


def _service_checks(
    credentials: AzureCredentials,
    endpoint: Check,
    static: list[Check],
    kind: str,
    key_signed: bool,
    one_container: bool,
    sas_problem: str | None,
    container: str | None,
    need: str,
    clock: Callable[[], datetime],
    max_skew: timedelta,
    client_kwargs: Mapping[str, Any] | None,
) -> list[Check]:
    from azcreds.doctor.checks import principal_words
    from azcreds.doctor.probes import ProbeRunner
    from azcreds.doctor.service import (
        check_authentication,
        check_clock,
        check_container,
        check_operation,
        check_shared_key,
    )

    kwargs: dict[str, Any] = {"retry_total": 0, "connection_timeout": 10, "read_timeout": 30}
    kwargs.update(client_kwargs or {})
    runner = ProbeRunner(credentials.blob_service_client(**kwargs), clock)
    if container is None and one_container:
        note = Check.make(
            "list-containers",
            "list containers",
            "skip",
            "a SAS for one container cannot list the account: pass --container to check it",
        )
        return [endpoint, *static, note]
    ops = ["container", *_CONTAINER_OPS] if container is not None else ["list-containers"]
    probes = [runner.run(ops[0], container)]
    first = probes[0]
    if first.error == "connect":
        failed = Check.make(
            "endpoint",
            endpoint.title,
            "fail",
            f"{endpoint.evidence}; but no connection: {first.error_text}",
            "check the URL's port and scheme, proxies and firewalls between here and the account",
        )
        return [failed, *static]
    probes += [runner.run(op, container) for op in ops[1:]]
    endpoint = _endpoint_with_answer(endpoint, first)
    account = credentials.account_name
    checks = [
        endpoint,
        *static,
        check_authentication(probes, kind, account, sas_problem),
        check_shared_key(probes, kind, key_signed),
        check_clock(probes, max_skew),
    ]
    if container is not None:
        checks.append(check_container(probes, container))
    who = principal_words(credentials)
    for probe in probes:
        if probe.op == "container":
            continue
        needed = _LETTERS[probe.op] in need
        checks.append(
            check_operation(probe, kind=kind, who=who, account=account, container=container, needed=needed)
        )
    return checks


def _endpoint_with_answer(endpoint: Check, first: Any) -> Check:
    """The endpoint check with who answered the first request, and how fast."""
    if not first.answered:
        return endpoint
    server = first.headers.get("Server", "a server without a Server header")
    evidence = f"{endpoint.evidence}; {server} answered in {first.seconds * 1000:.0f} ms"
    if "x-ms-request-id" not in first.headers:
        return Check.make(
            "endpoint",
            endpoint.title,
            "fail",
            f"{evidence}, but not as Azure Blob storage (no x-ms-request-id header)",
            "the URL reaches something else (a proxy, a web site): use the account's blob endpoint",
            **endpoint.details,
        )
    return Check.make("endpoint", endpoint.title, "pass", evidence, **endpoint.details)
