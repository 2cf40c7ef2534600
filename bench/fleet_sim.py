"""A simulation of many pods, each with azcreds' resolve cache, on one Key Vault with its limit.

Deterministic (seeded); no network, no clock: an event queue in simulated seconds. The model:

- the vault serves at most ``limit`` GETs in any sliding ``window`` (Key Vault documents 4,000
  GET/10 s per vault); beyond that, and during a storm, it answers 429 (not counted in the limit);
- every pod keeps resolving one secret (demand is continuous), so a pod asks the vault exactly at
  its refresh point; its cache follows azcreds/resolve.py: fetched at f, expires at f + TTL, refresh
  point f + TTL * (span drawn uniformly: (0.5, 0.9) with jitter, (1, 1) without, the old cache);
- a throttled background refresh (before the TTL) asks again after min(TTL, 30 s), capped at the
  TTL; a throttled ask at or past the TTL serves the stale value and asks again after 30 s
  (``STALE_RETRY_SECONDS``); a throttled first resolve (no value yet) is retried after the vault's
  Retry-After, which is the time until its window has room (at least 1 s);
- one request per ask: the SDK's own retries would add the same factor to both modes.
"""

from __future__ import annotations

import heapq
import random
from collections import deque
from dataclasses import dataclass, field

STALE_RETRY = 30.0


@dataclass
class Outcome:
    """What a run of the simulation saw, per ``window`` seconds (requests and 429s)."""

    window: float
    requests: dict[int, int] = field(default_factory=dict)
    throttled: dict[int, int] = field(default_factory=dict)
    stale_since: dict[int, float] = field(default_factory=dict)  # pod -> when it began serving stale
    last_throttled: float = 0.0
    last_recovered: float = 0.0  # when the last stale pod got fresh credentials
    failed_first_resolves: int = 0
    errors: int = 0  # resolves that raised: stale past max_stale (none expected)

    def peak(self, start: float = 0.0, end: float = float("inf")) -> int:
        """The most requests in one window that starts in [start, end)."""
        return max(
            (n for w, n in self.requests.items() if start <= w * self.window < end),
            default=0,
        )

    def total(self, start: float = 0.0, end: float = float("inf")) -> int:
        return sum(n for w, n in self.requests.items() if start <= w * self.window < end)


def simulate(
    *,
    pods: int = 10_000,
    ttl: float = 300.0,
    jitter: bool = True,
    start_within: float = 10.0,
    storm: tuple[float, float] | None = None,
    duration: float = 7200.0,
    limit: int = 4000,
    window: float = 10.0,
    max_stale: float = 3600.0,
    seed: int = 13,
) -> Outcome:
    """Run ``pods`` pods for ``duration`` simulated seconds; ``storm`` = (start, length) during
    which the vault throttles every request."""
    rng = random.Random(seed)
    low, high = (0.5, 0.9) if jitter else (1.0, 1.0)
    out = Outcome(window)
    served: deque[float] = deque()  # times of the GETs served in the last `window` seconds
    expires = [float("-inf")] * pods
    stale_until = [float("-inf")] * pods
    queue = [(rng.uniform(0, start_within), pod) for pod in range(pods)]
    heapq.heapify(queue)
    while queue:
        now, pod = heapq.heappop(queue)
        if now >= duration:
            break
        bucket = int(now // window)
        out.requests[bucket] = out.requests.get(bucket, 0) + 1
        while served and served[0] <= now - window:
            served.popleft()
        storming = storm is not None and storm[0] <= now < storm[0] + storm[1]
        if not storming and len(served) < limit:
            served.append(now)
            expires[pod] = now + ttl
            stale_until[pod] = now + ttl + max_stale
            since = out.stale_since.pop(pod, None)
            if since is not None:
                out.last_recovered = now
            heapq.heappush(queue, (now + ttl * rng.uniform(low, high), pod))
            continue
        out.throttled[bucket] = out.throttled.get(bucket, 0) + 1
        out.last_throttled = now
        if expires[pod] == float("-inf"):  # a first resolve: the pod has nothing to serve
            out.failed_first_resolves += 1
            retry_after = max(1.0, served[0] + window - now) if served else 1.0
            heapq.heappush(queue, (now + retry_after, pod))
        elif now < expires[pod]:  # a background refresh failed; the value is good until the TTL
            heapq.heappush(queue, (min(now + min(ttl, STALE_RETRY), expires[pod]), pod))
        elif now <= stale_until[pod]:  # past the TTL: stale-if-error
            out.stale_since.setdefault(pod, now)
            heapq.heappush(queue, (min(now + min(ttl, STALE_RETRY), stale_until[pod]), pod))
        else:
            out.errors += 1
            heapq.heappush(queue, (now + STALE_RETRY, pod))
    return out
