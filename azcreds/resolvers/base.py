"""The Resolver protocol: find a named secret, or say why not.

A resolver returns a validated secret schema, raises ``ResolverUnavailableError`` when it does not
have the secret or is not configured (the chain tries the next one), and raises any other
``AzcredsError`` when it failed (the chain stops: a 403 or a corrupt store is not a miss).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from azcreds.credentials import Source
    from azcreds.resolvers.keyring import SecretInfo
    from azcreds.schemas import SecretSchema

__all__ = ["Resolver", "WritableStore"]


@runtime_checkable
class Resolver(Protocol):
    """Something that can find secrets by name (``None``: the implicit, unnamed credentials)."""

    @property
    def source(self) -> Source:
        """The name this resolver reports as ``AzureCredentials.source``."""
        ...

    def resolve(self, name: str | None) -> SecretSchema:
        """The secret called ``name``; ResolverUnavailableError if this resolver does not have it."""
        ...


@runtime_checkable
class WritableStore(Resolver, Protocol):
    """A resolver that also stores secrets (the keyring, Key Vault, or a third party's store).

    ``azcreds.testing.store_contract.WritableStoreContract`` tests this contract.
    """

    @property
    def path(self) -> object:
        """Where the secrets live (a file path or a vault URL), for messages."""
        ...

    def register(self, name: str, secret: SecretSchema, overwrite: bool = False) -> SecretSchema: ...

    def get(self, name: str) -> SecretSchema: ...

    def info(self, name: str) -> SecretInfo: ...

    def list(self) -> list[SecretInfo]: ...

    def update(self, name: str, **fields: str | None) -> SecretSchema: ...

    def delete(self, name: str) -> None: ...
