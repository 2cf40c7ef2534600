"""Helpers shared by the schema, validator and connection-string tests."""

from __future__ import annotations

from typing import Any

import pytest

from azcreds import SchemaValidationError, parse_secret
from tests.helpers import AZURITE_ACCOUNT_KEY, b64

KEY = b64("k" * 64)


def invalid(schema_id: str, fields: dict[str, Any]) -> SchemaValidationError:
    with pytest.raises(SchemaValidationError) as info:
        parse_secret(schema_id, fields)
    return info.value


AZURITE_CS = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
    f"AccountKey={AZURITE_ACCOUNT_KEY};BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
)
