"""Progressive weight binarization (BoolNet, Guo et al., arXiv 2106.06991)."""

import numbers

from lab_bnn.errors import UserError
from lab_bnn.quantizers.base import BinarizerBase, register_binarizer, require_rank_at_least_2
from lab_bnn.quantizers.scaled_sign import channel_mean_abs
from lab_bnn.registry import Card

import tensorflow as tf

SIGNS_OF_ZERO = ("plus_one", "zero")


@register_binarizer(
    "progressive_sign",
    Card(
        paper="BoolNet, Guo et al., arXiv 2106.06991",
        role="weight",
        learnable="- (temperature T follows TemperatureSchedule)",
    ),
)
class ProgressiveSign(BinarizerBase):
    """Training: hardtanh(W/T)·mean|W|; inference: sign(W)·mean|W| (per output channel).

    As BoolNet's code (binarize with progressive=training, scale=True): the forward value
    carries no gradient of its own; the gradient is the clip-STE of clamp(W, −1, 1) times
    mean|W|, plus the path through mean|W|. T (the state weight `current_temperature`)
    starts at `temperature` and changes only if training runs
    `lab_bnn.callbacks.TemperatureSchedule` (T ← 0.965·T every N steps), which slides
    training from hardtanh to the sign that inference uses.

    Arguments:
        temperature: the initial T, a number > 0.
        sign_of_zero: what inference gives a weight of exactly 0: "plus_one" (default;
            binary weights as the paper has them, and as LCE binarizes) or "zero" as
            BoolNet's code (torch.sign(0) = 0). Training's hardtanh(0) is 0 either way.

    Raises:
        UserError: for a temperature that is not a positive number or an unknown
            sign_of_zero.

    Example:
        >>> ProgressiveSign()(tf.constant([[0.5, -2.0]]), training=False).numpy()
        array([[ 0.5, -2. ]], dtype=float32)
    """

    precision = 1

    def __init__(self, temperature: float = 1.0, sign_of_zero: str = "plus_one", **kwargs):
        if (
            isinstance(temperature, bool)
            or not isinstance(temperature, numbers.Real)
            or not 0 < temperature < float("inf")
        ):
            raise UserError(f"ProgressiveSign temperature must be a number > 0; received {temperature!r}")
        if sign_of_zero not in SIGNS_OF_ZERO:
            raise UserError(
                f"ProgressiveSign sign_of_zero must be one of {', '.join(map(repr, SIGNS_OF_ZERO))}; "
                f"received {sign_of_zero!r}"
            )
        self.temperature = float(temperature)
        self.sign_of_zero = sign_of_zero
        super().__init__(**kwargs)

    def build(self, input_shape):
        require_rank_at_least_2("ProgressiveSign", input_shape, "a kernel (..., inputs, outputs)")
        self.current_temperature = self.add_state("temperature", self.temperature)
        super().build(input_shape)

    def call(self, inputs, training=None):
        if training is None:
            training = tf.keras.backend.learning_phase()
        soft = tf.clip_by_value(inputs / self.current_temperature, -1.0, 1.0)
        if self.sign_of_zero == "zero":
            hard = tf.sign(inputs)
        else:
            hard = tf.where(inputs >= 0, tf.ones_like(inputs), -tf.ones_like(inputs))
        value = tf.__internal__.smart_cond.smart_cond(training, lambda: soft, lambda: hard)
        clipped = tf.clip_by_value(inputs, -1.0, 1.0)
        straight_through = tf.stop_gradient(value - clipped) + clipped
        return super().call(straight_through * channel_mean_abs(inputs))

    def get_config(self):
        return {**super().get_config(), "temperature": self.temperature, "sign_of_zero": self.sign_of_zero}
