"""AzureArtifactStore against the raw, tuned azure-storage-blob client and against adlfs, on one Azurite.

Everything runs on one Azurite this section starts, in memory, over 127.0.0.1 only (the azcreds
network guard is on). Each figure is a ratio to the raw SDK doing the same work with the same block
size and concurrency (``upload_blob``/``download_blob`` with ``max_concurrency``):

- a large file (256 MiB) uploaded and downloaded: store (``open`` + ``copyfileobj``), adlfs (its
  file objects, the way ZenML uses it, and its ``put_file``/``get_file``);
- 2,000 files of 1 KiB written then read, one after another (adlfs: the first 500);
- ``listdir`` and ``glob('**')`` over 10,000 blobs, with the HTTP requests each made: counted on the
  server, as lines of Azurite's access log (the same count for all three clients), and for the store
  and the raw SDK also by an azure-core ``raw_request_hook`` (the two agree);
- peak memory of a 1 GiB streamed upload, in a fresh subprocess: the peak resident size (``VmHWM``,
  reset through ``/proc/self/clear_refs`` after imports and a warm-up write) minus the resident size
  just before the upload. RSS, so SDK and socket buffers count too, not just Python objects.
  (``ru_maxrss`` would be wrong here: a child started from this large process inherits its peak.)

Sizes come from the environment for quick runs: ``AZCREDS_BENCH_STORE_LARGE_MIB`` (256),
``AZCREDS_BENCH_STORE_MEMORY_MIB`` (1024), ``AZCREDS_BENCH_STORE_SMALL_FILES`` (2000; adlfs does
the first ``AZCREDS_BENCH_STORE_SMALL_FILES_ADLFS``, 500: it is 3-4 times slower per file and the
figures are per file), ``AZCREDS_BENCH_STORE_LIST_BLOBS`` (10000), and the repetitions
``AZCREDS_BENCH_STORE_LARGE_REPEAT`` (8: each of the four clients twice in each place of the
rotating order), ``AZCREDS_BENCH_STORE_LIST_REPEAT`` (1), ``AZCREDS_BENCH_STORE_REPEAT`` (3, the
tuning sweep): medians are shown.

Where Azurite keeps its data, ``AZCREDS_BENCH_STORE_AZURITE``: ``tmpfs`` (the default) gives it a
folder in ``/dev/shm``, so blob data lives in files in memory; ``memory`` is its
``--inMemoryPersistence``; ``disk`` a temporary folder on disk. ``tmpfs`` because in ``memory`` mode
Azurite keeps every replaced blob as a Node.js buffer until its garbage collector runs (every 10
minutes), and each 256 MiB round then slows the next: measured here, 10 rounds of the same raw SDK
upload went from 1.2-1.4 s to 1.8-2.1 s, with single rounds 15 % apart, so whichever client ran
later in a round paid for the others; on tmpfs the same rounds stayed at 1.05-1.3 s with no drift.
``memory`` also refuses writes past half the machine's memory (MemoryExtentStoreAtSizeLimit).
Creating the 10,000 listing blobs takes the same time on tmpfs as in ``memory``; ``disk`` is slower.
Without a writable ``/dev/shm`` the bench falls back to ``memory`` and says so.
With the defaults the section takes 5-6 minutes here (1-1.5 of them creating the 10,000 blobs).
``AZCREDS_BENCH_STORE_TUNE=1`` adds the block-size x concurrency sweep the defaults come from.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench._report import figure, row, section, target

MiB = 1024 * 1024
LARGE_MIB = int(os.environ.get("AZCREDS_BENCH_STORE_LARGE_MIB", "256"))
MEMORY_MIB = int(os.environ.get("AZCREDS_BENCH_STORE_MEMORY_MIB", "1024"))
SMALL_FILES = int(os.environ.get("AZCREDS_BENCH_STORE_SMALL_FILES", "2000"))
SMALL_FILES_ADLFS = int(os.environ.get("AZCREDS_BENCH_STORE_SMALL_FILES_ADLFS", "500"))
LIST_BLOBS = int(os.environ.get("AZCREDS_BENCH_STORE_LIST_BLOBS", "10000"))
REPEAT = int(os.environ.get("AZCREDS_BENCH_STORE_REPEAT", "3"))
LARGE_REPEAT = int(os.environ.get("AZCREDS_BENCH_STORE_LARGE_REPEAT", "8"))
LIST_REPEAT = int(os.environ.get("AZCREDS_BENCH_STORE_LIST_REPEAT", "1"))
TUNE = os.environ.get("AZCREDS_BENCH_STORE_TUNE", "") not in ("", "0")
_BATCH = 100  # small files: the clients take turns every this many files, so drift is shared
_COUNTED = 20  # small files: requests per file are counted on this many, apart from the timing
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


def _interleaved_samples(
    cases: Sequence[Callable[[], object]],
    repeat: int,
    cpu: list[list[float]] | None = None,
    faults: list[list[int]] | None = None,
) -> list[list[float]]:
    """Seconds of each case in each round, the cases taking turns in a rotating order.

    With ``cpu``, also this process's CPU seconds (all its threads) of each case in each round,
    appended to ``cpu[case]``: the client's own work, steadier than wall time on a machine whose
    cores Azurite shares. With ``faults``, its minor page faults (memory the kernel had to hand
    over and zero: fresh buffers) of each case in each round.

    In Azurite's memory mode whoever ran right after a large upload paid for the blob it had
    replaced (a 256 MiB upload measured 10-20 % slower in second place); on tmpfs that is gone,
    but the order still takes turns so no client owns a place: round ``r`` starts with case
    ``r % n``: with ``repeat`` a multiple of ``n`` every case runs in every position equally often,
    and with ``2 n`` rounds each follows one neighbour as often as the other.
    """
    samples: list[list[float]] = [[] for _ in cases]
    n = len(cases)
    for r in range(repeat):
        # every other cycle of n rounds runs backwards, so no case always follows the same one
        order = list(range(n)) if (r // n) % 2 == 0 else list(reversed(range(n)))
        for index in order[r % n :] + order[: r % n]:
            f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            c0, t0 = time.process_time(), time.perf_counter()
            cases[index]()
            samples[index].append(time.perf_counter() - t0)
            if cpu is not None:
                cpu[index].append(time.process_time() - c0)
            if faults is not None:
                faults[index].append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
    return samples


def _round_ratios(baseline: list[float], other: list[float]) -> str:
    """The spread of the per-round ratios baseline/other: their quartiles, as ``p25-p75``."""
    ratios = [b / o for b, o in zip(baseline, other, strict=True)]
    if len(ratios) < 4:
        return f"rounds x{min(ratios):.2f}-x{max(ratios):.2f}"
    q1, _, q3 = statistics.quantiles(ratios, n=4)
    return f"middle half of rounds x{q1:.2f}-x{q3:.2f}"


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
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="azcreds-bench-store-") as tmp:
        folder = Path(tmp)
        with _azurite_location(folder) as (location, where), AzuriteServer(location=location) as azurite:
            row("(Azurite's data)", where, "AZCREDS_BENCH_STORE_AZURITE: tmpfs, memory or disk")
            bench = _Bench(azurite, folder)
            if TUNE:
                bench.tune()
            bench.listing()  # first, while Azurite's metadata store is small
            bench.large_file()
            bench.small_files()
            bench.memory()
    row("(store section wall time)", f"{time.perf_counter() - started:.0f} s", "5-6 min expected here")


@contextmanager
def _azurite_location(folder: Path) -> Iterator[tuple[Path | None, str]]:
    """Where Azurite keeps blob data: a folder on tmpfs, in its own memory (None), or on disk."""
    mode = os.environ.get("AZCREDS_BENCH_STORE_AZURITE", "tmpfs")
    if mode not in ("tmpfs", "memory", "disk"):
        raise SystemExit(f"AZCREDS_BENCH_STORE_AZURITE must be tmpfs, memory or disk, not {mode!r}")
    if mode == "disk":
        yield folder / "azurite", f"disk ({folder / 'azurite'})"
        return
    if mode == "tmpfs" and os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        with tempfile.TemporaryDirectory(prefix="azcreds-bench-azurite-", dir="/dev/shm") as shm:
            yield Path(shm), f"tmpfs ({shm})"
        return
    note = "" if mode == "memory" else ": no writable /dev/shm, so not tmpfs"
    yield None, f"Azurite's own memory (--inMemoryPersistence){note}"


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
            cpu: list[list[float]] = [[] for _ in cases]
            faults: list[list[int]] = [[] for _ in cases]
            samples = _interleaved_samples(cases, LARGE_REPEAT, cpu, faults)
            fault_rates = [statistics.median(f) * MiB * 1024 / size for f in faults]  # per GiB
            raw_s, store_s, adlfs_s, adlfs_best_s = (statistics.median(times) for times in samples)
            gib = size / (1024 * MiB)
            raw_cpu, store_cpu, adlfs_cpu, adlfs_best_cpu = (statistics.median(c) / gib for c in cpu)
            mbps = size / MiB / raw_s
            row(f"{direction}: raw BlobClient (baseline)", f"{raw_s:.2f} s", f"{mbps:.0f} MiB/s")
            ratio = raw_s / store_s
            row(
                f"{direction}: store open+copyfileobj",
                f"{store_s:.2f} s",
                f"x{ratio:.2f} raw throughput ({_round_ratios(samples[0], samples[1])})",
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
            best = "put_file" if direction == "upload" else "get_file"
            labels = ("raw BlobClient (baseline)", "store open+copyfileobj", "adlfs open+copyfileobj")
            for label, seconds, fault_rate in zip(
                (*labels, f"adlfs {best}"),
                (raw_cpu, store_cpu, adlfs_cpu, adlfs_best_cpu),
                fault_rates,
                strict=True,
            ):
                versus = "baseline" if seconds is raw_cpu else f"x{seconds / raw_cpu:.2f} the raw SDK's CPU"
                row(
                    f"{direction}: client CPU, {label}",
                    f"{seconds:.2f} s/GiB",
                    f"{versus}; {fault_rate:,.0f} minor page faults/GiB",
                )
            figure(f"store.{direction}.store_vs_raw", ratio)
            figure(f"store.{direction}.adlfs_vs_raw", raw_s / adlfs_s)
            figure(f"store.{direction}.adlfs_best_vs_raw", raw_s / adlfs_best_s)
            figure(f"store.{direction}.cpu_per_gib.raw", raw_cpu)
            figure(f"store.{direction}.cpu_per_gib.store", store_cpu)
            figure(f"store.{direction}.cpu_per_gib.adlfs", adlfs_cpu)
            figure(f"store.{direction}.cpu_per_gib.adlfs_best", adlfs_best_cpu)
            figure(f"store.{direction}.faults_per_gib.raw", fault_rates[0])
            figure(f"store.{direction}.faults_per_gib.store", fault_rates[1])
        self.raw.delete_blobs("large/raw.bin", "large/store.bin", "large/adlfs.bin", "large/adlfs-put.bin")

    # -- small files --------------------------------------------------------------------------

    def small_files(self) -> None:
        data = os.urandom(1024)
        section(
            f"artifact store: {SMALL_FILES:,} files of 1 KiB, written then read, one at a time "
            f"(clients take turns in batches of {_BATCH})"
        )
        # A container of its own, left in place: deleting thousands of blobs is slow on Azurite.
        container = "small-files"
        raw = self.service.create_container(container)
        store = self.store_class(f"az://{container}", credentials=self.creds)

        def raw_write(name: str) -> None:
            raw.upload_blob(f"raw/{name}", data, overwrite=True)

        def raw_read(name: str) -> None:
            assert raw.download_blob(f"raw/{name}").readall() == data

        def store_write(name: str) -> None:
            with store.open(f"az://{container}/store/{name}", "wb") as f:
                f.write(data)

        def store_read(name: str) -> None:
            with store.open(f"az://{container}/store/{name}", "rb") as f:
                assert f.read() == data

        def adlfs_write(name: str) -> None:
            with self.fs.open(f"{container}/adlfs/{name}", "wb") as f:
                f.write(data)

        def adlfs_read(name: str) -> None:
            with self.fs.open(f"{container}/adlfs/{name}", "rb") as f:
                assert f.read() == data

        clients = (
            ("raw", raw_write, raw_read, SMALL_FILES),
            ("store", store_write, store_read, SMALL_FILES),
            ("adlfs", adlfs_write, adlfs_read, SMALL_FILES_ADLFS),
        )
        # Requests per file, counted apart (the timed run interleaves the clients).
        requests: dict[tuple[str, str], float] = {}
        for client, write, read, _ in clients:
            for phase, one in (("write", write), ("read", read)):
                with self.log.counting() as served:
                    for i in range(_COUNTED):
                        one(f"counted/{i}.bin")
                requests[client, phase] = served[0] / _COUNTED
        names = [f"small/{i:05d}.bin" for i in range(SMALL_FILES)]
        for phase in ("write", "read"):
            seconds = dict.fromkeys(("raw", "store", "adlfs"), 0.0)
            for start in range(0, SMALL_FILES, _BATCH):
                for client, write, read, limit in clients:
                    one = write if phase == "write" else read
                    t0 = time.perf_counter()
                    for name in names[start : min(start + _BATCH, limit)]:
                        one(name)
                    seconds[client] += time.perf_counter() - t0
            raw_s = seconds["raw"] / SMALL_FILES
            store_s = seconds["store"] / SMALL_FILES
            adlfs_s = seconds["adlfs"] / SMALL_FILES_ADLFS
            row(
                f"{phase}: raw BlobClient (baseline)",
                f"{raw_s * 1000:.2f} ms/file",
                f"{requests['raw', phase]:.2f} requests/file",
            )
            row(
                f"{phase}: store",
                f"{store_s * 1000:.2f} ms/file",
                f"x{raw_s / store_s:.2f} raw throughput; {requests['store', phase]:.2f} requests/file",
            )
            row(
                f"{phase}: adlfs ({SMALL_FILES_ADLFS:,} files)",
                f"{adlfs_s * 1000:.2f} ms/file",
                f"x{raw_s / adlfs_s:.2f} raw; store x{adlfs_s / store_s:.2f} faster; "
                f"{requests['adlfs', phase]:.2f} requests/file",
                target(store_s < adlfs_s, "store faster than adlfs"),
            )
            figure(f"store.small_{phase}.store_vs_raw", raw_s / store_s)
            figure(f"store.small_{phase}.adlfs_vs_raw", raw_s / adlfs_s)

    # -- listing ------------------------------------------------------------------------------

    def listing(self) -> None:
        section(f"artifact store: listdir and glob('**') over {LIST_BLOBS:,} blobs (median of {LIST_REPEAT})")
        prefix = "many"
        container = "listing"  # its own container, left in place (deleting is slow on Azurite)
        self.service.create_container(container)
        layout = [
            f"{prefix}/d{i // 2 % 10}/f{i:05d}.txt" if i % 2 else f"{prefix}/f{i:05d}.txt"
            for i in range(LIST_BLOBS)
        ]
        t0 = time.perf_counter()
        self._create_empty_blobs(container, layout)
        row("(setup: create the blobs, plain HTTP PUTs)", f"{time.perf_counter() - t0:.0f} s", "not measured")
        top_level = len({name.split("/")[1] for name in layout})  # files at the top, and directories
        raw_hook, store_hook = _Counter(), _Counter()
        from azure.storage.blob import ContainerClient

        raw = ContainerClient.from_connection_string(
            self.azurite.connection_string, container, raw_request_hook=raw_hook
        )
        store = self.store_class(
            f"az://{container}", credentials=self.creds, client_kwargs={"raw_request_hook": store_hook}
        )
        uri = f"az://{container}/{prefix}"

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
            return len(self.fs.ls(f"{container}/{prefix}", detail=False))

        def adlfs_glob() -> int:
            self.fs.invalidate_cache()
            return len(self.fs.glob(f"{container}/{prefix}/**"))

        for what, cases in (
            ("listdir", (raw_listdir, store_listdir, adlfs_listdir)),
            ("glob('**')", (raw_glob, store_glob, adlfs_glob)),
        ):
            results = []
            for case, hook in zip(cases, (raw_hook, store_hook, None), strict=True):
                if hook is not None:
                    hook.count = 0
                with self.log.counting() as requests:
                    times, found = [], 0
                    for _ in range(LIST_REPEAT):
                        t0 = time.perf_counter()
                        found = case()
                        times.append(time.perf_counter() - t0)
                served = requests[0] // LIST_REPEAT
                client = hook.count // LIST_REPEAT if hook is not None else None
                results.append((statistics.median(times), found, served, client))
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
            key = "listdir" if what == "listdir" else "glob"
            figure(f"store.{key}.store_vs_raw", raw_s / store_s)
            figure(f"store.{key}.adlfs_vs_raw", raw_s / adlfs_s)
        row("(expected listdir entries)", f"{top_level:,}", "files at the top plus directories")

    def _create_empty_blobs(self, container: str, names: list[str]) -> None:
        """PUT empty blobs with a container SAS over one keep-alive connection.

        Setup only: the SDK's per-request client work (about 4 ms here) would double the time,
        and Azurite serves one connection fastest.
        """
        import http.client
        from datetime import UTC, datetime, timedelta
        from urllib.parse import quote

        from azure.storage.blob import ContainerSasPermissions, generate_container_sas

        sas = generate_container_sas(
            self.azurite.account_name,
            container,
            account_key=self.azurite.account_key,
            permission=ContainerSasPermissions(write=True, create=True),
            expiry=datetime.now(UTC) + timedelta(hours=2),
        )
        connection = http.client.HTTPConnection(self.azurite.host, self.azurite.port)
        headers = {"x-ms-blob-type": "BlockBlob", "x-ms-version": "2025-11-05", "Content-Length": "0"}
        try:
            for name in names:
                path = f"/{self.azurite.account_name}/{container}/{quote(name)}?{sas}"
                connection.request("PUT", path, body=b"", headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status != 201:
                    raise RuntimeError(f"creating {name} failed: HTTP {response.status}")
        finally:
            connection.close()

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
