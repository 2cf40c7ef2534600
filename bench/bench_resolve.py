"""resolve_credentials latency: cached, and uncached from environment variables."""

from __future__ import annotations

import os
import statistics

from bench._report import per_call_ns, percentile, row, section, target, timer_overhead_ns

KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
CACHED_CALLS = 200_000
UNCACHED_CALLS = 5_000


def run() -> None:
    from azure.core.credentials import AzureNamedKeyCredential  # SDK import excluded from timings

    import azcreds

    os.environ["AZCREDS_BENCH_SECRET__ACCOUNT_NAME"] = "devstoreaccount1"
    os.environ["AZCREDS_BENCH_SECRET__ACCOUNT_KEY"] = KEY
    os.environ["AZCREDS_BENCH_SECRET__ACCOUNT_URL"] = "http://127.0.0.1:10000/devstoreaccount1"
    azcreds.clear_cache()
    first = azcreds.resolve_credentials("bench_secret")
    first.credential  # noqa: B018 - build once, as a caller would

    section(f"resolve_credentials (env has {len(os.environ)} variables)")
    overhead = timer_overhead_ns()
    cached = [
        s - overhead for s in per_call_ns(lambda: azcreds.resolve_credentials("bench_secret"), CACHED_CALLS)
    ]
    p50, p99 = percentile(cached, 50) / 1000, percentile(cached, 99) / 1000
    dict_get = statistics.median(
        s - overhead for s in per_call_ns(lambda: os.environ.get("AZCREDS_BENCH_SECRET__ACCOUNT_KEY"), 50_000)
    )
    row(
        f"cached resolve p50 ({CACHED_CALLS:,} calls)",
        f"{p50:.2f} us",
        f"x{p50 * 1000 / dict_get:.1f} one os.environ.get",
        target(p50 <= 5, "<= 5 us"),
    )
    row("cached resolve p99", f"{p99:.2f} us", "")

    uncached = [
        s - overhead
        for s in per_call_ns(
            lambda: azcreds.resolve_credentials("bench_secret", refresh=True), UNCACHED_CALLS
        )
    ]
    raw = [
        s - overhead
        for s in per_call_ns(
            lambda: AzureNamedKeyCredential(
                os.environ["AZCREDS_BENCH_SECRET__ACCOUNT_NAME"],
                os.environ["AZCREDS_BENCH_SECRET__ACCOUNT_KEY"],
            ),
            UNCACHED_CALLS,
        )
    ]
    u50, u99 = percentile(uncached, 50) / 1000, percentile(uncached, 99) / 1000
    r50 = percentile(raw, 50) / 1000
    row(
        f"uncached env resolve p50 ({UNCACHED_CALLS:,} calls)",
        f"{u50:.1f} us",
        f"x{u50 / r50:.0f} raw SDK (2 getenv + AzureNamedKeyCredential: {r50:.2f} us)",
        target(u50 <= 100, "<= 100 us"),
    )
    row("uncached env resolve p99", f"{u99:.1f} us", "includes validation of every field")
