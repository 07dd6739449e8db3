"""The checks the fusion tests share: a flatbuffer on the engine, rewritten by `fusion.fuse` and
as given, at every supported level and at 1 and 2 threads, gives the same outputs bit for bit; and
a converted model's builtin op is there and every one of it becomes the engine's op."""

from typing import List

import numpy as np

from benchmarks.engine import fusion, library
from benchmarks.engine.interpreter import EngineInterpreter
from converter import read_operators


def assert_builtin_replaced(flatbuffer: bytes, builtin: str, custom: str) -> None:
    """Asserts `flatbuffer` holds `builtin` and `fusion.fuse` turns every one of them into `custom`
    (before any becomes a step of a pixel chain: test_pixel_chains)."""
    assert builtin in {op.op_type for op in read_operators(flatbuffer)}
    types = [op.op_type for op in read_operators(fusion.fuse(flatbuffer, chains=False)[0])]
    assert custom in types and builtin not in types


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
