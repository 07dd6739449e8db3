"""α·sign(W) weights with a per-output-channel α = mean|W|: the weight binarizer of
XNOR-Net, DoReFa (1-bit), Bi-Real Net and ReActNet as BiBench trains them."""

from lab_bnn.quantizers.base import BinarizerBase, register_binarizer, require_rank_at_least_2
from lab_bnn.registry import Card

import larq as lq
import tensorflow as tf


def channel_mean_abs(weights: tf.Tensor) -> tf.Tensor:
    """mean|W| over every axis but the last (the output channels), kept as a
    broadcastable tensor."""
    return tf.reduce_mean(tf.abs(weights), axis=list(range(weights.shape.rank - 1)))


def scaled_sign_ste(x: tf.Tensor, scale: tf.Tensor, clip_value: float) -> tf.Tensor:
    """scale·sign(x) forward; backward the clip-STE 1{|x| ≤ clip_value}, unscaled
    (BiBench's detach trick), with no gradient to `scale`."""

    @tf.custom_gradient
    def _forward(x):
        def grad(dy):
            return dy * tf.cast(tf.abs(x) <= clip_value, dy.dtype)

        return scale * lq.math.sign(x), grad

    return _forward(x)


@register_binarizer(
    "scaled_sign",
    Card(
        paper="XNOR-Net (Rastegari et al. 2016) / DoReFa-Net (Zhou et al. 2016) weights",
        role="weight",
    ),
)
class ScaledSign(BinarizerBase):
    """α_w·sign(W), α_w = mean|W| per output channel (no gradient through α_w);
    `per_channel=False` gives original DoReFa's one per-layer α = E|W|.

    The gradient is the clip-STE 1{|W| ≤ clip_value}, not scaled by α_w (BiBench's
    `binary_weights_no_grad.detach() - clipped.detach() + clipped`); larq's
    `magnitude_aware_sign` differs there by the factor α_w. LCE folds α_w into the
    binary conv's per-channel output multiplier.

    Arguments:
        clip_value: clip-STE threshold.
        per_channel: one α per output channel (BiBench) or one for the layer.

    Example:
        >>> larq.layers.QuantConv2D(64, 3, kernel_quantizer="scaled_sign")
    """

    precision = 1

    def __init__(self, clip_value: float = 1.0, per_channel: bool = True, **kwargs):
        self.clip_value = clip_value
        self.per_channel = bool(per_channel)
        super().__init__(**kwargs)

    def build(self, input_shape):
        require_rank_at_least_2("ScaledSign", input_shape, "a kernel (..., inputs, outputs)")
        super().build(input_shape)

    def call(self, inputs):
        scale = channel_mean_abs(inputs) if self.per_channel else tf.reduce_mean(tf.abs(inputs))
        return super().call(scaled_sign_ste(inputs, tf.stop_gradient(scale), self.clip_value))

    def get_config(self):
        return {**super().get_config(), "clip_value": self.clip_value, "per_channel": self.per_channel}
