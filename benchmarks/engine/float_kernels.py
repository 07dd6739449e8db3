"""NumPy-facing wrappers of the float ops the engine runs in place of tflite-runtime's (fusion.py):
MAX_POOL_2D, AVERAGE_POOL_2D, MIRROR_PAD and PACK, and BoolNet's multi-slice sign. Conventions as
`kernels` (NHWC, ``level`` and ``threads`` keywords).

Example:
    >>> import numpy as np
    >>> from benchmarks.engine import float_kernels
    >>> x = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    >>> float_kernels.maxpool2d(x, (2, 2), (2, 2))[..., 0].tolist()
    [[[5.0, 7.0], [13.0, 15.0]]]
"""

from __future__ import annotations

import ctypes

from lab_bnn.errors import UserError

import numpy as np

from benchmarks.engine import kernels, library
from benchmarks.engine.kernels import (
    ACTIVATIONS,
    _array,
    _level,
    _pool_geometry,
    _ptr,
)

MIRROR_PAD_MODES = {"reflect": 0, "symmetric": 1}  # TFLite's MirrorPadMode


def mirror_pad(x: np.ndarray, paddings, mode: str = "reflect") -> np.ndarray:
    """MIRROR_PAD of any-dtype ``x`` (rank 1-8): ``paddings`` [rank, 2] before/after per dimension."""
    x = np.ascontiguousarray(x)
    pads = np.asarray(paddings, np.int64)
    if mode not in MIRROR_PAD_MODES:
        raise UserError(f"mode must be one of {', '.join(MIRROR_PAD_MODES)}; received {mode!r}")
    if not 1 <= x.ndim <= 8 or pads.shape != (x.ndim, 2) or x.size == 0:
        raise UserError(
            f"paddings must have shape ({x.ndim}, 2) for a non-empty rank 1-8 input; received {pads.shape}"
        )
    out = kernels._empty([int(n + a + b) for n, (a, b) in zip(x.shape, pads)], x.dtype)
    dims = np.asarray(x.shape, np.int32)
    if library.load().lbe_mirror_pad(
        _ptr(x), _ptr(out), x.ndim, _ptr(dims), _ptr(pads), MIRROR_PAD_MODES[mode], x.itemsize
    ):
        limit = "the dimension" if mode == "symmetric" else "the dimension - 1"
        raise UserError(
            f"{mode} paddings must lie in [0, {limit}] for shape {x.shape}; received {pads.tolist()}"
        )
    return out


def pack(arrays, axis: int = 0, *, threads: int = 1) -> np.ndarray:
    """TFLite's PACK (NumPy's ``stack``) of same-shape, same-dtype arrays along a new ``axis``
    (negative counts from the end of the output's dimensions)."""
    arrays = [np.ascontiguousarray(a) for a in arrays]
    if not arrays or any(a.shape != arrays[0].shape or a.dtype != arrays[0].dtype for a in arrays):
        shapes = [(a.shape, str(a.dtype)) for a in arrays]
        raise UserError(f"pack needs one or more arrays of one shape and dtype; received {shapes}")
    shape, rank = arrays[0].shape, arrays[0].ndim
    if not -rank - 1 <= axis <= rank:
        raise UserError(f"axis must lie in [{-rank - 1}, {rank}] for rank-{rank} arrays; received {axis}")
    axis = axis + rank + 1 if axis < 0 else axis
    out = kernels._empty((*shape[:axis], len(arrays), *shape[axis:]), arrays[0].dtype)
    if out.size == 0:
        return out
    pointers = (ctypes.c_void_p * len(arrays))(*[a.ctypes.data for a in arrays])
    outer, inner = int(np.prod(shape[:axis])), int(np.prod(shape[axis:])) * arrays[0].itemsize
    with library.Pool(threads) as pool:
        if library.load().lbe_pack(pointers, len(arrays), _ptr(out), outer, inner, pool.handle):
            raise UserError(f"lbe_pack refused {len(arrays)} arrays of shape {shape}, axis {axis}")
    return out


