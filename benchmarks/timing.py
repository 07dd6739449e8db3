"""Side-by-side timing: every runner measured in the same rounds, with the same kernel path."""

import contextlib
import gc
import os
import threading
import time
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional

from lab_bnn.errors import UserError

import numpy as np

# The fastest LCE interpreter path measured on x86 hosts here; it also runs grouped
# binary convs, which LCE's default path refuses.
HOST_KERNEL_PATH = dict(use_indirect_bgemm=True, use_xnnpack=True)


def kernel_path_name(kernel_path: Dict[str, bool]) -> str:
    return "+".join(k for k, v in kernel_path.items() if v) or "default"


@contextlib.contextmanager
def garbage_collection_paused() -> Iterator[None]:
    """Collect once, then keep Python's garbage collector off (as `timeit` does): a collection
    that lands inside a timed call is charged to whichever runner made it. With TensorFlow
    loaded they walk millions of objects: about 7 % of a 3.5 ms engine call (perf, QuickNet 224²)."""
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


IDLE_MAX_WAIT_S, IDLE_POLL_S, IDLE_POLLS = 0.5, 0.001, 2
# Without /proc: the CPU clock credits other threads at scheduler ticks (4 ms here); span two.
IDLE_WINDOW_S, IDLE_CPU_S = 0.010, 0.0001
_TASKS = Path("/proc/self/task")


def other_threads_running() -> Optional[bool]:
    """Whether a thread of this process other than the caller is running or runnable (state R in
    /proc/self/task/*/stat, as a pool's spinning worker is); None where /proc cannot say."""
    me = str(threading.get_native_id())
    try:
        tasks = [t for t in os.listdir(_TASKS) if t != me]
    except OSError:
        return None
    for task in tasks:
        try:
            stat = (_TASKS / task / "stat").read_bytes()
            state = stat[stat.rindex(b")") + 2 :]  # the name in parentheses may hold any byte
        except (OSError, ValueError):  # the thread ended
            continue
        if state.startswith(b"R"):
            return True
    return False


def wait_until_idle() -> None:
    """Sleeps until no other thread of this process runs (every pool has stopped spinning), or
    IDLE_MAX_WAIT_S has passed: IDLE_POLLS polls in a row find none running (/proc), else no
    thread used more than IDLE_CPU_S over IDLE_WINDOW_S."""
    deadline = time.perf_counter() + IDLE_MAX_WAIT_S
    quiet = 0
    while time.perf_counter() < deadline:
        running = other_threads_running()
        if running is None:
            before = time.process_time()
            time.sleep(IDLE_WINDOW_S)
            if time.process_time() - before < IDLE_CPU_S:
                return
            continue
        quiet = 0 if running else quiet + 1
        if quiet >= IDLE_POLLS:
            return
        time.sleep(IDLE_POLL_S)


def cores_to_speed(seconds: float) -> List[float]:
    """Computes for `seconds` on every CPU this process may use, a thread pinned to each (NumPy,
    GIL released), so a turn that follows starts with every vCPU at speed (README: engine_vs_lce).

    Returns:
        Each thread's CPU seconds, in the order of the CPUs.
    """
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [None]
    used = [0.0] * len(cpus)

    def compute(slot: int) -> None:
        if cpus[slot] is not None:
            os.sched_setaffinity(0, {cpus[slot]})  # this thread only
        values, out = np.linspace(1.0, 2.0, 1 << 14), np.empty(1 << 14)
        start, stop = time.thread_time(), time.perf_counter() + seconds
        while time.perf_counter() < stop:
            np.sqrt(values, out=out)
        used[slot] = time.thread_time() - start

    threads = [threading.Thread(target=compute, args=(slot,)) for slot in range(len(cpus))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return used


def _warm_up(runners: Dict[object, Callable[[], None]], warmup: int) -> None:
    for run in runners.values():
        for _ in range(warmup):
            run()


def start_turn(run: Callable[[], None], warm_seconds: float, speed_up_seconds: float = 0.0) -> None:
    """A runner's turn up to its timed calls: wait until the process is idle, every core computes
    for `speed_up_seconds` (when > 0), then `run` untimed until `warm_seconds` have passed (at
    least once: it wakes the runner's own pools)."""
    wait_until_idle()
    if speed_up_seconds > 0:
        cores_to_speed(speed_up_seconds)
    warm_until = time.perf_counter() + warm_seconds
    run()
    while time.perf_counter() < warm_until:
        run()


def blocked_times(
    runners: Dict[object, Callable[[], None]],
    runs: int,
    warmup: int,
    block: int = 2,
    warm_seconds: float = 0.0,
    *,
    speed_up_seconds: float = 0.0,
) -> Dict[object, List[float]]:
    """Seconds per call of each runner: `runs` rounds, round-robin; in each round every runner
    starts on an idle process, with every core computing for `speed_up_seconds` first
    (`cores_to_speed`), is called untimed until `warm_seconds` have passed (at least once), then
    makes `block` - 1 timed calls back to back."""
    if block < 2:
        raise UserError(f"block must be >= 2 (the first call is discarded); received {block}")
    if speed_up_seconds < 0:
        raise UserError(f"speed_up_seconds must be >= 0; received {speed_up_seconds}")
    _warm_up(runners, warmup)
    times = {name: [] for name in runners}
    with garbage_collection_paused():
        for _ in range(runs):
            for name, run in runners.items():
                start_turn(run, warm_seconds, speed_up_seconds)
                for _ in range(block - 1):
                    start = time.perf_counter()
                    run()
                    times[name].append(time.perf_counter() - start)
    return times


def interleaved_times(
    runners: Dict[str, Callable[[], None]], runs: int, warmup: int, threads: int = 1
) -> Dict[str, List[float]]:
    """Seconds per call of each runner, `runs` times, round-robin so drift hits all alike.

    With `threads` > 1 it is `blocked_times` with blocks of two: each timed call follows a
    wait until the process is idle and one untimed call: the pools of the runner called
    before (XNNPACK's, ruy's, LCE's) spin on a core for a while after its call and would
    take one from this runner (a one-op model at 2 threads measured tens of times slower),
    and the untimed call wakes this runner's own pools, as a serving loop finds them."""
    if threads > 1:
        return blocked_times(runners, runs, warmup)
    _warm_up(runners, warmup)
    times = {name: [] for name in runners}
    with garbage_collection_paused():
        for _ in range(runs):
            for name, run in runners.items():
                start = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - start)
    return times
