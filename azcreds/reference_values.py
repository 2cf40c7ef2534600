"""The value a parsed secret reference stands for: from the default chain, or read from Key Vault.

``azcreds://NAME[/FIELD]`` goes through :func:`azcreds.resolve_credentials` (env → keyring → Key
Vault → managed identity, cached), then picks the field: an export name
(``AZURE_STORAGE_CONNECTION_STRING``) from :meth:`AzureCredentials.to_env`, a schema field
(``account_key``) from the validated secret, and without a field the connection string. A Key Vault
reference reads that one secret's value with the SDK's ``SecretClient`` (through
:class:`~azcreds.resolvers.keyvault.KeyVaultStore`'s client: the same credential chain, no body
logging, loopback vaults without challenge-resource verification, SDK errors mapped onto azcreds').
Every value handed out is registered for log redaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from azcreds.errors import InvalidReferenceError, SecretNotFoundError
from azcreds.references import KeyVaultReference, Reference, SecretReference, parse_reference

if TYPE_CHECKING:
    from azcreds.credentials import AzureCredentials
    from azcreds.resolvers.keyvault import KeyVaultStore

__all__ = ["ReferenceResolver", "resolve_reference"]


class ReferenceResolver:
    """Resolves references, each distinct one once (one Key Vault client per vault).

    ``vaults`` are extra vault URLs whose ``https://`` URLs count as Key Vault references when a
    string is parsed here (default: ``AZCREDS_KEYVAULT_URL``, if set).
    """

    def __init__(self, vaults: tuple[str, ...] | None = None) -> None:
        if vaults is None:
            from azcreds.settings import get_settings

            configured = get_settings().keyvault_url
            vaults = (configured,) if configured else ()
        self.vaults = vaults
        self._values: dict[Reference, str] = {}
        self._stores: dict[str, KeyVaultStore] = {}

    def parse(self, value: str, *, where: str) -> Reference | None:
        """:func:`azcreds.references.parse_reference` with this resolver's vaults."""
        return parse_reference(value, where=where, vaults=self.vaults)

    def value(self, reference: Reference, *, where: str = "reference") -> str:
        """The secret value ``reference`` stands for (errors as the resolver or store raises them)."""
        cached = self._values.get(reference)
        if cached is None:
            if isinstance(reference, SecretReference):
                cached = self._secret_value(reference, where)
            else:
                cached = self._keyvault_value(reference)
            from azcreds.redact import register_secrets

            register_secrets([cached])
            self._values[reference] = cached
        return cached

    def _secret_value(self, reference: SecretReference, where: str) -> str:
        from azcreds.resolve import resolve_credentials

        credentials = resolve_credentials(reference.name)
        field = reference.field
        exports = credentials.to_env()
        if field is None:
            value = exports.get("AZURE_STORAGE_CONNECTION_STRING")
            if value is None:
                raise InvalidReferenceError(
                    where,
                    f"secret {reference.name!r} ({credentials.schema_id}) has no connection string: "
                    f"name a field, one of {', '.join(_field_names(credentials))}",
                    malformed=False,
                )
            return value
        if field in exports:
            return exports[field]
        fields = _fields(credentials)
        if field in fields:
            return fields[field]
        raise InvalidReferenceError(
            where,
            f"secret {reference.name!r} ({credentials.schema_id}) has no field {field!r}; "
            f"it has {', '.join(_field_names(credentials))}",
            malformed=False,
        )

    def _keyvault_value(self, reference: KeyVaultReference) -> str:
        store = self._stores.get(reference.vault_url)
        if store is None:
            from azcreds.resolvers.keyvault import KeyVaultStore

            store = self._stores[reference.vault_url] = KeyVaultStore(reference.vault_url)
        what = f"read secret {reference.name!r}"
        bundle = store._call(what, reference.name, lambda c: c.get_secret(reference.name, reference.version))
        value = getattr(bundle, "value", None)
        if not isinstance(value, str) or not value:
            raise SecretNotFoundError(
                reference.name, detail=f"Key Vault {reference.vault_url} returned no value for it"
            )
        return value


# Parts of a connection string users name as fields of the other schemas.
_EXPORTED_FIELDS = {"account_key": "AZURE_STORAGE_ACCOUNT_KEY", "sas_token": "AZURE_STORAGE_SAS_TOKEN"}


def _fields(credentials: AzureCredentials) -> dict[str, str]:
    exports = credentials.to_env()
    fields = {"account_name": credentials.account_name, "account_url": credentials.account_url}
    fields |= {field: exports[name] for field, name in _EXPORTED_FIELDS.items() if name in exports}
    fields.update(credentials.secret.field_values(reveal=True))
    return fields


def _field_names(credentials: AzureCredentials) -> list[str]:
    return sorted(_fields(credentials)) + sorted(credentials.to_env())


def resolve_reference(reference: str | Reference, *, where: str = "reference") -> str:
    """The secret value of one reference (``azcreds://NAME/FIELD``, a Key Vault URI, ...).

    A string that is not a reference at all is InvalidReferenceError too, here. Raises what the
    resolver chain or Key Vault raises (SecretNotFoundError, PermissionDeniedError, ...).
    """
    resolver = ReferenceResolver()
    if isinstance(reference, str):
        parsed = resolver.parse(reference, where=where)
        if parsed is None:
            raise InvalidReferenceError(
                where,
                "not a reference: azcreds://NAME[/FIELD], https://VAULT/secrets/NAME "
                "or @Microsoft.KeyVault(...)",
            )
        reference = parsed
    return resolver.value(reference, where=where)