def multi_slice_sign(
    x: np.ndarray,
    thresholds: np.ndarray,
    slices: int,
    subtract: bool = True,
    *,
    level: str | None = None,
    threads: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """BoolNet's multi-slice sign as LCE converts it, on ``[..., C]`` float32 ``x``: the values
    ``tile(x, slices) - thresholds`` (``+`` unless ``subtract``; ``thresholds`` ``[slices * C]``),
    their LceQuantize (int32 words ``[..., ceil(slices * C / 32)]``) and its LceDequantize (±1)."""
    x = _array("x", x, np.float32)
    thresholds = _array("thresholds", thresholds, np.float32, 1)
    if x.ndim < 1 or not isinstance(slices, int) or slices < 1 or thresholds.shape != (slices * x.shape[-1],):
        raise UserError(
            f"multi_slice_sign needs slices >= 1 and thresholds of shape (slices * channels,); received "
            f"slices={slices!r}, x {x.shape}, thresholds {thresholds.shape}"
        )
    channels, width = x.shape[-1], slices * x.shape[-1]
    pixels = x.size // channels if channels else 0
    signs = kernels._empty((*x.shape[:-1], width), np.float32)
    bits = kernels._empty((*x.shape[:-1], -(-width // 32)), np.int32)
    with library.Pool(threads) as pool:
        if library.load().lbe_multi_slice_sign(
            _ptr(x), _ptr(thresholds), pixels, channels, slices, int(subtract), _ptr(signs), _ptr(bits),
            _level(level), pool.handle,
        ):  # fmt: skip
            raise UserError(f"lbe_multi_slice_sign refused x {x.shape}, {slices} slices")
    return signs, bits


def _pool2d(
    function: str,
    x: np.ndarray,
    pool_size: tuple[int, int],
    strides: tuple[int, int],
    padding: str = "valid",
    activation: str = "none",
    *,
    level: str | None = None,
    threads: int = 1,
) -> np.ndarray:
    """A float pooling op of the library on ``[N,H,W,C]``."""
    x = _array("x", x, np.float32, 4)
    if activation not in ACTIVATIONS:
        raise UserError(f"activation must be one of {', '.join(ACTIVATIONS)}; received {activation!r}")
    batch, in_h, in_w, channels = x.shape
    (filter_h, filter_w), (stride_h, stride_w) = pool_size, strides
    out_h, out_w, pad_top, pad_left = _pool_geometry(
        in_h, in_w, filter_h, filter_w, stride_h, stride_w, padding
    )
    params = library.Pool2dParams(
        batch, in_h, in_w, channels, out_h, out_w, filter_h, filter_w, stride_h, stride_w, pad_top, pad_left,
        ACTIVATIONS[activation],
    )  # fmt: skip
    out = kernels._empty((batch, out_h, out_w, channels), np.float32)
    with library.Pool(threads) as pool:
        if getattr(library.load(), function)(
            _ptr(x), _ptr(out), ctypes.byref(params), _level(level), pool.handle
        ):
            raise UserError(f"{function} refused {params_text(params)}")
    return out


def maxpool2d(x: np.ndarray, pool_size, strides, padding="valid", activation="none", **kw) -> np.ndarray:
    """Float MAX_POOL_2D of ``[N,H,W,C]`` as TFLite computes it (padding ignored, fused activation);
    ``level`` and ``threads`` as keywords."""
    return _pool2d("lbe_maxpool2d_f32", x, pool_size, strides, padding, activation, **kw)


def avgpool2d(x: np.ndarray, pool_size, strides, padding="valid", activation="none", **kw) -> np.ndarray:
    """Float AVERAGE_POOL_2D of ``[N,H,W,C]`` with XNNPACK's arithmetic; only windows of at most 9
    pixels that need no padding (else UserError)."""
    return _pool2d("lbe_avgpool2d_f32", x, pool_size, strides, padding, activation, **kw)


def depthwise2d(
    x: np.ndarray,
    filter: np.ndarray,
    bias: np.ndarray | None = None,
    strides: tuple[int, int] = (1, 1),
    padding: str = "same",
    dilations: tuple[int, int] = (1, 1),
    activation: str = "none",
    *,
    level: str | None = None,
    threads: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Float DEPTHWISE_CONV_2D (depth multiplier 1) of ``[N,H,W,C]`` with XNNPACK's arithmetic and
    ``filter`` ``[kh,kw,C]`` (TFLite's ``[1,kh,kw,C]`` also accepted): the floats and their
    LceQuantize (int32 words ``[N,OH,OW,ceil(C/32)]``), as LabBnnDepthwiseQuantize computes them."""
    x = _array("x", x, np.float32, 4)
    filter = _array("filter", filter, np.float32)
    filter = filter[0] if filter.ndim == 4 and filter.shape[0] == 1 else filter
    batch, in_h, in_w, channels = x.shape
    if filter.ndim != 3 or filter.shape[2] != channels:
        raise UserError(f"filter must have shape [kh, kw, {channels}]; received {filter.shape}")
    bias = None if bias is None else _array("bias", bias, np.float32, 1)
    if bias is not None and bias.shape != (channels,):
        raise UserError(f"bias must have shape ({channels},); received {bias.shape}")
    if activation not in ACTIVATIONS or padding not in ("same", "valid"):
        raise UserError(
            f"activation must be one of {', '.join(ACTIVATIONS)} and padding 'same' or 'valid'; "
            f"received {activation!r}, {padding!r}"
        )
    (kh, kw, _), (sh, sw), (dh, dw) = filter.shape, strides, dilations
    out_h, out_w, pad_top, pad_left = _pool_geometry(in_h, in_w, kh, kw, sh, sw, padding, dh, dw)
    params = library.DepthwiseParams(
        batch,
        in_h,
        in_w,
        channels,
        out_h,
        out_w,
        kh,
        kw,
        sh,
        sw,
        dh,
        dw,
        pad_top,
        pad_left,
        ACTIVATIONS[activation],
    )
    out = kernels._empty((batch, out_h, out_w, channels), np.float32)
    bits = kernels._empty((batch, out_h, out_w, -(-channels // 32)), np.int32)
    with library.Pool(threads) as pool:
        if library.load().lbe_depthwise_f32(
            _ptr(x),
            _ptr(filter),
            _ptr(bias),
            _ptr(out),
            _ptr(bits),
            ctypes.byref(params),
            _level(level),
            pool.handle,
        ):
            raise UserError(f"lbe_depthwise_f32 refused {params_text(params)}")
    return out, bits


def params_text(params: ctypes.Structure) -> str:
    return ", ".join(f"{name}={getattr(params, name)}" for name, _ in params._fields_)


BINARY_OPERATIONS = {"add": 0, "mul": 1}


def binary(
    a: np.ndarray, b: np.ndarray, operation: str = "add", activation: str = "none", *, threads: int = 1
) -> np.ndarray:
    """Float32 ADD or MUL with TFLite's fused ``activation``; ``b`` is ``a``'s shape, a scalar or
    ``a``'s trailing dimensions (it repeats along ``a``)."""
    a, b = _array("a", a, np.float32), _array("b", b, np.float32)
    if operation not in BINARY_OPERATIONS or activation not in ACTIVATIONS:
        raise UserError(
            f"operation must be one of {', '.join(BINARY_OPERATIONS)} and activation one of "
            f"{', '.join(ACTIVATIONS)}; received {operation!r}, {activation!r}"
        )
    trailing = tuple(b.shape)
    while trailing and trailing[0] == 1:  # leading 1s broadcast
        trailing = trailing[1:]
    if b.ndim > a.ndim or b.size < 1 or a.shape[a.ndim - len(trailing) :] != trailing:
        raise UserError(f"b must be a scalar or a's trailing dimensions {a.shape}; received shape {b.shape}")
    out = kernels._empty(a.shape, np.float32)
    with library.Pool(threads) as pool:
        code, act = BINARY_OPERATIONS[operation], ACTIVATIONS[activation]
        library.load().lbe_binary_f32(_ptr(a), _ptr(b), _ptr(out), a.size, b.size, code, act, pool.handle)
    return out


def strided_copy(x: np.ndarray, begin, strides, out_shape, *, threads: int = 1) -> np.ndarray:
    """``x[begin_0::strides_0, ...]`` cut to ``out_shape`` (rank 1-8, any dtype, begin >= 0,
    strides >= 1): STRIDED_SLICE once TFLite's masks and negative indices are resolved."""
    x = np.ascontiguousarray(x)
    vectors = [np.asarray(v, np.int32) for v in (x.shape, begin, strides, out_shape)]
    if not 1 <= x.ndim <= 8 or any(v.shape != (x.ndim,) for v in vectors):
        received = [v.tolist() for v in vectors[1:]]
        raise UserError(f"begin, strides and out_shape need {x.ndim} values each (rank 1-8); got {received}")
    out = kernels._empty(tuple(int(d) for d in vectors[3]), x.dtype)
    with library.Pool(threads) as pool:
        pointers = [_ptr(v) for v in vectors]
        if library.load().lbe_strided_copy(_ptr(x), _ptr(out), x.ndim, *pointers, x.itemsize, pool.handle):
            raise UserError(
                f"slice begin {vectors[1].tolist()}, strides {vectors[2].tolist()}, "
                f"shape {vectors[3].tolist()} reaches outside shape {x.shape}"
            )
    return out
