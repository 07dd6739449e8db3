"""ReCU weight and activation binarizers (Xu et al., ICCV 2021, arXiv 2103.12369),
as BiBench trains them; `lab_bnn.layers.ReCUConv2D` adds the learnable scale."""

from lab_bnn.errors import UserError
from lab_bnn.quantizers.base import BinarizerBase, register_binarizer, require_rank_at_least_2
from lab_bnn.registry import Card
from lab_bnn.schedule import recu_tau

import larq as lq
import numpy as np
import tensorflow as tf

RECU_PAPER = "Xu et al., ICCV 2021, arXiv 2103.12369"


def require_tau(argument: str, value: float) -> float:
    """Raises UserError unless 0.5 < value < 1 (Q_τ = −E|w|·ln(2 − 2τ) > 0, finite)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.5 < value < 1:
        raise UserError(f"ReCU {argument} must be in the open interval (0.5, 1); received {value!r}")
    return float(value)


def unbiased_variance(x: tf.Tensor, axis) -> tf.Tensor:
    """PyTorch's default `var` (n − 1 in the denominator), as the official code uses."""
    n = tf.cast(tf.reduce_prod(tf.gather(tf.shape(x), axis)), x.dtype)
    centered = x - tf.reduce_mean(x, axis=axis, keepdims=True)
    return tf.reduce_sum(centered * centered, axis=axis, keepdims=True) / (n - 1.0)


@register_binarizer("recu_weight", Card(paper=RECU_PAPER, role="weight"))
class ReCUWeight(BinarizerBase):
    """sign(clamp(w1, −Q_τ, Q_τ)) with an identity STE, where per output channel
    w1 = (W − mean) / (sqrt(var + ε) / (2√2)) and Q_τ = −mean|w1|·ln(2 − 2τ)
    (mean over the whole tensor, no gradient). The gradient reaches W through the
    clamp (zero outside ±Q_τ) and the standardization. τ follows `recu_tau` when a
    `BinarizerSchedule` callback drives it.

    Arguments:
        tau: τ until `BinarizerSchedule` first sets the state weight `current_tau`,
            in (0.5, 1).
        tau_start, tau_end: the schedule's τ at epoch 0 and at the last epoch.
        epsilon: added to the variance.

    Raises:
        UserError: if a τ is outside (0.5, 1).
    """

    precision = 1

    def __init__(
        self,
        tau: float = 0.85,
        tau_start: float = 0.85,
        tau_end: float = 0.99,
        epsilon: float = 1e-5,
        **kwargs,
    ):
        self.tau = require_tau("tau", tau)
        self.tau_start = require_tau("tau_start", tau_start)
        self.tau_end = require_tau("tau_end", tau_end)
        self.epsilon = float(epsilon)
        super().__init__(**kwargs)

    def build(self, input_shape):
        require_rank_at_least_2("ReCUWeight", input_shape, "a kernel (..., inputs, outputs)")
        self.current_tau = self.add_state("tau", self.tau)
        super().build(input_shape)

    def update_schedule(self, epoch: int, epochs: int) -> None:
        self.current_tau.assign(recu_tau(epoch, epochs, self.tau_start, self.tau_end))

    def call(self, inputs):
        axes = list(range(inputs.shape.rank - 1))
        centered = inputs - tf.reduce_mean(inputs, axis=axes, keepdims=True)
        std = tf.sqrt(unbiased_variance(centered, axes) + self.epsilon)
        standardized = centered / (std / (2.0 * np.sqrt(2.0)))
        limit = tf.stop_gradient(
            -tf.reduce_mean(tf.abs(standardized)) * tf.math.log(2.0 - 2.0 * self.current_tau)
        )
        clamped = tf.clip_by_value(standardized, -limit, limit)
        return super().call(lq.quantizers.ste_sign(clamped, clip_value=None))

    def get_config(self):
        return {
            **super().get_config(),
            "tau": self.tau,
            "tau_start": self.tau_start,
            "tau_end": self.tau_end,
            "epsilon": self.epsilon,
        }


@register_binarizer("recu_activation", Card(paper=RECU_PAPER, role="activation"))
class ReCUActivation(BinarizerBase):
    """sign(a) with gradient max(0, 2 − 2|a0|), where in training a0 = a / sqrt(var(a)
    + ε) per sample (unbiased variance over all non-batch axes) and at inference
    a0 = a. Dividing by a positive number keeps the sign, so the forward output is
    sign(a) in both modes; the normalization only shapes the gradient.

    Arguments:
        epsilon: added to the variance.
    """

    precision = 1

    def __init__(self, epsilon: float = 1e-5, **kwargs):
        self.epsilon = float(epsilon)
        super().__init__(**kwargs)

    def build(self, input_shape):
        require_rank_at_least_2("ReCUActivation", input_shape, "activations (batch, ..., channels)")
        super().build(input_shape)

    def call(self, inputs, training=None):
        if training is None:
            training = tf.keras.backend.learning_phase()
        axes = list(range(1, inputs.shape.rank))
        normalized = inputs / tf.sqrt(unbiased_variance(inputs, axes) + self.epsilon)
        a0 = tf.__internal__.smart_cond.smart_cond(training, lambda: normalized, lambda: tf.identity(inputs))
        return super().call(lq.quantizers.approx_sign(a0))

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}
