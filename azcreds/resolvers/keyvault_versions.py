"""Key Vault versions and lifetimes for KeyVaultStore: history, one version, rollback, expiry.

Every write of a Key Vault secret makes a new version; each version has its own ``enabled``,
``not_before`` and ``expires_on``. :class:`KeyVaultVersions` (a base of
:class:`~azcreds.resolvers.keyvault.KeyVaultStore`) adds:

- ``history(name)``: every version's dates and state, newest first (never a value), listed page by
  page as the vault serves them;
- ``get_version(name, version)``: one version's fields, checked like ``get``;
- ``rollback(name, version)``: that version's value written again as the newest version (the
  tags say the same secret; the new version has no lifetime unless one is given);
- ``set_lifetime(name, expires_on=..., not_before=...)``: set the newest version's dates in place;
- the resolver side: a disabled newest version, or one outside ``not_before``/``expires_on``, is a
  failure that stops the chain (:mod:`azcreds.lifetimes`), and a near expiry is a warning and a
  note in ``resolve --explain``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from azcreds.errors import (
    PermissionDeniedError,
    ResolverUnavailableError,
    SecretDisabledError,
    SecretNotFoundError,
)
from azcreds.names import validate_secret_name
from azcreds.resolvers._keyvault_mapping import CONTENT_TYPE, TAG_NAME, TAG_SCHEMA, encode_name

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from azure.keyvault.secrets import SecretClient

    from azcreds.schemas import SecretSchema

__all__ = ["KeyVaultVersions", "SecretVersion"]


@dataclass(frozen=True)
class SecretVersion:
    """One version of a Key Vault secret, without its value. ``current``: the newest version."""

    version: str
    created: datetime | None
    updated: datetime | None
    enabled: bool | None
    not_before: datetime | None
    expires_on: datetime | None
    current: bool = False


def _version(properties: Any, current: bool = False) -> SecretVersion:
    return SecretVersion(
        version=properties.version or "",
        created=properties.created_on,
        updated=properties.updated_on,
        enabled=properties.enabled,
        not_before=properties.not_before,
        expires_on=properties.expires_on,
        current=current,
    )


def _is_disabled(exc: PermissionDeniedError) -> bool:
    """Whether a 403 is Key Vault's "Operation get is not allowed on a disabled secret"."""
    cause = exc.__cause__
    error = getattr(cause, "error", None)
    inner = getattr(error, "innererror", None) or {}
    code = inner.get("code") if isinstance(inner, dict) else None
    return code == "SecretDisabled" or "disabled secret" in str(getattr(cause, "message", "") or "")


class _Store(Protocol):
    """What these methods use of KeyVaultStore (and of each other)."""

    vault_url: str | None

    def _call(self, what: str, name: str | None, fn: Callable[[SecretClient], Any]) -> Any: ...
    def _checked(self, name: str, value: str | None, properties: Any) -> tuple[str, dict[str, str]]: ...
    def _checked_identity(self, name: str, properties: Any) -> str: ...
    def _read_checked(self, name: str, version: str | None) -> tuple[Any, str, dict[str, str]]: ...
    def history(self, name: str) -> list[SecretVersion]: ...
    def get_version(self, name: str, version: str) -> SecretSchema: ...
    def resolve_explained(self, name: str | None) -> tuple[SecretSchema, str | None]: ...


