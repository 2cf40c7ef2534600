"""The azcreds exception tree.

Every error azcreds raises on purpose is an :class:`AzcredsError`. Messages never contain a
secret value: they name fields, resolvers, stores and files, not what is in them. Errors raised
by the Azure SDKs are mapped onto this tree with ``raise ... from exc`` and their text scrubbed.

::

    AzcredsError
    ├── SchemaValidationError (ValueError)        a secret's fields are malformed, missing or unknown
    │   ├── UnknownSchemaError                    no schema is registered under that id
    │   └── InvalidSecretNameError                a secret name breaks the naming rules
    ├── SettingsError (ValueError)                an AZCREDS_* setting has a value that is not allowed
    ├── InvalidReferenceError (ValueError)        a secret reference (azcreds://, Key Vault) is malformed
    ├── SecretNotFoundError (LookupError)         no resolver or store has the secret
    ├── ResolverUnavailableError                  one resolver does not have it or is not configured
    │                                             (the chain moves on to the next resolver)
    ├── ResolverFailedError                       a resolver failed: the chain stops here
    │   ├── PermissionDeniedError (PermissionError)   the service refused the caller (401/403)
    │   ├── StoreLockedError                      wrong or missing passphrase for the keyring
    │   ├── StoreCorruptedError                   a store file is tampered, truncated or foreign, or a
    │   │                                         Key Vault secret's tags, type or body disagree with it
    │   ├── StorePathError                        the keyring path is a folder, a dangling link, a FIFO...
    │   ├── StoreBusyError                        another process held the keyring's write lock too long
    │   ├── ServiceError                          a remote service failed (5xx, throttled, unreachable)
    │   └── InactiveSecretError                   the secret exists but may not be used now:
    │       ├── SecretDisabledError               its newest Key Vault version is disabled
    │       ├── SecretExpiredError                it is past its expires_on
    │       └── SecretNotYetValidError            it is before its not_before
    ├── DeveloperIdentityError                    the developer's login (az, azd, pwsh) gave no token,
    │                                             at first use: not on PATH, not logged in, timed out
    ├── SecretExistsError                         register without overwrite on an existing name
    ├── ScopeError (ValueError)                   scoped() cannot grant what was asked: an unknown
    │                                             permission, a TTL out of bounds, a prefix the service
    │                                             cannot enforce, a SAS asked for a SAS
    └── ArtifactStoreError                        AzureArtifactStore failures
        ├── ArtifactNotFoundError (FileNotFoundError)
        ├── ArtifactExistsError (FileExistsError)
        └── PathOutsideStoreError (ValueError)    a path outside the store's container/prefix

A warning category, :class:`AzcredsWarning`, covers non-fatal findings: a SAS token that expires
within 24 hours or a Key Vault secret near its ``expires_on``
(:class:`ExpiringCredentialWarning`), cached credentials served past their TTL
because their source failed transiently (:class:`StaleCredentialWarning`), or a store entry that
``list()`` leaves out because it is not what it claims to be (:class:`CorruptedSecretWarning`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

__all__ = [
    "ArtifactExistsError",
    "ArtifactNotFoundError",
    "ArtifactStoreError",
    "Attempt",
    "AzcredsError",
    "AzcredsWarning",
    "CorruptedSecretWarning",
    "DeveloperIdentityError",
    "ExpiringCredentialWarning",
    "FieldError",
    "InactiveSecretError",
    "InvalidReferenceError",
    "InvalidSecretNameError",
    "PathOutsideStoreError",
    "PermissionDeniedError",
    "ResolverFailedError",
    "ResolverUnavailableError",
    "SchemaValidationError",
    "ScopeError",
    "SecretDisabledError",
    "SecretExistsError",
    "SecretExpiredError",
    "SecretNotFoundError",
    "SecretNotYetValidError",
    "ServiceError",
    "SettingsError",
    "StaleCredentialWarning",
    "StoreBusyError",
    "StoreCorruptedError",
    "StoreLockedError",
    "StorePathError",
    "UnknownSchemaError",
]


class AzcredsError(Exception):
    """Base of every error azcreds raises on purpose. Its text never holds a secret value."""


@dataclass(frozen=True)
class FieldError:
    """One problem with one field of a secret: where it is and what is wrong, never its value."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class SchemaValidationError(AzcredsError, ValueError):
    """A secret does not fit its schema. ``errors`` lists each field and what is wrong with it."""

    def __init__(
        self, schema_id: str | None, errors: Sequence[FieldError], *, message: str | None = None
    ) -> None:
        self.schema_id = schema_id
        self.errors: tuple[FieldError, ...] = tuple(errors)
        if message is None:
            where = f"invalid {schema_id!r} secret" if schema_id else "invalid secret"
            message = f"{where}: " + "; ".join(str(e) for e in self.errors)
        super().__init__(message)

    @property
    def fields(self) -> tuple[str, ...]:
        """The names of the fields that failed, in order, without repeats."""
        return tuple(dict.fromkeys(e.field for e in self.errors if e.field))


