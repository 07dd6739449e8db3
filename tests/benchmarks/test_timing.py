import gc
import threading
import time

import pytest

from benchmarks.timing import garbage_collection_paused, interleaved_times


def test_collector_is_off_inside_and_restored_after():
    assert gc.isenabled()
    with garbage_collection_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with garbage_collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # a caller that had it off keeps it off
    finally:
        gc.enable()


def test_no_collection_runs_during_timed_calls():
    collections = []
    seen_enabled = []

    def count(phase, info):
        if phase == "start":
            collections.append(info["generation"])

    during_calls = []

    def allocate_cycles():
        seen_enabled.append(gc.isenabled())
        before = len(collections)
        for _ in range(2000):  # far past the generation-0 threshold: would trigger collections
            cycle = []
            cycle.append(cycle)
        during_calls.append(len(collections) - before)

    gc.callbacks.append(count)
    try:
        interleaved_times({"a": allocate_cycles, "b": allocate_cycles}, runs=3, warmup=0)
    finally:
        gc.callbacks.remove(count)
    assert seen_enabled == [False] * 6
    assert during_calls == [0] * 6
    assert collections[0] == 2  # one full collection before timing starts


def spinning_runner(seconds: float, ends: list):
    """A call that leaves a thread burning CPU for `seconds` after it returns, as a thread
    pool's workers spin after a job; `ends` gets the time each spin stopped."""

    def spin():
        stop = time.perf_counter() + seconds
        while time.perf_counter() < stop:
            pass
        ends.append(time.perf_counter())

    def call():
        threading.Thread(target=spin, daemon=True).start()

    return call


@pytest.mark.parametrize("threads", [1, 2])
def test_multi_thread_runners_start_on_an_idle_process_after_an_untimed_call(threads):
    spin_ends, starts = [], []
    runners = {"spinner": spinning_runner(0.1, spin_ends), "next": lambda: starts.append(time.perf_counter())}
    times = interleaved_times(runners, runs=3, warmup=0, threads=threads)
    time.sleep(0.15)  # every spin has stopped
    assert [len(t) for t in times.values()] == [3, 3]
    if threads == 1:  # round-robin only: the next runner starts while the spinner's thread still runs
        assert len(starts) == 3 and len(spin_ends) == 3 and starts[0] < spin_ends[0]
    else:  # each timed call follows an untimed one, both after the spinner's threads have stopped
        assert len(starts) == 6 and len(spin_ends) == 6
        for round_ in range(3):
            assert starts[2 * round_] > spin_ends[2 * round_ + 1]  # after the round's second spin
