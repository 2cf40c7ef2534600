"""Local token issuers for azure-identity: a managed identity endpoint and an Entra-style authority.

Both hand out JWTs from :func:`~azcreds.testing.tokens.mint_token` whose audience is the resource
asked for, so Azurite (``--oauth basic``) and :class:`~azcreds.testing.keyvault_server.KeyVaultServer`
accept them and the whole token path runs for real: endpoint → credential → SDK client → service.

- :class:`ManagedIdentityEndpoint` (http) answers both managed identity protocols azure-identity
  speaks without a cloud: App Service (``IDENTITY_ENDPOINT`` + ``IDENTITY_HEADER``, see
  :meth:`~ManagedIdentityEndpoint.app_service_env`) and IMDS through
  ``AZURE_POD_IDENTITY_AUTHORITY_HOST`` (:meth:`~ManagedIdentityEndpoint.imds_env`; no probe of
  169.254.169.254 then). It knows a system-assigned identity and any user-assigned ones; an
  unknown ``client_id`` gets 400, as in Azure.
- :class:`EntraAuthority` (HTTPS) is the part of login.microsoftonline.com that MSAL's client
  credentials flow uses: OpenID discovery and the v2.0 token endpoint, for registered apps
  (client id → secret). Callers must turn instance discovery off
  (``disable_instance_discovery=True``), which never leaves loopback.

Both share the fault injection, request log, *down* and *black hole* modes of the Key Vault server.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import parse_qsl

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
from azcreds.testing.tokens import STORAGE_AUDIENCE, TEST_TENANT_ID, mint_token

if TYPE_CHECKING:
    from collections.abc import Mapping

    from azcreds.testing.tls import TestCertificates

__all__ = [
    "APP_SERVICE_PATH",
    "IMDS_PREFIX",
    "AssignedIdentity",
    "EntraAuthority",
    "Fault",
    "FaultInjector",
    "ManagedIdentityEndpoint",
    "RecordedRequest",
    "RegisteredApp",
    "ServerError",
    "audience_for",
]

APP_SERVICE_PATH = "/msi/token"
"""Where :class:`ManagedIdentityEndpoint` answers App Service style requests."""

IMDS_PREFIX = "/imds"
"""The path ``AZURE_POD_IDENTITY_AUTHORITY_HOST`` ends with; tokens are under it, IMDS style."""

_IMDS_TOKEN_PATH = "/metadata/identity/oauth2/token"
_RESOURCE_ALIASES = {
    "https://storage.azure.com": STORAGE_AUDIENCE,
    "https://vault.azure.net": "https://vault.azure.net",
}


def audience_for(resource_or_scope: str) -> str:
    """The ``aud`` claim Entra puts in a token for a resource or a ``/.default`` scope.

    ``https://storage.azure.com/.default`` and ``https://storage.azure.com/`` give
    ``https://storage.azure.com``; ``https://vault.azure.net/.default`` gives
    ``https://vault.azure.net``; anything else loses its ``/.default`` and trailing slash.
    """
    resource = resource_or_scope.strip()
    if resource.endswith("/.default"):
        resource = resource[: -len("/.default")]
    resource = resource.rstrip("/")
    return _RESOURCE_ALIASES.get(resource.lower(), resource)


def _new_guid() -> str:
    return str(uuid.uuid4())


def _route_path(path: str) -> str:
    """A request path as routes compare it: lower-cased, without one trailing slash."""
    lowered = path.lower()
    return lowered[:-1] if lowered.endswith("/") and not lowered.endswith("//") else lowered


@dataclass(frozen=True)
class AssignedIdentity:
    """A managed identity the endpoint can issue tokens for.

    ``client_id`` becomes the token's ``appid``, ``object_id`` its ``oid``; ``resource_id`` is
    the ARM id that ``mi_res_id``/``msi_res_id`` select. ``system_assigned`` marks the one used
    when a request names no identity.
    """

    client_id: str
    object_id: str
    resource_id: str
    system_assigned: bool = False


class ManagedIdentityEndpoint(LocalHTTPServer):
    """An App Service and IMDS style managed identity endpoint on ``http://127.0.0.1:PORT``.

    ``system_assigned=False`` leaves the resource without a system-assigned identity (a request
    that names no identity then gets 400). ``user_assigned`` is how many user-assigned identities
    to create (more with :meth:`add_user_assigned`). ``identity_header`` is the App Service secret
    (random by default). ``token_lifetime`` is in seconds. Tokens carry ``tenant_id``.
    Paths are matched in any case and with or without one trailing slash, as the real endpoints
    do (Node's MSAL asks for ``/metadata/identity/oauth2/token/``).
    """

    server_name: ClassVar[str] = "azcreds-managed-identity/1.0"

    def __init__(
        self,
        *,
        tenant_id: str = TEST_TENANT_ID,
        system_assigned: bool = True,
        user_assigned: int = 1,
        identity_header: str | None = None,
        token_lifetime: int = 3600,
        port: int = 0,
    ) -> None:
        super().__init__(port=port)
        self.tenant_id = tenant_id
        self.identity_header = identity_header or secrets.token_urlsafe(24)
        self.token_lifetime = token_lifetime
        self._identities_lock = threading.Lock()
        self._identities: list[AssignedIdentity] = []
        if system_assigned:
            self._identities.append(self._new_identity(system_assigned=True))
        for _ in range(user_assigned):
            self.add_user_assigned()

    def start(self) -> ManagedIdentityEndpoint:
        """Listen on 127.0.0.1 and return once connections are accepted."""
        super().start()
        return self

    def __enter__(self) -> ManagedIdentityEndpoint:
        return self.start()

    # -- identities --------------------------------------------------------------------------

    def _new_identity(self, *, system_assigned: bool, client_id: str | None = None) -> AssignedIdentity:
        name = "system" if system_assigned else f"user-{len(self._identities)}"
        return AssignedIdentity(
            client_id=client_id or _new_guid(),
            object_id=_new_guid(),
            resource_id=(
                f"/subscriptions/{uuid.UUID(int=0)}/resourceGroups/azcreds-tests/providers/"
                f"Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
            ),
            system_assigned=system_assigned,
        )

    def add_user_assigned(self, client_id: str | None = None) -> AssignedIdentity:
        """Assign one more user-assigned identity (``client_id`` random unless given)."""
        with self._identities_lock:
            identity = self._new_identity(system_assigned=False, client_id=client_id)
            self._identities.append(identity)
            return identity

    @property
    def identities(self) -> list[AssignedIdentity]:
        """Every assigned identity, the system-assigned one first."""
        with self._identities_lock:
            return list(self._identities)

    @property
    def system_assigned(self) -> AssignedIdentity:
        """The system-assigned identity (``LookupError`` if there is none)."""
        for identity in self.identities:
            if identity.system_assigned:
                return identity
        raise LookupError("this endpoint has no system-assigned identity")

    @property
    def user_assigned(self) -> list[AssignedIdentity]:
        """The user-assigned identities, oldest first."""
        return [i for i in self.identities if not i.system_assigned]

    # -- environments ------------------------------------------------------------------------

    @property
    def app_service_url(self) -> str:
        """``http://127.0.0.1:PORT/msi/token``."""
        return f"{self.base_url}{APP_SERVICE_PATH}"

    @property
    def imds_authority(self) -> str:
        """``http://127.0.0.1:PORT/imds``: the value of ``AZURE_POD_IDENTITY_AUTHORITY_HOST``."""
        return f"{self.base_url}{IMDS_PREFIX}"

    def app_service_env(self) -> dict[str, str]:
        """The variables that make azure-identity use this endpoint App Service style."""
        return {"IDENTITY_ENDPOINT": self.app_service_url, "IDENTITY_HEADER": self.identity_header}

    def imds_env(self) -> dict[str, str]:
        """The variable that makes azure-identity use this endpoint IMDS style, with no IMDS probe."""
        return {"AZURE_POD_IDENTITY_AUTHORITY_HOST": self.imds_authority}

    def token_count(self, style: Literal["app_service", "imds"] | None = None) -> int:
        """How many tokens were issued (of one style, or both)."""
        return sum(
            1 for r in self.requests if r.status == 200 and (style is None or r.details.get("style") == style)
        )

    # -- the protocol ------------------------------------------------------------------------

    def _handle(self, request: HTTPRequest) -> HTTPResponse:
        # Like the real endpoints, take any case and one trailing slash: Node's MSAL lower-cases the
        # IMDS URL and appends "/" (`/metadata/identity/oauth2/token/`).
        path = _route_path(request.path)
        if path == APP_SERVICE_PATH:
            style: Literal["app_service", "imds"] = "app_service"
        elif path == IMDS_PREFIX + _IMDS_TOKEN_PATH:
            style = "imds"
        else:
            return HTTPResponse.json(404, {"error": "not_found", "error_description": "No such endpoint."})
        response = self._issue(request, style)
        given = request.header("X-IDENTITY-HEADER")
        header_state = "absent" if given is None else "valid" if given == self.identity_header else "wrong"
        response.details = {
            "style": style,
            "identity_header": header_state,  # never the header itself: it is the endpoint's secret
            "metadata": request.header("Metadata") or "",
            **response.details,
        }
        return response

    def _issue(self, request: HTTPRequest, style: Literal["app_service", "imds"]) -> HTTPResponse:
        if request.method != "GET":
            return _mi_error(style, 405, "invalid_request", f"{request.method} is not allowed; use GET.")
        if style == "app_service":
            if request.header("X-IDENTITY-HEADER") != self.identity_header:
                return _mi_error(
                    style, 401, "unauthorized", "The X-IDENTITY-HEADER header is missing or wrong."
                )
            versions: tuple[str, ...] = ("2019-08-01",)
        else:
            if (request.header("Metadata") or "").lower() != "true":
                return _mi_error(style, 400, "invalid_request", "Required metadata header not specified")
            versions = ("2018-02-01", "2019-08-01", "2021-02-01")
        api_version = request.query.get("api-version")
        if not api_version:
            return _mi_error(
                style, 400, "invalid_request", "Required query variable 'api-version' is missing"
            )
        if api_version not in versions:
            return _mi_error(style, 400, "invalid_request", f"Unsupported api-version {api_version!r}")
        resource = request.query.get("resource")
        if not resource:
            return _mi_error(style, 400, "invalid_request", "Required query variable 'resource' is missing")
        identity = self._select(request.query)
        if identity is None:
            return _mi_error(
                style,
                400,
                "invalid_request",
                "Identity not found"
                if style == "imds"
                else "No User Assigned or Delegated Managed Identity found for specified "
                "ClientId/ResourceId/PrincipalId.",
            )
        fault = self.faults.take(request.method, request.path, (identity.client_id, identity.object_id))
        faulted = fault_response(fault, lambda s, c, m: _mi_error_body(style, s, c, m)) if fault else None
        if faulted is None:
            response = HTTPResponse.json(200, self._token_payload(style, resource, identity))
            if fault is not None:
                response.delay, response.fault = fault.delay, True
        else:
            response = faulted
        response.authorized = True
        response.identity = identity.client_id
        response.details = {"resource": resource}
        return response

    def _select(self, query: Mapping[str, str]) -> AssignedIdentity | None:
        """The identity a request names (client_id, object_id, or a resource id), or the system one."""
        selectors = {
            "client_id": "client_id",
            "object_id": "object_id",
            "principal_id": "object_id",
            "mi_res_id": "resource_id",
            "msi_res_id": "resource_id",
        }
        for parameter, attribute in selectors.items():
            wanted = query.get(parameter)
            if wanted:
                for identity in self.identities:
                    if getattr(identity, attribute).lower() == wanted.lower():
                        return identity
                return None
        for identity in self.identities:
            if identity.system_assigned:
                return identity
        return None

    def _token_payload(self, style: str, resource: str, identity: AssignedIdentity) -> dict[str, Any]:
        now = int(time.time())
        token = mint_token(
            audience_for(resource),
            tenant_id=self.tenant_id,
            lifetime=self.token_lifetime,
            object_id=identity.object_id,
            app_id=identity.client_id,
            extra_claims={"idtyp": "app", "xms_mirid": identity.resource_id},
        )
        expires_on = now + self.token_lifetime
        if style == "app_service":
            return {
                "access_token": token,
                "expires_on": expires_on,
                "resource": resource,
                "token_type": "Bearer",
                "client_id": identity.client_id,
            }
        # IMDS sends its numbers as strings.
        return {
            "access_token": token,
            "client_id": identity.client_id,
            "expires_in": str(self.token_lifetime),
            "expires_on": str(expires_on),
            "ext_expires_in": str(self.token_lifetime),
            "not_before": str(now),
            "resource": resource,
            "token_type": "Bearer",
        }


def _mi_error_body(style: str, status: int, code: str | None, message: str | None) -> dict[str, Any]:
    text = message or {
        429: "Too many requests",
        500: "Internal server error",
        503: "Service unavailable",
    }.get(status, "Request failed")
    if style == "app_service":
        return {"statusCode": status, "message": text, "correlationId": _new_guid()}
    return {"error": code or "server_error", "error_description": text}


def _mi_error(style: str, status: int, code: str, message: str) -> HTTPResponse:
    response = HTTPResponse.json(status, _mi_error_body(style, status, code, message))
    response.details = {"reason": message}
    return response


# -- Entra ID -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisteredApp:
    """An app registration: its client id and secret, and its service principal's object id."""

    client_id: str
    client_secret: str
    object_id: str

    def __repr__(self) -> str:
        return f"RegisteredApp(client_id={self.client_id!r}, object_id={self.object_id!r})"


class EntraAuthority(LocalHTTPServer):
    """An Entra ID-style authority on ``https://127.0.0.1:PORT`` for the client credentials flow.

    Serves ``GET /{tenant}/v2.0/.well-known/openid-configuration``, ``GET
    /{tenant}/discovery/v2.0/keys`` and ``POST /{tenant}/oauth2/v2.0/token``
    (``grant_type=client_credentials`` with ``client_id``/``client_secret`` and a ``/.default``
    scope), and their v1 forms (``/{tenant}/.well-known/openid-configuration``,
    ``/{tenant}/discovery/keys``, ``/{tenant}/oauth2/token`` with ``resource=``); paths in any
    case, with or without one trailing slash. ``tenant_id`` is the only tenant it knows (others
    get 400 ``invalid_tenant``); one app is registered up front (:attr:`app`), more with
    :meth:`register_app`. A wrong secret gets 401 ``invalid_client``; an unknown client id 400
    ``unauthorized_client``.
    """

    server_name: ClassVar[str] = "azcreds-entra-authority/1.0"

    def __init__(
        self,
        *,
        certificates: TestCertificates,
        tenant_id: str = TEST_TENANT_ID,
        token_lifetime: int = 3600,
        port: int = 0,
    ) -> None:
        if certificates is None:
            raise ValueError("MSAL needs an https authority: pass certificates=make_test_certificates(...)")
        super().__init__(certificates=certificates, port=port)
        self.tenant_id = tenant_id
        self.token_lifetime = token_lifetime
        self._apps_lock = threading.Lock()
        self._apps: dict[str, RegisteredApp] = {}
        self.app = self.register_app()

    def start(self) -> EntraAuthority:
        """Listen on 127.0.0.1 and return once connections are accepted."""
        super().start()
        return self

    def __enter__(self) -> EntraAuthority:
        return self.start()

    def register_app(self, client_id: str | None = None, client_secret: str | None = None) -> RegisteredApp:
        """Register an app (random GUID and secret unless given) and return it."""
        app = RegisteredApp(
            client_id=client_id or _new_guid(),
            client_secret=client_secret or secrets.token_urlsafe(30),
            object_id=_new_guid(),
        )
        with self._apps_lock:
            self._apps[app.client_id.lower()] = app
        return app

    @property
    def apps(self) -> list[RegisteredApp]:
        """The registered apps."""
        with self._apps_lock:
            return list(self._apps.values())

    @property
    def authority(self) -> str:
        """``https://127.0.0.1:PORT``: the ``authority=`` (or ``AZURE_AUTHORITY_HOST``) for azure-identity."""
        return self.base_url

    @property
    def token_endpoint(self) -> str:
        """``https://127.0.0.1:PORT/{tenant}/oauth2/v2.0/token``."""
        return f"{self.base_url}/{self.tenant_id}/oauth2/v2.0/token"

    def credential_kwargs(self) -> dict[str, Any]:
        """Keyword arguments azure-identity credentials need for this authority."""
        return {
            "authority": self.authority,
            "disable_instance_discovery": True,
            "connection_verify": self.ca_path,
        }

    def token_count(self) -> int:
        """How many tokens were issued."""
        return sum(
            1
            for r in self.requests
            if r.status == 200 and _route_path(r.path).endswith(("/oauth2/v2.0/token", "/oauth2/token"))
        )

    # -- the protocol ------------------------------------------------------------------------

    def _handle(self, request: HTTPRequest) -> HTTPResponse:
        # Entra takes any case and a trailing slash; the tenant is compared case-insensitively.
        parts = _route_path(request.path).lstrip("/").split("/")
        tenant, rest = parts[0], "/".join(parts[1:])
        routes = {
            ("GET", "v2.0/.well-known/openid-configuration"): self._discovery,
            ("GET", ".well-known/openid-configuration"): self._discovery_v1,
            ("GET", "discovery/v2.0/keys"): self._keys,
            ("GET", "discovery/keys"): self._keys,
            ("POST", "oauth2/v2.0/token"): self._token,
            ("POST", "oauth2/token"): self._token_v1,
        }
        handler = routes.get((request.method, rest))
        if handler is None:
            if any(path == rest for _, path in routes):
                return _oauth_error(405, "invalid_request", 900561, f"{request.method} is not allowed here.")
            return _oauth_error(404, "invalid_request", 900000, f"No endpoint at {request.path}.")
        if tenant.lower() != self.tenant_id.lower():
            return _oauth_error(
                400,
                "invalid_tenant",
                90002,
                f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID.",
            )
        return handler(request)

    def _discovery(self, request: HTTPRequest) -> HTTPResponse:
        fault = self.faults.take(request.method, request.path)
        faulted = fault_response(fault, _entra_fault_body) if fault is not None else None
        if faulted is not None:
            return faulted
        base = f"{self.base_url}/{self.tenant_id}"
        config = {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{base}/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": f"{base}/openid/userinfo",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "oid", "tid", "ver"],
            "kerberos_endpoint": f"{base}/kerberos",
            "tenant_region_scope": "EU",
            "cloud_instance_name": "azcreds.local",
            "cloud_graph_host_name": "graph.azcreds.local",
            "msgraph_host": "graph.azcreds.local",
            "rbac_url": "https://pas.azcreds.local",
        }
        response = HTTPResponse.json(200, config)
        if fault is not None:
            response.delay, response.fault = fault.delay, True
        return response

    def _discovery_v1(self, request: HTTPRequest) -> HTTPResponse:
        response = self._discovery(request)
        if response.status != 200:
            return response
        base = f"{self.base_url}/{self.tenant_id}"
        config = json.loads(response.body)
        config.update(
            token_endpoint=f"{base}/oauth2/token",
            authorization_endpoint=f"{base}/oauth2/authorize",
            device_authorization_endpoint=f"{base}/oauth2/devicecode",
            end_session_endpoint=f"{base}/oauth2/logout",
            jwks_uri=f"{base}/discovery/keys",
            issuer=f"https://sts.windows.net/{self.tenant_id}/",
        )
        response.body = json.dumps(config, separators=(",", ":")).encode("utf-8")
        return response

    def _keys(self, request: HTTPRequest) -> HTTPResponse:
        # The tokens are HMAC-signed with throwaway keys: there is no public key to publish.
        return HTTPResponse.json(200, {"keys": []})

    def _token(self, request: HTTPRequest) -> HTTPResponse:
        form = dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
        return self._token_from_form(request, form)

    def _token_from_form(self, request: HTTPRequest, form: dict[str, str]) -> HTTPResponse:
        details = {
            key: value for key, value in form.items() if key not in ("client_secret", "client_assertion")
        }
        details["client_secret"] = "<present>" if form.get("client_secret") else "<absent>"
        response = self._client_credentials(request, form)
        response.details = {**details, **response.details}
        return response

    def _token_v1(self, request: HTTPRequest) -> HTTPResponse:
        """The v1 endpoint: the same flow, naming a ``resource`` instead of a ``/.default`` scope."""
        form = dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
        resource = form.pop("resource", "")
        if not resource and "scope" not in form:
            return _oauth_error(
                400,
                "invalid_resource",
                50001,
                "The resource principal named was not found: the request must name a resource.",
            )
        if resource:
            form["scope"] = audience_for(resource) + "/.default"
        response = self._token_from_form(request, form)
        if response.status == 200 and resource:
            payload = json.loads(response.body)
            payload["resource"] = resource
            response.body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        return response

    def _client_credentials(self, request: HTTPRequest, form: Mapping[str, str]) -> HTTPResponse:
        grant_type = form.get("grant_type")
        if grant_type != "client_credentials":
            return _oauth_error(
                400,
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{grant_type}'. This server only knows "
                "client_credentials.",
            )
        client_id = form.get("client_id", "")
        with self._apps_lock:
            app = self._apps.get(client_id.lower())
        if app is None:
            return _oauth_error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory "
                f"'{self.tenant_id}'.",
            )
        secret = form.get("client_secret")
        if not secret or not secrets.compare_digest(secret.encode(), app.client_secret.encode()):
            error = _oauth_error(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                f"secret value, not the client secret ID, for a secret added to app '{app.client_id}'.",
            )
            error.identity = app.client_id
            return error
        scope = form.get("scope", "")
        scopes = scope.split()
        if len(scopes) != 1 or not scopes[0].endswith("/.default"):
            return _oauth_error(
                400,
                "invalid_scope",
                1002012,
                f"The provided value for scope {scope} is not valid. Client credential flows must have a "
                "scope value with /.default suffixed to the resource identifier (application ID URI).",
            )
        fault = self.faults.take(request.method, request.path, (app.client_id, app.object_id))
        faulted = fault_response(fault, _entra_fault_body) if fault is not None else None
        if faulted is None:
            token = mint_token(
                audience_for(scopes[0]),
                tenant_id=self.tenant_id,
                lifetime=self.token_lifetime,
                object_id=app.object_id,
                app_id=app.client_id,
                extra_claims={"idtyp": "app", "azp": app.client_id},
            )
            response = HTTPResponse.json(
                200,
                {
                    "token_type": "Bearer",
                    "expires_in": self.token_lifetime,
                    "ext_expires_in": self.token_lifetime,
                    "access_token": token,
                },
            )
            if fault is not None:
                response.delay, response.fault = fault.delay, True
        else:
            response = faulted
        response.authorized = True
        response.identity = app.client_id
        return response


def _oauth_error(status: int, error: str, code: int, description: str) -> HTTPResponse:
    response = HTTPResponse.json(status, _oauth_error_body(error, code, description))
    response.details = {"error": error}
    return response


def _oauth_error_body(error: str, code: int, description: str) -> dict[str, Any]:
    trace_id, correlation_id = _new_guid(), _new_guid()
    timestamp = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
    return {
        "error": error,
        "error_description": f"AADSTS{code}: {description} Trace ID: {trace_id} "
        f"Correlation ID: {correlation_id} Timestamp: {timestamp}",
        "error_codes": [code],
        "timestamp": timestamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
    }


def _entra_fault_body(status: int, code: str | None, message: str | None) -> dict[str, Any]:
    default = {429: "Too many requests.", 500: "Internal server error.", 503: "Service unavailable."}
    return _oauth_error_body(
        code or ("temporarily_unavailable" if status in (429, 503) else "server_error"),
        50000 + status,
        message or default.get(status, "The request failed."),
    )
