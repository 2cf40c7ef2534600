"""The ``azcreds`` artifact-store flavor: ZenML's artifact store on :class:`~azcreds.AzureArtifactStore`.

Config ``path`` (``az://container[/prefix]`` or ``abfs://...``) and ``authentication_secret`` (a
secret name, as in ZenML's own Azure store). With a secret, credentials come from
:func:`~azcreds.integrations.zenml.zenml_chain` (ZenML's secret store, then azcreds' named chain);
without one, from azcreds' implicit chain (``AZURE_STORAGE_*``, then managed identity).

Blob Storage has no append, so the config says ``IS_IMMUTABLE_FILESYSTEM``: ZenML then writes each
batch of step logs as a new file and merges them when the step ends, rather than re-uploading a
growing log in ``"a"`` mode (which the store supports too, as a conditional read-modify-write).

No ``from __future__ import annotations`` here: ZenML converts ``bytes`` paths only for parameters
whose annotation *is* its ``PathType``, found with ``inspect.signature`` at run time.
"""

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Optional, cast

from zenml.artifact_stores import BaseArtifactStore, BaseArtifactStoreConfig, BaseArtifactStoreFlavor
from zenml.artifact_stores.base_artifact_store import PathType
from zenml.stack.authentication_mixin import AuthenticationConfigMixin

from azcreds.artifact_store import SCHEMES, ArtifactStat

if TYPE_CHECKING:
    from azcreds.artifact_store import AzureArtifactStore

__all__ = ["AzcredsArtifactStore", "AzcredsArtifactStoreConfig", "AzcredsArtifactStoreFlavor"]

FLAVOR_NAME = "azcreds"


class AzcredsArtifactStoreConfig(BaseArtifactStoreConfig, AuthenticationConfigMixin):
    """``path`` (``az://`` or ``abfs://``) and ``authentication_secret`` (a secret name, or none)."""

    SUPPORTED_SCHEMES: ClassVar[set[str]] = {f"{scheme}://" for scheme in SCHEMES}
    IS_IMMUTABLE_FILESYSTEM: ClassVar[bool] = True


class AzcredsArtifactStore(BaseArtifactStore):
    """ZenML's artifact-store interface, each method handed to one :class:`~azcreds.AzureArtifactStore`.

    The store is built on first use (so registering a stack resolves nothing) and is never
    pickled: a copy of this component builds its own.
    """

    _azcreds_store: Optional["AzureArtifactStore"] = None

    @property
    def config(self) -> AzcredsArtifactStoreConfig:
        return cast(AzcredsArtifactStoreConfig, self._config)

    @property
    def store(self) -> "AzureArtifactStore":
        """The :class:`~azcreds.AzureArtifactStore` behind this component."""
        store = self._azcreds_store
        if store is None:
            with self._filesystem_lock:  # BaseArtifactStore's own, made again after unpickling
                store = self._azcreds_store
                if store is None:
                    store = self._azcreds_store = _build_store(self.config)
        return store

    def __getstate__(self) -> dict[str, Any]:
        state = cast(dict[str, Any], super().__getstate__())
        state.pop("_azcreds_store", None)
        return state

    # --- ZenML's interface: every path may be bytes or str ------------------------------------
    def open(self, path: PathType, mode: str = "r") -> Any:
        return self.store.open(path, mode)

    def copyfile(self, src: PathType, dst: PathType, overwrite: bool = False) -> None:
        self.store.copyfile(src, dst, overwrite=overwrite)

    def exists(self, path: PathType) -> bool:
        return self.store.exists(path)

    def glob(self, pattern: PathType) -> list[PathType]:
        return list(self.store.glob(pattern))

    def isdir(self, path: PathType) -> bool:
        return self.store.isdir(path)

    def listdir(self, path: PathType) -> list[PathType]:
        return list(self.store.listdir(path))

    def makedirs(self, path: PathType) -> None:
        self.store.makedirs(path)

    def mkdir(self, path: PathType) -> None:
        self.store.mkdir(path)

    def remove(self, path: PathType) -> None:
        self.store.remove(path)

    def rename(self, src: PathType, dst: PathType, overwrite: bool = False) -> None:
        self.store.rename(src, dst, overwrite=overwrite)

    def rmtree(self, path: PathType) -> None:
        self.store.rmtree(path)

    def stat(self, path: PathType) -> ArtifactStat:
        return self.store.stat(path)

    def size(self, path: PathType) -> int:
        return self.store.size(path)

    def walk(
        self,
        top: PathType,
        topdown: bool = True,
        onerror: Callable[..., None] | None = None,
    ) -> Iterable[tuple[PathType, list[PathType], list[PathType]]]:
        for dirpath, dirnames, filenames in self.store.walk(top, topdown=topdown, onerror=onerror):
            yield dirpath, cast("list[PathType]", dirnames), cast("list[PathType]", filenames)


def _build_store(config: AzcredsArtifactStoreConfig) -> "AzureArtifactStore":
    from azcreds.artifact_store import AzureArtifactStore

    secret = config.authentication_secret
    if not secret:
        return AzureArtifactStore(config.path)  # the seed's implicit authentication
    from azcreds.integrations.zenml.secrets import zenml_chain

    return AzureArtifactStore(config.path, secret=secret, chain=zenml_chain())


class AzcredsArtifactStoreFlavor(BaseArtifactStoreFlavor):
    """The ``azcreds`` flavor: ``zenml artifact-store register NAME -f azcreds --path=az://...``."""

    @property
    def name(self) -> str:
        return FLAVOR_NAME

    @property
    def docs_url(self) -> str | None:
        return None

    @property
    def sdk_docs_url(self) -> str | None:
        return None

    @property
    def logo_url(self) -> str | None:
        return None

    @property
    def config_class(self) -> type[AzcredsArtifactStoreConfig]:
        return AzcredsArtifactStoreConfig

    @property
    def implementation_class(self) -> type[AzcredsArtifactStore]:
        return AzcredsArtifactStore
