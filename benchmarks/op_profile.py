"""Per-operator latency of a `.tflite` graph on LCE's interpreter, on this host.

Each operator is cut out as a one-op model (`benchmarks.single_op_models`) and timed on
random inputs of its dtypes and shapes, interleaved with the whole model in the same
rounds, so the per-op medians can be checked against the whole-model median. Ops run
alone, with cold caches between them and the interpreter's call overhead each, so their
sum is an estimate of the whole, not a decomposition of it.

    df = profile_ops(convert(model), kernel="indirect_bgemm")
    print(df.attrs["sum_of_ops_ms"], df.attrs["model_median_ms"])
"""

import statistics

import lab_bnn  # noqa: F401  (legacy Keras before TensorFlow)

import pandas as pd

from benchmarks.host import host_description
from benchmarks.kernel_paths import HOST_KERNEL, interpreter_options
from benchmarks.latency import check_counts, measure_latency, runner
from benchmarks.single_op_models import single_op_models
from benchmarks.timing import interleaved_times
from converter import BINARY_OPS

_MODEL = "whole model"


def profile_ops(
    flatbuffer: bytes, threads: int = 1, runs: int = 20, warmup: int = 3, kernel: str = HOST_KERNEL
) -> pd.DataFrame:
    """Median latency of every operator of `flatbuffer`, timed as its own model.

    Arguments:
        flatbuffer: a converted model (`converter.convert`).
        threads: interpreter threads.
        runs: timed rounds; each round runs every one-op model and the whole model once.
        warmup: untimed rounds before them.
        kernel: a kernel path name (`benchmarks.kernel_paths.KERNEL_PATHS`; by default
            the host's usual one, "indirect_bgemm+xnnpack"), or "auto" for the fastest
            agreeing path as chosen by `measure_latency`.

    Returns:
        One row per operator in execution order: `index`, `op_type`, `precision`
        ("binary" for LCE's bit-level ops, else "float"), `median_ms`, and `share`
        (its median over the sum of all per-op medians). `df.attrs` holds
        `model_median_ms` (the whole model, same rounds), `sum_of_ops_ms`, `kernel`,
        `threads`, `runs`, `warmup` and `host`.

    Raises:
        ValueError: for a corrupt flatbuffer, an unknown kernel path, a kernel path
            that cannot run the model or one of its operators, or bad counts.

    Example:
        >>> df = profile_ops(convert(QuickNet()), kernel="indirect_bgemm")
        >>> df.groupby("op_type").median_ms.sum().sort_values()
    """
    check_counts(threads=threads, runs=runs, warmup=warmup)
    if kernel != "auto":
        interpreter_options(kernel)  # an unknown name fails before any work
    cuts = single_op_models(flatbuffer)  # checks the flatbuffer before any interpreter
    if kernel == "auto":
        kernel = measure_latency(flatbuffer, threads=threads, runs=3, warmup=1).kernel

    runners = {_MODEL: runner(flatbuffer, kernel, threads, what="the whole model")}
    for cut in cuts:
        runners[cut.index] = runner(
            cut.flatbuffer, kernel, threads, what=f"operator {cut.index} ({cut.op_type}) alone"
        )
    medians = {
        name: statistics.median(times) * 1e3
        for name, times in interleaved_times(runners, runs=runs, warmup=warmup).items()
    }

    df = pd.DataFrame(
        {
            "index": [cut.index for cut in cuts],
            "op_type": [cut.op_type for cut in cuts],
            "precision": ["binary" if cut.op_type in BINARY_OPS else "float" for cut in cuts],
            "median_ms": [medians[cut.index] for cut in cuts],
        }
    )
    total = float(df["median_ms"].sum())
    df["share"] = df["median_ms"] / total if total > 0 else 0.0
    df.attrs.update(
        model_median_ms=medians[_MODEL],
        sum_of_ops_ms=total,
        kernel=kernel,
        threads=threads,
        runs=runs,
        warmup=warmup,
        host=host_description(),
    )
    return df
