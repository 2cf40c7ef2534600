"""KeyVaultStore: named secrets in Azure Key Vault, as a store and a resolver.

One Key Vault secret per azcreds secret, named by the injective encoding of
:mod:`azcreds.resolvers._keyvault_mapping` (``az_secret`` → ``azcreds-az-secret-1``; its docstring
gives the rule), holding the JSON object of the schema's fields (``content_type``
``application/json``) and the tags ``azcreds-schema`` and ``azcreds-name``. ``encode_name``,
``decode_name`` and ``NAME_PREFIX`` are importable from here.

Soft-delete is real: ``delete`` leaves a recoverable secret, ``delete(purge=True)`` purges it
(also a name that is already soft-deleted), and ``register`` on a soft-deleted name recovers it
first, then writes the new value as a new version.

Integrity: anyone who can write to the vault can put any value under any name. So every read —
``get``, ``resolve``, ``info``, ``update``, ``delete`` (live or soft-deleted), ``register`` without
overwrite — checks that the secret is the azcreds secret asked for: its ``azcreds-name`` tag names
the same secret as its Key Vault name (case-insensitively; the tag keeps the spelling), its
``azcreds-schema`` tag names a known schema, its content type is ``application/json``, and its
value is a JSON object of strings whose fields fit that schema (no unknown field, no required one
missing). Otherwise it is StoreCorruptedError naming the secret and the problem, never a value.
``list()`` and ``deleted()`` leave such entries out with a CorruptedSecretWarning each (entries
that neither carry azcreds tags nor have an azcreds-encoded name belong to someone else and are
skipped silently). ``register(..., overwrite=True)`` writes a correct version over a bad one.
"""

from __future__ import annotations

import json
import threading
import warnings
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from azcreds.errors import (
    CorruptedSecretWarning,
    FieldError,
    PermissionDeniedError,
    ResolverUnavailableError,
    SchemaValidationError,
    SecretDisabledError,
    SecretExistsError,
    SecretNotFoundError,
    ServiceError,
    StoreCorruptedError,
)
from azcreds.redact import register_secrets
from azcreds.resolvers._keyvault_mapping import (
    CONTENT_TYPE,
    MAX_VALUE_BYTES,
    NAME_PREFIX,
    TAG_NAME,
    TAG_SCHEMA,
    _fields_problem,
    _identity_problem,
    _shown,
    decode_name,
    encode_name,
)
from azcreds.resolvers.keyring import SecretInfo
from azcreds.resolvers.keyvault_versions import KeyVaultVersions
from azcreds.schemas import parse_secret

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from azure.keyvault.secrets import SecretClient

    from azcreds.schemas import SecretSchema

__all__ = ["NAME_PREFIX", "KeyVaultStore", "decode_name", "encode_name"]

_LOOPBACK_HOSTS = {"127.0.0.1", "::1", "localhost"}


def _is_loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "").lower() in _LOOPBACK_HOSTS


