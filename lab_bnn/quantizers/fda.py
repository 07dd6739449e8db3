"""FDA: Fourier-series gradient binarizers (Xu et al., NeurIPS 2021, arXiv 2108.09017),
as BiBench trains them."""

from lab_bnn.quantizers.base import BinarizerBase, register_binarizer, require_rank_at_least_2
from lab_bnn.quantizers.scaled_sign import ScaledSign, channel_mean_abs
from lab_bnn.registry import Card
from lab_bnn.schedule import fda_noise_weight, fda_terms

import larq as lq
import numpy as np
import tensorflow as tf

FDA_PAPER = "Xu et al., NeurIPS 2021, arXiv 2108.09017"


def fourier_sign(x: tf.Tensor, terms: tf.Tensor, omega: float) -> tf.Tensor:
    """sign(x) with the gradient (4ω/π)·Σ_{i=0..n} cos((2i+1)ωx) for |x| ≤ 1, else 0.

    The sum is evaluated in closed form, sin(2(n+1)ωx) / (2 sin(ωx)), which is n + 1
    at x = 0.
    """

    @tf.custom_gradient
    def _sign(x):
        def grad(dy):
            n1 = tf.cast(terms, x.dtype) + 1.0
            theta = omega * x
            small = tf.abs(tf.sin(theta)) < 1e-6
            safe = tf.where(small, tf.ones_like(theta), tf.sin(theta))
            series = tf.where(small, n1 * tf.ones_like(x), tf.sin(2.0 * n1 * theta) / (2.0 * safe))
            inside = tf.cast(tf.abs(x) <= 1.0, x.dtype)
            return dy * (4.0 * omega / np.pi) * series * inside

        return lq.math.sign(x), grad

    return _sign(x)


class _FourierTerms:
    """The scheduled number of Fourier terms n, shared by both FDA binarizers."""

    def _build_terms(self):
        self.current_terms = self.add_state("terms", self.terms, tf.int32)

    def _update_terms(self, epoch: int, epochs: int) -> None:
        self.current_terms.assign(fda_terms(epoch, epochs, self.terms_start, self.terms_end))


@register_binarizer("fda_sign", Card(paper=FDA_PAPER, role="activation"))
class FdaSign(_FourierTerms, BinarizerBase):
    """sign(x) with FDA's Fourier-series gradient; n grows 9 → 18 over training.

    Arguments:
        terms: n until `BinarizerSchedule` first sets the state weight `current_terms`.
        terms_start, terms_end: n at epoch 0 and at the last epoch.
        omega: ω of the series.
    """

    precision = 1

    def __init__(
        self, terms: int = 9, terms_start: int = 9, terms_end: int = 18, omega: float = 0.1, **kwargs
    ):
        self.terms, self.terms_start, self.terms_end = int(terms), int(terms_start), int(terms_end)
        self.omega = float(omega)
        super().__init__(**kwargs)

    def build(self, input_shape):
        require_rank_at_least_2("FdaSign", input_shape, "activations (batch, ..., channels)")
        self._build_terms()
        super().build(input_shape)

    def update_schedule(self, epoch: int, epochs: int) -> None:
        self._update_terms(epoch, epochs)

    def call(self, inputs):
        return super().call(fourier_sign(inputs, self.current_terms, self.omega))

    def get_config(self):
        return {
            **super().get_config(),
            "terms": self.terms,
            "terms_start": self.terms_start,
            "terms_end": self.terms_end,
            "omega": self.omega,
        }


@register_binarizer(
    "fda_weight",
    Card(
        paper=FDA_PAPER,
        role="weight",
        learnable="noise-adaptation MLP (training only)",
        stays_float="nothing once the noise weight reaches 0 (the last epoch): the "
        "inference form drops the noise-adaptation term",
    ),
)
class FdaWeight(_FourierTerms, BinarizerBase):
    """α_w·(sign(W) + λ·noise(W)) with FDA's Fourier gradient through sign(W).

    α_w = mean|W| per output channel (no gradient). noise(W), per output channel
    w ∈ R^d: fc2(relu(fc1(w))) + 0.1·sin(w), with fc1: d → d/reduction (d/4 when
    d < reduction) and fc2 back to d, no biases. λ = 0.05·(1 + cos(π(e+1)/E)) falls
    to 0 by the last epoch; the inference form is α_w·sign(W), the end-of-training
    function.

    Arguments:
        terms, terms_start, terms_end, omega: as FdaSign.
        noise_weight: λ until `BinarizerSchedule` first sets the state weight
            `current_noise_weight`.
        reduction: the MLP's hidden-width divisor.
    """

    precision = 1

    def __init__(
        self,
        terms: int = 9,
        terms_start: int = 9,
        terms_end: int = 18,
        omega: float = 0.1,
        noise_weight: float = 0.1,
        reduction: int = 64,
        **kwargs,
    ):
        self.terms, self.terms_start, self.terms_end = int(terms), int(terms_start), int(terms_end)
        self.omega = float(omega)
        self.noise_weight = float(noise_weight)
        self.reduction = int(reduction)
        super().__init__(**kwargs)

    def build(self, input_shape):
        require_rank_at_least_2("FdaWeight", input_shape, "a kernel (..., inputs, outputs)")
        shape = tf.TensorShape(input_shape)
        width = int(np.prod(shape[:-1]))
        hidden = max(1, width // self.reduction if width >= self.reduction else width // 4)
        self.noise_in = self.add_weight("noise_in", (width, hidden), initializer="glorot_uniform")
        self.noise_out = self.add_weight("noise_out", (hidden, width), initializer="glorot_uniform")
        self.current_noise_weight = self.add_state("noise_weight", self.noise_weight)
        self._build_terms()
        super().build(input_shape)

    def update_schedule(self, epoch: int, epochs: int) -> None:
        self._update_terms(epoch, epochs)
        self.current_noise_weight.assign(fda_noise_weight(epoch, epochs))

    def noise(self, weights: tf.Tensor) -> tf.Tensor:
        rows = tf.transpose(tf.reshape(weights, (-1, weights.shape[-1])))  # (out, d)
        adapted = tf.nn.relu(rows @ self.noise_in) @ self.noise_out
        return tf.reshape(tf.transpose(adapted), tf.shape(weights)) + 0.1 * tf.sin(weights)

    def call(self, inputs):
        scale = tf.stop_gradient(channel_mean_abs(inputs))
        binary = fourier_sign(inputs, self.current_terms, self.omega)
        return super().call(scale * (binary + self.current_noise_weight * self.noise(inputs)))

    def inference_form(self) -> ScaledSign:
        return ScaledSign(name=f"{self.name}_inference")

    def get_config(self):
        return {
            **super().get_config(),
            "terms": self.terms,
            "terms_start": self.terms_start,
            "terms_end": self.terms_end,
            "omega": self.omega,
            "noise_weight": self.noise_weight,
            "reduction": self.reduction,
        }
