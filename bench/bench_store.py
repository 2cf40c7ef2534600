"""AzureArtifactStore against the raw, tuned azure-storage-blob client and against adlfs, on one Azurite.

Everything runs on one Azurite this section starts (data on disk in a temporary folder), over
127.0.0.1 only (the azcreds network guard is on). Each figure is a ratio to the raw SDK doing the
same work with the same block size and concurrency (``upload_blob``/``download_blob`` with
``max_concurrency``):

- a large file (256 MiB) uploaded and downloaded: store (``open`` + ``copyfileobj``), adlfs (its
  file objects, the way ZenML uses it, and its ``put_file``/``get_file``);
- 2,000 files of 1 KiB written then read, one after another;
- ``listdir`` and ``glob('**')`` over 10,000 blobs, with the HTTP requests each made: counted on the
  server, as lines of Azurite's access log (the same count for all three clients), and for the store
  and the raw SDK also by an azure-core ``raw_request_hook`` (the two agree);
- peak memory of a 1 GiB streamed upload, in a fresh subprocess: the peak resident size (``VmHWM``,
  reset through ``/proc/self/clear_refs`` after imports and a warm-up write) minus the resident size
  just before the upload. RSS, so SDK and socket buffers count too, not just Python objects.
  (``ru_maxrss`` would be wrong here: a child started from this large process inherits its peak.)

Sizes come from the environment for quick runs: ``AZCREDS_BENCH_STORE_LARGE_MIB`` (256),
``AZCREDS_BENCH_STORE_MEMORY_MIB`` (1024), ``AZCREDS_BENCH_STORE_SMALL_FILES`` (2000),
``AZCREDS_BENCH_STORE_LIST_BLOBS`` (10000), ``AZCREDS_BENCH_STORE_LARGE_REPEAT`` (5) and
``AZCREDS_BENCH_STORE_REPEAT`` (3): medians are shown.
``AZCREDS_BENCH_STORE_TUNE=1`` adds the block-size x concurrency sweep the defaults come from.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench._report import row, section, target

MiB = 1024 * 1024
LARGE_MIB = int(os.environ.get("AZCREDS_BENCH_STORE_LARGE_MIB", "256"))
MEMORY_MIB = int(os.environ.get("AZCREDS_BENCH_STORE_MEMORY_MIB", "1024"))
SMALL_FILES = int(os.environ.get("AZCREDS_BENCH_STORE_SMALL_FILES", "2000"))
LIST_BLOBS = int(os.environ.get("AZCREDS_BENCH_STORE_LIST_BLOBS", "10000"))
REPEAT = int(os.environ.get("AZCREDS_BENCH_STORE_REPEAT", "3"))
LARGE_REPEAT = int(os.environ.get("AZCREDS_BENCH_STORE_LARGE_REPEAT", "5"))
TUNE = os.environ.get("AZCREDS_BENCH_STORE_TUNE", "") not in ("", "0")
_REQUEST_LINE = re.compile(rb'"(?:GET|PUT|HEAD|POST|DELETE) /')


class _Sink:
    """A write-only stream that keeps nothing: downloads are timed, not the local disk.

    Seekable, as the SDK's parallel ``readinto`` requires; ``size`` counts the bytes written.
    """

    def __init__(self) -> None:
        self.size = 0
        self._pos = 0

    def write(self, data: Any) -> int:
        n = len(data)
        self.size += n
        self._pos += n
        return n

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        self._pos = offset if whence == 0 else self._pos + offset
        return self._pos

    def tell(self) -> int:
        return self._pos


class _Counter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, request: Any) -> None:
        self.count += 1


def _interleaved_medians(cases: Sequence[Callable[[], object]], repeat: int) -> list[float]:
    """Median seconds of each case, the cases taking turns (so drift on a busy machine is shared)."""
    samples: list[list[float]] = [[] for _ in cases]
    for _ in range(repeat):
        for case, times in zip(cases, samples, strict=True):
            t0 = time.perf_counter()
            case()
            times.append(time.perf_counter() - t0)
    return [statistics.median(times) for times in samples]


def _median_seconds(work: Callable[[], object], repeat: int = REPEAT) -> float:
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        work()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


class _AccessLog:
    """Requests Azurite served, counted from its access log (one line per request)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def total(self) -> int:
        previous = -1
        while True:  # the line is written as the response finishes: wait until it settles
            count = len(_REQUEST_LINE.findall(self.path.read_bytes()))
            if count == previous:
                return count
            previous = count
            time.sleep(0.05)

    @contextmanager
    def counting(self) -> Iterator[list[int]]:
        result: list[int] = []
        before = self.total()
        yield result
        result.append(self.total() - before)


