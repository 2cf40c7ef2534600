"""A loopback proxy in front of Azurite that refuses, as Azure Storage does, what Azurite lets through.

Azurite checks account keys, SAS tokens and the claims of bearer tokens, but it has no role
assignments and no account settings: every valid token may do everything, and shared-key access
cannot be turned off. :class:`StorageProxy` forwards each request to an :class:`AzuriteServer`
unchanged (so signatures stay valid) unless one of the rules below refuses it first, with the
status, headers and XML error body the real Blob service sends:

- ``shared_key_access=False`` (the account's ``allowSharedKeyAccess``): a request signed with an
  account key (``Authorization: SharedKey …``) or carrying a key-signed SAS (``sig`` without
  ``skoid``) gets 403 ``KeyBasedAuthenticationNotPermitted``; user-delegation SAS and bearer
  tokens pass.
- ``rbac=True``: a bearer token's principal (its ``oid`` claim) needs a role assignment whose
  actions or data actions cover the operation (:meth:`StorageProxy.assign_role`, at account or
  container scope); otherwise 403 ``AuthorizationPermissionMismatch``. ``Owner``, ``Contributor``
  and ``Reader`` are control-plane roles with no data actions, as in Azure: a Contributor may read
  container properties but not list, read, write or delete blobs.

``clock_offset`` (seconds) shifts the ``Date`` header of every answer: a service whose clock
differs from this machine's. Requests and their decisions are in ``requests`` (each with
``details["operation"]`` and ``details["decision"]``); faults work as on the other local servers.
"""

from __future__ import annotations

import http.client
import ssl
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import parse_qsl, urlsplit
from xml.sax.saxutils import escape

from azcreds.testing._local_http import HTTPRequest, HTTPResponse, LocalHTTPServer, fault_response

if TYPE_CHECKING:
    from azcreds.testing.azurite import AzuriteServer
    from azcreds.testing.tls import TestCertificates

__all__ = ["BLOB_ROLES", "RoleAssignment", "StorageProxy", "storage_error_body"]

# Operations, named by the RBAC action or data action Azure checks for them.
_CONTAINERS_READ = "containers/read"
_CONTAINERS_WRITE = "containers/write"
_CONTAINERS_DELETE = "containers/delete"
_DELEGATION_KEY = "generateUserDelegationKey"
_BLOBS_READ = "containers/blobs/read"
_BLOBS_WRITE = "containers/blobs/write"
_BLOBS_DELETE = "containers/blobs/delete"

_CONTROL_PLANE = frozenset({_CONTAINERS_READ, _CONTAINERS_WRITE, _CONTAINERS_DELETE, _DELEGATION_KEY})
_ALL_DATA = frozenset({_BLOBS_READ, _BLOBS_WRITE, _BLOBS_DELETE})

BLOB_ROLES: dict[str, frozenset[str]] = {
    "Owner": _CONTROL_PLANE,
    "Contributor": _CONTROL_PLANE,
    "Reader": frozenset({_CONTAINERS_READ}),
    "Storage Blob Delegator": frozenset({_DELEGATION_KEY}),
    "Storage Blob Data Reader": frozenset({_CONTAINERS_READ, _DELEGATION_KEY, _BLOBS_READ}),
    "Storage Blob Data Contributor": _CONTROL_PLANE | _ALL_DATA,
    "Storage Blob Data Owner": _CONTROL_PLANE | _ALL_DATA,
}
"""The built-in roles the proxy knows, with the Blob actions and data actions each grants."""

_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "upgrade", "host"}
)
_SET_BY_HANDLER = frozenset({"date", "server"})

_MESSAGES = {
    "KeyBasedAuthenticationNotPermitted": (
        "Key based authentication is not permitted on this storage account."
    ),
    "AuthorizationPermissionMismatch": (
        "This request is not authorized to perform this operation using this permission."
    ),
    "AuthorizationFailure": "This request is not authorized to perform this operation.",
    "InternalError": "Server encountered an internal error. Please try again after some time.",
    "ServerBusy": "The server is currently unable to receive requests. Please retry your request.",
}