class KeyVaultStore(KeyVaultVersions):
    """Named secrets in Azure Key Vault: ``register / get / list / update / delete`` and a resolver.

    Versions and lifetimes (``history``, ``get_version``, ``rollback``, ``set_lifetime``, and the
    resolver's checks of ``enabled`` / ``not_before`` / ``expires_on``) come from
    :class:`~azcreds.resolvers.keyvault_versions.KeyVaultVersions`.

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

    def register(
        self,
        name: str,
        secret: SecretSchema,
        overwrite: bool = False,
        *,
        expires_on: datetime | None = None,
        not_before: datetime | None = None,
    ) -> SecretSchema:
        """Store ``secret`` under ``name`` (a soft-deleted name is recovered first), optionally
        with the new version's ``expires_on`` / ``not_before``."""
        vault_name = encode_name(name)
        concrete = secret.normalize()
        value = json.dumps(concrete.field_values(reveal=True), separators=(",", ":"))
        if len(value.encode("utf-8")) > MAX_VALUE_BYTES:
            raise SchemaValidationError(
                concrete.schema_id, [FieldError("", "the secret is larger than Key Vault's 25 KB limit")]
            )
        if not overwrite:
            try:
                existing = self._properties(name)  # checked: a planted secret is not "ours"
            except SecretNotFoundError:
                existing = None
            if existing is not None:
                raise SecretExistsError(
                    f"secret {existing.tags.get(TAG_NAME, name)!r} already exists in Key Vault "
                    f"{self.vault_url}",
                    overwritable=True,
                )
        tags = {TAG_SCHEMA: concrete.schema_id, TAG_NAME: name}
        lifetime = {"expires_on": expires_on, "not_before": not_before}
        try:
            self._set(vault_name, value, tags, **lifetime)
        except SecretExistsError:
            # Soft-deleted but not purged: recover it, then write the new value as a new version.
            self._call(
                "recover the soft-deleted secret",
                name,
                lambda c: self._wait(
                    c.begin_recover_deleted_secret(vault_name, _polling_interval=self.polling_interval)
                ),
            )
            self._set(vault_name, value, tags, **lifetime)
        return concrete

    def _set(self, vault_name: str, value: str, tags: dict[str, str], **lifetime: Any) -> None:
        self._call(
            "write the secret",
            None,
            lambda c: c.set_secret(vault_name, value, content_type=CONTENT_TYPE, tags=tags, **lifetime),
        )

    @staticmethod
    def _wait(poller: Any) -> Any:
        # The Key Vault pollers' result() returns at once; wait() is what polls until done.
        poller.wait()
        return poller.result()

    def _read(self, name: str) -> tuple[Any, str, dict[str, str]]:
        """The latest version of ``name``, checked (see the module docstring): (secret, schema id,
        fields). StoreCorruptedError if it is not the azcreds secret ``name``."""
        return self._read_checked(name, None)

    def _properties(self, name: str) -> Any:
        return self._read(name)[0].properties

    def get(self, name: str) -> SecretSchema:
        """The secret called ``name``, validated. SecretNotFoundError if there is none;
        StoreCorruptedError if what the vault holds under its name is not that secret."""
        _, schema_id, fields = self._read(name)
        return parse_secret(schema_id, fields)

    def _refuse(self, name: str, properties: Any, problem: str) -> StoreCorruptedError:
        return StoreCorruptedError(
            f"Key Vault secret {_shown(properties.name or encode_name(name))} in {self.vault_url} is "
            f"not the azcreds secret {name!r}: {problem}; refusing to use it (write a good version "
            "with register(..., overwrite=True) / --overwrite, or remove it with the Key Vault tools)"
        )

    def _checked_identity(self, name: str, properties: Any) -> str:
        """The schema id of a secret read for ``name`` once its tags and type say it is that one."""
        problem = _identity_problem(properties, name)
        if problem is not None:
            raise self._refuse(name, properties, problem)
        schema_id: str = properties.tags[TAG_SCHEMA]
        return schema_id

    def _checked(self, name: str, value: str | None, properties: Any) -> tuple[str, dict[str, str]]:
        """(schema id, fields) of a secret read for ``name``, after every consistency check."""
        schema_id = self._checked_identity(name, properties)
        try:
            fields = json.loads(value) if value else None
        except ValueError:
            fields = None
        if not isinstance(fields, dict):
            raise self._refuse(name, properties, "its value is not a JSON object")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in fields.items()):
            raise self._refuse(name, properties, "its JSON object's values are not all strings")
        register_secrets(fields.values())  # masked in logs from now on, whatever happens next
        problem = _fields_problem(schema_id, fields)
        if problem is not None:
            raise self._refuse(name, properties, problem)
        return schema_id, fields

    def info(self, name: str) -> SecretInfo:
        """Name, schema and timestamps of ``name`` (reads and checks the secret; never returns its
        value, and does not validate the values: an expired SAS token still has an info)."""
        return _info(self._properties(name))

    def list(self) -> list[SecretInfo]:
        """The azcreds secrets in the vault, sorted by name.

        Entries in azcreds' namespace (an azcreds-encoded name, or azcreds tags) that fail the
        tag and content-type checks are left out, each with a CorruptedSecretWarning naming it and
        the problem. (Values are not read: ``get`` checks those.)
        """

        def collect(client: SecretClient) -> list[Any]:
            return list(client.list_properties_of_secrets())

        infos = [_info(p) for p in self._ours(self._call("list secrets", None, collect), "listed")]
        return sorted(infos, key=lambda i: i.name.lower())

    def _ours(self, items: Iterable[Any], action: str) -> Iterator[Any]:
        """The properties in ``items`` that pass the identity checks; a warning for each one in our
        namespace that does not."""
        for properties in items:
            tags = properties.tags or {}
            if decode_name(properties.name or "") is None and TAG_NAME not in tags and TAG_SCHEMA not in tags:
                continue  # someone else's secret
            problem = _identity_problem(properties, None)
            if problem is None:
                yield properties
                continue
            warnings.warn(
                f"Key Vault secret {_shown(properties.name or '')} in {self.vault_url} is not {action}: "
                f"{problem} (see docs/keyvault.md, 'Tampered or foreign secrets')",
                CorruptedSecretWarning,
                stacklevel=3,
            )

    def update(self, name: str, **fields: str | None) -> SecretSchema:
        """Change some fields (``None``/``""`` removes an optional one): a new version, revalidated."""
        vault_name = encode_name(name)
        current, schema_id, current_fields = self._read(name)
        existing = parse_secret(schema_id, current_fields)
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
        """Soft-delete ``name`` (recoverable); ``purge=True`` also purges it, even if already deleted.

        The secret is checked first: a secret that is not the azcreds secret ``name`` is
        StoreCorruptedError, and stays where it is. The check reads the secret; where that is
        refused (a disabled secret answers 403 to a read, or the caller may not read values), it
        reads the tags of the secret's newest version instead (the list permission).
        """
        vault_name = encode_name(name)
        try:
            try:
                self._read(name)
            except (PermissionDeniedError, SecretDisabledError):
                self.history(name)  # checks the newest version's tags (readable when disabled)
        except SecretNotFoundError:
            if not purge:
                raise
            deleted = self._call("read the deleted secret", name, lambda c: c.get_deleted_secret(vault_name))
            self._checked_identity(name, deleted.properties)
            self._call("purge the secret", name, lambda c: c.purge_deleted_secret(vault_name))
            return
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

        def collect(client: SecretClient) -> list[Any]:
            return [d.properties for d in client.list_deleted_secrets()]

        deleted = self._call("list deleted secrets", None, collect)
        yield from [p.tags[TAG_NAME] for p in self._ours(deleted, "listed as deleted")]


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
