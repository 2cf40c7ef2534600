"""Checks that need ZenML, run by tests/integrations/test_zenml.py in .venv-zenml (one process each).

``python tests/integrations/zenml_checks.py checks CONTAINER`` runs the two next checks.

``fileio``: ZenML's ``fileio`` on ``az://``
paths through the azcreds flavor's component, with bytes and str paths, against the Azurite of
``AZURE_STORAGE_CONNECTION_STRING`` (implicit authentication), on a container that does not exist.

``resolver``: ZenMLSecretResolver against a real local
ZenML client (a temporary ``ZENML_CONFIG_PATH``): a hit, a miss with its reason, a secret that
fails the ``azure`` schema. ``... unreachable``: the chain when the ZenML server does not answer.

Each prints one JSON line of facts on success; an assertion failure exits non-zero with a traceback.
Only loopback connections are allowed (azcreds' network guard).
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from azcreds.testing import network_guard


def component(path: str, secret: str | None = None) -> Any:
    """The flavor's stack component, built as ZenML builds one from its model (no ZenML store needed)."""
    from zenml.enums import StackComponentType

    from azcreds.integrations.zenml import AzcredsArtifactStoreFlavor

    flavor = AzcredsArtifactStoreFlavor()
    now = datetime.now(UTC)
    return flavor.implementation_class(
        name="az_store",
        id=uuid4(),
        config=flavor.config_class(path=path, authentication_secret=secret),
        flavor=flavor.name,
        type=StackComponentType.ARTIFACT_STORE,
        user=None,
        created=now,
        updated=now,
    )


def fileio(container: str) -> dict[str, Any]:
    from zenml.io import fileio

    root = f"az://{container}/zenml"
    store = component(root)
    assert store.config.IS_IMMUTABLE_FILESYSTEM
    facts: dict[str, Any] = {}

    def b(path: str) -> bytes:
        return f"{root}/{path}".encode()

    def s(path: str) -> str:
        return f"{root}/{path}"

    # A fresh container: absent, not a directory, nothing listed; the first write creates it.
    assert fileio.exists(root) is False
    assert fileio.exists(b("a/x.txt")) is False
    assert fileio.isdir(s("a")) is False
    assert fileio.listdir(s("a")) == []  # fileio turns "no such directory" into []
    assert fileio.glob(s("*")) == []
    with fileio.open(b("a/x.txt"), "wb") as f:
        f.write(b"x" * 10)
    with fileio.open(s("a/y.txt"), "w") as t:
        t.write("yy")
    assert fileio.exists(root) is True
    assert fileio.exists(b("a/x.txt")) is True
    assert fileio.isdir(b("a")) is True
    with fileio.open(b("a/x.txt"), "rb") as r:
        assert r.read() == b"x" * 10
    with fileio.open(s("a/y.txt"), "r") as rt:
        assert rt.read() == "yy"

    # Directories: makedirs and mkdir are fine when the directory exists (as ZenML's own store).
    fileio.makedirs(b("d/e/f"))
    fileio.makedirs(s("d/e/f"))
    fileio.mkdir(b("d/e"))
    fileio.mkdir(s("g"))
    assert fileio.isdir(s("d/e/f")) is True
    assert sorted(fileio.listdir(b("d"))) == ["e"]
    assert sorted(fileio.listdir(s(""))) == ["a", "d", "g"]

    # Listing, matching and walking, as ZenML's callers use them (full URIs, names, tuples).
    assert fileio.glob(b("a/*.txt")) == [s("a/x.txt"), s("a/y.txt")]
    assert fileio.glob(s("**/*.txt")) == [s("a/x.txt"), s("a/y.txt")]
    walked = list(fileio.walk(b("a")))
    assert walked == [(s("a"), [], ["x.txt", "y.txt"])], walked
    assert [w[0] for w in fileio.walk(s(""))] == [root, s("a"), s("d"), s("d/e"), s("d/e/f"), s("g")]

    # Sizes and stats.
    assert fileio.size(b("a/x.txt")) == 10
    assert fileio.size(s("a")) == 12  # fileio adds up a directory's files
    assert fileio.size(s("nothing")) == 0
    stat = fileio.stat(s("a/x.txt"))
    assert (stat.st_size, stat.is_dir) == (10, False)
    assert stat.st_mtime > 0
    assert fileio.stat(b("d")).is_dir

    # Copy, rename, remove, rmtree; overwrite=False is the service's If-None-Match.
    fileio.copy(b("a/x.txt"), s("a/copy.txt"))
    try:
        fileio.copy(s("a/y.txt"), b("a/copy.txt"))
    except FileExistsError:
        facts["copy_refused"] = True
    fileio.copy(s("a/y.txt"), s("a/copy.txt"), overwrite=True)
    with fileio.open(s("a/copy.txt"), "rb") as r:
        assert r.read() == b"yy"
    fileio.rename(b("a/copy.txt"), b("a/moved.txt"))
    assert not fileio.exists(s("a/copy.txt"))
    try:
        fileio.rename(s("a/moved.txt"), s("a/x.txt"))
    except FileExistsError:
        facts["rename_refused"] = True
    fileio.remove(b("a/moved.txt"))
    try:
        fileio.remove(s("a/moved.txt"))
    except FileNotFoundError:
        facts["remove_missing_refused"] = True
    fileio.rmtree(b("d"))
    assert not fileio.exists(s("d/e/f"))
    assert sorted(fileio.listdir(root)) == ["a", "g"]

    # Append mode (what ZenML uses for logs on mutable stores) and a failed write.
    with fileio.open(s("logs/step.log"), "a") as log:
        log.write("one\n")
    with fileio.open(b("logs/step.log"), "a") as log:
        log.write("two\n")
    with fileio.open(s("logs/step.log"), "r") as rt:
        assert rt.read() == "one\ntwo\n"
    try:
        with fileio.open(s("a/partial.bin"), "wb") as f:
            f.write(b"half")
            raise RuntimeError("the step failed")
    except RuntimeError:
        pass
    assert not fileio.exists(s("a/partial.bin"))

    # Outside the root: ZenML's own bounds check, then azcreds' confinement ("..").
    for outside in (f"az://{container}/other/x", f"az://{container}-two/zenml/x"):
        try:
            fileio.exists(outside)
        except FileNotFoundError as exc:
            facts.setdefault("outside_refused", []).append(str(exc))
    try:  # a sibling of the root: ZenML's string prefix check lets it through, azcreds does not
        fileio.exists(f"{root}x/y")
    except ValueError as exc:
        facts["sibling_refused"] = f"{type(exc).__name__}: {exc}"
    try:
        fileio.open(s("a/../../escape.txt"), "wb")
    except ValueError as exc:
        facts["dotdot_refused"] = f"{type(exc).__name__}: {exc}"

    from azure.storage.blob import BlobServiceClient

    raw = BlobServiceClient.from_connection_string(os.environ["AZURE_STORAGE_CONNECTION_STRING"])
    facts["blobs"] = sorted(raw.get_container_client(container).list_blob_names())
    facts["containers"] = sorted(c.name for c in raw.list_containers())
    return facts


