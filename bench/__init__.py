"""azcreds benchmarks. Run all with ``scripts/bench`` (or ``python -m bench [SECTION ...]``)."""