class KeyVaultVersions:
    """Versions and lifetimes; a base of KeyVaultStore (see the module docstring)."""

    def _read_checked(self: _Store, name: str, version: str | None) -> tuple[Any, str, dict[str, str]]:
        """(secret, schema id, fields) of ``version`` (None: the newest), checked; a disabled one is
        SecretDisabledError."""
        vault_name = encode_name(name)
        try:
            secret = self._call("read the secret", name, lambda c: c.get_secret(vault_name, version))
        except PermissionDeniedError as exc:
            if not _is_disabled(exc):
                raise
            which = f"version {version} of" if version else "the newest version of"
            raise SecretDisabledError(
                f"{which} Key Vault secret {name!r} in {self.vault_url} is disabled; enable it or roll "
                "back to a good version (azcreds secret rollback)",
                name=name,
            ) from exc
        schema_id, fields = self._checked(name, secret.value, secret.properties)
        return secret, schema_id, fields

    def history(self: _Store, name: str) -> list[SecretVersion]:
        """Every version of ``name``, newest first (values are never read)."""
        vault_name = encode_name(name)

        def collect(client: SecretClient) -> list[Any]:
            return list(client.list_properties_of_secret_versions(vault_name))

        listed = self._call("list the secret's versions", name, collect)
        if not listed:
            raise SecretNotFoundError(name, detail=f"not in Key Vault {self.vault_url}")
        # Oldest first as created (the listing order breaks ties), so the last one is the newest.
        ordered = sorted(listed, key=lambda p: p.created_on.timestamp() if p.created_on else 0.0)
        self._checked_identity(name, ordered[-1])
        return [_version(p, current=p is ordered[-1]) for p in reversed(ordered)]

    def get_version(self: _Store, name: str, version: str) -> SecretSchema:
        """The fields of one version of ``name``, checked like ``get``."""
        from azcreds.schemas import parse_secret

        _, schema_id, fields = self._read_checked(name, version)
        return parse_secret(schema_id, fields)

    def rollback(
        self: _Store,
        name: str,
        version: str,
        *,
        expires_on: datetime | None = None,
        not_before: datetime | None = None,
    ) -> SecretVersion:
        """Write ``version``'s value again as the newest version of ``name``; return the new one.

        The old value is validated first (a rollback to a SAS token that has expired is refused).
        """
        secret = self.get_version(name, version)
        value = json.dumps(secret.field_values(reveal=True), separators=(",", ":"))
        tags = {TAG_SCHEMA: secret.schema_id, TAG_NAME: name}
        written = self._call(
            "write the secret",
            None,
            lambda c: c.set_secret(
                encode_name(name),
                value,
                content_type=CONTENT_TYPE,
                tags=tags,
                expires_on=expires_on,
                not_before=not_before,
            ),
        )
        return _version(written.properties, current=True)

    def set_lifetime(
        self: _Store,
        name: str,
        *,
        expires_on: datetime | None = None,
        not_before: datetime | None = None,
    ) -> SecretVersion:
        """Set ``expires_on`` / ``not_before`` of the newest version in place (no new version)."""
        newest = self.history(name)[0]  # checks that it is our secret, even when disabled
        properties = self._call(
            "update the secret's dates",
            name,
            lambda c: c.update_secret_properties(
                encode_name(name), newest.version, expires_on=expires_on, not_before=not_before
            ),
        )
        return _version(properties, current=True)

    # -- the resolver

    def resolve(self: _Store, name: str | None) -> SecretSchema:
        """Resolver protocol: no vault configured or 404 is a miss; 403, outages, a disabled or
        expired secret are failures."""
        return self.resolve_explained(name)[0]

    def resolve_explained(self: _Store, name: str | None) -> tuple[SecretSchema, str | None]:
        """As :meth:`resolve`, with the secret's expiry date for ``resolve --explain``."""
        from azcreds.lifetimes import check_lifetime
        from azcreds.schemas import parse_secret
        from azcreds.settings import get_settings

        if name is None:
            raise ResolverUnavailableError("Key Vault holds named secrets only")
        validate_secret_name(name)
        if self.vault_url is None:
            raise ResolverUnavailableError("no Key Vault configured (AZCREDS_KEYVAULT_URL)")
        try:
            secret, schema_id, fields = self._read_checked(name, None)
        except SecretNotFoundError:
            raise ResolverUnavailableError(f"no secret {encode_name(name)!r} in {self.vault_url}") from None
        properties = secret.properties
        note = check_lifetime(
            f"Key Vault secret {name!r} (version {properties.version})",
            name=name,
            enabled=properties.enabled,
            not_before=properties.not_before,
            expires_on=properties.expires_on,
            window=get_settings().expiry_warning,
        )
        return parse_secret(schema_id, fields), note