def resolver() -> dict[str, Any]:
    from zenml.client import Client

    from azcreds.errors import (
        ResolverUnavailableError,
        SchemaValidationError,
        SecretNotFoundError,
    )
    from azcreds.integrations.zenml import ZenMLSecretResolver, zenml_chain

    facts: dict[str, Any] = {}
    client = Client()
    canary = os.environ["CANARY_CONNECTION_STRING"]
    client.create_secret("az_secret", values={"connection_string": canary})
    client.create_secret("bad_secret", values={"account_name": "acct", "colour": "blue"})
    resolver = ZenMLSecretResolver()
    assert resolver.source == "zenml"
    facts["schema"] = resolver.resolve("az_secret").normalize().schema_id
    creds = zenml_chain().resolve("az_secret")
    assert creds.source == "zenml"
    facts["hit"] = str(creds)
    try:
        resolver.resolve("missing_secret")
    except ResolverUnavailableError as exc:
        facts["miss"] = str(exc)
    try:
        zenml_chain().resolve("missing_secret")
    except SecretNotFoundError as exc:
        facts["chain_miss"] = str(exc)
    try:
        resolver.resolve("bad_secret")
    except SchemaValidationError as exc:
        facts["invalid"] = str(exc)
    try:
        resolver.resolve(None)
    except ResolverUnavailableError as exc:
        facts["unnamed"] = str(exc)

    return facts


def unreachable() -> dict[str, Any]:
    """The flavor's chain when ``ZENML_STORE_URL`` names a server that does not answer.

    ZenML's REST client retries with backoff for about 30 s first: the test runs this beside the
    pipelines, so the wait costs no time of its own.
    """
    from azcreds.integrations.zenml import zenml_chain

    res = zenml_chain().explain("az_secret")
    return {
        "attempts": [[a.source, a.outcome, a.detail] for a in res.attempts],
        "error": type(res.error).__name__,
        "message": str(res.error),
    }


if __name__ == "__main__":
    network_guard.install()
    what = sys.argv[1]
    if what == "unreachable":
        print(json.dumps(unreachable()))
    else:  # one process (one ZenML import) for both
        print(json.dumps({"fileio": fileio(sys.argv[2]), "resolver": resolver()}))