def run() -> None:
    from azcreds.testing import AzuriteServer, network_guard

    network_guard.install()  # 127.0.0.1 only: anything else fails loudly
    with tempfile.TemporaryDirectory(prefix="azcreds-bench-store-") as tmp:
        folder = Path(tmp)
        with AzuriteServer(location=folder / "azurite") as azurite:
            bench = _Bench(azurite, folder)
            if TUNE:
                bench.tune()
            bench.large_file()
            bench.small_files()
            bench.listing()
            bench.memory()


class _Bench:
    def __init__(self, azurite: Any, folder: Path) -> None:
        import adlfs
        from azure.storage.blob import BlobServiceClient

        from azcreds.artifact_store import DEFAULT_BLOCK_SIZE, DEFAULT_MAX_CONCURRENCY, AzureArtifactStore
        from azcreds.credentials import AzureCredentials
        from azcreds.schemas import parse_secret

        self.azurite = azurite
        self.folder = folder
        self.log = _AccessLog(azurite.log_path)
        self.block = DEFAULT_BLOCK_SIZE
        self.concurrency = DEFAULT_MAX_CONCURRENCY
        secret = parse_secret("azure-connection-string", {"connection_string": azurite.connection_string})
        self.creds = AzureCredentials.from_secret(secret, name=None, source="env")
        self.container = "bench"
        self.service = BlobServiceClient.from_connection_string(
            azurite.connection_string,
            max_block_size=self.block,
            max_single_put_size=self.block,
            max_single_get_size=self.block,
            max_chunk_get_size=self.block,
        )
        self.service.create_container(self.container)
        self.raw = self.service.get_container_client(self.container)
        self.store = AzureArtifactStore(f"az://{self.container}", credentials=self.creds)
        self.store_class = AzureArtifactStore
        self.fs = adlfs.AzureBlobFileSystem(
            connection_string=azurite.connection_string,
            blocksize=self.block,
            max_concurrency=self.concurrency,
        )

    # -- large file ---------------------------------------------------------------------------

    def _source(self, mib: int) -> Path:
        path = self.folder / f"source-{mib}.bin"
        if not path.exists():
            chunk = os.urandom(MiB)
            with path.open("wb") as f:
                for _ in range(mib):
                    f.write(chunk[:-1] + os.urandom(1))  # not 256 equal blocks
        return path

    def large_file(self) -> None:
        size = LARGE_MIB * MiB
        source = self._source(LARGE_MIB)
        section(
            f"artifact store: one {LARGE_MIB} MiB file (block {self.block // MiB} MiB, "
            f"concurrency {self.concurrency}; median of {LARGE_REPEAT}, clients taking turns)"
        )
        uri = f"az://{self.container}/large/store.bin"

        def raw_up() -> None:
            with source.open("rb") as f:
                self.raw.upload_blob(
                    "large/raw.bin", f, length=size, overwrite=True, max_concurrency=self.concurrency
                )

        def store_up() -> None:
            with source.open("rb") as f, self.store.open(uri, "wb") as out:
                shutil.copyfileobj(f, out, self.block)

        def adlfs_up() -> None:
            with source.open("rb") as f, self.fs.open(f"{self.container}/large/adlfs.bin", "wb") as out:
                shutil.copyfileobj(f, out, self.block)

        def adlfs_put() -> None:
            self.fs.put_file(str(source), f"{self.container}/large/adlfs-put.bin")

        def raw_down() -> None:
            sink = _Sink()
            self.raw.download_blob("large/raw.bin", max_concurrency=self.concurrency).readinto(sink)
            assert sink.size == size

        def store_down() -> None:
            sink = _Sink()
            with self.store.open(uri, "rb") as f:
                shutil.copyfileobj(f, sink, self.block)  # type: ignore[misc]
            assert sink.size == size

        def adlfs_down() -> None:
            sink = _Sink()
            with self.fs.open(f"{self.container}/large/adlfs.bin", "rb") as f:
                shutil.copyfileobj(f, sink, self.block)  # type: ignore[misc]
            assert sink.size == size

        def adlfs_get() -> None:
            target = self.folder / "adlfs-get.bin"
            self.fs.get_file(f"{self.container}/large/adlfs-put.bin", str(target))
            target.unlink()

        for direction, cases in (
            ("upload", (raw_up, store_up, adlfs_up, adlfs_put)),
            ("download", (raw_down, store_down, adlfs_down, adlfs_get)),
        ):
            raw_s, store_s, adlfs_s, adlfs_best_s = _interleaved_medians(cases, LARGE_REPEAT)
            mbps = size / MiB / raw_s
            row(f"{direction}: raw BlobClient (baseline)", f"{raw_s:.2f} s", f"{mbps:.0f} MiB/s")
            ratio = raw_s / store_s
            row(
                f"{direction}: store open+copyfileobj",
                f"{store_s:.2f} s",
                f"x{ratio:.2f} raw throughput",
                target(ratio >= 0.97, ">= 0.97"),
            )
            row(
                f"{direction}: adlfs open+copyfileobj",
                f"{adlfs_s:.2f} s",
                f"x{raw_s / adlfs_s:.2f} raw; store is x{adlfs_s / store_s:.2f} faster",
                target(store_s < adlfs_s, "store faster than adlfs"),
            )
            row(
                f"{direction}: adlfs {'put_file' if direction == 'upload' else 'get_file'}",
                f"{adlfs_best_s:.2f} s",
                f"x{raw_s / adlfs_best_s:.2f} raw; store is x{adlfs_best_s / store_s:.2f} faster",
                target(store_s < adlfs_best_s, "store faster than adlfs"),
            )
        self.raw.delete_blobs("large/raw.bin", "large/store.bin", "large/adlfs.bin", "large/adlfs-put.bin")

    # -- small files --------------------------------------------------------------------------

    def small_files(self) -> None:
        data = os.urandom(1024)
        section(f"artifact store: {SMALL_FILES:,} files of 1 KiB, written then read, one at a time")
        names = [f"small/{i:05d}.bin" for i in range(SMALL_FILES)]

        def raw_write() -> None:
            for name in names:
                self.raw.upload_blob(f"raw/{name}", data, overwrite=True)

        def raw_read() -> None:
            for name in names:
                assert self.raw.download_blob(f"raw/{name}").readall() == data

        def store_write() -> None:
            for name in names:
                with self.store.open(f"az://{self.container}/store/{name}", "wb") as f:
                    f.write(data)

        def store_read() -> None:
            for name in names:
                with self.store.open(f"az://{self.container}/store/{name}", "rb") as f:
                    assert f.read() == data

        def adlfs_write() -> None:
            for name in names:
                with self.fs.open(f"{self.container}/adlfs/{name}", "wb") as f:
                    f.write(data)

        def adlfs_read() -> None:
            for name in names:
                with self.fs.open(f"{self.container}/adlfs/{name}", "rb") as f:
                    assert f.read() == data

        for what, (raw_case, store_case, adlfs_case) in (
            ("write", (raw_write, store_write, adlfs_write)),
            ("read", (raw_read, store_read, adlfs_read)),
        ):
            measured = []
            for case in (raw_case, store_case, adlfs_case):
                with self.log.counting() as requests:
                    seconds = _median_seconds(case, 1)
                measured.append((seconds, requests[0]))
            (raw_s, raw_n), (store_s, store_n), (adlfs_s, adlfs_n) = measured
            per = 1000 / SMALL_FILES
            row(f"{what}: raw BlobClient (baseline)", f"{raw_s * per:.2f} ms/file", f"{raw_n:,} requests")
            row(
                f"{what}: store",
                f"{store_s * per:.2f} ms/file",
                f"x{raw_s / store_s:.2f} raw throughput; {store_n:,} requests",
            )
            row(
                f"{what}: adlfs",
                f"{adlfs_s * per:.2f} ms/file",
                f"x{raw_s / adlfs_s:.2f} raw; store x{adlfs_s / store_s:.2f} faster; {adlfs_n:,} requests",
                target(store_s < adlfs_s, "store faster than adlfs"),
            )
        self.store.rmtree(f"az://{self.container}/store")
        self.store.rmtree(f"az://{self.container}/raw")
        self.store.rmtree(f"az://{self.container}/adlfs")

    # -- listing ------------------------------------------------------------------------------

    def listing(self) -> None:
        section(f"artifact store: listdir and glob('**') over {LIST_BLOBS:,} blobs")
        prefix = "many"
        layout = [
            f"{prefix}/d{i // 2 % 10}/f{i:05d}.txt" if i % 2 else f"{prefix}/f{i:05d}.txt"
            for i in range(LIST_BLOBS)
        ]
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda name: self.raw.upload_blob(name, b"", overwrite=True), layout))
        top_level = sum(1 for name in layout if name.count("/") == 1) + 10
        raw_hook, store_hook = _Counter(), _Counter()
        from azure.storage.blob import ContainerClient

        raw = ContainerClient.from_connection_string(
            self.azurite.connection_string, self.container, raw_request_hook=raw_hook
        )
        store = self.store_class(
            f"az://{self.container}", credentials=self.creds, client_kwargs={"raw_request_hook": store_hook}
        )
        uri = f"az://{self.container}/{prefix}"

        def raw_listdir() -> int:
            return len(list(raw.walk_blobs(name_starts_with=f"{prefix}/", delimiter="/")))

        def raw_glob() -> int:
            return len(list(raw.list_blobs(name_starts_with=f"{prefix}/")))

        def store_listdir() -> int:
            return len(store.listdir(uri))

        def store_glob() -> int:
            return len(store.glob(uri + "/**"))

        def adlfs_listdir() -> int:
            self.fs.invalidate_cache()
            return len(self.fs.ls(f"{self.container}/{prefix}", detail=False))

        def adlfs_glob() -> int:
            self.fs.invalidate_cache()
            return len(self.fs.glob(f"{self.container}/{prefix}/**"))

        for what, cases in (
            ("listdir", (raw_listdir, store_listdir, adlfs_listdir)),
            ("glob('**')", (raw_glob, store_glob, adlfs_glob)),
        ):
            results = []
            for case, hook in zip(cases, (raw_hook, store_hook, None), strict=True):
                if hook is not None:
                    hook.count = 0
                with self.log.counting() as requests:
                    seconds = _median_seconds(case)
                    found = case()
                served = requests[0] // (REPEAT + 1)
                client = hook.count // (REPEAT + 1) if hook is not None else None
                results.append((seconds, found, served, client))
            (raw_s, raw_found, raw_n, raw_c), (store_s, store_found, store_n, store_c), adlfs = results
            adlfs_s, adlfs_found, adlfs_n, _ = adlfs
            row(
                f"{what}: raw SDK (baseline)",
                f"{raw_s * 1000:.0f} ms",
                f"{raw_found:,} entries; {raw_n} requests (hook: {raw_c})",
            )
            row(
                f"{what}: store",
                f"{store_s * 1000:.0f} ms",
                f"x{raw_s / store_s:.2f} raw; {store_found:,} entries; {store_n} requests (hook: {store_c})",
            )
            row(
                f"{what}: adlfs",
                f"{adlfs_s * 1000:.0f} ms",
                f"x{raw_s / adlfs_s:.2f} raw; {adlfs_found:,} entries; {adlfs_n} requests",
                target(store_s < adlfs_s, "store faster than adlfs"),
            )
        row("(expected listdir entries)", f"{top_level:,}", "files at the top plus 10 directories")
        self.store.rmtree(uri)

    # -- memory -------------------------------------------------------------------------------

    def memory(self) -> None:
        section(f"artifact store: peak memory of a {MEMORY_MIB:,} MiB streamed upload (fresh process)")
        for label, mode in (("store open+write", "store"), ("raw upload_blob(stream)", "raw")):
            grown, seconds = self._memory_child(mode)
            verdict = target(grown <= 128, "<= 128 MiB above baseline") if mode == "store" else ""
            row(
                f"{label}: peak RSS above baseline",
                f"{grown:.0f} MiB",
                f"{MEMORY_MIB / seconds:.0f} MiB/s; block {self.block // MiB} MiB x {self.concurrency}",
                verdict,
            )

    def _memory_child(
        self, mode: str, block: int | None = None, concurrency: int | None = None
    ) -> tuple[float, float]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "AZCREDS_"))}
        env["AZURE_STORAGE_CONNECTION_STRING"] = self.azurite.connection_string
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        completed = subprocess.run(
            [
                sys.executable,
                "-c",
                _MEMORY_CHILD,
                mode,
                str(MEMORY_MIB),
                self.container,
                str(block or self.block),
                str(concurrency or self.concurrency),
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"memory child failed: {completed.stderr[-2000:]}")
        grown, seconds = completed.stdout.split()
        return float(grown), float(seconds)

    # -- tuning -------------------------------------------------------------------------------

    def tune(self) -> None:
        size = LARGE_MIB * MiB
        source = self._source(LARGE_MIB)
        section(f"artifact store tuning: {LARGE_MIB} MiB up and down, MiB/s (median of {REPEAT})")
        for block_mib in (4, 8, 16, 32):
            for concurrency in (1, 2, 4, 8):
                store = self.store_class(
                    f"az://{self.container}",
                    credentials=self.creds,
                    block_size=block_mib * MiB,
                    max_concurrency=concurrency,
                )
                uri = f"az://{self.container}/tune.bin"

                def up(store: Any = store, uri: str = uri) -> None:
                    with source.open("rb") as f, store.open(uri, "wb") as out:
                        shutil.copyfileobj(f, out, store.block_size)

                def down(store: Any = store, uri: str = uri) -> None:
                    with store.open(uri, "rb") as f:
                        shutil.copyfileobj(f, _Sink(), store.block_size)  # type: ignore[misc]

                up_s, down_s = _median_seconds(up), _median_seconds(down)
                row(
                    f"block {block_mib:>2} MiB, concurrency {concurrency}",
                    f"{size / MiB / up_s:.0f} / {size / MiB / down_s:.0f}",
                    "upload / download MiB/s",
                )


_MEMORY_CHILD = """
import os, sys, time
from azcreds.testing import network_guard
network_guard.install()
mode, mib, container, block, concurrency = sys.argv[1], int(sys.argv[2]), sys.argv[3], *map(int, sys.argv[4:])
from azcreds.artifact_store import AzureArtifactStore
store = AzureArtifactStore(f"az://{container}", block_size=block, max_concurrency=concurrency)
chunk = os.urandom(1024 * 1024)
with store.open(f"az://{container}/memory/warm-up.bin", "wb") as f:  # load the SDK and a connection
    f.write(chunk)
if mode == "raw":
    from azure.storage.blob import BlobClient
    class Generated:
        def __init__(self): self.left = mib
        def read(self, n=-1):
            if not self.left: return b""
            self.left -= 1
            return chunk
    blob = BlobClient.from_connection_string(
        os.environ["AZURE_STORAGE_CONNECTION_STRING"], container, "memory/raw.bin",
        max_block_size=store.block_size, max_single_put_size=store.block_size)
def status_kib(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))
# ru_maxrss is no good here: exec keeps the parent's peak in it. VmHWM is this process's own peak;
# writing 5 to clear_refs resets it to the current RSS, so the imports' peak does not count.
with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")
before = status_kib("VmRSS")
t0 = time.perf_counter()
if mode == "store":
    with store.open(f"az://{container}/memory/store.bin", "wb") as f:
        for _ in range(mib):
            f.write(chunk)
else:
    blob.upload_blob(Generated(), overwrite=True, max_concurrency=store.max_concurrency)
seconds = time.perf_counter() - t0
after = status_kib("VmHWM")
store.rmtree(f"az://{container}/memory")
print((after - before) / 1024, seconds)
"""
