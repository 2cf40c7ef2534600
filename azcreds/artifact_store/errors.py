"""Azure SDK exceptions to azcreds' artifact store errors, from names only (never a URL or SDK text)."""

from __future__ import annotations

from typing import Final

from azcreds.errors import (
    ArtifactExistsError,
    ArtifactNotFoundError,
    ArtifactStoreError,
    AzcredsError,
    PermissionDeniedError,
)

_AUTH_ERROR_CODES: Final = frozenset(
    {
        "AuthenticationFailed",
        "AuthorizationFailure",
        "InvalidAuthenticationInfo",
        "NoAuthenticationInformation",
    }
)


def _error_code(exc: BaseException) -> str | None:
    code = getattr(exc, "error_code", None)
    if code is None:
        return None
    return str(getattr(code, "value", code))


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def _is_auth_failure(exc: BaseException) -> bool:
    """A refusal that new credentials could cure (not a missing permission)."""
    from azure.core.exceptions import ClientAuthenticationError

    status = _status(exc)
    if status in (401, 403):
        return _error_code(exc) in _AUTH_ERROR_CODES
    # A token credential that could not get a token: no HTTP status at all.
    return isinstance(exc, ClientAuthenticationError) and status is None


def _map_error(
    exc: BaseException, action: str, uri: str, *, exists: tuple[int, ...] = (), overwritable: bool = False
) -> AzcredsError:
    """An azcreds error for an SDK failure, worded from names only (no URL, no SDK text)."""
    from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

    status, code = _status(exc), _error_code(exc)
    detail = f"HTTP {status}{' ' + code if code else ''}" if status is not None else type(exc).__name__
    where = f"cannot {action} {uri}"
    if status in (401, 403) or isinstance(exc, ClientAuthenticationError):
        return PermissionDeniedError(f"{where}: the service refused the credentials ({detail})")
    if status == 404:
        container = uri.split("://", 1)[-1].split("/", 1)[0]
        if code == "ContainerNotFound":
            return ArtifactNotFoundError(f"{where}: container {container!r} does not exist ({detail})")
        return ArtifactNotFoundError(f"{where}: no such file or directory ({detail})")
    if status in exists:
        return ArtifactExistsError(f"{where}: it already exists ({detail})", overwritable=overwritable)
    if status == 412:
        return ArtifactStoreError(f"{where}: the blob changed during the operation ({detail})")
    if isinstance(exc, HttpResponseError) and status is not None:
        return ArtifactStoreError(f"{where}: the service answered {detail}")
    return ArtifactStoreError(f"{where}: request failed ({detail})")
