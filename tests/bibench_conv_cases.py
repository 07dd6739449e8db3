"""Running a lab_bnn binary conv on PyTorch-shaped arrays, to compare it with
`numpy_official_bibench` (BiBench's official convs): the shapes worth trying, inputs
kept clear of sign ties, and the NCHW ↔ NHWC, (C_out, C_in, kh, kw) ↔ (kh, kw, C_in,
C_out) transposes in one place."""

from typing import NamedTuple

from lab_bnn.recipes import get_recipe

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


def recipe_conv(recipe: str, case: ConvCase):
    """The recipe's binary conv at the case's shape, without bias (BiBench's convs)."""
    return get_recipe(recipe).conv2d(
        case.out_channels, case.kernel, strides=case.stride, padding=case.padding, use_bias=False
    )


def assert_recipe_matches_official(rng, case: ConvCase, recipe: str, official_conv) -> None:
    """The recipe's conv and `official_conv` agree in output, dx and dW off sign ties."""
    x, w = clear_of(rng, case.input_shape, 0.9), clear_of(rng, case.weight_shape, 0.9)
    upstream = rng.randn(*case.output_shape())
    y, dx, dw, _ = run_conv(recipe_conv(recipe, case), x, w, upstream)
    expected = official_conv(x, w, upstream, case.stride, case.torch_padding)
    for actual, wanted in zip((y, dx, dw), expected):
        assert_close(actual, wanted)


def assert_exact_zeros_differ_only_in_sign_of_zero(rng, case: ConvCase, recipe: str, official_conv) -> None:
    """With exact zeros (and one all-zero sample) the recipe's conv equals `official_conv`
    taking sign(0) = +1, and differs from torch.sign's 0."""
    x = with_exact_zeros(rng, clear_of(rng, case.input_shape, 0.9))
    w = with_exact_zeros(rng, clear_of(rng, case.weight_shape, 0.9))
    x[0] = 0.0  # one all-zero sample
    upstream = rng.randn(*case.output_shape())
    y, dx, dw, _ = run_conv(recipe_conv(recipe, case), x, w, upstream)
    args = (x, w, upstream, case.stride, case.torch_padding)
    plus_one = official_conv(*args, zero_sign=1.0)
    for actual, wanted in zip((y, dx, dw), plus_one):
        assert_close(actual, wanted)
    # torch's 0 also reaches dx through the binary weights, so only the plus-one form matches
    assert not np.allclose(y, official_conv(*args)[0], atol=1e-3)
