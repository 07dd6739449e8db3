"""Kernel paths by name, and running a flatbuffer on one of them.

LCE's Python interpreter picks its binary-conv kernel with two flags and can hand float
ops to XNNPACK with a third. On x86 the paths differ up to 6× in speed, and the default
one refuses grouped binary convs, so every measurement names the path it used.

The engine (`benchmarks.engine`: our own C kernels for LCE's ops, on tflite-runtime) is
one more path per dispatch level: `engine[portable]`, `engine[avx2]`, `engine[avx512]`.
They are kept apart from `KERNEL_PATHS`, which holds LCE's interpreter flags only.
A host where the engine cannot build or run keeps LCE's paths, and says so once.
"""

import functools
import os
import warnings
from typing import Callable, Dict, List, Optional, Tuple, Union

import lab_bnn  # noqa: F401  (legacy Keras before TensorFlow)
from lab_bnn.errors import UserError

import numpy as np
from larq_compute_engine.tflite.python.interpreter import Interpreter

from benchmarks.engine import library as engine_library
from benchmarks.engine import tflite_abi
from benchmarks.engine.interpreter import EngineInterpreter
from benchmarks.timing import HOST_KERNEL_PATH

_BCONV_KERNELS = {
    "default": {"use_reference_bconv": False, "use_indirect_bgemm": False},
    "indirect_bgemm": {"use_reference_bconv": False, "use_indirect_bgemm": True},
    "reference_bconv": {"use_reference_bconv": True, "use_indirect_bgemm": False},
}

# The allowed kernel paths: each binary-conv kernel, with and without XNNPACK.
KERNEL_PATHS: Dict[str, Dict[str, bool]] = {
    name + suffix: {**flags, "use_xnnpack": xnnpack}
    for suffix, xnnpack in (("", False), ("+xnnpack", True))
    for name, flags in _BCONV_KERNELS.items()
}

# LCE's plain C++ kernels: the path every other one is checked against.
REFERENCE_KERNEL = "reference_bconv"

# benchmarks.timing's choice for this host, by name.
HOST_KERNEL = next(
    name
    for name, flags in KERNEL_PATHS.items()
    if all(flags[k] == bool(HOST_KERNEL_PATH.get(k)) for k in flags)
)


# The engine's paths, one per dispatch level (slowest first): a fixed list, so that
# tables have the same columns on every host.
ENGINE_PATHS: Tuple[str, ...] = tuple(f"engine[{level}]" for level in engine_library.LEVELS)


def known_kernel_paths() -> List[str]:
    """Every kernel path name, runnable here or not: LCE's, then the engine's.

    Example:
        >>> known_kernel_paths()[-3:]
        ['engine[portable]', 'engine[avx2]', 'engine[avx512]']
    """
    return [*KERNEL_PATHS, *ENGINE_PATHS]


def engine_level_of(kernel: str) -> Optional[str]:
    """The dispatch level in an engine path's name ("engine[avx2]" → "avx2"), else None."""
    return kernel[len("engine[") : -1] if kernel in ENGINE_PATHS else None


def engine_path(level: str) -> str:
    """The kernel path name of the engine at `level` ("avx2" → "engine[avx2]")."""
    return f"engine[{level}]"


def engine_unavailable_reason() -> str:
    """Why the engine cannot run on this host, or "" when it can."""
    return _engine_status()[1]


def runnable_kernel_paths() -> List[str]:
    """The kernel paths this host can run: LCE's, and the engine's at every dispatch
    level this CPU supports (none when the engine is unavailable, which is said once
    per process as a RuntimeWarning)."""
    return [*KERNEL_PATHS, *(engine_path(level) for level in _engine_status()[0])]


def auto_engine_path() -> Optional[str]:
    """The engine path that `measure_latency(kernel="auto")` tries: this CPU's best level,
    or the one `$LAB_BNN_ENGINE_LEVEL` forces; None when the engine is unavailable.

    Raises:
        UserError: `$LAB_BNN_ENGINE_LEVEL` names an unknown level or one this CPU lacks.
    """
    levels = _engine_status()[0]
    if not levels:
        return None
    if os.environ.get(engine_library.LEVEL_ENV, "").strip():
        return engine_path(engine_library.engine_level())  # checks the forced level
    return engine_path(levels[-1])


