"""azcreds inside ZenML: the ``azcreds`` artifact-store flavor and ZenML's secret store as a source.

Needs the ``zenml`` extra (``pip install 'azcreds[zenml]'``); ``import azcreds`` never imports this.
Register the flavor the way ZenML registers custom flavors::

    zenml artifact-store flavor register azcreds.integrations.zenml.AzcredsArtifactStoreFlavor
    zenml artifact-store register az_store -f azcreds --path=az://container --authentication_secret=az_secret

The modules: :mod:`~azcreds.integrations.zenml.secrets` (:class:`ZenMLSecretResolver` and the
flavor's chain) and :mod:`~azcreds.integrations.zenml.flavor` (config, flavor, stack component).
"""

try:
    import zenml  # noqa: F401
except ImportError:
    raise ImportError(
        "azcreds.integrations.zenml needs ZenML, which is not installed: pip install 'azcreds[zenml]'"
    ) from None

from azcreds.integrations.zenml.flavor import (
    AzcredsArtifactStore,
    AzcredsArtifactStoreConfig,
    AzcredsArtifactStoreFlavor,
)
from azcreds.integrations.zenml.secrets import ZenMLSecretResolver, zenml_chain

__all__ = [
    "AzcredsArtifactStore",
    "AzcredsArtifactStoreConfig",
    "AzcredsArtifactStoreFlavor",
    "ZenMLSecretResolver",
    "zenml_chain",
]
