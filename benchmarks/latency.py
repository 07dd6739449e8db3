"""Whole-model latency of a `.tflite` flatbuffer on LCE's interpreter or on our engine,
with the kernel path named, or chosen as the fastest one that computes the same outputs.

    record = measure_latency(convert(model), threads=1)
    pandas.DataFrame([{"model": "QuickNet", **record.as_dict()}]).to_csv(...)
"""

import statistics
from dataclasses import dataclass, field
from typing import Dict

import lab_bnn  # noqa: F401  (legacy Keras before TensorFlow)
from lab_bnn.errors import UserError

import numpy as np

from benchmarks.flatbuffer_model import load_model
from benchmarks.host import host_description
from benchmarks.kernel_paths import (
    KERNEL_PATHS,
    REFERENCE_KERNEL,
    agreement_inputs,
    auto_engine_path,
    engine_level_of,
    invoker,
    known_kernel_paths,
    make_interpreter,
    max_difference,
    random_inputs,
    run,
)
from benchmarks.timing import interleaved_times
from converter.zero_padding import AFFECTED_KERNELS, zero_padding_warnings

# How far a kernel path's outputs may be from the reference path's, relative to the
# outputs' scale: float rounding (XNNPACK) passes, a wrong kernel does not.
OUTPUT_TOLERANCE = 1e-3


@dataclass(frozen=True)
class LatencyRecord:
    """One latency measurement: where, how, and the numbers (milliseconds).

    Attributes:
        host: `benchmarks.host.host_description()` of the measuring machine.
        kernel: the kernel path timed (for "auto", the fastest that agreed); an engine
            path names its dispatch level, e.g. "engine[avx512]".
        threads, runs, warmup: interpreter threads, timed and untimed inferences.
        min_ms, median_ms, p90_ms: of the `runs` timed inferences on `kernel`.
        candidates: for "auto", every agreeing path's median ms (kernel's included),
            timed interleaved in the same rounds; empty otherwise.
        rejected: for "auto", each dropped path and why (failed to load, or outputs
            differing from the reference path's), the engine's included.
    """

    host: str
    kernel: str
    threads: int
    runs: int
    warmup: int
    min_ms: float
    median_ms: float
    p90_ms: float
    candidates: Dict[str, float] = field(default_factory=dict)
    rejected: Dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        """A flat dict for one tidy pandas row, always with the same keys: one
        `median_ms[<path>]` column per known kernel path, the engine's three included
        (`kernel_paths.known_kernel_paths()`; None where it was not a candidate), and
        one `rejected` text column, so rows of any run and host line up in one table."""
        row = {
            k: getattr(self, k)
            for k in ("host", "kernel", "threads", "runs", "warmup", "min_ms", "median_ms", "p90_ms")
        }
        row.update({f"median_ms[{path}]": self.candidates.get(path) for path in known_kernel_paths()})
        row["rejected"] = "; ".join(f"{path}: {why}" for path, why in self.rejected.items())
        return row


def measure_latency(
    flatbuffer: bytes, threads: int = 1, runs: int = 50, warmup: int = 5, kernel: str = "auto"
) -> LatencyRecord:
    """Time whole-model inference of `flatbuffer` with LCE's Python interpreter or our engine.

    Arguments:
        flatbuffer: a converted model (`converter.convert`).
        threads: interpreter threads.
        runs: timed inferences per kernel path; warmup: untimed ones before them.
        kernel: a name from `benchmarks.kernel_paths.known_kernel_paths()` (LCE's
            "default", "indirect_bgemm", "reference_bconv", each optionally "+xnnpack";
            the engine's "engine[portable]", "engine[avx2]", "engine[avx512]"), or
            "auto": run every LCE path and the engine at this CPU's best level (or the
            one `$LAB_BNN_ENGINE_LEVEL` forces; skipped when the engine is unavailable
            here) on the same inputs (`kernel_paths.agreement_inputs`: random and
            all-zero), drop those that fail or whose outputs differ from the
            "reference_bconv" path's by more than `OUTPUT_TOLERANCE` (NaN or inf where
            the reference is finite always differs), time the rest interleaved and keep
            the fastest. A rejection names a zero-padded binary conv that LCE's
            optimized kernels compute wrongly (`converter.zero_padding`) when the model
            has one.
            Each timed call is `kernel_paths.invoker`'s: inputs in, invoke, outputs out.

    Returns:
        A `LatencyRecord`.

    Raises:
        UserError: for an unknown kernel name, a corrupt flatbuffer, a kernel path
            that cannot run the model (an engine path also when the engine is
            unavailable or this CPU lacks its level), `$LAB_BNN_ENGINE_LEVEL` naming a
            level this CPU lacks, or bad counts.

    Example:
        >>> measure_latency(convert(QuickNet()), kernel="auto").kernel  # on AVX-512 x86
        'engine[avx512]'
    """
    if kernel != "auto" and kernel not in known_kernel_paths():
        raise UserError(
            f"unknown kernel path {kernel!r}; allowed: 'auto', "
            + ", ".join(repr(k) for k in known_kernel_paths())
        )
    check_counts(threads=threads, runs=runs, warmup=warmup)
    load_model(flatbuffer)  # LCE's interpreter would crash on a corrupt flatbuffer

    if kernel == "auto":
        runners, rejected = _agreeing_paths(flatbuffer, threads)
    else:
        runners, rejected = {kernel: runner(flatbuffer, kernel, threads)}, {}

    times_ms = {
        name: [t * 1e3 for t in times]
        for name, times in interleaved_times(runners, runs=runs, warmup=warmup, threads=threads).items()
    }
    medians = {name: statistics.median(times) for name, times in times_ms.items()}
    fastest = min(medians, key=medians.get)
    chosen = times_ms[fastest]
    return LatencyRecord(
        host=host_description(),
        kernel=fastest,
        threads=threads,
        runs=runs,
        warmup=warmup,
        min_ms=min(chosen),
        median_ms=medians[fastest],
        p90_ms=float(np.percentile(chosen, 90)),
        candidates=medians if kernel == "auto" else {},
        rejected=rejected,
    )


