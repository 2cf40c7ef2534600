"""A local Key Vault secrets data plane over HTTPS, faithful to the REST API of ``azure-keyvault-secrets``.

No Key Vault emulator can be installed from the package registries, so tests talk to this one.
It knows the wire protocol only (nothing of azcreds): the bearer challenge, token checks, secrets
with versions, paged lists, property updates, soft delete, recover and purge, backup and restore,
the service's limits and error bodies. Point the real SDK at it::

    with KeyVaultServer(certificates=make_test_certificates(tmp)) as vault:
        client = SecretClient(vault.vault_url, credential, **vault.client_kwargs())

What it checks, as Key Vault does:

- **Authentication.** A request without ``Authorization: Bearer ...`` gets 401 with the challenge
  ``Bearer authorization="https://login.microsoftonline.com/{tenant}", resource="https://vault.azure.net"``.
  A bearer token must be a JWT (the signature is not verified) whose ``aud`` is one of
  :attr:`KeyVaultServer.audiences` (``https://vault.azure.net`` or the vault URL), with valid
  ``exp``/``nbf`` and, when present, ``tid`` equal to the vault's tenant; otherwise 401 again.
- **Requests.** ``api-version`` is required. Path segments and query parameter names are
  case-insensitive and one trailing slash is ignored (``/Secrets/n/Versions/?API-Version=...``).
  Names are ``[0-9A-Za-z-]{1,127}`` and compared case-insensitively (the first spelling is kept);
  values are at most 25 KB of UTF-8; at most 15 tags, names of at most 512 and values of at most
  256 characters; ``maxresults`` is 1-25.
- **Soft delete** (recovery level ``Recoverable+Purgeable``, 90 days): a deleted name cannot be set
  again (409 ``Conflict``) until it is recovered or purged. With ``operation_delay``, a delete or
  recover takes time, as on a real vault: the secret is in neither collection meanwhile, and
  purging, recovering or setting it is a 409.
- **Backup and restore.** A backup is base64url of an AES-GCM-sealed document (every version with
  its value, tags, content type and attributes) under the server's ``backup_key``: opaque to
  clients, and a tampered or foreign blob is 400 ``BadParameter``. Restore recreates the secret
  under its original name, which must be free: an existing or soft-deleted name is 409 ``Conflict``.
  Backing up a missing or deleted secret is 404.

Errors are ``{"error": {"code", "message"}}``: 400 ``BadParameter``, 401 ``Unauthorized``, 403
``Forbidden`` (a disabled secret, or an identity refused with ``faults.deny``), 404
``SecretNotFound``, 409 ``Conflict``. Tests inject more through :attr:`KeyVaultServer.faults`
(429 with ``Retry-After``, 5xx, delays, dropped connections), applied to authenticated requests
only, so the challenge round trip stays predictable. :attr:`KeyVaultServer.requests` records each
request, with whether it was authorized and the token's object id, never the token.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, ClassVar

from azcreds.testing._local_http import (
    Fault,
    FaultInjector,
    HTTPRequest,
    HTTPResponse,
    LocalHTTPServer,
    RecordedRequest,
    ServerError,
    fault_response,
)
from azcreds.testing.tokens import TEST_TENANT_ID

if TYPE_CHECKING:
    from collections.abc import Mapping

    from azcreds.testing.tls import TestCertificates

__all__ = [
    "KEYVAULT_AUDIENCE",
    "Fault",
    "FaultInjector",
    "KeyVaultServer",
    "RecordedRequest",
    "ServerError",
]

KEYVAULT_AUDIENCE = "https://vault.azure.net"
"""The resource Key Vault's challenge names, and the audience its tokens carry."""

_KEYVAULT_APP_ID = "cfa8b339-82a2-471a-a3c9-0fc0be7a4093"  # Key Vault's well-known application id
_NAME = re.compile(r"[0-9A-Za-z-]{1,127}")
_API_VERSION = re.compile(r"\d+\.\d+(-preview(\.\d+)?)?|\d{4}-\d{2}-\d{2}(-preview(\.\d+)?)?")
_BACKUP_MAGIC = b"azcreds-kv-backup-1:"  # also the AEAD's associated data
_BACKUP_FORMAT = 1
_RECOVERY_LEVEL = "Recoverable+Purgeable"
_RECOVERABLE_DAYS = 90
_ERROR_CODES = {
    400: "BadParameter",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    429: "Throttled",
    500: "InternalServerError",
    503: "ServiceUnavailable",
}


