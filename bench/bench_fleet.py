"""A fleet on one Key Vault: refresh ahead and jitter, measured with real processes, then simulated.

Part 1 starts PROCS processes of THREADS threads (bench/_fleet_worker.py) that resolve one secret
from the local Key Vault server for PERIODS TTLs of TTL seconds, in three cache modes: ``ttl`` (the
cache before refresh ahead: refresh at the TTL, callers waiting), ``ahead`` (refresh ahead at 9/10
of the TTL, no jitter) and ``jitter`` (as shipped). The server counts the GETs; the workers time
every resolve and count those that waited on the source. Part 2 is bench/fleet_sim.py: 10,000 pods
against Key Vault's 4,000 GET / 10 s.

Sizes (environment): AZCREDS_BENCH_FLEET_PROCS (32), _THREADS (4), _TTL (10 s), _PERIODS (3),
_INTERVAL_MS (10, the pause between one thread's resolves), _MODES (ttl,ahead,jitter), _PODS (10000).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from bench._report import figure, percentile, row, section, target
from bench.fleet_sim import simulate

ROOT = Path(__file__).resolve().parents[1]
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
MODES = {
    "ttl": "refresh at the TTL (before)",
    "ahead": "refresh ahead, no jitter",
    "jitter": "refresh ahead + jitter",
}


def _setting(name: str, default: float) -> float:
    return float(os.environ.get(f"AZCREDS_BENCH_FLEET_{name}", default))


def _largest_burst(times: list[float], span: float = 1.0) -> int:
    ordered, best, first = sorted(times), 0, 0
    for last, t in enumerate(ordered):
        while t - ordered[first] >= span:
            first += 1
        best = max(best, last - first + 1)
    return best


def _run_fleet(mode: str, env: dict[str, str], procs: int, threads: int, seconds: float, interval: float):  # type: ignore[no-untyped-def]
    command = [sys.executable, "-m", "bench._fleet_worker", mode, str(threads), str(seconds), str(interval)]
    workers = [
        subprocess.Popen(command, env=env, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(procs)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            line = worker.stdout.readline()
            if line.strip() != "ready":
                raise RuntimeError(f"a fleet worker did not start: {line!r}")
        go = time.monotonic()
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        results = []
        for worker in workers:
            out, _ = worker.communicate(timeout=seconds + 300)
            if worker.returncode != 0:
                raise RuntimeError(f"a fleet worker failed ({worker.returncode}): {out[-2000:]}")
            results.append(json.loads(out.strip().splitlines()[-1]))
        return go, results
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()


def run_processes() -> None:
    import azcreds
    from azcreds.testing import KeyVaultServer, ManagedIdentityEndpoint, make_test_certificates

    procs, threads = int(_setting("PROCS", 32)), int(_setting("THREADS", 4))
    ttl, periods, interval = _setting("TTL", 10), int(_setting("PERIODS", 3)), _setting("INTERVAL_MS", 10)
    modes = os.environ.get("AZCREDS_BENCH_FLEET_MODES", ",".join(MODES)).split(",")
    section(
        f"fleet: {procs} processes x {threads} threads on one local Key Vault, TTL {ttl:g} s, "
        f"{periods} TTLs, a resolve every {interval:g} ms per thread"
    )
    with ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        certs = make_test_certificates(tmp)
        vault = stack.enter_context(KeyVaultServer(certificates=certs))
        identity = stack.enter_context(ManagedIdentityEndpoint())
        env = {
            **{
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("AZCREDS_", "AZURE_", "IDENTITY_", "MSI_"))
            },
            **identity.app_service_env(),
            "AZCREDS_KEYVAULT_URL": vault.vault_url,
            "REQUESTS_CA_BUNDLE": str(certs.ca_path),
            "AZCREDS_CACHE_TTL": str(ttl),
            "AZCREDS_KEYRING_PATH": os.path.join(tmp, "no-keyring.azcv"),
        }
        saved = dict(os.environ)
        os.environ.update(env)
        try:
            azcreds.clear_cache()
            secret = azcreds.parse_secret("azure", {"account_name": "devstoreaccount1", "account_key": KEY})
            azcreds.KeyVaultStore().register("fleet", secret)
        finally:
            os.environ.clear()
            os.environ.update(saved)
            azcreds.clear_cache()
        measured = {}
        for mode in modes:
            vault.clear_requests()
            go, results = _run_fleet(mode, env, procs, threads, periods * ttl, interval)
            gets = [
                r.time - go
                for r in vault.requests
                if r.method == "GET" and r.path.startswith("/secrets/") and r.authorized and r.time >= go
            ]
            per_window = [sum(1 for t in gets if k * ttl <= t < (k + 1) * ttl) for k in range(periods)]
            refreshes = [t for t in gets if t >= ttl / 2]  # the cold start (all at once) left out
            samples = [s for r in results for s in r["samples"]]
            measured[mode] = {
                "windows": per_window,
                "burst": _largest_burst(refreshes),
                "p99": percentile(samples, 99) / 1000,
                "p9999": percentile(samples, 99.99) / 1000,
                "max": max(samples) / 1000,
                "waits": sum(r["waits"] for r in results),
                "calls": len(samples),
            }
            m = measured[mode]
            print(f"  [{mode}] GETs per TTL window {m['windows']}, {m['calls']:,} timed resolves", flush=True)
        _report_processes(measured, procs, ttl)


def _report_processes(measured: dict[str, dict[str, object]], procs: int, ttl: float) -> None:
    base = measured.get("ttl")
    for mode, m in measured.items():
        label = MODES[mode]
        windows = m["windows"]
        assert isinstance(windows, list)
        row(
            f"{label}: Key Vault GETs per TTL window", " ".join(str(n) for n in windows), f"{procs} processes"
        )
        versus = ""
        if base is not None and mode != "ttl":
            versus = f"x{float(base['burst']) / max(1, float(m['burst'])):.1f} fewer than refresh at the TTL"
        row(f"{label}: largest burst of GETs in 1 s", f"{m['burst']}", versus or "(cold start left out)")
        versus = ""
        if base is not None and mode != "ttl":
            versus = f"p99.99 x{float(base['p9999']) / float(m['p9999']):.1f} lower than refresh at the TTL"
        row(f"{label}: resolve p99 / p99.99", f"{m['p99']:.0f} / {m['p9999']:,.0f} us", versus)
        waits = int(m["waits"])  # type: ignore[call-overload]
        verdict = target(waits == 0, "0 after warm-up") if mode != "ttl" else ""
        row(
            f"{label}: resolves that waited on Key Vault",
            f"{waits} of {m['calls']:,}",
            f"max {m['max']:,.0f} us",
            verdict,
        )
        figure(f"fleet.{mode}.burst_per_s", float(m["burst"]))  # type: ignore[arg-type]
        figure(f"fleet.{mode}.p9999_us", float(m["p9999"]))  # type: ignore[arg-type]
        figure(f"fleet.{mode}.waits", float(waits))


def run_simulation() -> None:
    pods = int(_setting("PODS", 10_000))
    ttl, storm = 300.0, (3600.0, 300.0)
    section(
        f"fleet simulation: {pods:,} pods on one vault (4,000 GET / 10 s), TTL {ttl:g} s, started within "
        f"10 s; a {storm[1]:g} s throttling storm at t={storm[0]:g} s; 2 h"
    )
    runs = {jitter: simulate(pods=pods, ttl=ttl, jitter=jitter, storm=storm) for jitter in (False, True)}
    end = storm[0] + storm[1]
    for jitter, out in runs.items():
        label = "refresh ahead + jitter" if jitter else "refresh at the TTL (no jitter)"
        steady = out.peak(600, storm[0])
        row(
            f"{label}: peak GETs / 10 s, steady state",
            f"{steady:,}",
            f"{steady / 40:.0f}% of the limit",
            target(steady <= 2000, "<= half the limit") if jitter else "",
        )
        row(f"{label}: mean GETs / 10 s", f"{out.total(600, storm[0]) / ((storm[0] - 600) / 10):,.0f}", "")
        start_429 = max((w * 10 for w, n in out.throttled.items() if w * 10 < 600), default=0)
        row(
            f"{label}: cold start: 429s, last one at",
            f"{sum(n for w, n in out.throttled.items() if w * 10 < 600):,}",
            f"t={start_429:g} s",
        )
        after = sum(n for w, n in out.throttled.items() if w * 10 >= end)
        row(
            f"{label}: after the storm: all pods fresh in",
            f"{out.last_recovered - end:.0f} s",
            f"{after:,} 429s after it; peak {out.peak(end, end + 600):,} GETs / 10 s; no resolve failed"
            if out.errors == 0
            else f"{out.errors} resolves failed",
        )
        key = "jitter" if jitter else "ttl"
        figure(f"fleet.sim.{key}.steady_peak", float(steady))
        figure(f"fleet.sim.{key}.recovery_s", out.last_recovered - end)
    no, yes = runs[False].peak(600, storm[0]), runs[True].peak(600, storm[0])
    row("steady-state peak, no jitter / jitter", f"x{no / max(1, yes):.1f}", "")


def run() -> None:
    run_processes()
    run_simulation()
