"""Start-up cost: `import azcreds` against a bare interpreter and against the Azure SDK imports."""

from __future__ import annotations

import statistics

from bench._report import process_ms, row, section, target

RUNS = 25


def run() -> None:
    section(f"start-up (median of {RUNS} fresh interpreters each)")
    bare = statistics.median(process_ms("pass", RUNS))
    ours = statistics.median(process_ms("import azcreds", RUNS))
    blob = statistics.median(process_ms("import azure.storage.blob", RUNS))
    sdks = statistics.median(
        process_ms("import azure.storage.blob, azure.identity, azure.keyvault.secrets", RUNS)
    )
    row("python -c pass", f"{bare:.1f} ms", "baseline: bare interpreter")
    added = ours - bare
    row(
        "python -c 'import azcreds'",
        f"{ours:.1f} ms (+{added:.1f} ms)",
        f"x{ours / bare:.2f} bare interpreter",
        target(added <= 30, "<= +30 ms"),
    )
    row(
        "python -c 'import azure.storage.blob'",
        f"{blob:.1f} ms (+{blob - bare:.1f} ms)",
        f"azcreds import is x{(added) / max(blob - bare, 1e-9):.3f} of its added cost",
    )
    row("import of the three Azure SDKs", f"{sdks:.1f} ms (+{sdks - bare:.1f} ms)", "what azcreds defers")
