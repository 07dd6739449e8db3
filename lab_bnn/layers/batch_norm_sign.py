"""BatchNorm followed by a multi-slice sign, and its inference form: a per-channel,
per-slice threshold compare (BoolNet, Guo et al., arXiv 2106.06991)."""

from lab_bnn.errors import UserError
from lab_bnn.layers.base import register_layer
from lab_bnn.layers.multi_slice import MultiSliceSign, require_slices, slice_offsets
from lab_bnn.registry import Card

import larq as lq
import numpy as np
import tensorflow as tf

# BoolNet's code uses PyTorch's BatchNorm2d defaults: eps 1e-5 and momentum 0.1, i.e. the
# running statistics keep 0.9 of their value each step, which is Keras' momentum 0.9.
BOOLNET_EPSILON = 1e-5
BOOLNET_MOMENTUM = 0.9


def require_batch_norm_arguments(layer: str, momentum, epsilon) -> tuple:
    """Validate Keras BatchNormalization's momentum (in [0, 1)) and epsilon (> 0).

    Raises:
        UserError: naming the value received and what is allowed.
    """
    numeric = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)  # noqa: E731
    if not (numeric(momentum) and 0.0 <= momentum < 1.0):
        raise UserError(
            f"{layer} momentum must be a number in [0, 1) (Keras' convention: PyTorch's "
            f"momentum 0.1 is 0.9 here); received {momentum!r}"
        )
    if not (numeric(epsilon) and epsilon > 0.0):
        raise UserError(f"{layer} epsilon must be a positive number; received {epsilon!r}")
    return float(momentum), float(epsilon)


@register_layer(
    "batch_norm_sign",
    Card(
        paper="BoolNet, Guo et al., arXiv 2106.06991",
        role="layer",
        learnable="BatchNorm γ, β (and its moving statistics)",
        float_ops=frozenset({"ADD", "SIGN", "SUB", "TILE"}),
        stays_float="the threshold compare: a tiled SUB of thresholds before one sign "
        "(a float SIGN where the next conv re-signs)",
    ),
)
class BatchNormSign(tf.keras.layers.Layer):
    """MultiSliceSign(BN(x)) in training; `inference_form()` is the equal
    ThresholdSign: sign(BN(x) + b_s) = sign(d·(x − t_s)), d = sign(γ), per channel
    t_s = μ − (β + b_s)·sqrt(σ² + ε)/γ.

    Arguments:
        slices: k of the multi-slice sign.
        momentum: BatchNormalization's, in Keras' convention (the share of the old running
            statistics kept per step). Default 0.9: BoolNet's code uses PyTorch's
            momentum 0.1, the same update. Keras' own default is 0.99.
        epsilon: BatchNormalization's; default 1e-5 as BoolNet's code (Keras': 1e-3).

    Raises:
        UserError: for a bad k, momentum outside [0, 1) or a non-positive epsilon.
    """

    def __init__(
        self, slices: int = 1, momentum: float = BOOLNET_MOMENTUM, epsilon: float = BOOLNET_EPSILON, **kwargs
    ):
        super().__init__(**kwargs)
        self.slices = require_slices("BatchNormSign", slices)
        self.momentum, self.epsilon = require_batch_norm_arguments("BatchNormSign", momentum, epsilon)
        self.batch_norm = tf.keras.layers.BatchNormalization(momentum=self.momentum, epsilon=self.epsilon)
        self.sign = MultiSliceSign(slices)

    def call(self, inputs, training=None):
        return self.sign(self.batch_norm(inputs, training=training))

    def inference_form(self) -> "ThresholdSign":
        gamma, beta, mean, variance = (w.numpy() for w in self.batch_norm.weights)
        std = np.sqrt(variance + self.epsilon)
        offsets = np.array(slice_offsets(self.slices))[:, None]
        safe_gamma = np.where(gamma == 0, 1.0, gamma)
        thresholds = mean - (beta + offsets) * std / safe_gamma  # (k, C)
        # γ = 0 makes BN constant β: the sign of β + b_s, encoded as a threshold at ±inf.
        thresholds = np.where(gamma == 0, np.where(beta + offsets >= 0, -np.inf, np.inf), thresholds)
        direction = np.where(gamma < 0, -1.0, 1.0)
        form = ThresholdSign(self.slices, name=f"{self.name}_threshold")
        form.build(tf.TensorShape([None, None, None, gamma.shape[0]]))
        form.set_weights([direction.astype(np.float32), thresholds.astype(np.float32)])
        return form

    def compute_output_shape(self, input_shape):
        return self.sign.compute_output_shape(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "slices": self.slices,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
        }


@register_layer(
    "threshold_sign",
    Card(
        paper="BoolNet, Guo et al., arXiv 2106.06991",
        role="layer",
        learnable="- (inference only)",
        float_ops=frozenset({"ADD", "MUL", "SIGN", "SUB", "TILE"}),
        stays_float="a tiled MUL by the direction and SUB of thresholds before one sign",
    ),
)
class ThresholdSign(tf.keras.layers.Layer):
    """Slice s, channel c: +1 where d_c·(x − t_{s,c}) ≥ 0 else −1, slice-major."""

    def __init__(self, slices: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.slices = require_slices("ThresholdSign", slices)

    def build(self, input_shape):
        channels = int(input_shape[-1])
        self.direction = self.add_weight("direction", (channels,), initializer="ones", trainable=False)
        self.thresholds = self.add_weight(
            "thresholds", (self.slices, channels), initializer="zeros", trainable=False
        )
        super().build(input_shape)

    def call(self, inputs):
        # One tiled MUL and SUB for all slices; larq's sign becomes one LceQuantize.
        direction = tf.tile(self.direction, [self.slices])
        offsets = tf.reshape(self.thresholds * self.direction, [-1])
        tiled = inputs if self.slices == 1 else tf.tile(inputs, [1, 1, 1, self.slices])
        return lq.math.sign(tiled * direction - offsets)

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape)[:-1].concatenate([input_shape[-1] * self.slices])

    def get_config(self):
        return {**super().get_config(), "slices": self.slices}
