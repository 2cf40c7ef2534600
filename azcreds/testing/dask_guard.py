"""A Dask preload that puts the loopback-only network guard in every worker and nanny process.

The pytest plugin guards the test process only; a ``LocalCluster`` with ``processes=True`` runs its
workers in fresh interpreters. Name this module as their preload and each one installs
:mod:`~azcreds.testing.network_guard` before it talks to the scheduler::

    LocalCluster(n_workers=2, processes=True, **dask_guard.PRELOADS)

:func:`blocked_on_workers` then collects what each worker's guard refused (client code may catch
the ``OSError`` and carry on), and :func:`guarded_on_workers` tells whether each one has the guard.
"""

from __future__ import annotations

from typing import Any

from azcreds.testing import network_guard

__all__ = ["PRELOADS", "blocked_on_workers", "dask_setup", "guarded_on_workers"]

PRELOADS: dict[str, list[str]] = {"preload": [__name__], "preload_nanny": [__name__]}
"""Keyword arguments for ``LocalCluster``/``Nanny``: this module preloaded in workers and nannies."""


def dask_setup(server: Any) -> None:
    """Called by distributed in each process that preloads this module: install the guard."""
    network_guard.install()


def _blocked_here() -> list[str]:
    return [attempt.describe() for attempt in network_guard.blocked_attempts()]


def blocked_on_workers(client: Any) -> dict[str, list[str]]:
    """Worker address → the destinations its guard refused (``client`` is a distributed Client)."""
    result: dict[str, list[str]] = client.run(_blocked_here)
    return result


def guarded_on_workers(client: Any) -> dict[str, bool]:
    """Worker address → whether the guard is installed there."""
    result: dict[str, bool] = client.run(network_guard.is_installed)
    return result
