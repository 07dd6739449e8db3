import gc
import os
import threading
import time
import types

from lab_bnn.errors import UserError

import pytest

from benchmarks import timing
from benchmarks.engine import library
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


def spin_in_c(seconds: float) -> threading.Thread:
    """A started thread that spins in C with the GIL released for `seconds` and no system call, as
    a pool's workers do between jobs (the engine's portable peak microbenchmark)."""
    library.load()  # loaded (or built) here: the thread must spin at once
    rates = []
    spinner = threading.Thread(
        target=lambda: rates.append(library.peak_binary_macs_per_second("portable", seconds))
    )
    spinner.rates = rates
    spinner.start()
    return spinner


@pytest.mark.parametrize("threads", [1, 2])
def test_multi_thread_runners_are_timed_after_an_idle_wait_and_an_untimed_call(monkeypatch, threads):
    events = []
    monkeypatch.setattr(timing, "wait_until_idle", lambda: events.append("wait"))
    runners = {name: (lambda name=name: events.append(name)) for name in ("a", "b")}
    times = timing.interleaved_times(runners, runs=2, warmup=0, threads=threads)
    assert [len(t) for t in times.values()] == [2, 2]
    per_round = ["wait", "a", "a", "wait", "b", "b"] if threads > 1 else ["a", "b"]
    assert events == per_round * 2


def test_waiting_for_idle_is_bounded_while_a_thread_spins_and_prompt_once_none_does():
    spinner = spin_in_c(1.0)
    start = time.perf_counter()
    timing.wait_until_idle()
    assert timing.IDLE_MAX_WAIT_S <= time.perf_counter() - start <= timing.IDLE_MAX_WAIT_S + 0.1
    spinner.join()
    assert spinner.rates[0] > 0  # it did spin
    time.sleep(0.1)
    start = time.perf_counter()
    timing.wait_until_idle()
    assert time.perf_counter() - start < 0.3  # nothing spins (lingering pools stop within ~30 ms)


def test_waiting_for_idle_outlasts_a_thread_spinning_in_c():
    # Such a thread reaches the process CPU clock only at scheduler ticks (4 ms here), so a short
    # window could read zero while it spins; /proc says R throughout.
    time.sleep(0.2)
    spinner = spin_in_c(0.15)
    time.sleep(0.01)
    assert timing.other_threads_running() is True
    start = time.perf_counter()
    timing.wait_until_idle()
    assert time.perf_counter() - start >= 0.09
    spinner.join()
    assert spinner.rates[0] > 0


def test_without_proc_the_process_clock_decides_and_an_idle_process_waits_one_window(monkeypatch):
    monkeypatch.setattr(timing, "other_threads_running", lambda: None)
    start = time.perf_counter()
    timing.wait_until_idle()
    assert timing.IDLE_WINDOW_S <= time.perf_counter() - start < 0.3


def test_cores_to_speed_computes_a_thread_on_every_cpu_and_leaves_the_callers_affinity():
    cpus = os.sched_getaffinity(0)
    used = timing.cores_to_speed(0.05)
    assert len(used) == len(cpus) and os.sched_getaffinity(0) == cpus
    assert all(0 < seconds <= 0.05 + 0.02 for seconds in used), used  # CPU time: no more than the wall
    with pytest.raises(UserError, match="speed_up_seconds must be >= 0; received -0.01"):
        timing.blocked_times({"a": lambda: None}, runs=1, warmup=0, speed_up_seconds=-0.01)


def test_blocked_times_brings_the_cores_to_speed_after_the_idle_wait_when_asked(monkeypatch):
    events = []
    monkeypatch.setattr(timing, "wait_until_idle", lambda: events.append("wait"))
    monkeypatch.setattr(timing, "cores_to_speed", lambda seconds: events.append(seconds))
    runners = {name: (lambda name=name: events.append(name)) for name in ("a", "b")}
    timing.blocked_times(runners, runs=1, warmup=0, block=2, speed_up_seconds=0.03)
    assert events == ["wait", 0.03, "a", "a", "wait", 0.03, "b", "b"]
    events.clear()
    timing.blocked_times(runners, runs=1, warmup=0, block=2)
    assert events == ["wait", "a", "a", "wait", "b", "b"]


def test_blocked_times_discards_each_blocks_first_call_and_keeps_runners_apart():
    calls = []
    runners = {name: (lambda name=name: calls.append(name)) for name in ("a", "b")}
    times = timing.blocked_times(runners, runs=2, warmup=1, block=3, warm_seconds=0)
    assert calls == ["a", "b"] + ["a"] * 3 + ["b"] * 3 + ["a"] * 3 + ["b"] * 3
    assert {name: len(t) for name, t in times.items()} == {"a": 4, "b": 4}
    with pytest.raises(UserError, match="block must be >= 2"):
        timing.blocked_times(runners, runs=1, warmup=0, block=1)


def test_blocked_times_warms_each_runner_for_warm_seconds_before_timing(monkeypatch):
    clock = [0.0]  # a fake perf_counter that only the runner advances, 4 ms a call
    fake_time = types.SimpleNamespace(
        perf_counter=lambda: clock[0], sleep=time.sleep, process_time=time.process_time
    )
    monkeypatch.setattr(timing, "time", fake_time)
    calls = []

    def slow():
        calls.append(clock[0])
        clock[0] += 0.004

    times = timing.blocked_times({"slow": slow}, runs=2, warmup=0, block=3, warm_seconds=0.01)
    # per round: calls at 0, 4 and 8 ms warm (10 ms reached at 12), then 2 timed calls
    assert len(calls) == 2 * (3 + 2)
    assert times["slow"] == pytest.approx([0.004] * 4)
