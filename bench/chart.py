"""Draw the benchmark charts on docs/benchmarks.md from a saved run: ``python -m bench.chart FILE``.

FILE is what ``python -m bench --json FILE store`` wrote. The charts are Mermaid ``xychart-beta``
blocks (mkdocs-material renders them) between the ``bench-chart`` markers of docs/benchmarks.md;
``--check`` only compares and exits 1 when the page is not what FILE gives (tests/test_bench.py
runs that against bench/results/store.json, the run the page quotes).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench-chart:start -->", "<!-- bench-chart:end -->"

# (figure key in the run, x-axis label)
THROUGHPUT = [
    ("upload", "upload 256 MiB"),
    ("download", "download 256 MiB"),
    ("small_write", "write 1 KiB files"),
    ("small_read", "read 1 KiB files"),
    ("listdir", "listdir 10k blobs"),
    ("glob", "glob ** 10k blobs"),
]
CPU = [("raw", "raw SDK"), ("store", "store"), ("adlfs", "adlfs open"), ("adlfs_best", "adlfs put/get_file")]


def _values(numbers: list[float]) -> str:
    return "[" + ", ".join(f"{n:.2f}" for n in numbers) + "]"


def _labels(labels: list[str]) -> str:
    return "[" + ", ".join(f'"{label}"' for label in labels) + "]"


def render(run: dict[str, object]) -> str:
    """The markdown between the markers, for one saved run."""
    figures = run["figures"]
    assert isinstance(figures, dict)
    store = [figures[f"store.{key}.store_vs_raw"] for key, _ in THROUGHPUT]
    adlfs = [figures[f"store.{key}.adlfs_vs_raw"] for key, _ in THROUGHPUT]
    top = max(2.0, *store, *adlfs)
    lines = [
        "Throughput of the store (bars) and of adlfs (line), as a multiple of the raw Azure SDK's",
        "doing the same work (1.0 = the raw SDK; higher is faster):",
        "",
        "```mermaid",
        "xychart-beta",
        '    title "Throughput, x the raw azure-storage-blob client"',
        f"    x-axis {_labels([label for _, label in THROUGHPUT])}",
        f'    y-axis "x raw SDK" 0 --> {top * 1.1:.1f}',
        f"    bar {_values(store)}",
        f"    line {_values(adlfs)}",
        "```",
        "",
        "Client CPU seconds per GiB moved (this process, all threads; lower is less work):",
        "",
        "```mermaid",
        "xychart-beta",
        '    title "Client CPU per GiB: upload (bars), download (line)"',
        f"    x-axis {_labels([label for _, label in CPU])}",
        '    y-axis "CPU s / GiB"',
        f"    bar {_values([figures[f'store.upload.cpu_per_gib.{key}'] for key, _ in CPU])}",
        f"    line {_values([figures[f'store.download.cpu_per_gib.{key}'] for key, _ in CPU])}",
        "```",
    ]
    return "\n".join(lines)


def updated_page(page: str, run: dict[str, object]) -> str:
    head, rest = page.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{render(run)}\n{END}{tail}"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    files = [a for a in argv if a != "--check"]
    if len(files) != 1:
        print("usage: python -m bench.chart [--check] FILE", file=sys.stderr)
        return 2
    run = json.loads(Path(files[0]).read_text())
    page = PAGE.read_text()
    new = updated_page(page, run)
    if check:
        return 0 if new == page else 1
    PAGE.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
