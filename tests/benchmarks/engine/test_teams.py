"""Runs of consecutive engine ops in one thread team (`csrc/tflite_team.c`): at 2 threads every zoo
model, converted, gives the bits it gives with one job per op and at 1 thread, at every level, with
inputs that change from call to call (an op skipped or run twice changes bits); and the teams cover
the engine ops as the operator order says they can. The execution plan the C code walks may order
ops differently from the flatbuffer (TFLite's delegate partitioning moves independent ops), so the
counts are checked against bounds from the flatbuffer, not against the plan itself."""

from __future__ import annotations

import functools
from typing import List, Tuple

import numpy as np
import pytest

from benchmarks.engine import fusion, library
from benchmarks.engine.interpreter import EngineInterpreter
from converter import read_operators
from tests.benchmarks.engine.test_interpreter import ZOO_CASES, batch
from tests.benchmarks.engine.test_pixel_chains import zoo_flatbuffer


@functools.lru_cache(maxsize=None)
def engine_op_flags(flatbuffer: bytes) -> Tuple[bool, ...]:
    """For each operator of the rewritten flatbuffer, in operator order: is it an engine op."""
    return tuple(op.op_type in fusion.ENGINE_OPS for op in read_operators(fusion.fuse(flatbuffer)[0]))


def runs_of_engine_ops(flatbuffer: bytes) -> List[int]:
    """Lengths of the runs of two or more consecutive engine ops in that order (any other op,
    XNNPACK's or a builtin kernel's, ends a run)."""
    runs, length = [], 0
    for engine in engine_op_flags(flatbuffer) + (False,):
        if engine:
            length += 1
            continue
        if length >= 2:
            runs.append(length)
        length = 0
    return runs


def engine_ops(flatbuffer: bytes) -> int:
    return sum(engine_op_flags(flatbuffer))


def outputs(engine: EngineInterpreter, inputs) -> List[bytes]:
    found = engine.predict(inputs)
    return [a.tobytes() for a in ([found] if isinstance(found, np.ndarray) else found)]


def assert_team_counts(engine: EngineInterpreter, flatbuffer: bytes, calls: int) -> None:
    """Teams ran in every call, each of 2+ ops, over no more ops than the model's engine ops; TFLite
    found every op a leader ran already done, once; and every worker's share of every split op
    ran exactly once, on the worker or (a worker not yet running) on the caller."""
    counts = engine.team_counts()
    assert counts.teams % calls == 0 and counts.ops % calls == 0, (counts, calls)
    teams, ops, runs = counts.teams // calls, counts.ops // calls, runs_of_engine_ops(flatbuffer)
    assert (teams > 0) == bool(runs), (teams, runs)
    assert 2 * teams <= ops <= engine_ops(flatbuffer), (teams, ops)
    assert counts.early_returns == counts.ops - counts.teams, counts
    assert counts.worker_parts + counts.taken_over == counts.jobs * (engine.threads - 1), counts


@pytest.mark.parametrize("case", [case for case, _ in ZOO_CASES])
def test_teams_give_the_same_bits_as_one_job_per_op(case) -> None:
    flatbuffer = zoo_flatbuffer(case)
    for level in library.supported_levels():
        alone = EngineInterpreter(flatbuffer, threads=1, level=level)
        apart = EngineInterpreter(flatbuffer, threads=2, level=level, teams=False)
        teamed = EngineInterpreter(flatbuffer, threads=2, level=level)
        assert teamed.shares_threads, "teams need the interpreter's own threadpool"
        for seed in (0, 1):  # new inputs: an op skipped in the second call would keep the first's bits
            inputs = batch(alone, seed)
            expected = outputs(alone, inputs)
            assert outputs(apart, inputs) == expected, (level, seed)
            assert outputs(teamed, inputs) == expected, (level, seed)
        assert not any(alone.team_counts()) and not any(apart.team_counts())
        assert_team_counts(teamed, flatbuffer, 2 * len(inputs[0]))


@pytest.mark.parametrize("threads", [2, 3])
def test_boolnet_body_runs_as_one_team_and_stays_exact_over_many_calls(threads) -> None:
    """A lost hand-over between the threads (a part not run, or run with a stale job) shows as
    changed bits in some call; the inputs alternate so a skipped op cannot hide; the counts show
    a part run twice. Three threads (more than this host's cores, then) give two workers."""
    flatbuffer = zoo_flatbuffer("BoolNet-sign")
    engine = EngineInterpreter(flatbuffer, threads=threads)
    single = EngineInterpreter(flatbuffer, threads=1)
    inputs = [[a[i : i + 1] for a in batch(engine)] for i in range(2)]
    expected = [outputs(single, x) for x in inputs]
    engine.reset_op_times()
    calls = 300 if threads == 2 else 30
    for call in range(calls):
        assert outputs(engine, inputs[call % 2]) == expected[call % 2], call
    assert_team_counts(engine, flatbuffer, calls)
    counts = engine.team_counts()
    assert counts.ops >= 0.8 * engine_ops(flatbuffer) * calls, "the body between stem and head"
    assert counts.jobs > 0 and counts.worker_parts > 0, counts