class UnknownSchemaError(SchemaValidationError):
    """No schema is registered under ``unknown``; the message names the nearest of ``known``."""

    def __init__(self, unknown: object, known: Sequence[str]) -> None:
        self.unknown = unknown
        self.known: tuple[str, ...] = tuple(known)
        close: list[str] = []
        if isinstance(unknown, str):
            import difflib

            close = difflib.get_close_matches(unknown, self.known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(self.known)}"
        super().__init__(
            None,
            [FieldError("schema", f"unknown schema id; {hint}")],
            message=f"unknown schema {unknown!r}; {hint}",
        )


class InvalidSecretNameError(SchemaValidationError):
    """A secret name is not 1-64 letters, digits, ``_`` or ``-`` starting with a letter or digit."""

    def __init__(self, reason: str) -> None:
        super().__init__(None, [FieldError("name", reason)])


class InvalidReferenceError(AzcredsError, ValueError):
    """A value that starts like a secret reference is malformed, or names a field its secret does
    not have (``malformed=False``). ``where`` names its place (a variable, ``file:line``);
    ``reason`` says what the form allows. Neither repeats the value."""

    def __init__(self, where: str, reason: str, *, malformed: bool = True) -> None:
        self.where = where
        self.reason = reason
        super().__init__(f"{where}: {'malformed reference: ' if malformed else ''}{reason}")


class SettingsError(AzcredsError, ValueError):
    """Settings (``AZCREDS_*`` variables) with values that are not allowed.

    ``errors`` holds one :class:`FieldError` per bad variable (``field`` is the variable's name,
    ``message`` what is allowed); ``variables`` lists the names. The values are never included.
    """

    def __init__(self, errors: Sequence[FieldError]) -> None:
        self.errors: tuple[FieldError, ...] = tuple(errors)
        super().__init__("invalid azcreds settings: " + "; ".join(str(e) for e in self.errors))

    @property
    def variables(self) -> tuple[str, ...]:
        """The names of the variables that are wrong, in order, without repeats."""
        return tuple(dict.fromkeys(e.field for e in self.errors if e.field))


@dataclass(frozen=True)
class Attempt:
    """What one resolver said about one secret name: a hit, a miss (with why), or a failure."""

    source: str
    outcome: str  # "hit" | "miss" | "failed"
    detail: str
    seconds: float

    def __str__(self) -> str:
        return f"{self.source}: {self.detail}"


class SecretNotFoundError(AzcredsError, LookupError):
    """No resolver or store has the secret. ``attempts`` says what each one tried and why it missed."""

    def __init__(self, name: str | None, attempts: Sequence[Attempt] = (), *, detail: str = "") -> None:
        self.name = name
        self.attempts: tuple[Attempt, ...] = tuple(attempts)
        what = f"secret {name!r}" if name is not None else "implicit Azure Storage credentials"
        if self.attempts:
            tried = "; ".join(str(a) for a in self.attempts)
            message = f"{what} not found. Attempted resolvers: {tried}"
        else:
            message = f"{what} not found" + (f": {detail}" if detail else "")
        super().__init__(message)


class ResolverUnavailableError(AzcredsError):
    """A resolver does not have the secret or is not configured: the chain tries the next one."""


class ResolverFailedError(AzcredsError):
    """A resolver or store failed (as opposed to missing): the chain stops with this error."""


class PermissionDeniedError(ResolverFailedError, PermissionError):
    """The service refused the caller's credentials (HTTP 401/403)."""


class StoreLockedError(ResolverFailedError):
    """The encrypted keyring cannot be unlocked: the passphrase is wrong or missing."""


class StoreCorruptedError(ResolverFailedError):
    """A store file failed authentication or parsing: tampered, truncated, or not an azcreds store."""


class StorePathError(ResolverFailedError):
    """The keyring path cannot hold a keyring file: it is a folder, a dangling or looping symbolic
    link, a FIFO or device, or a file stands where a folder of it should be. A missing file is not
    this error (it is an empty store, and a miss for the resolver)."""


