"""Per-operator latency of a `.tflite` graph on LCE's interpreter or our engine, on this host.

Each operator is cut out as a one-op model (`benchmarks.single_op_models`) and timed on
random inputs of its dtypes and shapes, interleaved with the whole model in the same
rounds, so the per-op medians can be checked against the whole-model median. Ops run
alone, with cold caches between them and the interpreter's call overhead each, so their
sum is an estimate of the whole, not a decomposition of it.

On an engine path (`engine[<level>]`) the ops the engine runs (LceQuantize, LceDequantize,
LceBconv2d, LceBMaxPool2d, and the float pools, MIRROR_PADs and PACKs `fusion` hands it) are not
cut out: their times come from the engine's own timers inside the whole-model runs (reset
after the warm-up rounds, then the total over the timed rounds divided by their number: a
mean, not a median), so they are a decomposition of the whole model's time. The other
float ops run inside tflite-runtime's XNNPACK delegate, where we have no timers; they are
still timed as one-op models, on the engine's runtime (tflite-runtime with XNNPACK, the
same threads), as on LCE's paths.
The `timed_by` column says which of the two each row is.

    df = profile_ops(convert(model), kernel="indirect_bgemm")
    print(df.attrs["sum_of_ops_ms"], df.attrs["model_median_ms"])
"""

import statistics
from typing import Callable, Dict, List, Tuple

import lab_bnn  # noqa: F401  (legacy Keras before TensorFlow)

import pandas as pd

from benchmarks.host import host_description
from benchmarks.kernel_paths import HOST_KERNEL, check_kernel_name, engine_level_of, invoker, random_inputs
from benchmarks.latency import check_counts, load_interpreter, measure_latency, runner
from benchmarks.single_op_models import single_op_models
from benchmarks.timing import interleaved_times
from converter import BINARY_OPS

_MODEL = "whole model"
ONE_OP_MODEL, ENGINE_TIMER = "one-op model", "engine timer"


def profile_ops(
    flatbuffer: bytes, threads: int = 1, runs: int = 20, warmup: int = 3, kernel: str = HOST_KERNEL
) -> pd.DataFrame:
    """Latency of every operator of `flatbuffer`: timed as its own model, or on an engine
    path for the Lce ops, by the engine's timers inside whole-model runs.

    Arguments:
        flatbuffer: a converted model (`converter.convert`).
        threads: interpreter threads.
        runs: timed rounds; each round runs every one-op model and the whole model once.
        warmup: untimed rounds before them.
        kernel: a kernel path name (`benchmarks.kernel_paths.known_kernel_paths()`; by
            default the host's usual LCE one, "indirect_bgemm+xnnpack"; an engine path
            such as "engine[avx512]"), or "auto" for the fastest agreeing path as chosen
            by `measure_latency` (the engine's when it agrees and is fastest).

    Returns:
        One row per operator in execution order: `index`, `op_type`, `precision`
        ("binary" for LCE's bit-level ops, else "float"), `median_ms` (for an engine
        timer row, the mean over its whole-model calls), `timed_by` ("one-op model", "engine
        timer", or "fused into op N": an ADD the engine fused into op N, 0 ms, its time in
        op N's row), and `share` (its time over the sum of all per-op times).
        `df.attrs` holds `model_median_ms` and `model_mean_ms` (the whole model, same
        rounds), `sum_of_ops_ms`, `kernel` (an engine path names its level),
        `engine_level` (None on LCE's paths), `threads`, `runs`, `warmup` and `host`.

    Raises:
        ValueError: for a corrupt flatbuffer, an unknown kernel path, a kernel path
            that cannot run the model or one of its operators, or bad counts.

    Example:
        >>> df = profile_ops(convert(QuickNet()), kernel="indirect_bgemm")
        >>> df.groupby("op_type").median_ms.sum().sort_values()
    """
    check_counts(threads=threads, runs=runs, warmup=warmup)
    check_kernel_name(kernel, auto=True)  # an unknown name fails before any work
    cuts = single_op_models(flatbuffer)  # checks the flatbuffer before any interpreter
    if kernel == "auto":
        kernel = measure_latency(flatbuffer, threads=threads, runs=3, warmup=1).kernel

    engine = None
    if engine_level_of(kernel):
        engine = load_interpreter(flatbuffer, kernel, threads, what="the whole model")
        runners = {_MODEL: invoker(engine, random_inputs(engine))}
        engine_timed = {index for index, _, _ in engine.op_times()}
        # ADDs, PRELUs and LceQuantizes fused into a LabBnnBconv2dAdd or a LabBnnDepthwiseQuantize
        absorbed = dict(getattr(engine, "absorbed", {}))
    else:
        runners = {_MODEL: runner(flatbuffer, kernel, threads, what="the whole model")}
        engine_timed, absorbed = set(), {}
    for cut in cuts:
        if cut.index not in engine_timed and cut.index not in absorbed:
            runners[cut.index] = runner(
                cut.flatbuffer, kernel, threads, what=f"operator {cut.index} ({cut.op_type}) alone"
            )
    times, engine_ms = _timed_rounds(runners, runs, warmup, engine, threads)
    ms = {name: statistics.median(t) * 1e3 for name, t in times.items()}
    ms.update(engine_ms)
    ms.update({index: 0.0 for index in absorbed})  # its time is in its fused op's row

    df = pd.DataFrame(
        {
            "index": [cut.index for cut in cuts],
            "op_type": [cut.op_type for cut in cuts],
            "precision": ["binary" if cut.op_type in BINARY_OPS else "float" for cut in cuts],
            "median_ms": [ms[cut.index] for cut in cuts],
            "timed_by": [
                f"fused into op {absorbed[cut.index]}"
                if cut.index in absorbed
                else ENGINE_TIMER
                if cut.index in engine_timed
                else ONE_OP_MODEL
                for cut in cuts
            ],
        }
    )
    total = float(df["median_ms"].sum())
    df["share"] = df["median_ms"] / total if total > 0 else 0.0
    df.attrs.update(
        model_median_ms=ms[_MODEL],
        model_mean_ms=statistics.fmean(times[_MODEL]) * 1e3,
        sum_of_ops_ms=total,
        kernel=kernel,
        engine_level=engine_level_of(kernel),
        threads=threads,
        runs=runs,
        warmup=warmup,
        host=host_description(),
    )
    return df


def _timed_rounds(
    runners: Dict[object, Callable[[], object]], runs: int, warmup: int, engine, threads: int
) -> Tuple[Dict[object, List[float]], Dict[int, float]]:
    """(seconds per call of each runner over `runs` interleaved rounds after `warmup`
    untimed ones, {operator index: mean ms per timed round} from the whole-model
    `engine`'s own timers, reset after the warm-up, per whole-model call; {} without an engine)."""
    if warmup:
        interleaved_times(runners, runs=warmup, warmup=0, threads=threads)
    if engine is None:
        return interleaved_times(runners, runs=runs, warmup=0, threads=threads), {}
    engine.reset_op_times()
    calls, run_model = [0], runners[_MODEL]  # at threads > 1 each timed call follows an untimed one

    def counted() -> object:
        calls[0] += 1
        return run_model()

    times = interleaved_times({**runners, _MODEL: counted}, runs=runs, warmup=0, threads=threads)
    return times, {index: ns / calls[0] / 1e6 for index, _, ns in engine.op_times()}
