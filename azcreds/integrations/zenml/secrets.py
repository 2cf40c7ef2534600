"""ZenMLSecretResolver: secrets from ZenML's secret store (source ``"zenml"``), and the flavor's chain.

A ZenML user already keeps ``az_secret`` in ZenML (``zenml secret create az_secret
--connection_string=...``), with the fields of the seed's flat ``azure`` schema. The resolver reads
it through a ZenML ``Client`` (the active one by default) and validates it with that schema. A
missing secret is a miss with a reason (the chain goes on); a ZenML server that cannot be reached,
or that refuses the caller, is a failure that names the server (the chain stops). ZenML compares
secret names exactly, not case-insensitively as azcreds' own stores do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from azcreds.errors import PermissionDeniedError, ResolverUnavailableError, ServiceError
from azcreds.names import validate_secret_name
from azcreds.resolvers.chain import ResolverChain

if TYPE_CHECKING:
    from azcreds.schemas import SecretSchema

__all__ = ["ZenMLSecretResolver", "zenml_chain"]


class ZenMLSecretResolver:
    """Reads named secrets from ZenML's secret store, as the flat ``azure`` schema.

    ``client``: a ``zenml.client.Client``; default, the active client (``Client()``), created on
    first use, so a chain that never reaches this resolver never touches ZenML.
    """

    def __init__(self, client: Any = None) -> None:
        self._client = client

    @property
    def source(self) -> Literal["zenml"]:
        return "zenml"

    def __repr__(self) -> str:
        return "ZenMLSecretResolver()"

    def resolve(self, name: str | None) -> SecretSchema:
        from azcreds.schemas import parse_secret

        if name is None:
            raise ResolverUnavailableError("ZenML's secret store holds named secrets only")
        validate_secret_name(name)
        server = _store_name(self._client)
        try:
            client = self._client
            if client is None:
                from zenml.client import Client

                client = self._client = Client()
            secret = client.get_secret_by_name_and_private_status(name)
        except KeyError:
            raise ResolverUnavailableError(f"no secret {name!r} in {server}") from None
        except Exception as exc:
            raise _failure(exc, server) from None
        return parse_secret("azure", dict(secret.secret_values))


def _store_name(client: Any) -> str:
    """``ZenML server at http://host:port`` or ``ZenML's local store``, read without connecting.

    Only scheme, host and port of a server URL are shown (never a path, query or user).
    """
    try:
        if client is not None:
            config = client.zen_store.config
        else:
            from zenml.config.global_config import GlobalConfiguration

            config = GlobalConfiguration().store_configuration
        url = str(config.url)
        kind = str(getattr(config.type, "value", config.type))
    except Exception:
        return "ZenML's store"
    if kind == "rest":
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
        return f"the ZenML server at {parts.scheme}://{parts.hostname}{port}"
    return "ZenML's local store"


def _failure(exc: BaseException, server: str) -> Exception:
    """A failure of ZenML itself (unreachable, refused), named by type: its text may carry a URL."""
    kind = type(exc).__name__
    if "Authoriz" in kind or "Authentica" in kind or "Forbidden" in kind or "Credentials" in kind:
        return PermissionDeniedError(f"{server} refused to read the secret ({kind})")
    return ServiceError(f"{server} could not be reached or failed ({kind})")


def zenml_chain(client: Any = None) -> ResolverChain:
    """The flavor's chain for a named secret: ZenML's secret store first, then azcreds' named chain.

    The named chain is env → keyring → Key Vault (if configured) → managed identity, as
    :func:`azcreds.resolve_credentials` uses it.
    """
    from azcreds.resolve import default_chain

    return ResolverChain([ZenMLSecretResolver(client), *default_chain(named=True).resolvers])
