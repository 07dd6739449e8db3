"""LAB: Learnable Activation Binarizer (Falkena et al., WACV 2023, arXiv 2210.13858)."""

from lab_bnn.errors import UserError
from lab_bnn.quantizers.base import (
    BinarizerBase,
    register_binarizer,
    require_nhwc,
    require_positive_int,
)
from lab_bnn.quantizers.depthwise_sign import DepthwiseSign
from lab_bnn.registry import Card

import numpy as np
import tensorflow as tf

PAIRINGS = ("same_channel", "official")


def lab_binarize(difference: tf.Tensor) -> tf.Tensor:
    """+1 where `difference` > 0 else -1 (argmax of a pair, ties to -1).

    The gradient is the soft-argmax surrogate d/dd [2·softmax([0, d])[1] − 1] =
    d/dd tanh(d/2) = (1 − tanh²(d/2)) / 2.
    """

    @tf.custom_gradient
    def _binarize(d):
        def grad(dy):
            t = tf.tanh(0.5 * d)
            return dy * 0.5 * (1.0 - t * t)

        return tf.where(d > 0, tf.ones_like(d), -tf.ones_like(d)), grad

    return _binarize(difference)


@register_binarizer(
    "lab",
    Card(
        paper="Falkena et al., WACV 2023, arXiv 2210.13858",
        role="activation",
        learnable="depthwise kernel (k×k×C×2), bias, β",
        float_ops=frozenset({"DEPTHWISE_CONV_2D"}),
        stays_float="one depthwise k×k conv (multiplier 1) per binarized input, after fusion",
    ),
)
class LAB(BinarizerBase):
    """Learnable activation binarizer: a per-channel learned 3×3 binarization kernel.

    A float depthwise conv (depth multiplier 2, SAME, with bias; Keras orders its 2C
    outputs c·2 + m) gives maps that are paired into y0, y1; the output is +1 where
    β·(y1 − y0) > 0, else −1 (a tie gives −1, as the official argmax does).

    Pairing (`pairing`):
    - `"same_channel"` (default): y0, y1 are outputs 2c and 2c+1, the two filters on
      input channel c, as the paper describes. The training graph computes
      β·(y1 − y0) as ONE depthwise conv with kernel k1 − k0 and bias b1 − b0 — the same
      function and gradients at half the cost — and exports as one depthwise conv.
    - `"official"`: the LAB code (sfalkena/larq) reshapes the 2C outputs to (2, C), so
      y0 is output j and y1 output C + j: filters on input channels j // 2 and
      (C + j) // 2, two different channels when C > 1. Same weights, same layout;
      no permutation of the weights turns one pairing into the other (they coincide
      at C = 1). Trains like the published models; has no one-depthwise export.

    Arguments:
        kernel_size: spatial size of the depthwise kernel.
        beta: initial value of β, or its fixed value if `trainable_beta` is False.
        trainable_beta: learn β (a scalar weight) or keep it at `beta`.
        depthwise_initializer: initializer of the (k, k, C, 2) kernel.
        bias_initializer: initializer of the 2C biases.
        pairing: `"same_channel"` or `"official"` (see above).

    Example:
        >>> larq.layers.QuantConv2D(64, 3, input_quantizer="lab")
        >>> LAB(pairing="official")  # output j against output j + C, as the LAB code

    Raises:
        UserError: on a non-4-D input, a non-positive kernel size or an unknown pairing.
    """

    precision = 1

    def __init__(
        self,
        kernel_size: int = 3,
        beta: float = 1.0,
        trainable_beta: bool = True,
        depthwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        pairing: str = "same_channel",
        **kwargs,
    ):
        if pairing not in PAIRINGS:
            raise UserError(f"LAB pairing must be one of {PAIRINGS}; received {pairing!r}")
        self.pairing = pairing
        self.kernel_size = require_positive_int("LAB", "kernel_size", kernel_size)
        self.beta = float(beta)
        self.trainable_beta = bool(trainable_beta)
        self.depthwise_initializer = tf.keras.initializers.get(depthwise_initializer)
        self.bias_initializer = tf.keras.initializers.get(bias_initializer)
        super().__init__(**kwargs)

    def build(self, input_shape):
        channels = require_nhwc("LAB", input_shape)
        k = self.kernel_size
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel",
            shape=(k, k, channels, 2),
            initializer=self.depthwise_initializer,
        )
        self.bias = self.add_weight("bias", shape=(2 * channels,), initializer=self.bias_initializer)
        if self.trainable_beta:
            self.beta_weight = self.add_weight(
                "beta", shape=(), initializer=tf.keras.initializers.Constant(self.beta)
            )
        super().build(input_shape)

    def current_beta(self) -> tf.Tensor:
        """β as used in the forward pass (the weight if learnable)."""
        return self.beta_weight if self.trainable_beta else tf.constant(self.beta)

    def difference(self, inputs: tf.Tensor) -> tf.Tensor:
        """β·(y1 − y0), the pre-binarization map (one depthwise conv when same-channel)."""
        if self.pairing == "official":
            y = tf.nn.depthwise_conv2d(inputs, self.depthwise_kernel, strides=[1, 1, 1, 1], padding="SAME")
            y = y + self.bias
            channels = self.depthwise_kernel.shape[2]
            return self.current_beta() * (y[..., channels:] - y[..., :channels])
        kernel = self.depthwise_kernel[..., 1:] - self.depthwise_kernel[..., :1]
        bias = self.bias[1::2] - self.bias[0::2]
        pair_gap = tf.nn.depthwise_conv2d(inputs, kernel, strides=[1, 1, 1, 1], padding="SAME")
        return self.current_beta() * (pair_gap + bias)

    def call(self, inputs):
        outputs = lab_binarize(self.difference(inputs))
        return super().call(outputs)

    def inference_form(self) -> tf.keras.layers.Layer:
        """LAB for deployment: ONE depthwise conv (multiplier 1) and a sign.

        sign(β·(y1 − y0)) = sign(dw(x; sign(β)(k1 − k0)) + sign(β)(b1 − b0)); |β| drops
        out. Equal outputs except where the difference is exactly 0 (LAB gives −1 there,
        larq's sign +1). With `pairing="official"` the pairs span two input channels,
        which no single depthwise conv computes: the layer itself is returned and
        exports as its training graph (a multiplier-2 depthwise conv and a subtraction).
        """
        if self.pairing != "same_channel":
            return self
        kernel = self.depthwise_kernel.numpy()
        bias = self.bias.numpy()
        direction = np.sign(float(self.current_beta()))
        fused_kernel = direction * (kernel[..., 1:] - kernel[..., :1])
        fused_bias = direction * (bias[1::2] - bias[0::2])
        if direction == 0:  # β = 0 ties every pair, and LAB's tie gives −1
            fused_bias = -np.ones_like(fused_bias)
        fused = DepthwiseSign(kernel_size=self.kernel_size, name=f"{self.name}_fused")
        fused.build(tf.TensorShape([None, None, None, kernel.shape[2]]))
        fused.set_weights([fused_kernel, fused_bias])
        return fused

    def get_config(self):
        return {
            **super().get_config(),
            "kernel_size": self.kernel_size,
            "beta": self.beta,
            "trainable_beta": self.trainable_beta,
            "depthwise_initializer": tf.keras.initializers.serialize(self.depthwise_initializer),
            "bias_initializer": tf.keras.initializers.serialize(self.bias_initializer),
            "pairing": self.pairing,
        }