class _Reject(Exception):
    """Answer the current request with a Key Vault error."""

    def __init__(self, status: int, code: str, message: str, inner: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.inner = status, code, message, inner


@dataclass
class _Version:
    version: str
    value: str
    content_type: str | None
    tags: dict[str, str] | None
    enabled: bool
    not_before: int | None
    expires: int | None
    created: int
    updated: int


@dataclass
class _Secret:
    name: str  # the first spelling
    versions: dict[str, _Version] = field(default_factory=dict)  # oldest first
    deleted_date: int | None = None
    scheduled_purge_date: int | None = None
    ready_at: float = 0.0  # monotonic; before it, a delete or recover is still in progress

    @property
    def latest(self) -> _Version:
        return next(reversed(self.versions.values()))


def _error(status: int, code: str | None, message: str | None, inner: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {
        "code": code or _ERROR_CODES.get(status, HTTPStatus(status).phrase.replace(" ", "")),
        "message": message or HTTPStatus(status).description or HTTPStatus(status).phrase,
    }
    if inner is not None:
        error["innererror"] = {"code": inner}
    return {"error": error}


def _fault_error(status: int, code: str | None, message: str | None) -> dict[str, Any]:
    if message is None:
        message = {
            403: "The user, group or application does not have secrets permission on this key vault.",
            429: "Rate limit is exceeded. Try again in a few seconds.",
            500: "The server encountered an internal error. Please retry the request.",
            503: "The service is unavailable. Please retry the request.",
        }.get(status)
    inner = "AccessDenied" if status == 403 and code is None else None
    return _error(status, code, message, inner)


def _encode_skiptoken(offset: int) -> str:
    raw = json.dumps({"offset": offset}).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _decode_skiptoken(token: str) -> int:
    try:
        offset = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))["offset"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise _Reject(400, "BadParameter", "The $skiptoken parameter is not valid.") from None
    if not isinstance(offset, int) or offset < 0:
        raise _Reject(400, "BadParameter", "The $skiptoken parameter is not valid.")
    return offset


class KeyVaultServer(LocalHTTPServer):
    """A Key Vault secrets data plane on ``https://127.0.0.1:PORT``; see the module docstring.

    ``certificates`` is required (the SDK refuses bearer tokens over http). ``tenant_id`` is the
    tenant the challenge names and tokens must belong to; ``authority_host`` the login host in the
    challenge; ``audiences`` the accepted ``aud`` claims (default: ``https://vault.azure.net``,
    Key Vault's application id, and the vault URL). ``operation_delay`` is how many seconds a
    delete or recover takes to complete: meanwhile the secret is in neither collection (404), as
    when Key Vault's pollers wait. ``clock_skew`` is the leeway on ``exp``/``nbf``.
    ``backup_key`` (32 bytes, random by default) seals backups: servers that share one can restore
    each other's, as vaults in one subscription and geography can.
    """

    server_name: ClassVar[str] = "azcreds-keyvault-server/1.0"

    MAX_VALUE_BYTES: ClassVar[int] = 25 * 1024
    MAX_TAGS: ClassVar[int] = 15
    MAX_TAG_NAME: ClassVar[int] = 512
    MAX_TAG_VALUE: ClassVar[int] = 256
    MAX_CONTENT_TYPE: ClassVar[int] = 255
    MAX_PAGE_SIZE: ClassVar[int] = 25

    def __init__(
        self,
        *,
        certificates: TestCertificates,
        tenant_id: str = TEST_TENANT_ID,
        authority_host: str = "https://login.microsoftonline.com",
        audiences: tuple[str, ...] | None = None,
        operation_delay: float = 0.0,
        clock_skew: float = 0.0,
        backup_key: bytes | None = None,
        port: int = 0,
    ) -> None:
        if certificates is None:
            raise ValueError(
                "KeyVaultServer serves HTTPS only: pass certificates=make_test_certificates(...)"
            )
        super().__init__(certificates=certificates, port=port)
        self.tenant_id = tenant_id
        self.authority_host = authority_host.rstrip("/")
        self._audiences = audiences
        self.operation_delay = operation_delay
        self.clock_skew = clock_skew
        self._state = threading.Lock()
        self._secrets: dict[str, _Secret] = {}
        self._deleted: dict[str, _Secret] = {}
        if backup_key is not None and len(backup_key) != 32:
            raise ValueError("backup_key must be 32 bytes (an AES-256 key)")
        self._backup_key = backup_key if backup_key is not None else secrets.token_bytes(32)

    def start(self) -> KeyVaultServer:
        """Listen on 127.0.0.1 and return once connections are accepted."""
        super().start()
        return self

    def __enter__(self) -> KeyVaultServer:
        return self.start()

    # -- for tests ---------------------------------------------------------------------------

    @property
    def vault_url(self) -> str:
        """``https://127.0.0.1:PORT``, the ``vault_url`` for ``SecretClient``."""
        return self.base_url

    @property
    def audiences(self) -> tuple[str, ...]:
        """The ``aud`` claims tokens may carry."""
        if self._audiences is not None:
            return self._audiences
        return (
            KEYVAULT_AUDIENCE,
            f"{KEYVAULT_AUDIENCE}/",
            _KEYVAULT_APP_ID,
            self.vault_url,
            f"{self.vault_url}/",
        )

    @property
    def challenge(self) -> str:
        """The ``WWW-Authenticate`` value of a 401."""
        return (
            f'Bearer authorization="{self.authority_host}/{self.tenant_id}", resource="{KEYVAULT_AUDIENCE}"'
        )

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments ``SecretClient`` needs for this server (challenge check off, test CA)."""
        return {"verify_challenge_resource": False, "connection_verify": self.ca_path}

    def add_secret(
        self,
        name: str,
        value: str,
        *,
        content_type: str | None = None,
        tags: Mapping[str, str] | None = None,
        enabled: bool = True,
    ) -> str:
        """Store a new version directly (no request, no checks but the name); return its version."""
        _check_name(name)
        with self._state:
            if name.lower() in self._deleted:
                raise ValueError(f"secret {name!r} is deleted; recover or purge it first")
            return self._add_version(
                name, value, content_type, dict(tags) if tags else None, enabled, None, None
            )

    def secret_names(self) -> list[str]:
        """The names of the secrets that are not deleted, sorted case-insensitively."""
        with self._state:
            return sorted((s.name for s in self._secrets.values()), key=str.lower)

    def deleted_secret_names(self) -> list[str]:
        """The names of the deleted (not purged) secrets, sorted case-insensitively."""
        with self._state:
            return sorted((s.name for s in self._deleted.values()), key=str.lower)

    def secret_value(self, name: str, version: str | None = None) -> str:
        """A stored value (the latest version by default); ``KeyError`` if there is none."""
        with self._state:
            secret = self._secrets[name.lower()]
            return (secret.versions[version] if version else secret.latest).value

    def secret_versions(self, name: str) -> list[str]:
        """A secret's versions, oldest first; ``KeyError`` if it does not exist."""
        with self._state:
            return list(self._secrets[name.lower()].versions)

    def reset(self) -> None:
        """Forget every secret (deleted ones too), fault and recorded request."""
        super().reset()
        with self._state:
            self._secrets.clear()
            self._deleted.clear()

    # -- the protocol ------------------------------------------------------------------------

    def _handle(self, request: HTTPRequest) -> HTTPResponse:
        headers = {
            "x-ms-request-id": str(uuid.uuid4()),
            "x-ms-keyvault-service-version": "1.9.0.0",
            "x-ms-keyvault-region": "local",
            "Cache-Control": "no-cache",
        }
        try:
            claims = self._authenticate(request)
        except _Reject as rejected:
            headers["WWW-Authenticate"] = self.challenge
            response = HTTPResponse.json(
                rejected.status, _error(rejected.status, rejected.code, rejected.message), headers=headers
            )
            response.details = {"reason": rejected.message}
            return response
        identity = _claim(claims, "oid")
        identities = {i for i in (identity, _claim(claims, "appid"), _claim(claims, "azp")) if i}
        fault = self.faults.take(request.method, request.path, identities)
        faulted = fault_response(fault, _fault_error) if fault is not None else None
        if faulted is not None:
            faulted.headers = {**headers, **faulted.headers}
            response = faulted
        else:
            response = self._answer(request, headers)
            if fault is not None:  # a fault that only delays the answer
                response.delay, response.fault = fault.delay, True
        response.authorized = True
        response.identity = identity
        return response

    def _answer(self, request: HTTPRequest, headers: dict[str, str]) -> HTTPResponse:
        try:
            status, payload = self._route(request)
        except _Reject as rejected:
            return HTTPResponse.json(
                rejected.status,
                _error(rejected.status, rejected.code, rejected.message, rejected.inner),
                headers=headers,
            )
        if status == 204:
            return HTTPResponse(204, headers=headers)
        return HTTPResponse.json(status, payload, headers=headers)

    def _authenticate(self, request: HTTPRequest) -> dict[str, Any]:
        authorization = request.header("Authorization")
        if not authorization:
            raise _Reject(401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _Reject(401, "Unauthorized", "AKV10001: Unsupported authorization scheme.")
        import jwt

        try:
            claims: dict[str, Any] = jwt.decode(
                token.strip(),
                options={
                    "verify_signature": False,
                    "verify_aud": True,
                    "verify_exp": True,
                    "verify_nbf": True,
                    "verify_iat": False,
                    "verify_iss": False,
                    "require": ["exp", "aud"],
                },
                audience=list(self.audiences),
                leeway=self.clock_skew,
            )
        except jwt.ExpiredSignatureError:
            raise _Reject(401, "Unauthorized", "AKV10020: Token has expired.") from None
        except jwt.ImmatureSignatureError:
            raise _Reject(401, "Unauthorized", "AKV10021: Token is not yet valid (nbf).") from None
        except jwt.InvalidAudienceError:
            raise _Reject(
                401, "Unauthorized", f"AKV10022: Invalid audience. Expected {KEYVAULT_AUDIENCE}."
            ) from None
        except jwt.PyJWTError as exc:
            raise _Reject(401, "Unauthorized", f"AKV10032: Invalid token: {type(exc).__name__}.") from None
        tenant = claims.get("tid")
        if tenant is not None and str(tenant).lower() != self.tenant_id.lower():
            raise _Reject(401, "Unauthorized", f"AKV10032: Invalid issuer. Expected tenant {self.tenant_id}.")
        return claims

    def _route(self, request: HTTPRequest) -> tuple[int, Any]:
        # Query parameter names are case-insensitive on Key Vault (`API-Version=` works).
        params = {name.lower(): value for name, value in request.query.items()}
        api_version = params.get("api-version")
        if not api_version:
            raise _Reject(400, "BadParameter", "The api-version query parameter is missing.")
        if not _API_VERSION.fullmatch(api_version):
            raise _Reject(400, "BadParameter", f"The specified version ({api_version}) is not recognized.")
        # "/secrets/n/" -> ["secrets", "n"]: one trailing slash is ignored, as Key Vault does (the
        # SDKs ask for the latest version as "/secrets/n/", the version left empty).
        path = request.path[:-1] if request.path.endswith("/") else request.path
        parts = path.split("/")[1:]
        method = request.method
        collection, rest = parts[0].lower() if parts else "", parts[1:]
        if "" in rest:
            raise _Reject(404, "NotFound", f"No route for {method} {request.path}.")
        base = f"https://{request.host}"
        with self._state:
            if collection == "secrets":
                return self._route_secrets(method, rest, request, params, base)
            if collection == "deletedsecrets":
                return self._route_deleted(method, rest, request, params, base)
        raise _Reject(404, "NotFound", f"No route for {method} {request.path}.")

    def _route_secrets(
        self, method: str, rest: list[str], request: HTTPRequest, params: Mapping[str, str], base: str
    ) -> tuple[int, Any]:
        if not rest:
            if method == "GET":
                return 200, self._page(request.path, params, base, self._list_secrets(base))
            raise _method_not_allowed(method, request.path)
        name = rest[0]
        if name.lower() == "restore" and len(rest) == 1 and method == "POST":
            return 200, self._restore(request, base)
        _check_name(name)
        if len(rest) == 1:
            if method == "PUT":
                return 200, self._set(name, request, base)
            if method == "DELETE":
                return 200, self._delete(name, base)
            if method == "GET":
                return 200, self._bundle(
                    self._existing(name), None, base, with_value=True, check_enabled=True
                )
            if method == "PATCH":
                return 200, self._update(name, None, request, base)
            raise _method_not_allowed(method, request.path)
        if len(rest) == 2:
            if rest[1].lower() == "versions" and method == "GET":
                secret = self._existing(name)
                items = [self._item(secret, v, base, with_version=True) for v in secret.versions.values()]
                return 200, self._page(request.path, params, base, items)
            if rest[1].lower() == "backup" and method == "POST":
                return 200, {"value": self._backup(name)}
            if method == "GET":
                return 200, self._bundle(
                    self._existing(name), rest[1], base, with_value=True, check_enabled=True
                )
            if method == "PATCH":
                return 200, self._update(name, rest[1], request, base)
            raise _method_not_allowed(method, request.path)
        raise _Reject(404, "NotFound", f"No route for {method} {request.path}.")

    def _route_deleted(
        self, method: str, rest: list[str], request: HTTPRequest, params: Mapping[str, str], base: str
    ) -> tuple[int, Any]:
        now = time.monotonic()
        if not rest:
            if method == "GET":
                ready = sorted(
                    (s for s in self._deleted.values() if s.ready_at <= now), key=lambda s: s.name.lower()
                )
                items = [self._deleted_item(s, base) for s in ready]
                return 200, self._page(request.path, params, base, items)
            raise _method_not_allowed(method, request.path)
        name = rest[0]
        _check_name(name)
        if len(rest) == 1:
            if method == "GET":
                return 200, self._deleted_bundle(self._existing_deleted(name), base)
            if method == "DELETE":
                self._settled_deleted(name)
                del self._deleted[name.lower()]
                return 204, None
            raise _method_not_allowed(method, request.path)
        if len(rest) == 2 and rest[1].lower() == "recover":
            if method == "POST":
                return 200, self._recover(name, base)
            raise _method_not_allowed(method, request.path)
        raise _Reject(404, "NotFound", f"No route for {method} {request.path}.")

    # -- operations (called with self._state held) -------------------------------------------

    def _add_version(
        self,
        name: str,
        value: str,
        content_type: str | None,
        tags: dict[str, str] | None,
        enabled: bool,
        not_before: int | None,
        expires: int | None,
    ) -> str:
        now = int(time.time())
        secret = self._secrets.setdefault(name.lower(), _Secret(name=name))
        version = uuid.uuid4().hex
        secret.versions[version] = _Version(
            version, value, content_type, tags, enabled, not_before, expires, now, now
        )
        return version

    def _set(self, name: str, request: HTTPRequest, base: str) -> dict[str, Any]:
        body = _json_object(request)
        deleted = self._deleted.get(name.lower())
        if deleted is not None and deleted.ready_at > time.monotonic():
            raise _Reject(
                409,
                "Conflict",
                f"Secret {deleted.name} is currently being deleted.",
                inner="ObjectIsBeingDeleted",
            )
        if deleted is not None:
            raise _Reject(
                409,
                "Conflict",
                f"Secret {deleted.name} is currently in a deleted but recoverable state, and its name "
                "cannot be reused; in this state, the secret can only be recovered or purged.",
            )
        self._not_recovering(name)
        value = body.get("value")
        if not isinstance(value, str):
            raise _Reject(400, "BadParameter", "Property 'value' is required and must be a string.")
        if len(value.encode("utf-8")) > self.MAX_VALUE_BYTES:
            raise _Reject(
                400, "BadParameter", f"Secret value is too large: the limit is {self.MAX_VALUE_BYTES} bytes."
            )
        content_type = self._content_type(body)
        tags = self._tags(body)
        enabled, not_before, expires = _attributes(body.get("attributes"), None)
        version = self._add_version(
            name, value, content_type, tags, True if enabled is None else enabled, not_before, expires
        )
        return self._bundle(self._secrets[name.lower()], version, base, with_value=True)

    def _update(self, name: str, version: str | None, request: HTTPRequest, base: str) -> dict[str, Any]:
        body = _json_object(request)
        secret = self._existing(name)
        target = self._version(secret, version)
        if "contentType" in body:
            target.content_type = self._content_type(body)
        if "tags" in body:
            target.tags = self._tags(body)
        enabled, not_before, expires = _attributes(body.get("attributes"), target)
        if enabled is not None:
            target.enabled = enabled
        target.not_before, target.expires = not_before, expires
        target.updated = int(time.time())
        return self._bundle(secret, target.version, base, with_value=False)

    def _delete(self, name: str, base: str) -> dict[str, Any]:
        self._not_recovering(name)
        secret = self._existing(name)
        now = int(time.time())
        del self._secrets[name.lower()]
        secret.deleted_date = now
        secret.scheduled_purge_date = now + _RECOVERABLE_DAYS * 86400
        secret.ready_at = time.monotonic() + self.operation_delay
        self._deleted[name.lower()] = secret
        return self._deleted_bundle(secret, base)

    def _recover(self, name: str, base: str) -> dict[str, Any]:
        secret = self._settled_deleted(name)
        del self._deleted[name.lower()]
        secret.deleted_date = secret.scheduled_purge_date = None
        secret.ready_at = time.monotonic() + self.operation_delay
        self._secrets[name.lower()] = secret
        return self._bundle(secret, None, base, with_value=False)

    def _backup(self, name: str) -> str:
        """The opaque backup of a secret: every version, sealed with the server's backup key."""
        secret = self._existing(name)
        document = {
            "format": _BACKUP_FORMAT,
            "name": secret.name,
            "versions": [
                {
                    "version": v.version,
                    "value": v.value,
                    "contentType": v.content_type,
                    "tags": v.tags,
                    "enabled": v.enabled,
                    "nbf": v.not_before,
                    "exp": v.expires,
                    "created": v.created,
                    "updated": v.updated,
                }
                for v in secret.versions.values()
            ],
        }
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = secrets.token_bytes(12)
        sealed = AESGCM(self._backup_key).encrypt(
            nonce, json.dumps(document, separators=(",", ":")).encode("utf-8"), _BACKUP_MAGIC
        )
        return base64.urlsafe_b64encode(_BACKUP_MAGIC + nonce + sealed).decode("ascii").rstrip("=")

    def _restore(self, request: HTTPRequest, base: str) -> dict[str, Any]:
        body = _json_object(request)
        blob = body.get("value")
        if not isinstance(blob, str) or not blob:
            raise _Reject(400, "BadParameter", "Property 'value' (the backup blob) is required.")
        secret = self._unseal(blob)
        key = secret.name.lower()
        deleted = self._deleted.get(key)
        if deleted is not None:
            raise _Reject(
                409,
                "Conflict",
                f"Secret {deleted.name} is currently in a deleted but recoverable state: a backup cannot "
                "be restored into its name until it is purged.",
            )
        if key in self._secrets:
            raise _Reject(
                409,
                "Conflict",
                f"Secret {self._secrets[key].name} already exists: a backup restores only into a free name.",
            )
        self._secrets[key] = secret
        return self._bundle(secret, None, base, with_value=False)

    def _unseal(self, blob: str) -> _Secret:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        corrupt = _Reject(400, "BadParameter", "Backup blob contains invalid or corrupt version.")
        try:
            raw = base64.urlsafe_b64decode(blob + "=" * (-len(blob) % 4))
        except (ValueError, binascii.Error):
            raise corrupt from None
        magic, nonce, sealed = (
            raw[: len(_BACKUP_MAGIC)],
            raw[len(_BACKUP_MAGIC) : 12 + len(_BACKUP_MAGIC)],
            raw[12 + len(_BACKUP_MAGIC) :],
        )
        if magic != _BACKUP_MAGIC or len(nonce) != 12:
            raise corrupt
        try:
            document = json.loads(AESGCM(self._backup_key).decrypt(nonce, sealed, _BACKUP_MAGIC))
            secret = _Secret(name=str(document["name"]))
            for v in document["versions"]:
                secret.versions[str(v["version"])] = _Version(
                    version=str(v["version"]),
                    value=str(v["value"]),
                    content_type=v["contentType"],
                    tags=v["tags"],
                    enabled=bool(v["enabled"]),
                    not_before=v["nbf"],
                    expires=v["exp"],
                    created=int(v["created"]),
                    updated=int(v["updated"]),
                )
        except (InvalidTag, ValueError, KeyError, TypeError):
            raise corrupt from None
        if document.get("format") != _BACKUP_FORMAT or not secret.versions:
            raise corrupt
        return secret

    def _existing(self, name: str) -> _Secret:
        secret = self._secrets.get(name.lower())
        if secret is None or secret.ready_at > time.monotonic():
            raise _Reject(
                404, "SecretNotFound", f"A secret with (name/id) {name} was not found in this key vault."
            )
        return secret

    def _not_recovering(self, name: str) -> None:
        current = self._secrets.get(name.lower())
        if current is not None and current.ready_at > time.monotonic():
            raise _Reject(
                409,
                "Conflict",
                f"Secret {current.name} is currently being recovered.",
                inner="ObjectIsBeingRecovered",
            )

    def _settled_deleted(self, name: str) -> _Secret:
        """A deleted secret to purge or recover: 409 while its deletion is still in progress."""
        secret = self._deleted.get(name.lower())
        if secret is not None and secret.ready_at > time.monotonic():
            raise _Reject(
                409,
                "Conflict",
                f"Secret {secret.name} is currently being deleted.",
                inner="ObjectIsBeingDeleted",
            )
        return self._existing_deleted(name)

    def _existing_deleted(self, name: str) -> _Secret:
        secret = self._deleted.get(name.lower())
        if secret is None or secret.ready_at > time.monotonic():
            raise _Reject(404, "SecretNotFound", f"Deleted Secret not found: {name}")
        return secret

    @staticmethod
    def _version(secret: _Secret, version: str | None) -> _Version:
        if not version:
            return secret.latest
        found = secret.versions.get(version.lower())
        if found is None:
            raise _Reject(
                404,
                "SecretNotFound",
                f"A secret with (name/id) {secret.name}/{version} was not found in this key vault.",
            )
        return found

    def _content_type(self, body: Mapping[str, Any]) -> str | None:
        content_type = body.get("contentType")
        if content_type is None:
            return None
        if not isinstance(content_type, str) or len(content_type) > self.MAX_CONTENT_TYPE:
            raise _Reject(
                400,
                "BadParameter",
                f"contentType must be a string of at most {self.MAX_CONTENT_TYPE} characters.",
            )
        return content_type

    def _tags(self, body: Mapping[str, Any]) -> dict[str, str] | None:
        tags = body.get("tags")
        if tags is None:
            return None
        if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
            raise _Reject(400, "BadParameter", "tags must be an object of strings.")
        if len(tags) > self.MAX_TAGS:
            raise _Reject(400, "BadParameter", f"Too many tags: at most {self.MAX_TAGS} are allowed.")
        for tag, value in tags.items():
            if not tag or len(tag) > self.MAX_TAG_NAME:
                raise _Reject(
                    400, "BadParameter", f"Tag names must have 1 to {self.MAX_TAG_NAME} characters."
                )
            if len(value) > self.MAX_TAG_VALUE:
                raise _Reject(
                    400, "BadParameter", f"Tag values must have at most {self.MAX_TAG_VALUE} characters."
                )
        return dict(tags)

    # -- representations ---------------------------------------------------------------------

    def _bundle(
        self,
        secret: _Secret,
        version: str | None,
        base: str,
        *,
        with_value: bool,
        check_enabled: bool = False,
    ) -> dict[str, Any]:
        target = self._version(secret, version)
        if check_enabled and not target.enabled:
            raise _Reject(
                403, "Forbidden", "Operation get is not allowed on a disabled secret.", inner="SecretDisabled"
            )
        bundle: dict[str, Any] = {}
        if with_value:
            bundle["value"] = target.value
        bundle.update(self._item(secret, target, base, with_version=True))
        return bundle

    @staticmethod
    def _item(secret: _Secret, version: _Version, base: str, *, with_version: bool) -> dict[str, Any]:
        item: dict[str, Any] = {
            "id": f"{base}/secrets/{secret.name}" + (f"/{version.version}" if with_version else ""),
            "attributes": _attributes_json(version),
        }
        if version.content_type is not None:
            item["contentType"] = version.content_type
        if version.tags is not None:
            item["tags"] = dict(version.tags)
        return item

    def _list_secrets(self, base: str) -> list[dict[str, Any]]:
        now = time.monotonic()
        ready = sorted((s for s in self._secrets.values() if s.ready_at <= now), key=lambda s: s.name.lower())
        return [self._item(s, s.latest, base, with_version=False) for s in ready]

    def _deleted_fields(self, secret: _Secret, base: str) -> dict[str, Any]:
        return {
            "recoveryId": f"{base}/deletedsecrets/{secret.name}",
            "deletedDate": secret.deleted_date,
            "scheduledPurgeDate": secret.scheduled_purge_date,
        }

    def _deleted_bundle(self, secret: _Secret, base: str) -> dict[str, Any]:
        bundle = self._deleted_fields(secret, base)
        bundle.update(self._item(secret, secret.latest, base, with_version=True))
        return bundle

    def _deleted_item(self, secret: _Secret, base: str) -> dict[str, Any]:
        item = self._deleted_fields(secret, base)
        item.update(self._item(secret, secret.latest, base, with_version=False))
        return item

    def _page(
        self, path: str, params: Mapping[str, str], base: str, items: list[dict[str, Any]]
    ) -> dict[str, Any]:
        raw = params.get("maxresults")
        size = self.MAX_PAGE_SIZE
        if raw is not None:
            try:
                size = int(raw)
            except ValueError:
                size = 0
            if not 1 <= size <= self.MAX_PAGE_SIZE:
                raise _Reject(
                    400, "BadParameter", f"maxresults must be an integer from 1 to {self.MAX_PAGE_SIZE}."
                )
        token = params.get("$skiptoken")
        offset = _decode_skiptoken(token) if token else 0
        page = items[offset : offset + size]
        next_link = None
        if offset + size < len(items):
            query = f"api-version={params['api-version']}&$skiptoken={_encode_skiptoken(offset + size)}"
            if raw is not None:
                query += f"&maxresults={size}"
            next_link = f"{base}{path.rstrip('/')}?{query}"
        return {"value": page, "nextLink": next_link}


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise _Reject(
            400,
            "BadParameter",
            f"The request URI contains an invalid name: {name[:130]!r}. "
            "Names are 1-127 letters, digits and dashes.",
        )


def _method_not_allowed(method: str, path: str) -> _Reject:
    return _Reject(405, "MethodNotAllowed", f"The method {method} is not allowed on {path}.")


def _claim(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return str(value) if value is not None else None


def _json_object(request: HTTPRequest) -> dict[str, Any]:
    try:
        body = request.json() if request.body else {}
    except (ValueError, UnicodeDecodeError):
        raise _Reject(400, "BadParameter", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise _Reject(400, "BadParameter", "The request body must be a JSON object.")
    return body


def _attributes(raw: object, current: _Version | None) -> tuple[bool | None, int | None, int | None]:
    """``(enabled, nbf, exp)`` from a request's ``attributes``; unset ones keep ``current``'s."""
    not_before = current.not_before if current is not None else None
    expires = current.expires if current is not None else None
    if raw is None:
        return None, not_before, expires
    if not isinstance(raw, dict):
        raise _Reject(400, "BadParameter", "attributes must be an object.")
    enabled = raw.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise _Reject(400, "BadParameter", "attributes.enabled must be a boolean.")
    for key in ("nbf", "exp"):
        if (
            key in raw
            and raw[key] is not None
            and (not isinstance(raw[key], int) or isinstance(raw[key], bool))
        ):
            raise _Reject(400, "BadParameter", f"attributes.{key} must be seconds since the epoch.")
    if "nbf" in raw:
        not_before = raw["nbf"]
    if "exp" in raw:
        expires = raw["exp"]
    return enabled, not_before, expires


def _attributes_json(version: _Version) -> dict[str, Any]:
    attributes: dict[str, Any] = {"enabled": version.enabled}
    if version.not_before is not None:
        attributes["nbf"] = version.not_before
    if version.expires is not None:
        attributes["exp"] = version.expires
    attributes.update(
        created=version.created,
        updated=version.updated,
        recoveryLevel=_RECOVERY_LEVEL,
        recoverableDays=_RECOVERABLE_DAYS,
    )
    return attributes
