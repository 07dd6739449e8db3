"""`library.core_link`: the two-core link microbenchmark gives physically plausible numbers,
answers None on one CPU, and leaves the caller's CPU affinity as it was."""

from __future__ import annotations

import os

from benchmarks.engine import library


def test_core_link_is_plausible_and_restores_affinity() -> None:
    allowed = os.sched_getaffinity(0)
    assert len(allowed) >= 2, "every machine here has 2 cores"
    round_trip_ns, gb_per_s = library.core_link()
    assert os.sched_getaffinity(0) == allowed
    # a cache line cannot cross cores and back in under 10 ns; a median over 5 x 4000 trips
    # stays far under 1 ms even on a loaded host
    assert 10 < round_trip_ns < 1e6
    assert 0.05 < gb_per_s < 10_000  # 1 MiB read in 0.1 us .. 20 ms


def test_core_link_on_one_cpu_is_none_and_restores_affinity() -> None:
    allowed = os.sched_getaffinity(0)
    one = {min(allowed)}
    os.sched_setaffinity(0, one)
    try:
        assert library.core_link() is None
        assert os.sched_getaffinity(0) == one
    finally:
        os.sched_setaffinity(0, allowed)