@functools.lru_cache(maxsize=1)
def _engine_status() -> Tuple[Tuple[str, ...], str]:
    """(supported levels, "") when the engine builds, loads and passes its struct-layout
    probe here, else ((), the reason); the reason is warned about once, here."""
    try:
        lib = engine_library.load()
        levels = engine_library.supported_levels()
        tflite_abi.tflite_runtime_version()
        tflite_abi.check_layout(lib, engine_library.LEVELS.index(levels[-1]))
    except (engine_library.EngineUnavailable, ImportError, OSError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        reason = reason.removeprefix("engine unavailable: ")
        reason = reason.removesuffix("; the engine is unavailable, LCE's paths are used")
        warnings.warn(f"engine unavailable: {reason}; LCE's paths are used", RuntimeWarning, stacklevel=2)
        return (), reason
    return levels, ""


def interpreter_options(kernel: str) -> Dict[str, bool]:
    """The `Interpreter` keyword arguments of a kernel path.

    Raises:
        UserError: if `kernel` is not one of `KERNEL_PATHS`.

    Example:
        >>> interpreter_options("indirect_bgemm+xnnpack")
        {'use_reference_bconv': False, 'use_indirect_bgemm': True, 'use_xnnpack': True}
    """
    if kernel not in KERNEL_PATHS:
        check_kernel_name(kernel)  # an unknown name: the error lists every path
        raise UserError(f"kernel path {kernel!r} is the engine's; it takes no LCE interpreter options")
    return dict(KERNEL_PATHS[kernel])


def check_kernel_name(kernel: str, auto: bool = False) -> None:
    """Raise UserError unless `kernel` is a known path name (or "auto" when `auto`),
    listing every allowed name."""
    allowed = (["auto"] if auto else []) + known_kernel_paths()
    if kernel not in allowed:
        raise UserError(f"unknown kernel path {kernel!r}; allowed: " + ", ".join(allowed))


def make_interpreter(
    flatbuffer: bytes, kernel: str, threads: int = 1
) -> Union[Interpreter, EngineInterpreter]:
    """An interpreter for `flatbuffer` on the named kernel path: LCE's, or for an engine
    path an `EngineInterpreter` at the level in its name (both have `input_shapes`,
    `input_types`, `predict` and `interpreter.predict`).

    Only hand it flatbuffers that `benchmarks.flatbuffer_model.load_model` accepted:
    LCE's interpreter does not verify them and crashes the process on a truncated one.

    Raises:
        UserError: for an unknown kernel path, an engine path while the engine is
            unavailable here, or one whose level this CPU lacks (naming the supported).
        RuntimeError: if LCE cannot prepare the model on this path (e.g. the default
            path and a grouped binary conv), or the engine fails its start-up checks.
        ValueError: if tflite-runtime cannot prepare the model on an engine path.
    """
    level = engine_level_of(kernel)
    if level is None:
        return Interpreter(flatbuffer, num_threads=threads, **interpreter_options(kernel))
    levels, reason = _engine_status()
    if reason:
        raise UserError(f"kernel path {kernel!r}: engine unavailable: {reason}; use one of LCE's paths")
    if level not in levels:
        raise UserError(
            f"kernel path {kernel!r}: this CPU lacks the {level} level; supported engine paths: "
            + ", ".join(engine_path(supported) for supported in levels)
        )
    return EngineInterpreter(flatbuffer, threads=threads, level=level)


def random_inputs(interpreter: Interpreter, seed: int = 0) -> List[np.ndarray]:
    """One random array per model input, of its dtype and shape.

    Floats are standard normal; integer tensors (LCE's bitpacked int32 words, and
    quantized inputs) take any value of their type, since every bit pattern is valid;
    booleans are fair coin flips.

    Raises:
        UserError: for an input dtype other than float, integer or bool.
    """
    rng = np.random.RandomState(seed)
    arrays = []
    for shape, dtype in zip(interpreter.input_shapes, interpreter.input_types):
        dtype = np.dtype(dtype)
        if dtype.kind == "f":
            arrays.append(rng.standard_normal(shape).astype(dtype))
        elif dtype.kind in "iu":
            info = np.iinfo(dtype)
            arrays.append(rng.randint(info.min, int(info.max) + 1, size=shape, dtype=dtype))
        elif dtype.kind == "b":  # e.g. LceQuantize of a comparison (BN-sign not folded)
            arrays.append(rng.randint(0, 2, size=shape).astype(bool))
        else:
            raise UserError(
                f"cannot make random inputs of dtype {dtype}; supported: float, integer and bool tensors"
            )
    return arrays


def agreement_inputs(interpreter: Interpreter) -> Dict[str, List[np.ndarray]]:
    """The inputs on which kernel paths are compared, by name: two standard-normal draws
    and all zeros (a constant input reaches code paths that random data does not)."""
    normal = [random_inputs(interpreter, seed) for seed in (0, 1)]
    zeros = [np.zeros(a.shape, a.dtype) for a in normal[0]]
    return {"random normal": normal[0], "second random normal": normal[1], "all-zero": zeros}


def run(interpreter: Interpreter, inputs: List[np.ndarray]) -> List[np.ndarray]:
    """The model's outputs on one batch of `inputs`, always as a list."""
    outputs = interpreter.predict(list(inputs))
    return list(outputs) if isinstance(outputs, list) else [outputs]


def invoker(interpreter: Interpreter, inputs: List[np.ndarray]) -> Callable[[], object]:
    """A no-argument call running one inference on `inputs`, for timing.

    It calls LCE's C++ wrapper (`interpreter.interpreter.predict`: copy the inputs in,
    invoke, copy the outputs out) without `Interpreter.predict`'s per-sample batching
    helper, whose Python work and extra output copy would weigh on a one-op model.
    """
    wrapper, arrays = interpreter.interpreter, list(inputs)
    return lambda: wrapper.predict(arrays)


def max_difference(outputs: List[np.ndarray], reference: List[np.ndarray]) -> Optional[float]:
    """How far `outputs` are from `reference`: the largest absolute difference of float
    outputs relative to the reference's scale (max |finite reference|, at least 1), and
    inf where integer outputs (bitpacked words) differ at all or where a value is NaN or
    infinite in one and not the same in the other.

    Returns:
        That number, or None if the two lists' shapes or dtypes differ.
    """
    if len(outputs) != len(reference) or any(
        a.shape != b.shape or a.dtype != b.dtype for a, b in zip(outputs, reference)
    ):
        return None
    worst = 0.0
    for a, b in zip(outputs, reference):
        if not a.size:
            continue
        if a.dtype.kind != "f":
            worst = max(worst, 0.0 if np.array_equal(a, b) else float("inf"))
            continue
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        finite = np.isfinite(a64) & np.isfinite(b64)
        same = (a64 == b64) | (np.isnan(a64) & np.isnan(b64))  # equal infs, or NaN in both
        if not np.all(finite | same):
            return float("inf")  # max(worst, nan) would keep worst: NaN must not pass
        if finite.any():
            scale = max(1.0, float(np.max(np.abs(b64[finite]))))
            worst = max(worst, float(np.max(np.abs(a64[finite] - b64[finite]))) / scale)
    return worst
