"""AzureCredentials: a resolved secret, as the Azure Blob SDK, adlfs and child processes take it."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from azcreds.redact import register_secrets

if TYPE_CHECKING:
    from azure.storage.blob import BlobServiceClient

    from azcreds.schemas import SecretSchema

__all__ = ["AzureCredentials", "Source"]

Source = Literal["env", "keyring", "keyvault", "managed-identity", "developer"]


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

    @classmethod
    def from_secret(cls, secret: SecretSchema, *, name: str | None, source: Source) -> AzureCredentials:
        """Build from a validated schema (normalised first: the flat ``azure`` schema becomes concrete)."""
        concrete = secret.normalize()
        register_secrets(concrete.secret_values())
        return cls(
            name=name,
            schema_id=concrete.schema_id,
            source=source,
            account_name=concrete.account_name_value(),
            account_url=concrete.account_url_value(),
            secret=concrete,
        )

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
        return f"{who} ({self.schema_id}) for {self.account_url} from {self.source}"
