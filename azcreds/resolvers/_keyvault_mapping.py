"""The Key Vault mapping: the injective name encoding, and the checks that a secret is the one asked for.

Mapping (one Key Vault secret per azcreds secret):

- **name**: ``azcreds-`` + the lower-cased name with every ``_`` turned into ``-``, then ``-`` and a
  mask saying which separators were ``_`` (bit *i* for the *i*-th separator, least significant
  first, written in base 32 with the digits ``0-9a-v``; ``0`` when there is none). The mapping is
  injective and always fits Key Vault's 127 characters: ``az_secret`` → ``azcreds-az-secret-1``,
  ``az-secret`` → ``azcreds-az-secret-0``, ``prod_blob_key`` → ``azcreds-prod-blob-key-3``.
- **value**: the JSON object of the schema's fields; ``content_type`` ``application/json``;
- **tags**: ``azcreds-schema`` (the schema id) and ``azcreds-name`` (the original spelling).

Integrity: anyone who can write to the vault can put any value under any name, so the store
checks every secret it reads with :func:`_identity_problem` (its ``azcreds-name`` tag names the
same secret as its Key Vault name, case-insensitively; its ``azcreds-schema`` tag names a known
schema; its content type is ``application/json``) and :func:`_fields_problem` (its value's fields
fit that schema: no unknown field, no required one missing). Each returns the problem in words,
never a value, or None. Used by :mod:`azcreds.resolvers.keyvault`.
"""

from __future__ import annotations

import re
from typing import Any

from azcreds.errors import InvalidSecretNameError
from azcreds.names import name_key, validate_secret_name
from azcreds.schemas import get_schema, list_schemas

__all__ = ["CONTENT_TYPE", "NAME_PREFIX", "TAG_NAME", "TAG_SCHEMA", "decode_name", "encode_name"]

NAME_PREFIX = "azcreds-"
TAG_SCHEMA = "azcreds-schema"
TAG_NAME = "azcreds-name"
CONTENT_TYPE = "application/json"
MAX_VALUE_BYTES = 25 * 1024
_FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
_B32 = "0123456789abcdefghijklmnopqrstuv"


def encode_name(name: str) -> str:
    """The Key Vault secret name of an azcreds secret name (see the module docstring)."""
    validate_secret_name(name)
    lowered = name.lower()
    mask = 0
    separators = 0
    for char in lowered:
        if char in "-_":
            if char == "_":
                mask |= 1 << separators
            separators += 1
    digits = max(1, -(-separators // 5))
    encoded_mask = "".join(_B32[(mask >> (5 * i)) & 31] for i in reversed(range(digits)))
    result = f"{NAME_PREFIX}{lowered.replace('_', '-')}-{encoded_mask}"
    if len(result) > 127:  # cannot happen for valid names (at most 8 + 64 + 1 + 13 characters)
        raise InvalidSecretNameError("the name is too long for Key Vault")
    return result


def decode_name(vault_name: str) -> str | None:
    """The (lower-cased) azcreds name a Key Vault name encodes, or None if it is not ours."""
    lowered = vault_name.lower()
    if not lowered.startswith(NAME_PREFIX):
        return None
    body, _, encoded_mask = lowered[len(NAME_PREFIX) :].rpartition("-")
    if not body or not encoded_mask or any(c not in _B32 for c in encoded_mask):
        return None
    separators = body.count("-")
    if len(encoded_mask) != max(1, -(-separators // 5)):
        return None
    mask = 0
    for c in encoded_mask:
        mask = mask * 32 + _B32.index(c)
    if mask >> separators:
        return None
    out = []
    index = 0
    for char in body:
        if char == "-":
            out.append("_" if mask >> index & 1 else "-")
            index += 1
        else:
            out.append(char)
    name = "".join(out)
    try:
        validate_secret_name(name)
    except InvalidSecretNameError:
        return None
    return name if encode_name(name) == lowered else None


def _shown(text: str) -> str:
    """A name or tag from the vault, quoted and capped for a message (it is not a secret, but
    anyone with write access chose it)."""
    return repr(text if len(text) <= 80 else text[:80] + "...")


def _identity_problem(properties: Any, name: str | None) -> str | None:
    """What says a Key Vault secret is not the azcreds secret it is read as (``name``, or the one
    its Key Vault name encodes), or None. Looks at its name, tags and content type only."""
    tags = properties.tags or {}
    decoded = decode_name(properties.name or "")
    if decoded is None:
        return "its name is not one azcreds makes for any secret name"
    if name is not None and name_key(name) != decoded:
        return f"its name encodes {decoded!r}"
    tag_name = tags.get(TAG_NAME)
    if tag_name is None:
        return f"it has no {TAG_NAME} tag"
    if name_key(tag_name) != decoded:
        return f"its {TAG_NAME} tag says {_shown(tag_name)}, but its name encodes {decoded!r}"
    schema_id = tags.get(TAG_SCHEMA)
    if not schema_id:
        return f"it has no {TAG_SCHEMA} tag"
    if schema_id not in {s.schema_id for s in list_schemas()}:
        return f"its {TAG_SCHEMA} tag names an unknown schema {_shown(schema_id)}"
    if properties.content_type != CONTENT_TYPE:
        shown = _shown(properties.content_type) if properties.content_type else "not set"
        return f"its content type is {shown}, not {CONTENT_TYPE}"
    return None


def _fields_problem(schema_id: str, fields: dict[str, str]) -> str | None:
    """What says a secret's fields do not fit its ``azcreds-schema`` tag (unknown or missing
    fields), or None. Unknown field names are shown only when all look like field names."""
    schema = get_schema(schema_id)
    unknown = [k for k in fields if k not in schema.model_fields]
    missing = [f for f in schema.required_fields() if not fields.get(f)]
    if unknown or missing:
        named = [k for k in unknown if _FIELD_NAME.fullmatch(k)]
        what = []
        if unknown:
            what.append(
                f"{len(unknown)} field(s) the schema does not have"
                + (f" ({', '.join(named)})" if len(named) == len(unknown) else "")
            )
        if missing:
            what.append(f"no {', '.join(missing)}")
        return f"its fields do not match its {TAG_SCHEMA} tag {schema_id!r}: {'; '.join(what)}"
    return None
