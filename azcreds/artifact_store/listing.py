"""Container listings: the SDK's List Blobs request and pipeline, a lighter reading; folder markers.

``ContainerClient.list_blobs``/``walk_blobs`` turn every listed blob into generated models and then
into ``BlobProperties`` through azure-core's generic XML deserializer. Measured on the project's
2-core machine, that costs about 0.3 ms of CPU per blob (1.7 s for a 5,000-entry page, more than
Azurite takes to produce it); ElementTree reads the same page in under 0.1 ms per blob.

The store needs six fields per blob, so it sends the same ``List Blobs`` request through the
container client's own pipeline (the generated client's ``_send_request``: authentication,
retries, hooks and logging policy are all the SDK's), reads those fields with ElementTree and pages
with azure-core's ``ItemPaged``. Anything but a 200, or an SDK without ``_send_request``, goes back
to the public ``list_blobs``/``walk_blobs``, so errors are exactly the SDK's (a refused listing costs
one more request). tests/artifact_store/test_listing.py holds both ways to the same entries.

Folder markers (zero-length blobs with ``hdi_isfolder=true`` metadata, as ADLS Gen2 writes them)
are recognised here too, since a listing is where they show up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote, unquote

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

    from azure.storage.blob import BlobProperties, ContainerClient


@dataclass(frozen=True, slots=True)
class Listed:
    """One entry of a listing: a blob, or (``is_prefix``) a virtual directory ``name`` ending in ``/``."""

    name: str
    is_prefix: bool = False
    size: int = 0
    last_modified: datetime | None = None
    etag: str | None = None
    content_type: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_sdk(cls, item: Any) -> Listed:
        """From a ``BlobProperties`` (or a ``BlobPrefix``) of the SDK."""
        from azure.storage.blob import BlobPrefix

        if isinstance(item, BlobPrefix):
            return cls(item.name, is_prefix=True)
        return cls.from_properties(item)

    @classmethod
    def from_properties(cls, props: BlobProperties) -> Listed:
        settings = props.content_settings
        return cls(
            name=props.name,
            size=int(props.size or 0),
            last_modified=props.last_modified,
            etag=props.etag,
            content_type=settings.content_type if settings else None,
            metadata=dict(props.metadata or {}),
        )


class NotListed(Exception):
    """The fast path cannot answer (a non-200 reply, or SDK internals it needs are missing)."""


def list_entries(
    cc: ContainerClient, prefix: str, *, delimiter: str | None, page_size: int | None = None
) -> list[Listed]:
    """Every blob (and, with ``delimiter``, every virtual directory) under ``prefix``, with metadata.

    ``page_size`` caps the entries per request (the service's default and maximum is 5,000).
    """
    try:
        return list(fast_entries(cc, prefix, delimiter=delimiter, page_size=page_size))
    except NotListed:
        return sdk_entries(cc, prefix, delimiter=delimiter, page_size=page_size)


def sdk_entries(
    cc: ContainerClient, prefix: str, *, delimiter: str | None, page_size: int | None = None
) -> list[Listed]:
    """The same listing through the SDK's public ``walk_blobs``/``list_blobs``."""
    if delimiter:
        level = cc.walk_blobs(
            name_starts_with=prefix, include=["metadata"], delimiter=delimiter, results_per_page=page_size
        )
        return [Listed.from_sdk(item) for item in level]
    flat = cc.list_blobs(name_starts_with=prefix, include=["metadata"], results_per_page=page_size)
    return [Listed.from_properties(item) for item in flat]


def fast_entries(
    cc: ContainerClient, prefix: str, *, delimiter: str | None, page_size: int | None = None
) -> Iterator[Listed]:
    """The listing read with ElementTree; raises NotListed where only the SDK's own path can answer."""
    from azure.core.paging import ItemPaged
    from azure.core.rest import HttpRequest

    send = getattr(getattr(cc, "_client", None), "_send_request", None)
    if send is None:
        raise NotListed
    # azure-core joins query values as given ("assumed already quoted"): unquoted, a name with
    # '&', '+', '#' or '%41' lists another prefix (a root "a&b=c" listed, and rmtree deleted,
    # everything under "a"). Quoted like the SDK's own serializer; the marker too (it may hold '+').
    params = {"restype": "container", "comp": "list", "include": "metadata"}
    if prefix:
        params["prefix"] = quote(prefix, safe="")
    if delimiter:
        params["delimiter"] = quote(delimiter, safe="")
    if page_size:
        params["maxresults"] = str(page_size)
    headers = {"x-ms-version": cc.api_version, "Accept": "application/xml"}

    def get_next(marker: str | None) -> Any:
        page = dict(params, marker=quote(marker, safe="")) if marker else params
        return send(HttpRequest("GET", cc.url, params=page, headers=headers))

    def extract(response: Any) -> tuple[str | None, Iterator[Listed]]:
        if response.status_code != 200:
            response.read()
            raise NotListed
        return _parse_page(response.content)

    return iter(ItemPaged(get_next, extract))


def _parse_page(body: bytes) -> tuple[str | None, Iterator[Listed]]:
    from email.utils import parsedate_to_datetime  # once per page, not at import
    from xml.etree.ElementTree import fromstring  # the SDK's deserializer parses with ElementTree too

    root = fromstring(body)  # noqa: S314 - the storage service's reply, as the SDK itself parses it
    blobs = root.find("Blobs")
    entries: list[Listed] = []
    for element in blobs if blobs is not None else ():
        if element.tag == "BlobPrefix":
            entries.append(Listed(_name(element), is_prefix=True))
        elif element.tag == "Blob":
            entries.append(_blob(element, parsedate_to_datetime))
    return root.findtext("NextMarker") or None, iter(entries)


def _name(element: Element) -> str:
    name = element.find("Name")
    if name is None:
        raise ValueError("a listed entry without a name")
    text = name.text or ""
    return unquote(text) if name.get("Encoded") == "true" else text  # names XML cannot carry


def _blob(element: Element, parse_date: Callable[[str], datetime]) -> Listed:
    props = element.find("Properties")
    metadata = element.find("Metadata")

    def prop(tag: str) -> str | None:
        return props.findtext(tag) if props is not None else None

    modified = prop("Last-Modified")
    return Listed(
        name=_name(element),
        size=int(prop("Content-Length") or 0),
        last_modified=parse_date(modified) if modified else None,
        etag=prop("Etag"),
        content_type=prop("Content-Type") or None,
        metadata={m.tag: m.text or "" for m in metadata} if metadata is not None else {},
    )


FOLDER_MARKER_METADATA: Final = {"hdi_isfolder": "true"}
"""Metadata of the zero-length blob that marks an (empty) directory, as ADLS Gen2 writes it."""


def _is_marker(name: str, metadata: Mapping[str, str] | None) -> bool:
    """Whether a blob marks a directory: ``hdi_isfolder``/``is_directory`` metadata, or a trailing ``/``."""
    if name.endswith("/"):
        return True
    for key, value in (metadata or {}).items():
        if key.lower() in ("hdi_isfolder", "is_directory") and str(value).lower() == "true":
            return True
    return False
