"""Side-by-side timing: every runner measured in the same rounds, with the same kernel path."""

import contextlib
import gc
import time
from typing import Callable, Dict, Iterator, List

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


def interleaved_times(
    runners: Dict[str, Callable[[], None]], runs: int, warmup: int
) -> Dict[str, List[float]]:
    """Seconds per call of each runner, `runs` times, round-robin so drift hits all alike."""
    for run in runners.values():
        for _ in range(warmup):
            run()
    times = {name: [] for name in runners}
    with garbage_collection_paused():
        for _ in range(runs):
            for name, run in runners.items():
                start = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - start)
    return times
