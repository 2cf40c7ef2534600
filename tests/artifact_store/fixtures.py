"""Fixtures of the artifact-store tests, loaded with ``pytest_plugins = ["tests.artifact_store.fixtures"]``.

Every test runs against the session's Azurite: real HTTP round trips, no mocked SDK method.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from azure.storage.blob import BlobServiceClient, ContainerClient

from azcreds.artifact_store import AzureArtifactStore
from azcreds.credentials import AzureCredentials
from azcreds.testing import AzuriteServer
from tests.artifact_store.helpers import BLOCK, RequestCounter, connection_string_credentials


@pytest.fixture
def creds(azurite: AzuriteServer) -> AzureCredentials:
    return connection_string_credentials(azurite)


@pytest.fixture
def counter() -> RequestCounter:
    return RequestCounter()


@pytest.fixture
def raw(azurite: AzuriteServer, container_name: str) -> Iterator[ContainerClient]:
    """The raw SDK's view of the test container, to check what the store really wrote."""
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    client = service.get_container_client(container_name)
    client.create_container()
    yield client
    client.close()


@pytest.fixture
def store(
    creds: AzureCredentials, raw: ContainerClient, container_name: str, counter: RequestCounter
) -> Iterator[AzureArtifactStore]:
    """A store rooted at ``az://<container>/root`` (the container exists, the prefix is empty)."""
    with AzureArtifactStore(
        f"az://{container_name}/root",
        credentials=creds,
        block_size=BLOCK,
        max_concurrency=4,
        client_kwargs=counter.client_kwargs(),
    ) as artifact_store:
        yield artifact_store