def check_counts(**counts: int) -> None:
    """Raise ValueError naming any of threads (>= 1), runs (>= 1), warmup (>= 0) out of range."""
    minimum = {"threads": 1, "runs": 1, "warmup": 0}
    for name, value in counts.items():
        if not isinstance(value, (int, np.integer)) or value < minimum[name]:
            raise UserError(f"{name} must be an integer >= {minimum[name]}; received {value!r}")


def runner(flatbuffer: bytes, kernel: str, threads: int, what: str = "this model"):
    """A no-argument inference on one kernel path, on random inputs.

    Raises:
        UserError: naming the kernel path and `what` it cannot run.
    """
    interpreter = load_interpreter(flatbuffer, kernel, threads, what)
    return invoker(interpreter, random_inputs(interpreter))


def load_interpreter(flatbuffer: bytes, kernel: str, threads: int, what: str = "this model"):
    """`kernel_paths.make_interpreter`, with a failure to load as one UserError naming
    the kernel path and `what` it cannot run."""
    try:
        return make_interpreter(flatbuffer, kernel, threads)
    except UserError:
        raise
    except (RuntimeError, ValueError) as error:  # ValueError: tflite-runtime's, for the engine
        raise UserError(f"kernel path {kernel!r} cannot run {what}: {_load_failure(error, kernel)}") from None


def _agreeing_paths(flatbuffer: bytes, threads: int):
    """Runners of the kernel paths (LCE's and the engine at its auto level) that load and
    agree with the reference path on every agreement input, and the reason each other
    path was rejected."""
    try:
        reference = make_interpreter(flatbuffer, REFERENCE_KERNEL, threads)
        inputs = agreement_inputs(reference)
        expected = {name: run(reference, arrays) for name, arrays in inputs.items()}
    except RuntimeError as error:
        raise UserError(f"LCE's reference path cannot run this model: {_load_failure(error)}") from None
    runners, rejected = {}, {}
    engine = auto_engine_path()  # UserError for a forced level this CPU lacks
    for path in [*KERNEL_PATHS, *([engine] if engine else [])]:
        try:
            interpreter = make_interpreter(flatbuffer, path, threads)
            outputs = {name: run(interpreter, arrays) for name, arrays in inputs.items()}
        except UserError:
            raise
        except (RuntimeError, ValueError) as error:  # ValueError: tflite-runtime's, for the engine
            rejected[path] = "failed: " + _load_failure(error, path)
            continue
        why = _disagreement(outputs, expected)
        if why:
            rejected[path] = why + _likely_cause(flatbuffer, path)
            continue
        runners[path] = invoker(interpreter, next(iter(inputs.values())))
    return runners, rejected


def _disagreement(outputs, expected) -> str:
    """Why `outputs` ({input name: arrays}) differ from `expected`, or ""."""
    for name, arrays in outputs.items():
        difference = max_difference(arrays, expected[name])
        if difference is None:
            return f"output shapes or dtypes differ from {REFERENCE_KERNEL}'s"
        if difference > OUTPUT_TOLERANCE:
            what = " (NaN or infinite values, or other integer words)" if difference == float("inf") else ""
            return (
                f"outputs differ from {REFERENCE_KERNEL}'s by {difference:.3g} on the "
                f"{name} input{what} (tolerance {OUTPUT_TOLERANCE:g})"
            )
    return ""


def _likely_cause(flatbuffer: bytes, path: str) -> str:
    """The zero-padded binary convs that this kernel path is known to compute wrongly."""
    if path.split("+")[0] not in AFFECTED_KERNELS:
        return ""
    warnings = zero_padding_warnings(flatbuffer)
    if not warnings:
        return ""
    return (
        "; likely cause: "
        + "; ".join(w.message for w in warnings[:3])
        + (f" (and {len(warnings) - 3} more such convs)" if len(warnings) > 3 else "")
    )


def _load_failure(error: Exception, kernel: str) -> str:
    """LCE's exception names only the failed check; TFLite logs the reason to stderr."""
    line = (str(error).strip().splitlines() or [type(error).__name__])[0]
    if engine_level_of(kernel):
        return line + " (the engine on tflite-runtime; TFLite's log on stderr may say more)"
    return line.split(" : ", 1)[-1] + " (the reason is in LCE's log on stderr)"
