"""The artifact store on Azurite: directories, streaming, overwrite protection, glob and walk.

Run it with ``.venv/bin/python examples/artifact_store.py`` after ``scripts/setup``. It starts
Azurite on a free loopback port, in memory, registers nothing anywhere (the secret is an
environment variable of this process only), and stops everything at the end.
"""

from __future__ import annotations

import os
import sys

from azcreds.testing import AzuriteServer, network_guard, unique_container_name


def main() -> int:
    network_guard.install()  # 127.0.0.1 only; anything else fails loudly
    with AzuriteServer() as azurite:
        # A named secret, as CI would provide it: AZCREDS_<NAME>__<FIELD>.
        os.environ["AZCREDS_ARTIFACTS__CONNECTION_STRING"] = azurite.connection_string

        from azcreds.artifact_store import AzureArtifactStore
        from azcreds.errors import ArtifactExistsError, ArtifactNotFoundError

        container = unique_container_name("artifacts")
        store = AzureArtifactStore(f"az://{container}/runs", secret="artifacts")
        print(f"store root: {store.root} ({store!r})")
        store.makedirs(store.root)  # creates the container too

        # Directories are real: an empty one is visible, and survives as a folder marker.
        store.makedirs(f"{store.root}/run-1/metrics")
        store.mkdir(f"{store.root}/run-1/empty")
        print("listdir run-1:", store.listdir(f"{store.root}/run-1"))

        # Streaming write: blocks are staged as they fill and committed on a clean close.
        weights = f"{store.root}/run-1/model weights.bin"
        chunk = os.urandom(1024 * 1024)
        with store.open(weights, "wb") as f:
            for _ in range(20):
                f.write(chunk)
        print(f"wrote {store.size(weights):,} bytes to {weights}")

        # An exception inside the with block commits nothing: the old content stays.
        try:
            with store.open(weights, "wb") as f:
                f.write(b"half a model")
                raise RuntimeError("training crashed")
        except RuntimeError:
            pass
        print("after a failed rewrite the size is still", f"{store.size(weights):,}")

        # Overwrite protection is a conditional request the service enforces.
        try:
            with store.open(weights, "xb") as f:
                f.write(b"no")
        except ArtifactExistsError as exc:
            print("refused:", exc)

        # Seekable, ranged reads: only the bytes asked for are downloaded.
        with store.open(weights, "rb") as f:
            f.seek(-16, os.SEEK_END)
            tail = f.read()
        if tail != chunk[-16:]:
            print("MISMATCH: the tail read differs from what was written", file=sys.stderr)
            return 1

        with store.open(f"{store.root}/run-1/metrics/accuracy.csv", "w") as f:
            f.write("epoch,accuracy\n1,0.91\n2,0.94\n")
        store.copyfile(f"{store.root}/run-1/metrics/accuracy.csv", f"{store.root}/run-1/metrics/best.csv")
        store.rename(f"{store.root}/run-1/metrics/best.csv", f"{store.root}/run-1/best.csv")

        print("glob **/*.csv:", store.glob(f"{store.root}/**/*.csv"))
        for dirpath, dirnames, filenames in store.walk(store.root):
            print(f"walk: {dirpath}  dirs={dirnames}  files={filenames}")
        stat = store.stat(f"{store.root}/run-1/best.csv")
        print(f"stat best.csv: {stat.size} bytes, {stat.content_type}, etag {stat.etag}")

        # pandas / adlfs take the same credentials.
        options = store.credentials.storage_options()
        import pandas as pd

        frame = pd.read_csv(f"az://{container}/runs/run-1/best.csv", storage_options=options)
        print(f"pandas read {len(frame)} rows; best accuracy {frame['accuracy'].max()}")

        # Paths outside the store are refused before any request.
        try:
            store.exists(f"az://{container}/runs/../elsewhere")
        except ValueError as exc:
            print("refused:", exc)

        store.rmtree(f"{store.root}/run-1")
        try:
            store.listdir(f"{store.root}/run-1")
        except ArtifactNotFoundError:
            print("rmtree removed run-1 and everything in it")
        print("artifact store example OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
