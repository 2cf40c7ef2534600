"""Secret schemas: typed, strictly validated pydantic models, and the registry that names them.

Each schema knows its ``schema_id``, which of its fields are secret, and how to turn itself into
what the Azure Blob SDK needs (account name, account URL, credential). Validation is local (no
network) and its errors name fields, never values.

This module is the public face of the package and registers the built-in schemas, in order; the
parts live in private modules that import one way (``_base`` ← ``_concrete`` ← ``_flat``):

- ``_base``: :class:`SecretSchema` and the registry (:func:`register_schema`, :func:`get_schema`,
  :func:`list_schemas`, :func:`catalog`);
- ``_concrete``: the five concrete schemas with a secret in them;
- ``_developer``: ``azure-developer-identity``, the developer's own login;
- ``_flat``: the flat ``azure`` schema, :func:`infer_schema_id` and :func:`parse_secret`.

The field checks themselves are in :mod:`azcreds._validators` (shared with the connection-string
parser) and re-exported here, as are the helpers other modules have imported from here.
"""

from __future__ import annotations

from azcreds._validators import check_account_key as check_account_key
from azcreds._validators import check_account_name as check_account_name
from azcreds._validators import check_guid as check_guid
from azcreds._validators import check_sas_token as check_sas_token
from azcreds._validators import check_tenant as check_tenant
from azcreds._validators import check_token_account_url as check_token_account_url
from azcreds._validators import check_url as check_url
from azcreds.schemas._base import _REGISTRY as _REGISTRY
from azcreds.schemas._base import SecretSchema, get_schema, list_schemas, register_schema
from azcreds.schemas._base import catalog as catalog
from azcreds.schemas._base import validation_error as validation_error
from azcreds.schemas._concrete import PUBLIC_AUTHORITY_HOSTS as PUBLIC_AUTHORITY_HOSTS
from azcreds.schemas._concrete import (
    AccountKeySecret,
    ConnectionStringSecret,
    ManagedIdentitySecret,
    SasTokenSecret,
    ServicePrincipalSecret,
)
from azcreds.schemas._concrete import default_account_url as default_account_url
from azcreds.schemas._concrete import is_public_authority as is_public_authority
from azcreds.schemas._concrete import shared_key_env as shared_key_env
from azcreds.schemas._developer import DeveloperIdentitySecret
from azcreds.schemas._flat import AzureSecret, infer_schema_id, parse_secret

__all__ = [
    "AccountKeySecret",
    "AzureSecret",
    "ConnectionStringSecret",
    "DeveloperIdentitySecret",
    "ManagedIdentitySecret",
    "SasTokenSecret",
    "SecretSchema",
    "ServicePrincipalSecret",
    "get_schema",
    "infer_schema_id",
    "list_schemas",
    "parse_secret",
    "register_schema",
]

for _cls in (
    ConnectionStringSecret,
    AccountKeySecret,
    SasTokenSecret,
    ServicePrincipalSecret,
    ManagedIdentitySecret,
    AzureSecret,
    DeveloperIdentitySecret,
):
    register_schema(_cls)
