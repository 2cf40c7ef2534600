"""The secret schema base class and the registry that names schemas by ``schema_id``.

:class:`SecretSchema` fixes what every schema offers (secret and required fields, field values for
display, the credential hooks :mod:`azcreds.credentials` calls); the registry maps a ``schema_id``
to its class. Validation errors are built from pydantic's without the input values. Import these
names from :mod:`azcreds.schemas`, which also registers the built-in schemas.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from azcreds.errors import FieldError, SchemaValidationError, UnknownSchemaError

__all__ = [
    "SecretSchema",
    "catalog",
    "get_schema",
    "list_schemas",
    "register_schema",
    "validation_error",
]


def _wrap(check: Callable[[str], str]) -> Any:
    """A pydantic ``field_validator`` body that applies ``check`` to plain or secret strings."""

    def validate(cls: type[BaseModel], value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, SecretStr):
            return SecretStr(check(value.get_secret_value()))
        return check(value)

    return validate


def validation_error(schema_id: str | None, exc: ValidationError) -> SchemaValidationError:
    """Turn a pydantic ValidationError into ours, built without the input values."""
    errors: list[FieldError] = []
    for err in exc.errors(include_input=False, include_url=False, include_context=False):
        field = ".".join(str(p) for p in err["loc"])
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown field"
        elif err["type"] == "missing":
            message = "required field is missing"
        elif message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        elif message.startswith("Assertion failed, "):
            message = message[len("Assertion failed, ") :]
        errors.append(FieldError(field, message))
    return SchemaValidationError(schema_id, errors)


class SecretSchema(BaseModel):
    """Base of every secret schema. Subclasses set ``schema_id`` and implement the credential hooks."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        str_strip_whitespace=True,
        hide_input_in_errors=True,
        defer_build=True,  # build validators on first use: `azcreds schema list` needs none
    )

    schema_id: ClassVar[str]
    title: ClassVar[str] = ""

    # -- registry-facing helpers
    @classmethod
    def secret_fields(cls) -> tuple[str, ...]:
        """Names of the fields that hold secret values (typed SecretStr)."""
        out = []
        for name, info in cls.model_fields.items():
            if info.annotation in (SecretStr, SecretStr | None):
                out.append(name)
        return tuple(out)

    @classmethod
    def required_fields(cls) -> tuple[str, ...]:
        return tuple(n for n, info in cls.model_fields.items() if info.is_required())

    def normalize(self) -> SecretSchema:
        """The concrete schema this secret stands for (itself, except for the flat ``azure``)."""
        return self

    def field_values(self, *, reveal: bool = False) -> dict[str, str]:
        """The fields that are set, secret ones as ``'**********'`` unless ``reveal``."""
        out: dict[str, str] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, SecretStr):
                out[name] = value.get_secret_value() if reveal else "**********"
            else:
                out[name] = str(value)
        return out

    def secret_values(self) -> list[str]:
        """Every secret string this secret holds (for log redaction), parts of composites included."""
        return [v.get_secret_value() for v in self.__dict__.values() if isinstance(v, SecretStr)]

    # -- credential hooks (see azcreds.credentials)
    def account_name_value(self) -> str:
        raise NotImplementedError

    def account_url_value(self) -> str:
        raise NotImplementedError

    def build_credential(self) -> Any:
        """The object ``BlobServiceClient(account_url, credential=...)`` takes. Imports SDKs lazily."""
        raise NotImplementedError

    def storage_options(self) -> dict[str, Any]:
        """Options for adlfs / fsspec ``storage_options=``."""
        raise NotImplementedError

    def env_vars(self) -> dict[str, str]:
        """The environment variables that carry this secret to other processes (values are secret).

        They work as they are with the Python and JavaScript Blob SDKs, azure-identity's
        ``EnvironmentCredential``/``ManagedIdentityCredential``, @azure/identity, the az CLI's
        storage commands and azcreds' own implicit chain (see docs/cli.md).
        """
        raise NotImplementedError


# --------------------------------------------------------------------------- registry

_SchemaT = TypeVar("_SchemaT", bound=type[SecretSchema])
_REGISTRY: dict[str, type[SecretSchema]] = {}


def register_schema(cls: _SchemaT, *, replace: bool = False) -> _SchemaT:
    """Add a schema class to the registry (usable as a decorator). Ids are unique."""
    schema_id = getattr(cls, "schema_id", None)
    if not isinstance(schema_id, str) or not schema_id:
        raise TypeError(f"{cls.__name__} needs a non-empty class attribute 'schema_id'")
    if schema_id in _REGISTRY and _REGISTRY[schema_id] is not cls and not replace:
        raise ValueError(f"schema id {schema_id!r} is already registered")
    _REGISTRY[schema_id] = cls
    return cls


def get_schema(schema_id: str) -> type[SecretSchema]:
    """The schema class registered under ``schema_id``; UnknownSchemaError if none is."""
    try:
        return _REGISTRY[schema_id]
    except (KeyError, TypeError):
        raise UnknownSchemaError(schema_id, sorted(_REGISTRY)) from None


def list_schemas() -> list[type[SecretSchema]]:
    """Every registered schema class, in registration order."""
    return list(_REGISTRY.values())


def catalog() -> list[dict[str, Any]]:
    """Every schema's id, title and field names, as ``azcreds schema list`` shows them.

    The CLI reads a copy of this from ``azcreds/cli/schema_catalog.json`` so that listing schemas
    does not import pydantic; ``scripts/gen-schema-catalog`` writes it and a test keeps it equal.
    """
    rows: list[dict[str, Any]] = []
    for s in list_schemas():
        required = s.required_fields()
        rows.append(
            {
                "schema_id": s.schema_id,
                "title": s.title,
                "required": list(required),
                "optional": [f for f in s.model_fields if f not in required],
                "secret_fields": list(s.secret_fields()),
            }
        )
    return rows
