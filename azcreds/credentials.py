"""AzureCredentials: a resolved secret, as the Azure Blob SDK, adlfs and child processes take it."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from azcreds.redact import register_secrets

if TYPE_CHECKING:
    from datetime import timedelta

    from azure.storage.blob import BlobServiceClient

    from azcreds.schemas import SecretSchema
    from azcreds.scoping import SasScope

__all__ = ["AzureCredentials", "PickleAs", "Source"]

Source = Literal["env", "keyring", "keyvault", "managed-identity"]

PickleAs = Literal["local", "reference", "scoped"]
"""How credentials pickle: ``reference`` (name, source, schema id; resolved again by name where
unpickled), ``scoped`` (with their short-lived SAS) or ``local`` (they refuse: nothing to resolve
again, and the secret is not sent)."""


@dataclass(frozen=True, eq=False)
class AzureCredentials:
    """Working credentials for one storage account, and where they came from.

    ``credential`` is exactly what ``BlobServiceClient(account_url, credential=...)`` accepts; it is
    built on first use and then reused, so token credentials keep their token cache. Neither
    ``repr`` nor ``str`` shows a secret value.
    """

    name: str | None
    schema_id: str
    source: Source
    account_name: str
    account_url: str
    secret: SecretSchema = field(repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _credential: list[Any] = field(default_factory=list, repr=False, compare=False)
    scope: SasScope | None = field(default=None, compare=False)
    """What a SAS from :meth:`scoped` allows, and until when (``None`` for other credentials)."""
    pickle_as: PickleAs = field(default="local", repr=False, compare=False)
    """How these credentials pickle (see the class docstring)."""

    @classmethod
    def from_secret(
        cls,
        secret: SecretSchema,
        *,
        name: str | None,
        source: Source,
        pickle_as: PickleAs = "local",
        scope: SasScope | None = None,
    ) -> AzureCredentials:
        """Build from a validated schema (normalised first: the flat ``azure`` schema becomes concrete).

        ``pickle_as="reference"`` is for credentials that ``resolve_credentials(name)`` gives
        again wherever they are unpickled (the default chain sets it); ``"scoped"`` pickles the
        secret itself, so use it only for a short-lived, narrow SAS (as :meth:`scoped` does).
        """
        concrete = secret.normalize()
        register_secrets(concrete.secret_values())
        return cls(
            name=name,
            schema_id=concrete.schema_id,
            source=source,
            account_name=concrete.account_name_value(),
            account_url=concrete.account_url_value(),
            secret=concrete,
            scope=scope,
            pickle_as=pickle_as,
        )

    def __reduce__(self) -> tuple[Any, ...]:
        if self.pickle_as == "reference":
            return (_resolve_reference, (self.name, self.source, self.schema_id))
        if self.pickle_as == "scoped":
            from azcreds.scoping import rebuild_scoped

            return (
                rebuild_scoped,
                (self.name, self.source, self.secret.field_values(reveal=True), self.scope),
            )
        raise TypeError(
            f"cannot pickle {self}: it was built in code, so there is nothing to resolve again where "
            "it is unpickled, and its secret is not sent. Pickle creds.scoped(container, "
            "permissions=..., ttl=...) instead (a short-lived SAS), or credentials from "
            "resolve_credentials(name)"
        )

    def __copy__(self) -> AzureCredentials:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> AzureCredentials:
        return self

    @property
    def credential(self) -> Any:
        """``AzureNamedKeyCredential``, ``AzureSasCredential`` or an azure-core ``TokenCredential``."""
        if not self._credential:
            with self._lock:
                if not self._credential:
                    self._credential.append(self.secret.build_credential())
        return self._credential[0]

    def blob_service_client(self, **client_kwargs: Any) -> BlobServiceClient:
        """A ``BlobServiceClient`` for this account; keyword arguments go to its constructor."""
        from azure.storage.blob import BlobServiceClient

        return BlobServiceClient(self.account_url, credential=self.credential, **client_kwargs)

    def storage_options(self) -> dict[str, Any]:
        """Options that adlfs / fsspec / pandas ``storage_options=`` accept (values are secret)."""
        return self.secret.storage_options()

    def scoped(
        self,
        container: str,
        prefix: str | None = None,
        permissions: str = "r",
        ttl: str | float | timedelta = 3600.0,
        *,
        blob: str | None = None,
        client_kwargs: dict[str, Any] | None = None,
    ) -> AzureCredentials:
        """New credentials of schema ``azure-sas-token`` that can do only ``permissions`` on
        ``container`` (or one ``blob`` in it), for only ``ttl``.

        A user delegation SAS when these are token credentials (service principal, managed or
        developer identity: one ``get_user_delegation_key`` request), a service SAS signed with
        the account key when they hold one; a SAS cannot mint a SAS (ScopeError).

        ``permissions``: words or letters of read (r), add (a), create (c), write (w), delete (d),
        list (l), tag (t), e.g. ``"r"``, ``"rl"``, ``"read,write"``. ``ttl``: a ``timedelta``,
        seconds, or ``"15m"``/``"1h"``/``"7d"``; at most 7 days (a user delegation key's limit). The
        SAS starts 15 minutes in the past, for clock skew. ``prefix`` is enforced by a directory
        SAS on hierarchical-namespace accounts only, and refused elsewhere (never widened to the
        container). ``client_kwargs`` go to the ``BlobServiceClient`` that asks the service.

        The result pickles with its SAS, so it is what to send to workers that cannot reach the
        secret stores. Errors: ScopeError (bad input, checked locally first), PermissionDeniedError
        or ServiceError (the service refused or failed).
        """
        from azcreds.scoping import scoped_credentials

        return scoped_credentials(
            self, container, prefix, permissions, ttl, blob=blob, client_kwargs=client_kwargs
        )

    def object_store_options(self) -> dict[str, str]:
        """``storage_options`` for polars, delta-rs and obstore (object_store's Azure keys; secret).

        ``polars.read_csv("az://container/file.csv", storage_options=creds.object_store_options())``.
        """
        from azcreds.object_store import object_store_options

        return object_store_options(self)

    def to_env(self) -> dict[str, str]:
        """The environment variables that carry these credentials to other processes (secret).

        The seed's ``AZURE_STORAGE_*`` names, a full connection string, the az CLI's names and,
        for an identity, azure-identity's ``AZURE_*`` (docs/cli.md lists them per schema). For a
        child process, :func:`azcreds.child_env.child_environment` also removes every other
        credential of this environment.
        """
        return self.secret.env_vars()

    def __str__(self) -> str:
        who = f"{self.name!r}" if self.name is not None else "implicit credentials"
        scoped = f", scoped to {self.scope}" if self.scope is not None else ""
        return f"{who} ({self.schema_id}) for {self.account_url} from {self.source}{scoped}"


def _resolve_reference(name: str | None, source: Source, schema_id: str) -> AzureCredentials:
    """Unpickle a reference: resolve ``name`` again through the default chain (and its cache).

    ``source`` and ``schema_id`` say what was pickled; the worker may find the secret in another
    store (a laptop's keyring, a pod's Key Vault), so they are not required to match.
    """
    from azcreds.resolve import resolve_credentials

    return resolve_credentials(name)