def storage_error_body(code: str, message: str | None = None) -> tuple[bytes, str]:
    """The XML error body the Blob service sends, and its request id: ``(body, request_id)``."""
    request_id = str(uuid.uuid4())
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")
    text = message or _MESSAGES.get(code, "The request failed.")
    body = (
        '<?xml version="1.0" encoding="utf-8"?><Error>'
        f"<Code>{escape(code)}</Code><Message>{escape(text)}\nRequestId:{request_id}\nTime:{now}</Message>"
        "</Error>"
    )
    return body.encode("utf-8"), request_id


@dataclass(frozen=True)
class RoleAssignment:
    """One role assigned to a principal (object id), on the account or one container."""

    principal_id: str
    role: str
    container: str | None = None

    def grants(self, operation: str, container: str | None) -> bool:
        if self.container is not None and self.container != container:
            return False
        return operation in BLOB_ROLES[self.role]


class StorageProxy(LocalHTTPServer):
    """A Blob service proxy on ``127.0.0.1`` in front of ``upstream`` (see the module docstring).

    Serve it over HTTPS (``certificates``, and an HTTPS Azurite with ``oauth=True`` upstream) for
    bearer tokens: the SDK sends tokens over HTTPS only. Clients use :meth:`account_url` in place
    of Azurite's; signatures made for Azurite's URL are valid here, since neither shared keys nor
    SAS sign the host.
    """

    server_name: ClassVar[str] = "Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0"

    def __init__(
        self,
        upstream: AzuriteServer,
        *,
        certificates: TestCertificates | None = None,
        shared_key_access: bool = True,
        rbac: bool = False,
        port: int = 0,
    ) -> None:
        super().__init__(certificates=certificates, port=port)
        self.upstream = upstream
        self.shared_key_access = shared_key_access
        self.rbac = rbac
        self._assignments: list[RoleAssignment] = []

    def start(self) -> StorageProxy:
        """Listen on 127.0.0.1."""
        super().start()
        return self

    def __enter__(self) -> StorageProxy:
        return self.start()

    # -- configuration -----------------------------------------------------------------------

    def assign_role(self, principal_id: str, role: str, *, container: str | None = None) -> RoleAssignment:
        """Give ``principal_id`` (a token's ``oid``) ``role`` on the account, or on ``container``."""
        if role not in BLOB_ROLES:
            raise ValueError(f"unknown role {role!r}; known: {', '.join(BLOB_ROLES)}")
        assignment = RoleAssignment(principal_id.lower(), role, container)
        with self._lock:
            self._assignments.append(assignment)
        return assignment

    def remove_roles(self, principal_id: str) -> None:
        """Remove every role assignment of ``principal_id``."""
        with self._lock:
            self._assignments = [a for a in self._assignments if a.principal_id != principal_id.lower()]

    @property
    def assignments(self) -> list[RoleAssignment]:
        """The role assignments, oldest first."""
        with self._lock:
            return list(self._assignments)

    def account_url(self, account_name: str | None = None) -> str:
        """``{scheme}://127.0.0.1:{port}/{account}``: Azurite's account, through the proxy."""
        return f"{self.base_url}/{account_name or self.upstream.account_name}"

    def connection_string_for(self, account_name: str | None = None, account_key: str | None = None) -> str:
        """Azurite's connection string for one account, with the proxy as ``BlobEndpoint``."""
        name = account_name or self.upstream.account_name
        key = account_key if account_key is not None else self.upstream.accounts[name]
        return (
            f"DefaultEndpointsProtocol={self.scheme};AccountName={name};"
            f"AccountKey={key};BlobEndpoint={self.account_url(name)};"
        )

    # -- the protocol ------------------------------------------------------------------------

    def _handle(self, request: HTTPRequest) -> HTTPResponse:
        operation, container = _operation(request)
        auth = request.header("Authorization") or ""
        query = dict(parse_qsl(urlsplit(request.target).query, keep_blank_values=True))
        key_signed = auth.startswith(("SharedKey ", "SharedKeyLite ")) or (
            "sig" in query and "skoid" not in query
        )
        principal = _principal(auth) if auth.startswith("Bearer ") else None
        details = {"operation": operation}
        fault = self.faults.take(request.method, request.path, [principal] if principal else [])
        if fault is not None:
            response = fault_response(fault, lambda status, code, message: {})
            if response is not None:
                if not response.drop:
                    code = fault.code or ("ServerBusy" if fault.status in (429, 503) else "InternalError")
                    response = self._error(request, response.status, code, fault.message)
                    response.fault = True
                    if fault.retry_after is not None:
                        response.headers["Retry-After"] = str(int(fault.retry_after))
                response.details = {**details, "decision": "fault"}
                return response
        if key_signed and not self.shared_key_access:
            response = self._error(request, 403, "KeyBasedAuthenticationNotPermitted")
            response.details = {**details, "decision": "KeyBasedAuthenticationNotPermitted"}
            return response
        if principal is not None and self.rbac:
            granted = any(
                a.principal_id == principal and a.grants(operation, container) for a in self.assignments
            )
            if not granted:
                response = self._error(request, 403, "AuthorizationPermissionMismatch")
                response.identity = principal
                response.details = {**details, "decision": "AuthorizationPermissionMismatch"}
                return response
        response = self._forward(request)
        response.identity = principal
        response.authorized = response.status < 400
        response.details = {**details, "decision": "forwarded"}
        return response

    def _error(
        self, request: HTTPRequest, status: int, code: str, message: str | None = None
    ) -> HTTPResponse:
        body, request_id = storage_error_body(code, message)
        headers = {
            "Content-Type": "application/xml",
            "x-ms-request-id": request_id,
            "x-ms-version": request.header("x-ms-version") or "2026-10-06",
            "x-ms-error-code": code,
        }
        client_request_id = request.header("x-ms-client-request-id")
        if client_request_id:
            headers["x-ms-client-request-id"] = client_request_id
        return HTTPResponse(status, b"" if request.method == "HEAD" else body, headers)

    def _forward(self, request: HTTPRequest) -> HTTPResponse:
        upstream = self.upstream
        connection: http.client.HTTPConnection
        if upstream.ca_path is not None:
            context = ssl.create_default_context(cafile=str(upstream.ca_path))
            connection = http.client.HTTPSConnection(
                upstream.host, upstream.port, timeout=60, context=context
            )
        else:
            connection = http.client.HTTPConnection(upstream.host, upstream.port, timeout=60)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        if request.body and not any(k.lower() == "content-length" for k in headers):
            headers["Content-Length"] = str(len(request.body))
        try:
            connection.request(request.method, request.target, body=request.body or None, headers=headers)
            answer = connection.getresponse()
            body = answer.read()
            status = answer.status
            answer_headers = answer.getheaders()
        finally:
            connection.close()
        kept: dict[str, str] = {}
        for name, value in answer_headers:
            lowered = name.lower()
            if lowered in _HOP_BY_HOP or lowered in _SET_BY_HANDLER:
                continue
            if lowered == "content-length" and request.method != "HEAD":
                continue  # sent again from the body we pass on
            kept[name] = value
        return HTTPResponse(status, body, kept)


