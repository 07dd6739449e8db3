"""The check every fusion test makes: a flatbuffer on the engine, rewritten by `fusion.fuse` and
as given, at every supported level and at 1 and 2 threads, gives the same outputs bit for bit."""

from typing import List

import numpy as np

from benchmarks.engine import library
from benchmarks.engine.interpreter import EngineInterpreter


def assert_fused_equals_unfused(flatbuffer: bytes, inputs) -> List[List[np.ndarray]]:
    """Asserts it for `inputs` (an array or a list of arrays); returns the fused outputs of every run."""
    runs = []
    for level in library.supported_levels():
        for threads in (1, 2):
            unfused = EngineInterpreter(flatbuffer, threads=threads, level=level, fuse=False).predict(inputs)
            fused = EngineInterpreter(flatbuffer, threads=threads, level=level).predict(inputs)
            fused, unfused = ([o] if isinstance(o, np.ndarray) else o for o in (fused, unfused))
            assert len(fused) == len(unfused), (level, threads)
            for a, b in zip(fused, unfused):
                assert a.shape == b.shape and a.dtype == b.dtype, (level, threads)
                assert a.tobytes() == b.tobytes(), (level, threads)
            runs.append(fused)
    return runs
