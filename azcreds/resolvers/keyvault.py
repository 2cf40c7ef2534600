"""KeyVaultStore: named secrets in Azure Key Vault, as a store and a resolver.

Mapping (one Key Vault secret per azcreds secret):

- **name**: ``azcreds-`` + the lower-cased name with every ``_`` turned into ``-``, then ``-`` and a
  mask saying which separators were ``_`` (bit *i* for the *i*-th separator, least significant
  first, written in base 32 with the digits ``0-9a-v``; ``0`` when there is none). The mapping is
  injective and always fits Key Vault's 127 characters: ``az_secret`` → ``azcreds-az-secret-1``,
  ``az-secret`` → ``azcreds-az-secret-0``, ``prod_blob_key`` → ``azcreds-prod-blob-key-3``.
- **value**: the JSON object of the schema's fields; ``content_type`` ``application/json``;
- **tags**: ``azcreds-schema`` (the schema id) and ``azcreds-name`` (the original spelling).

Soft-delete is real: ``delete`` leaves a recoverable secret, ``delete(purge=True)`` purges it
(also a name that is already soft-deleted), and ``register`` on a soft-deleted name recovers it
first, then writes the new value as a new version.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from azcreds.errors import (
    FieldError,
    InvalidSecretNameError,
    PermissionDeniedError,
    ResolverUnavailableError,
    SchemaValidationError,
    SecretExistsError,
    SecretNotFoundError,
    ServiceError,
    StoreCorruptedError,
)
from azcreds.names import name_key, validate_secret_name
from azcreds.redact import register_secrets
from azcreds.resolvers.keyring import SecretInfo
from azcreds.schemas import parse_secret

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from azure.keyvault.secrets import SecretClient

    from azcreds.schemas import SecretSchema

__all__ = ["NAME_PREFIX", "KeyVaultStore", "decode_name", "encode_name"]

NAME_PREFIX = "azcreds-"
TAG_SCHEMA = "azcreds-schema"
TAG_NAME = "azcreds-name"
MAX_VALUE_BYTES = 25 * 1024
_B32 = "0123456789abcdefghijklmnopqrstuv"
_LOOPBACK_HOSTS = {"127.0.0.1", "::1", "localhost"}


def encode_name(name: str) -> str:
    """The Key Vault secret name of an azcreds secret name (see the module docstring)."""
    validate_secret_name(name)
    lowered = name.lower()
    mask = 0
    separators = 0
    for char in lowered:
        if char in "-_":
            if char == "_":
                mask |= 1 << separators
            separators += 1
    digits = max(1, -(-separators // 5))
    encoded_mask = "".join(_B32[(mask >> (5 * i)) & 31] for i in reversed(range(digits)))
    result = f"{NAME_PREFIX}{lowered.replace('_', '-')}-{encoded_mask}"
    if len(result) > 127:  # cannot happen for valid names (at most 8 + 64 + 1 + 13 characters)
        raise InvalidSecretNameError("the name is too long for Key Vault")
    return result


def decode_name(vault_name: str) -> str | None:
    """The (lower-cased) azcreds name a Key Vault name encodes, or None if it is not ours."""
    lowered = vault_name.lower()
    if not lowered.startswith(NAME_PREFIX):
        return None
    body, _, encoded_mask = lowered[len(NAME_PREFIX) :].rpartition("-")
    if not body or not encoded_mask or any(c not in _B32 for c in encoded_mask):
        return None
    separators = body.count("-")
    if len(encoded_mask) != max(1, -(-separators // 5)):
        return None
    mask = 0
    for c in encoded_mask:
        mask = mask * 32 + _B32.index(c)
    if mask >> separators:
        return None
    out = []
    index = 0
    for char in body:
        if char == "-":
            out.append("_" if mask >> index & 1 else "-")
            index += 1
        else:
            out.append(char)
    name = "".join(out)
    try:
        validate_secret_name(name)
    except InvalidSecretNameError:
        return None
    return name if encode_name(name) == lowered else None


def _is_loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "").lower() in _LOOPBACK_HOSTS


class KeyVaultStore:
    """Named secrets in Azure Key Vault: ``register / get / list / update / delete`` and a resolver.

    ``vault_url`` defaults to ``AZCREDS_KEYVAULT_URL``; ``credential`` defaults to
    :func:`azcreds.identity.default_keyvault_credential` (environment service principal, workload
    identity, managed identity, Azure CLI — never an interactive login, never an IMDS probe unless
    ``AZCREDS_MANAGED_IDENTITY=imds``). Other keyword arguments go to the SDK's ``SecretClient``.
    For a vault on loopback (a local test server) the challenge resource is not verified.
    """

    def __init__(
        self,
        vault_url: str | None = None,
        credential: Any = None,
        *,
        polling_interval: float = 2.0,
        **client_kwargs: Any,
    ) -> None:
        if vault_url is None:
            from azcreds.settings import get_settings

            vault_url = get_settings().keyvault_url
        self.vault_url = vault_url.rstrip("/") if vault_url else None
        self._credential = credential
        self._client_kwargs = client_kwargs
        self.polling_interval = polling_interval  # seconds between delete/recover status polls
        self._client: SecretClient | None = None
        self._lock = threading.Lock()

    @property
    def source(self) -> Literal["keyvault"]:
        return "keyvault"

    @property
    def path(self) -> str:
        """Where the secrets live (the vault URL), for messages."""
        return self.vault_url or "(no vault configured)"

    def __repr__(self) -> str:
        return f"KeyVaultStore({self.vault_url!r})"

    # ------------------------------------------------------------------ the SDK client

    def _secret_client(self) -> SecretClient:
        if self.vault_url is None:
            raise ResolverUnavailableError("no Key Vault configured: set AZCREDS_KEYVAULT_URL or --vault-url")
        if self._client is None:
            with self._lock:
                if self._client is None:
                    from azure.keyvault.secrets import SecretClient

                    credential = self._credential
                    if credential is None:
                        from azcreds.identity import default_keyvault_credential

                        credential = default_keyvault_credential()
                    kwargs = dict(self._client_kwargs)
                    # The SDK's network trace logs bodies (secret values) and bearer tokens when
                    # logging_enable is on, and a per-call False does not survive its challenge
                    # retry: it is off for the whole client, whatever the caller asked for.
                    kwargs["logging_enable"] = False
                    if _is_loopback(self.vault_url):
                        kwargs.setdefault("verify_challenge_resource", False)
                    self._client = SecretClient(self.vault_url, credential, **kwargs)
        return self._client

    def _call(self, what: str, name: str | None, fn: Callable[[SecretClient], Any]) -> Any:
        """Run one SDK call with HTTP body logging forced off, mapping its errors onto ours."""
        from azure.core.exceptions import (
            ClientAuthenticationError,
            HttpResponseError,
            ResourceExistsError,
            ResourceNotFoundError,
            ServiceRequestError,
            ServiceResponseError,
        )

        client = self._secret_client()
        label = f"Key Vault {self.vault_url}"
        try:
            return fn(client)
        except ResourceNotFoundError as exc:
            raise SecretNotFoundError(name, detail=f"not in {label}") from exc
        except ResourceExistsError as exc:
            raise SecretExistsError(f"{what}: the name exists in {label}") from exc
        except HttpResponseError as exc:  # ClientAuthenticationError included
            if exc.status_code in (401, 403):
                raise PermissionDeniedError(
                    f"{label} refused the caller ({exc.status_code}) while trying to {what}"
                ) from exc
            if isinstance(exc, ClientAuthenticationError):  # no HTTP status: the token request failed
                raise ServiceError(f"could not get a token for {label} to {what}: {_short(exc)}") from exc
            raise ServiceError(f"{label} failed to {what} (HTTP {exc.status_code}) after retries") from exc
        except (ServiceRequestError, ServiceResponseError) as exc:
            raise ServiceError(
                f"{label} is unreachable ({type(exc).__name__}) while trying to {what}"
            ) from exc

    # ------------------------------------------------------------------ store contract

    def register(self, name: str, secret: SecretSchema, overwrite: bool = False) -> SecretSchema:
        """Store ``secret`` under ``name`` (a soft-deleted name is recovered first)."""
        vault_name = encode_name(name)
        concrete = secret.normalize()
        value = json.dumps(concrete.field_values(reveal=True), separators=(",", ":"))
        if len(value.encode("utf-8")) > MAX_VALUE_BYTES:
            raise SchemaValidationError(
                concrete.schema_id, [FieldError("", "the secret is larger than Key Vault's 25 KB limit")]
            )
        if not overwrite:
            try:
                existing = self._properties(name)
            except SecretNotFoundError:
                existing = None
            if existing is not None:
                raise SecretExistsError(
                    f"secret {existing.tags.get(TAG_NAME, name)!r} already exists in Key Vault "
                    f"{self.vault_url}",
                    overwritable=True,
                )
        tags = {TAG_SCHEMA: concrete.schema_id, TAG_NAME: name}
        try:
            self._set(vault_name, value, tags)
        except SecretExistsError:
            # Soft-deleted but not purged: recover it, then write the new value as a new version.
            self._call(
                "recover the soft-deleted secret",
                name,
                lambda c: self._wait(
                    c.begin_recover_deleted_secret(vault_name, _polling_interval=self.polling_interval)
                ),
            )
            self._set(vault_name, value, tags)
        return concrete

    def _set(self, vault_name: str, value: str, tags: dict[str, str]) -> None:
        self._call(
            "write the secret",
            None,
            lambda c: c.set_secret(vault_name, value, content_type="application/json", tags=tags),
        )

    @staticmethod
    def _wait(poller: Any) -> Any:
        # The Key Vault pollers' result() returns at once; wait() is what polls until done.
        poller.wait()
        return poller.result()

    def _properties(self, name: str) -> Any:
        vault_name = encode_name(name)
        secret = self._call("read the secret", name, lambda c: c.get_secret(vault_name))
        return secret.properties

    def get(self, name: str) -> SecretSchema:
        """The secret called ``name``, validated. SecretNotFoundError if there is none."""
        vault_name = encode_name(name)
        secret = self._call("read the secret", name, lambda c: c.get_secret(vault_name))
        return self._parse(name, secret.value, secret.properties)

    def _parse(self, name: str, value: str | None, properties: Any) -> SecretSchema:
        tags = properties.tags or {}
        schema_id = tags.get(TAG_SCHEMA)
        if not value or not schema_id:
            raise StoreCorruptedError(
                f"Key Vault secret {properties.name!r} in {self.vault_url} is not an azcreds secret "
                f"(no {TAG_SCHEMA} tag or no value)"
            )
        try:
            fields = json.loads(value)
        except ValueError:
            fields = None
        if not isinstance(fields, dict):
            raise StoreCorruptedError(
                f"Key Vault secret {properties.name!r} in {self.vault_url} does not hold a JSON object"
            )
        register_secrets(str(v) for v in fields.values() if isinstance(v, str))
        return parse_secret(schema_id, fields)

    def info(self, name: str) -> SecretInfo:
        """Name, schema and timestamps of ``name`` (reads the secret; never returns its value)."""
        return _info(self._properties(name))

    def list(self) -> list[SecretInfo]:
        """The azcreds secrets in the vault (those carrying our tags), sorted by name."""

        def collect(client: SecretClient) -> list[SecretInfo]:
            return [
                _info(p)
                for p in client.list_properties_of_secrets()
                if p.tags and TAG_NAME in p.tags and decode_name(p.name or "") == name_key(p.tags[TAG_NAME])
            ]

        infos: list[SecretInfo] = self._call("list secrets", None, collect)
        return sorted(infos, key=lambda i: i.name.lower())

    def update(self, name: str, **fields: str | None) -> SecretSchema:
        """Change some fields (``None``/``""`` removes an optional one): a new version, revalidated."""
        vault_name = encode_name(name)
        current = self._call("read the secret", name, lambda c: c.get_secret(vault_name))
        existing = self._parse(name, current.value, current.properties)
        merged = existing.field_values(reveal=True)
        for field, value in fields.items():
            if value is None or value == "":
                merged.pop(field, None)
            else:
                merged[field] = value
        secret = parse_secret(existing.schema_id, merged)
        tags = dict(current.properties.tags or {})
        tags[TAG_SCHEMA] = secret.schema_id
        value_json = json.dumps(secret.field_values(reveal=True), separators=(",", ":"))
        self._set(vault_name, value_json, tags)
        return secret

    def delete(self, name: str, purge: bool = False) -> None:
        """Soft-delete ``name`` (recoverable); ``purge=True`` also purges it, even if already deleted."""
        vault_name = encode_name(name)
        try:
            self._call(
                "delete the secret",
                name,
                lambda c: self._wait(
                    c.begin_delete_secret(vault_name, _polling_interval=self.polling_interval)
                ),
            )
        except SecretNotFoundError:
            if not purge:
                raise
        if purge:
            self._call("purge the secret", name, lambda c: c.purge_deleted_secret(vault_name))

    def deleted(self) -> Iterator[str]:
        """Names (original spelling) of azcreds secrets that are soft-deleted and recoverable."""

        def collect(client: SecretClient) -> list[str]:
            return [
                d.properties.tags[TAG_NAME]
                for d in client.list_deleted_secrets()
                if d.properties.tags and TAG_NAME in d.properties.tags
            ]

        yield from self._call("list deleted secrets", None, collect)

    # ------------------------------------------------------------------ resolver

    def resolve(self, name: str | None) -> SecretSchema:
        """Resolver protocol: no vault configured or 404 is a miss; 403 and outages are failures."""
        if name is None:
            raise ResolverUnavailableError("Key Vault holds named secrets only")
        validate_secret_name(name)
        if self.vault_url is None:
            raise ResolverUnavailableError("no Key Vault configured (AZCREDS_KEYVAULT_URL)")
        try:
            return self.get(name)
        except SecretNotFoundError:
            raise ResolverUnavailableError(f"no secret {encode_name(name)!r} in {self.vault_url}") from None


def _info(properties: Any) -> SecretInfo:
    tags = properties.tags or {}

    def stamp(value: datetime | None) -> str:
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""

    return SecretInfo(
        name=tags.get(TAG_NAME, properties.name or ""),
        schema_id=tags.get(TAG_SCHEMA, ""),
        store="keyvault",
        created=stamp(properties.created_on),
        updated=stamp(properties.updated_on),
    )


def _short(exc: Exception) -> str:
    """An SDK error message on one line, capped (it names the failure, never a secret)."""
    text = " ".join(str(getattr(exc, "message", "") or exc).split())
    return (text[:400] + "...") if len(text) > 400 else (text or type(exc).__name__)
