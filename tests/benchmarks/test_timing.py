import gc

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
