"""Load the engine's C library with ctypes (building it first when missing or stale) and pick its level.

Callers catch ``EngineUnavailable`` and keep using LCE's kernels. The dispatch level is the
best this CPU supports unless ``LAB_BNN_ENGINE_LEVEL`` (``portable``, ``avx2``, ``avx512``)
forces one.

Example:
    >>> from benchmarks.engine import library
    >>> lib = library.load()
    >>> library.engine_level() in library.supported_levels()
    True
"""

from __future__ import annotations

import ctypes
import functools
import os

from lab_bnn.errors import UserError

from benchmarks.engine import build

ABI_VERSION = 1
LEVELS = ("portable", "avx2", "avx512")  # index = enum lbe_level
LEVEL_ENV = "LAB_BNN_ENGINE_LEVEL"


class EngineUnavailable(RuntimeError):
    """The engine cannot run here: no C compiler, a compile error, or an ABI mismatch."""


def _int32_fields(names: str) -> list:
    """ctypes fields, one int32 per space-separated name, in order."""
    return [(name, ctypes.c_int32) for name in names.split()]


class Bconv2dParams(ctypes.Structure):
    """``lbe_bconv2d_params`` (lbe.h), field for field."""

    _fields_ = _int32_fields(
        "batch in_h in_w channels_in out_h out_w channels_out kernel_h kernel_w stride_h stride_w "
        "dilation_h dilation_w pad_top pad_left zero_padding groups output activation"
    ) + [("output_scale", ctypes.c_float), ("output_zero_point", ctypes.c_int32)]


class Pool2dParams(ctypes.Structure):
    """`lbe_pool2d_params` (lbe.h)."""

    _fields_ = _int32_fields(
        "batch in_h in_w channels out_h out_w filter_h filter_w stride_h stride_w pad_top pad_left activation"
    )


class DepthwiseParams(ctypes.Structure):
    """`lbe_depthwise_params` (lbe.h)."""

    _fields_ = _int32_fields(
        "batch in_h in_w channels out_h out_w kernel_h kernel_w stride_h stride_w dilation_h dilation_w "
        "pad_top pad_left activation"
    )


_P = ctypes.c_void_p
_I32 = ctypes.c_int32
_SIGNATURES = {
    "lbe_abi_version": (ctypes.c_int, []),
    "lbe_best_level": (ctypes.c_int, []),
    "lbe_level_supported": (ctypes.c_int, [ctypes.c_int]),
    "lbe_level_name": (ctypes.c_char_p, [ctypes.c_int]),
    "lbe_pool_create": (_P, [ctypes.c_int]),
    "lbe_pool_destroy": (None, [_P]),
    "lbe_bconv2d_create": (
        _P,
        [ctypes.POINTER(Bconv2dParams), ctypes.c_int, _P, _P, _P, _P, ctypes.c_char_p, ctypes.c_size_t],
    ),
    "lbe_bconv2d_run": (ctypes.c_int, [_P, _P, _P, _P]),
    "lbe_bconv2d_run_add": (ctypes.c_int, [_P, _P, _P, _P, ctypes.c_int, _P]),
    "lbe_bconv2d_run_add_quantize": (ctypes.c_int, [_P, _P, _P, _P, ctypes.c_int, _P, _P]),
    "lbe_bconv2d_run_fused": (ctypes.c_int, [_P, _P, _P, _P, ctypes.c_int, _P, _P, _P]),
    "lbe_bconv2d_accumulators": (ctypes.c_int, [_P, _P, _P, _P]),
    "lbe_bconv2d_destroy": (None, [_P]),
    "lbe_quantize_f32": (None, [_P, _P, ctypes.c_int64, _I32, ctypes.c_int]),
    "lbe_quantize_f32_pool": (None, [_P, _P, ctypes.c_int64, _I32, ctypes.c_int, _P]),
    "lbe_dequantize_f32": (None, [_P, _P, ctypes.c_int64, _I32]),
    "lbe_bmaxpool2d": (None, [_P, _P, *[_I32] * 12]),
    "lbe_peak_binary_macs_per_second": (ctypes.c_double, [ctypes.c_int, ctypes.c_double]),
    "lbe_maxpool2d_f32": (ctypes.c_int, [_P, _P, ctypes.POINTER(Pool2dParams), ctypes.c_int, _P]),
    "lbe_avgpool2d_f32": (ctypes.c_int, [_P, _P, ctypes.POINTER(Pool2dParams), ctypes.c_int, _P]),
    "lbe_depthwise_f32": (
        ctypes.c_int,
        [_P, _P, _P, _P, _P, ctypes.POINTER(DepthwiseParams), ctypes.c_int, _P],
    ),
    "lbe_mirror_pad": (ctypes.c_int, [_P, _P, ctypes.c_int, _P, _P, ctypes.c_int, ctypes.c_int32]),
    "lbe_dequantize_f32_at": (None, [_P, _P, ctypes.c_int64, _I32, ctypes.c_int]),
    "lbe_pack": (ctypes.c_int, [_P, ctypes.c_int, _P, ctypes.c_int64, ctypes.c_int64, _P]),
    "lbe_multi_slice_sign": (
        ctypes.c_int,
        [_P, _P, ctypes.c_int64, _I32, _I32, ctypes.c_int, _P, _P, ctypes.c_int, _P],
    ),
    "lbe_core_link": (ctypes.c_int, [ctypes.POINTER(ctypes.c_double), ctypes.POINTER(ctypes.c_double)]),
    "lbe_binary_f32": (
        ctypes.c_int,
        [_P, _P, _P, ctypes.c_int64, ctypes.c_int64, ctypes.c_int, ctypes.c_int, _P],
    ),
    "lbe_strided_copy": (ctypes.c_int, [_P, _P, ctypes.c_int, _P, _P, _P, _P, _I32, _P]),
}


