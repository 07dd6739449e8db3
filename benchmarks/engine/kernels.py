"""NumPy-facing wrappers of the engine's kernels (validated arrays in, NumPy arrays out).

Shapes follow LCE: NHWC, channels packed LSB-first into int32 words (bit 1 = negative).
Every function takes ``level`` (``None`` = ``library.engine_level()``) and ``threads``.

Example:
    >>> import numpy as np
    >>> from benchmarks.engine import kernels
    >>> words = kernels.quantize(np.array([[-1.0, 2.0, -0.0]], np.float32))
    >>> words.tolist(), kernels.dequantize(words, 3).tolist()
    ([[1]], [[-1.0, 1.0, 1.0]])
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Sequence

from lab_bnn.errors import UserError

import numpy as np

from benchmarks.engine import library

OUTPUTS = {"float": 0, "int8": 1, "bitpacked": 2}
ACTIVATIONS = {"none": 0, "relu": 1, "relu_n1_to_1": 2, "relu6": 3}


def _array(name: str, value: object, dtype: type, ndim: int | None = None) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype != np.dtype(dtype):
        raise UserError(f"{name} must be {np.dtype(dtype).name}; received {array.dtype}")
    if ndim is not None and array.ndim != ndim:
        raise UserError(f"{name} must have {ndim} dimensions; received shape {array.shape}")
    return np.ascontiguousarray(array)


def _empty(shape: Sequence[int], dtype: type) -> np.ndarray:
    """An output buffer for a kernel to fill (one seam, so tests can hand kernels poisoned memory)."""
    return np.empty(shape, dtype)


def _ptr(array: np.ndarray | None) -> int | None:
    return None if array is None else array.ctypes.data


def _level(level: str | None) -> int:
    return library.level_index(level or library.engine_level())


def same_padding(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """TFLite's SAME rule: (output size, padding before)."""
    out = -(-size // stride)
    effective = (kernel - 1) * dilation + 1
    return out, max((out - 1) * stride + effective - size, 0) // 2


def valid_size(size: int, kernel: int, stride: int, dilation: int) -> int:
    """TFLite's VALID output size."""
    return (size - ((kernel - 1) * dilation + 1) + stride) // stride


def bconv2d_params(
    input_shape: Sequence[int],
    filter_shape: Sequence[int],
    *,
    channels_in: int,
    strides: tuple[int, int] = (1, 1),
    dilations: tuple[int, int] = (1, 1),
    padding: str = "same",
    pad_values: int = 1,
    output: str = "float",
    activation: str = "none",
    output_scale: float = 1.0,
    output_zero_point: int = 0,
) -> library.Bconv2dParams:
    """``lbe_bconv2d_params`` for packed shapes as LceBconv2d sees them (groups from the word counts)."""
    batch, in_h, in_w, words = input_shape
    channels_out, kernel_h, kernel_w, words_group = filter_shape
    if words != math.ceil(channels_in / 32):
        raise UserError(
            f"input has {words} words per pixel; channels_in {channels_in} needs "
            f"{math.ceil(channels_in / 32)}"
        )
    if words_group < 1 or words % words_group:
        raise UserError(f"filter has {words_group} words per group; the input's {words} is not a multiple")
    if padding not in ("same", "valid") or pad_values not in (0, 1):
        raise UserError(
            f"padding must be 'same'/'valid' and pad_values 0/1; received {padding!r}, {pad_values!r}"
        )
    if output not in OUTPUTS or activation not in ACTIVATIONS:
        raise UserError(
            f"output {output!r} / activation {activation!r}; allowed {list(OUTPUTS)} / {list(ACTIVATIONS)}"
        )
    (stride_h, stride_w), (dilation_h, dilation_w) = strides, dilations
    if padding == "same":
        out_h, pad_top = same_padding(in_h, kernel_h, stride_h, dilation_h)
        out_w, pad_left = same_padding(in_w, kernel_w, stride_w, dilation_w)
    else:
        out_h, out_w = (
            valid_size(in_h, kernel_h, stride_h, dilation_h),
            valid_size(in_w, kernel_w, stride_w, dilation_w),
        )
        pad_top = pad_left = 0
    if out_h < 1 or out_w < 1:
        raise UserError(
            f"the {kernel_h}x{kernel_w} kernel does not fit the {in_h}x{in_w} input with VALID padding"
        )
    return library.Bconv2dParams(
        batch, in_h, in_w, channels_in, out_h, out_w, channels_out, kernel_h, kernel_w, stride_h, stride_w,
        dilation_h, dilation_w, pad_top, pad_left, int(padding == "same" and pad_values == 0),
        words // words_group, OUTPUTS[output], ACTIVATIONS[activation], output_scale, output_zero_point,
    )  # fmt: skip


class Bconv2d:
    """A prepared LceBconv2d (filter repacked once); call ``run`` or ``accumulators`` on packed inputs."""

    def __init__(
        self,
        params: library.Bconv2dParams,
        filter_words: np.ndarray,
        multiplier: np.ndarray | None = None,
        bias: np.ndarray | None = None,
        thresholds: np.ndarray | None = None,
        *,
        level: str | None = None,
    ) -> None:
        self._lib = library.load()
        self.params = params
        cout = params.channels_out
        filter_words = _array("filter", filter_words, np.int32, 4)
        if params.output == OUTPUTS["bitpacked"]:
            thresholds = _array("thresholds", thresholds, np.int32, 1)
            multiplier = bias = None
            if thresholds.shape != (cout,):
                raise UserError(f"thresholds must have shape ({cout},); received {thresholds.shape}")
        else:
            multiplier, bias = (
                _array("multiplier", multiplier, np.float32, 1),
                _array("bias", bias, np.float32, 1),
            )
            thresholds = None
            if multiplier.shape != (cout,) or bias.shape != (cout,):
                raise UserError(
                    f"multiplier and bias must have shape ({cout},); "
                    f"received {multiplier.shape}, {bias.shape}"
                )
        error = ctypes.create_string_buffer(512)
        self.handle = self._lib.lbe_bconv2d_create(
            ctypes.byref(params), _level(level), _ptr(filter_words), _ptr(multiplier), _ptr(bias),
            _ptr(thresholds), error, len(error),
        )  # fmt: skip
        if not self.handle:
            raise UserError(f"lbe_bconv2d_create refused: {error.value.decode()}")

    def _check_input(self, words: np.ndarray) -> np.ndarray:
        p = self.params
        words = _array("input", words, np.int32, 4)
        expected = (p.batch, p.in_h, p.in_w, math.ceil(p.channels_in / 32))
        if words.shape != expected:
            raise UserError(f"input must have shape {expected}; received {words.shape}")
        return words

    def run(self, words: np.ndarray, pool: library.Pool | None = None) -> np.ndarray:
        """Float [N,OH,OW,Cout], int8 [N,OH,OW,Cout] or int32 words [N,OH,OW,ceil(Cout/32)]."""
        p = self.params
        words = self._check_input(words)
        if p.output == OUTPUTS["bitpacked"]:
            out = _empty((p.batch, p.out_h, p.out_w, math.ceil(p.channels_out / 32)), np.int32)
        else:
            dtype = np.float32 if p.output == OUTPUTS["float"] else np.int8
            out = _empty((p.batch, p.out_h, p.out_w, p.channels_out), dtype)
        self._lib.lbe_bconv2d_run(self.handle, _ptr(words), _ptr(out), pool.handle if pool else None)
        return out

    def run_add(
        self,
        words: np.ndarray,
        residual: np.ndarray,
        activation: str = "none",
        quantize: bool = False,
        pool: library.Pool | None = None,
        alpha: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """A float-output conv fused with the residual ADD: act(run(words) + residual), then with
        ``alpha`` ([channels_out]) TFLite's PRELU, and with ``quantize`` LceQuantize of the result as
        int32 words (else None), as LabBnnBconv2dAdd runs."""
        p = self.params
        words = self._check_input(words)
        shape = (p.batch, p.out_h, p.out_w, p.channels_out)
        residual = _array("residual", residual, np.float32, 4)
        if p.output != OUTPUTS["float"] or residual.shape != shape or activation not in ACTIVATIONS:
            raise UserError(
                f"run_add needs a float-output conv, a residual of shape {shape} and an activation in "
                f"{', '.join(ACTIVATIONS)}; received output {p.output}, {residual.shape}, {activation!r}"
            )
        if alpha is not None:
            alpha = _array("alpha", alpha, np.float32, 1)
            if alpha.shape != (p.channels_out,):
                raise UserError(f"alpha must have shape ({p.channels_out},); received {alpha.shape}")
        out = _empty(shape, np.float32)
        bits = _empty((*shape[:3], math.ceil(p.channels_out / 32)), np.int32) if quantize else None
        self._lib.lbe_bconv2d_run_fused(
            self.handle, _ptr(words), _ptr(out), _ptr(residual), ACTIVATIONS[activation], _ptr(alpha),
            _ptr(bits), pool.handle if pool else None,
        )  # fmt: skip
        return out, bits

    def accumulators(self, words: np.ndarray, pool: library.Pool | None = None) -> np.ndarray:
        """The int32 accumulators Σ popcount(in ^ filter) (+ padding terms), [N,OH,OW,Cout]."""
        p = self.params
        words = self._check_input(words)
        out = _empty((p.batch, p.out_h, p.out_w, p.channels_out), np.int32)
        self._lib.lbe_bconv2d_accumulators(self.handle, _ptr(words), _ptr(out), pool.handle if pool else None)
        return out

    def __del__(self) -> None:
        if getattr(self, "handle", None):
            self._lib.lbe_bconv2d_destroy(self.handle)
            self.handle = None


def _bconv(input_words, filter_words, multiplier, bias, thresholds, level, threads, options) -> tuple:
    input_words = _array("input", input_words, np.int32, 4)
    filter_words = _array("filter", filter_words, np.int32, 4)
    params = bconv2d_params(input_words.shape, filter_words.shape, **options)
    conv = Bconv2d(params, filter_words, multiplier, bias, thresholds, level=level)
    return conv, input_words, library.Pool(threads)


def bconv2d(
    input_words: np.ndarray,
    filter_words: np.ndarray,
    multiplier: np.ndarray | None = None,
    bias: np.ndarray | None = None,
    thresholds: np.ndarray | None = None,
    *,
    level: str | None = None,
    threads: int = 1,
    **options: object,
) -> np.ndarray:
    """LceBconv2d on packed input ``[N,H,W,words]`` and OHWI packed filter; ``options`` as ``bconv2d_params``.

    Example:
        >>> x = np.zeros((1, 4, 4, 1), np.int32); f = np.zeros((8, 3, 3, 1), np.int32)
        >>> ones = np.ones(8, np.float32)
        >>> float(bconv2d(x, f, ones, 0 * ones, channels_in=32)[0, 1, 1, 0])
        288.0
    """
    conv, input_words, pool = _bconv(
        input_words, filter_words, multiplier, bias, thresholds, level, threads, options
    )
    with pool:
        return conv.run(input_words, pool)


def accumulators(
    input_words: np.ndarray,
    filter_words: np.ndarray,
    *,
    level: str | None = None,
    threads: int = 1,
    **options: object,
) -> np.ndarray:
    """The integer accumulators of ``bconv2d`` (float output transform not applied)."""
    cout = np.asarray(filter_words).shape[0]
    ones = np.ones(cout, np.float32)
    options = {**options, "output": "float"}
    conv, input_words, pool = _bconv(input_words, filter_words, ones, ones, None, level, threads, options)
    with pool:
        return conv.accumulators(input_words, pool)


def quantize(x: np.ndarray, *, level: str | None = None, threads: int = 1) -> np.ndarray:
    """LceQuantize: float32 ``[..., C]`` → int32 ``[..., ceil(C/32)]`` (x < 0 → bit 1); with
    ``threads`` > 1 and at least 64 Ki values, split across a pool as the engine runs it."""
    x = _array("x", x, np.float32)
    if x.ndim < 1:
        raise UserError(f"x needs a channel axis; received shape {x.shape}")
    channels = x.shape[-1]
    out = _empty((*x.shape[:-1], math.ceil(channels / 32)), np.int32)
    pixels = x.size // max(channels, 1)
    if threads == 1:
        library.load().lbe_quantize_f32(_ptr(x), _ptr(out), pixels, channels, _level(level))
        return out
    with library.Pool(threads) as pool:
        library.load().lbe_quantize_f32_pool(_ptr(x), _ptr(out), pixels, channels, _level(level), pool.handle)
    return out


def dequantize(words: np.ndarray, channels: int, *, level: str | None = None) -> np.ndarray:
    """LceDequantize: int32 ``[..., ceil(C/32)]`` → float32 ``[..., C]`` (bit 0 → +1, bit 1 → −1)."""
    words = _array("words", words, np.int32)
    if words.ndim < 1 or words.shape[-1] != math.ceil(channels / 32):
        raise UserError(
            f"words must end in {math.ceil(channels / 32)} words for {channels} channels; "
            f"received {words.shape}"
        )
    out = _empty((*words.shape[:-1], channels), np.float32)
    library.load().lbe_dequantize_f32_at(
        _ptr(words), _ptr(out), words.size // words.shape[-1], channels, _level(level)
    )
    return out


def bmaxpool2d(
    words: np.ndarray, pool_size: tuple[int, int], strides: tuple[int, int], padding: str = "valid"
) -> np.ndarray:
    """LceBMaxPool2d: bitwise AND over each window's in-bounds pixels of ``[N,H,W,words]``."""
    words = _array("words", words, np.int32, 4)
    batch, in_h, in_w, depth = words.shape
    (filter_h, filter_w), (stride_h, stride_w) = pool_size, strides
    out_h, out_w, pad_top, pad_left = _pool_geometry(
        in_h, in_w, filter_h, filter_w, stride_h, stride_w, padding
    )
    out = _empty((batch, out_h, out_w, depth), np.int32)
    library.load().lbe_bmaxpool2d(
        _ptr(words), _ptr(out), batch, in_h, in_w, depth, out_h, out_w, filter_h, filter_w,
        stride_h, stride_w, pad_top, pad_left,
    )  # fmt: skip
    return out


def _pool_geometry(
    in_h, in_w, filter_h, filter_w, stride_h, stride_w, padding, dilation_h=1, dilation_w=1
) -> tuple[int, int, int, int]:
    """TFLite's output size and leading padding of a 2-D window op: (out_h, out_w, pad_top, pad_left)."""
    if padding == "same":
        out_h, pad_top = same_padding(in_h, filter_h, stride_h, dilation_h)
        out_w, pad_left = same_padding(in_w, filter_w, stride_w, dilation_w)
        return out_h, out_w, pad_top, pad_left
    if padding == "valid":
        out_h, out_w = (
            valid_size(in_h, filter_h, stride_h, dilation_h),
            valid_size(in_w, filter_w, stride_w, dilation_w),
        )
        return out_h, out_w, 0, 0
    raise UserError(f"padding must be 'same' or 'valid'; received {padding!r}")


def peak_binary_macs_per_second(level: str | None = None, seconds: float = 0.2) -> float:
    """One thread's XOR+popcount peak (binary MACs/s) at ``level``; see ``library``."""
    return library.peak_binary_macs_per_second(level, seconds)
