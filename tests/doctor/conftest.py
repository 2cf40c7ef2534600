from __future__ import annotations

import pytest
from azure.storage.blob import BlobServiceClient

from azcreds.testing import AzuriteServer


@pytest.fixture
def container(azurite: AzuriteServer, container_name: str) -> str:
    """A fresh container on the session's http Azurite."""
    BlobServiceClient.from_connection_string(azurite.connection_string).create_container(container_name)
    return container_name
