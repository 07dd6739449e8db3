"""Running a lab_bnn binary conv on PyTorch-shaped arrays, to compare it with
`numpy_official_bibench` (BiBench's official convs): the shapes worth trying, inputs
kept clear of sign ties, and the NCHW ↔ NHWC, (C_out, C_in, kh, kw) ↔ (kh, kw, C_in,
C_out) transposes in one place."""

from typing import NamedTuple

import numpy as np
import tensorflow as tf


class ConvCase(NamedTuple):
    batch: int
    height: int
    width: int
    in_channels: int
    out_channels: int
    kernel: int
    stride: int
    padding: str  # Keras; "same" only with stride 1 and an odd kernel (= torch's k // 2)

    @property
    def torch_padding(self) -> int:
        return self.kernel // 2 if self.padding == "same" else 0

    @property
    def input_shape(self):
        return (self.batch, self.in_channels, self.height, self.width)

    @property
    def weight_shape(self):
        return (self.out_channels, self.in_channels, self.kernel, self.kernel)

    def output_shape(self):
        p = self.torch_padding
        h = (self.height + 2 * p - self.kernel) // self.stride + 1
        w = (self.width + 2 * p - self.kernel) // self.stride + 1
        return (self.batch, self.out_channels, h, w)


CASES = [
    ConvCase(2, 7, 6, 3, 5, 3, 1, "same"),
    ConvCase(1, 5, 5, 4, 3, 1, 1, "valid"),  # k = 1, batch 1
    ConvCase(3, 6, 7, 2, 4, 2, 1, "valid"),  # k = 2
    ConvCase(2, 9, 8, 3, 2, 4, 2, "valid"),  # k = 4, stride 2
    ConvCase(1, 2, 2, 5, 3, 2, 1, "valid"),  # tiny map: 1 × 1 output
    ConvCase(2, 1, 1, 6, 4, 1, 1, "valid"),  # 1 × 1 map
]


def case_id(case: ConvCase) -> str:
    return f"n{case.batch}_{case.height}x{case.width}_k{case.kernel}s{case.stride}{case.padding}"


def float32_exact(a):
    """float64 values that float32 represents exactly, so both sides start equal."""
    return np.asarray(a, np.float32).astype(np.float64)


def clear_of(rng, shape, scale=1.0, ties=(0.0,), margin=1e-3):
    """Normal(0, scale) samples moved at least `margin` away from every tie value."""
    a = rng.randn(*shape) * scale
    for t in ties:
        near = np.abs(a - t) < margin
        a[near] = t + np.where(a[near] >= t, margin, -margin) * 2
    return float32_exact(a)


def to_nchw(a):
    return np.transpose(a, (0, 3, 1, 2))


def to_nhwc(a):
    return np.transpose(a, (0, 2, 3, 1))


def to_keras_kernel(w):
    return np.transpose(w, (2, 3, 1, 0))


def to_torch_weight(k):
    return np.transpose(k, (3, 2, 0, 1))


def run_conv(layer, x, weight, upstream, training=None, variables=(), prepare=None):
    """Builds `layer` for NCHW `x`, sets its kernel from the torch-shaped `weight`, calls
    `prepare(layer)` (to set other weights) and returns y, dL/dx, dL/dW (all torch-
    shaped) and dL/d each of `variables` (names of attributes of the layer or of its
    input quantizer), L = sum(upstream · y)."""
    x_t = tf.constant(to_nhwc(x), tf.float32)
    layer(x_t)  # builds the quantizers too
    layer.kernel.assign(to_keras_kernel(weight))
    if prepare is not None:
        prepare(layer)
    targets = [_variable(layer, name) for name in variables]
    with tf.GradientTape() as tape:
        tape.watch(x_t)
        y = layer(x_t) if training is None else layer(x_t, training=training)
        loss = tf.reduce_sum(y * tf.constant(to_nhwc(upstream), tf.float32))
    dx, dk, *rest = tape.gradient(loss, [x_t, layer.kernel] + targets)
    return to_nchw(y.numpy()), to_nchw(dx.numpy()), to_torch_weight(dk.numpy()), [g.numpy() for g in rest]


def _variable(layer, name):
    if hasattr(layer, name):
        return getattr(layer, name)
    return getattr(layer.input_quantizer, name)


def assert_close(actual, expected, rtol=1e-5):
    """Within rtol relative, with an absolute floor of rtol · max|expected| for the
    entries that cancel to ~0."""
    expected = np.asarray(expected)
    floor = rtol * max(float(np.abs(expected).max(initial=0.0)), 1e-30)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=floor)


def with_exact_zeros(rng, a, fraction=0.3):
    """A copy of `a` with about `fraction` of its entries set to exactly 0."""
    a = a.copy()
    a[rng.rand(*a.shape) < fraction] = 0.0
    return a
