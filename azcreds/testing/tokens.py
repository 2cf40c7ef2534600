"""Test bearer tokens: JWTs that Azurite's ``--oauth basic`` accepts, and a credential serving one.

Azurite does not check signatures, only the claims: ``iat``, ``nbf`` and ``exp`` valid now, ``iss``
under ``https://sts.windows.net/`` and ``aud`` a storage audience. :func:`mint_token` signs with a
random HS256 key, so the tokens are well-formed JWTs that no real service would accept.
"""

from __future__ import annotations

import secrets
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import TracebackType

    from azure.core.credentials import AccessToken, AccessTokenInfo, TokenRequestOptions

__all__ = [
    "STORAGE_AUDIENCE",
    "TEST_APP_ID",
    "TEST_OBJECT_ID",
    "TEST_TENANT_ID",
    "StaticTokenCredential",
    "mint_token",
]

STORAGE_AUDIENCE = "https://storage.azure.com"
"""The audience of storage tokens (what Azurite's ``--oauth basic`` accepts)."""
TEST_TENANT_ID = "72f0c2b5-7d3e-4c1a-9b6e-5a0d3c2f1e00"
"""The tenant the test tokens and servers use by default."""
TEST_OBJECT_ID = "0b6d9c1e-2f4a-4e8b-a7c3-d5e1f9a20b11"
"""The object id of the default test identity (the ``oid`` claim)."""
TEST_APP_ID = "5e1a7c3d-9b2f-4d6e-8a0c-1f3b5d7e9a22"
"""The application (client) id of the default test identity (the ``appid`` claim)."""


def mint_token(
    audience: str = STORAGE_AUDIENCE,
    *,
    tenant_id: str = TEST_TENANT_ID,
    lifetime: int = 3600,
    object_id: str = TEST_OBJECT_ID,
    app_id: str | None = None,
    extra_claims: Mapping[str, Any] | None = None,
) -> str:
    """A signed JWT for ``audience`` that expires ``lifetime`` seconds from now.

    A negative ``lifetime`` gives an already expired token. ``iat``/``nbf`` lie 60 s in the past
    (before ``exp``). ``app_id`` defaults to :data:`TEST_APP_ID`. ``extra_claims`` are applied
    last, so they can add claims or override any of the above (``nbf`` in the future, say).
    """
    try:
        import jwt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("mint_token needs 'pyjwt': pip install 'azcreds[dev]'") from exc

    now = int(time.time())
    expires = now + lifetime
    issued = min(now, expires) - 60
    claims: dict[str, Any] = {
        "aud": audience,
        "iss": f"https://sts.windows.net/{tenant_id}/",
        "iat": issued,
        "nbf": issued,
        "exp": expires,
        "oid": object_id,
        "sub": object_id,
        "tid": tenant_id,
        "appid": app_id if app_id is not None else TEST_APP_ID,
        "ver": "1.0",
    }
    if extra_claims:
        claims.update(extra_claims)
    return jwt.encode(claims, secrets.token_bytes(32), algorithm="HS256")


def _expiry_claim(token: str) -> int | None:
    import jwt

    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    exp = claims.get("exp")
    return int(exp) if isinstance(exp, int | float) else None


class StaticTokenCredential:
    """An azure-core ``TokenCredential`` (and ``SupportsTokenInfo``) that returns one fixed token.

    ``expires_on`` defaults to the token's ``exp`` claim, or one hour from now if it has none.
    ``call_count`` counts ``get_token`` and ``get_token_info`` calls; ``scopes`` records each
    call's scopes, so tests can assert how often and for what a client asked.
    """

    def __init__(self, token: str, expires_on: int | None = None) -> None:
        if expires_on is None:
            expires_on = _expiry_claim(token) or int(time.time()) + 3600
        self.token = token
        self.expires_on = expires_on
        self.scopes: list[tuple[str, ...]] = []
        self._lock = threading.Lock()

    @property
    def call_count(self) -> int:
        """How many tokens were asked for."""
        with self._lock:
            return len(self.scopes)

    def _record(self, scopes: tuple[str, ...]) -> None:
        with self._lock:
            self.scopes.append(scopes)

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        """The fixed token, whatever the scopes."""
        from azure.core.credentials import AccessToken

        self._record(scopes)
        return AccessToken(self.token, self.expires_on)

    def get_token_info(self, *scopes: str, options: TokenRequestOptions | None = None) -> AccessTokenInfo:
        """The fixed token as ``AccessTokenInfo``, whatever the scopes."""
        from azure.core.credentials import AccessTokenInfo

        self._record(scopes)
        return AccessTokenInfo(self.token, self.expires_on, token_type="Bearer")

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> StaticTokenCredential:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