def _principal(authorization: str) -> str | None:
    """The ``oid`` of a bearer token (its signature unchecked, as Azurite does), or None."""
    import jwt

    try:
        claims = jwt.decode(authorization.split(" ", 1)[1], options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    oid = claims.get("oid")
    return str(oid).lower() if oid else None


def _operation(request: HTTPRequest) -> tuple[str, str | None]:
    """The RBAC action a request needs, and the container it is in (path style: /account/container/...)."""
    parts = [p for p in request.path.split("/") if p][1:]  # without the account
    comp = request.query.get("comp", "").lower()
    restype = request.query.get("restype", "").lower()
    method = request.method
    if not parts:
        if comp == "userdelegationkey":
            return _DELEGATION_KEY, None
        return _CONTAINERS_READ, None  # list containers, service and account properties
    container = parts[0]
    if len(parts) == 1 and restype == "container":
        if comp == "list":
            return _BLOBS_READ, container
        if method in ("GET", "HEAD"):
            return _CONTAINERS_READ, container
        if method == "DELETE":
            return _CONTAINERS_DELETE, container
        return _CONTAINERS_WRITE, container
    if method in ("GET", "HEAD"):
        return _BLOBS_READ, container
    if method == "DELETE":
        return _BLOBS_DELETE, container
    return _BLOBS_WRITE, container
