"""The doctor's requests to the Blob service, and what each answer says (status, error code, Date).

Probes leave no data behind: reading and deleting aim at a blob name that does not exist (the
service authorises a request before it looks the blob up, so 404 ``BlobNotFound`` means "allowed"),
and the write probe is a Put Blob conditioned on an ETag that cannot match, so the service checks
the permission and then refuses to write (412 ``ConditionNotMet``).
"""

from __future__ import annotations

import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["OPERATIONS", "Probe", "ProbeRunner"]

# op id -> (what it does, the statuses that mean "allowed")
OPERATIONS: dict[str, tuple[str, frozenset[int]]] = {
    "list-containers": ("List Containers", frozenset({200})),
    "container": ("Get Container Properties", frozenset({200})),
    "list": ("List Blobs", frozenset({200})),
    "read": ("Get Blob Properties (a name that does not exist)", frozenset({200, 404})),
    "write": ("Put Blob (If-Match an ETag that cannot match)", frozenset({201, 404, 412})),
    "delete": ("Delete Blob (a name that does not exist)", frozenset({202, 404})),
}


@dataclass
class Probe:
    """One request and its answer. ``error`` is set when no HTTP answer came: ``connect`` (no
    connection), ``token`` (the credential got no token) or ``other``."""

    op: str
    status: int | None = None
    code: str | None = None
    message: str | None = None
    detail: str | None = None  # AuthenticationErrorDetail, when the service sends one
    error: str | None = None
    error_text: str | None = None
    seconds: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    received: datetime | None = None  # this machine's clock when the answer arrived

    @property
    def answered(self) -> bool:
        return self.status is not None

    @property
    def allowed(self) -> bool:
        return (
            self.status is not None and self.status in OPERATIONS[self.op][1] and not self.missing_container
        )

    @property
    def missing_container(self) -> bool:
        return self.code == "ContainerNotFound"

    @property
    def description(self) -> str:
        return OPERATIONS[self.op][0]

    def answer(self) -> str:
        """``HTTP 403 AuthorizationPermissionMismatch``, or why there was no answer."""
        if self.status is None:
            return f"no answer ({self.error}: {self.error_text})"
        return f"HTTP {self.status}" + (f" {self.code}" if self.code else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "op": self.op,
            "request": self.description,
            "status": self.status,
            "code": self.code,
            "error": self.error,
            "ms": round(self.seconds * 1000, 1),
        }


def _parse_error(body: bytes) -> tuple[str | None, str | None, str | None]:
    """(Code, first line of Message, AuthenticationErrorDetail) of a Blob service XML error body."""
    try:
        root = ET.fromstring(body)  # noqa: S314 - the service's error body; ET resolves no external entities
    except ET.ParseError:
        return None, None, None
    code = root.findtext("Code")
    message = (root.findtext("Message") or "").split("\n", 1)[0].strip() or None
    detail = (root.findtext("AuthenticationErrorDetail") or "").strip() or None
    return code, message, detail


class ProbeRunner:
    """Runs the probes on one client; ``clock`` is this machine's time (injectable for tests)."""

    def __init__(self, service: Any, clock: Callable[[], datetime]) -> None:
        self.service = service
        self.clock = clock
        self.blob_name = f".azcreds-doctor-probe-{uuid.uuid4().hex}"  # never created

    def run(self, op: str, container: str | None) -> Probe:
        from azure.core import MatchConditions
        from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ServiceRequestError

        probe = Probe(op)
        seen: list[Any] = []

        def hook(response: Any) -> None:
            seen.append(response.http_response)
            probe.received = self.clock()

        kw: dict[str, Any] = {"raw_response_hook": hook}
        service = self.service
        started = time.perf_counter()
        try:
            if op == "list-containers":
                next(iter(service.list_containers(results_per_page=1, **kw).by_page()))
            elif op == "container":
                service.get_container_client(container).get_container_properties(**kw)
            elif op == "list":
                pages = service.get_container_client(container).list_blobs(results_per_page=1, **kw)
                next(iter(pages.by_page()))
            elif op == "read":
                service.get_blob_client(container, self.blob_name).get_blob_properties(**kw)
            elif op == "write":
                service.get_blob_client(container, self.blob_name).upload_blob(
                    b"", etag='"0x8DDOCTOR0000000"', match_condition=MatchConditions.IfNotModified, **kw
                )
            elif op == "delete":
                service.get_blob_client(container, self.blob_name).delete_blob(**kw)
            else:  # pragma: no cover - the callers name the ops above
                raise ValueError(op)
        except HttpResponseError as exc:
            probe.status = exc.status_code
            raw = getattr(exc, "response", None)
            body = b""
            if raw is not None:
                try:
                    body = raw.body() or b""
                except Exception:  # a streamed body already consumed
                    body = b""
            probe.code, probe.message, probe.detail = _parse_error(body) if body else (None, None, None)
            header_code = raw.headers.get("x-ms-error-code") if raw is not None else None
            probe.code = header_code or probe.code
        except ClientAuthenticationError as exc:  # no status: the credential got no token
            probe.error, probe.error_text = "token", _first_line(exc)
        except ServiceRequestError as exc:
            probe.error, probe.error_text = "connect", _first_line(exc)
        except Exception as exc:  # anything else the SDK raises is evidence too, never a traceback
            probe.error, probe.error_text = "other", f"{type(exc).__name__}: {_first_line(exc)}"
        else:
            probe.status = seen[-1].status_code if seen else 200
        probe.seconds = time.perf_counter() - started
        if seen:
            last = seen[-1]
            probe.status = probe.status if probe.status is not None else last.status_code
            probe.headers = {
                k: str(last.headers[k])
                for k in ("Date", "Server", "x-ms-request-id", "x-ms-version")
                if last.headers.get(k) is not None
            }
        return probe


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().split("\n", 1)[0]
    return text[:300]