@functools.lru_cache(maxsize=1)
def load() -> ctypes.CDLL:
    """The loaded library, compiled first if missing or built from other sources.

    Raises:
        EngineUnavailable: the reason (no compiler, the compiler's errors, an ABI mismatch).
    """
    try:
        if not build.is_current():
            build.build()
        lib = ctypes.CDLL(str(build.LIBRARY_PATH))
    except (build.BuildError, OSError) as error:
        raise EngineUnavailable(f"engine unavailable: {error}") from error
    if lib.lbe_abi_version() != ABI_VERSION:
        raise EngineUnavailable(
            f"engine unavailable: library ABI {lib.lbe_abi_version()}, this Python expects {ABI_VERSION}"
        )
    for name, (restype, argtypes) in _SIGNATURES.items():
        function = getattr(lib, name)
        function.restype, function.argtypes = restype, argtypes
    return lib


def supported_levels() -> tuple[str, ...]:
    """The dispatch levels this CPU can run, slowest first (``portable`` always)."""
    lib = load()
    return tuple(name for index, name in enumerate(LEVELS) if lib.lbe_level_supported(index))


def level_index(level: str) -> int:
    """The C enum value of a level name; UserError for an unknown or unsupported one."""
    if level not in LEVELS:
        raise UserError(f"engine level {level!r} is unknown; allowed: {', '.join(LEVELS)}")
    supported = supported_levels()
    if level not in supported:
        raise UserError(
            f"engine level {level!r} is not supported by this CPU; supported: {', '.join(supported)}"
        )
    return LEVELS.index(level)


def engine_level() -> str:
    """The level to run: ``$LAB_BNN_ENGINE_LEVEL`` if set (checked), else the best this CPU supports.

    Raises:
        UserError: the variable names an unknown level or one this CPU lacks.
    """
    forced = os.environ.get(LEVEL_ENV, "").strip()
    if forced:
        try:
            level_index(forced)
        except UserError as error:
            raise UserError(f"{LEVEL_ENV}={forced!r}: {error}") from None
        return forced
    return LEVELS[load().lbe_best_level()]


def peak_binary_macs_per_second(level: str | None = None, seconds: float = 0.2) -> float:
    """One thread's XOR+popcount peak at ``level`` (binary MACs/s, operands in registers/L1)."""
    index = level_index(level or engine_level())
    return float(load().lbe_peak_binary_macs_per_second(index, seconds))


def core_link() -> tuple[float, float] | None:
    """The link between the first two CPUs this thread may use: (round trip of a cache line in ns,
    GB/s at which 1 MiB written on one is read on the other); None on a single CPU. Two-thread
    speed-ups depend on it, and a VM's host may move the two vCPUs between dies at any time."""
    round_trip, rate = ctypes.c_double(), ctypes.c_double()
    if load().lbe_core_link(ctypes.byref(round_trip), ctypes.byref(rate)) != 0:
        return None
    return round_trip.value, rate.value / 1e9


class Pool:
    """A persistent ``lbe_pool``: threads−1 workers plus the caller; a context manager."""

    def __init__(self, threads: int = 1) -> None:
        if not isinstance(threads, int) or threads < 1:
            raise UserError(f"threads must be a positive integer; received {threads!r}")
        self._lib = load()
        self.threads = threads
        self.handle = self._lib.lbe_pool_create(threads)
        if not self.handle:
            raise MemoryError(f"lbe_pool_create({threads}) failed")

    def close(self) -> None:
        if self.handle:
            self._lib.lbe_pool_destroy(self.handle)
            self.handle = None

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()