class StoreBusyError(ResolverFailedError):
    """Another writer held the keyring's write lock for longer than the lock wait allows.

    ``holder_pid`` is the process id the lock file records for the holder, or None if none is.
    """

    def __init__(self, message: str, *, holder_pid: int | None = None) -> None:
        super().__init__(message)
        self.holder_pid = holder_pid


class ServiceError(ResolverFailedError):
    """A remote service failed after retries: server errors, throttling, or no connection."""


class InactiveSecretError(ResolverFailedError):
    """The secret is there but may not be used now: disabled, expired, or not yet valid.

    It stops the chain (an older copy in a later store is not used instead). ``name`` is the
    secret, ``reason`` one of ``"disabled"``, ``"expired"``, ``"not-yet-valid"``, and ``when``
    the ``expires_on`` / ``not_before`` date that decided it (None for a disabled secret).
    """

    reason: str = ""

    def __init__(self, message: str, *, name: str, when: datetime | None = None) -> None:
        super().__init__(message)
        self.name = name
        self.when = when


class SecretDisabledError(InactiveSecretError):
    """The newest version of the Key Vault secret is disabled (Key Vault refuses to read it)."""

    reason = "disabled"


class SecretExpiredError(InactiveSecretError):
    """The secret's ``expires_on`` has passed."""

    reason = "expired"


class SecretNotYetValidError(InactiveSecretError):
    """The secret's ``not_before`` has not come yet."""

    reason = "not-yet-valid"


class DeveloperIdentityError(AzcredsError):
    """The developer identity (``azure-developer-identity``) could not get a token when first used.

    Raised by the credential's ``get_token``, never while resolving (resolving runs no tool).
    ``tool`` names the tool that ran and failed (not logged in, timed out after azure-identity's
    ``process_timeout``, refused), or is None when no selected tool is on PATH; ``attempts``
    lists ``(tool, why)`` for every tool tried, in order.
    """

    def __init__(self, message: str, *, tool: str | None, attempts: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.tool = tool
        self.attempts: tuple[tuple[str, str], ...] = tuple(attempts)


def _overwrite_remedy(error: SecretExistsError | ArtifactExistsError, fact: str, overwritable: bool) -> str:
    error.fact = fact
    error.overwritable = overwritable
    return f"{fact}; pass overwrite=True to replace it" if overwritable else fact


class ScopeError(AzcredsError, ValueError):
    """``AzureCredentials.scoped`` cannot grant what was asked: an unknown permission, a TTL out of
    bounds, a bad container or blob name, a prefix the account cannot enforce (no hierarchical
    namespace), or credentials that cannot sign a SAS (a SAS itself)."""


class SecretExistsError(AzcredsError):
    """``register`` found the name taken and ``overwrite`` was not given (or a keyring file exists).

    ``fact`` says what exists; ``overwritable`` is True when ``overwrite=True`` would have replaced it
    (the message then says so; the CLI says ``--overwrite`` instead).
    """

    fact: str
    overwritable: bool

    def __init__(self, fact: str, *, overwritable: bool = False) -> None:
        super().__init__(_overwrite_remedy(self, fact, overwritable))


class ArtifactStoreError(AzcredsError):
    """An :class:`~azcreds.AzureArtifactStore` operation failed."""


class ArtifactNotFoundError(ArtifactStoreError, FileNotFoundError):
    """The path does not exist in the artifact store."""


class ArtifactExistsError(ArtifactStoreError, FileExistsError):
    """The destination exists and ``overwrite`` was not given (or a directory is made twice).

    ``fact`` and ``overwritable`` as for :class:`SecretExistsError`.
    """

    fact: str
    overwritable: bool

    def __init__(self, fact: str, *, overwritable: bool = False) -> None:
        super().__init__(_overwrite_remedy(self, fact, overwritable))


class PathOutsideStoreError(ArtifactStoreError, ValueError):
    """A path names another container, or escapes the store's prefix with ``..``."""


class AzcredsWarning(UserWarning):
    """Base of the warnings azcreds emits."""


class ExpiringCredentialWarning(AzcredsWarning):
    """A credential is valid now but expires soon: a SAS token within 24 hours, or a Key Vault
    secret within ``AZCREDS_EXPIRY_WARNING`` seconds of its ``expires_on``."""


class StaleCredentialWarning(AzcredsWarning):
    """A cached credential past its TTL was served because its source failed transiently."""


class CorruptedSecretWarning(AzcredsWarning):
    """``list()`` left out an entry that is not what it claims to be (for Key Vault: a secret whose
    ``azcreds-name`` tag disagrees with its name, or with no or foreign azcreds tags)."""
