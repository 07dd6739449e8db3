"""FDA: Fourier-series gradient binarizers (Xu et al., NeurIPS 2021, arXiv 2108.09017),
as BiBench trains them."""

from lab_bnn.errors import UserError
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


SMALL_MLPS = ("zero_width", "quarter_width")


def noise_hidden_width(binarizer: str, width: int, reduction: int, small_mlp: str) -> int:
    """Hidden width of a noise-adaptation MLP over `width` inputs: width // reduction.

    Below `reduction` inputs, `"zero_width"` (BiBench's code: its Linear(d, d // 64) is
    empty, so only 0.1·sin remains) gives 0; `"quarter_width"` gives max(1, width // 4).

    Raises:
        UserError: for an unknown `small_mlp`.
    """
    if small_mlp not in SMALL_MLPS:
        raise UserError(f"{binarizer} small_mlp must be one of {SMALL_MLPS}; received {small_mlp!r}")
    if width >= reduction:
        return width // reduction
    return 0 if small_mlp == "zero_width" else max(1, width // 4)


def require_reduction(binarizer: str, reduction) -> int:
    if isinstance(reduction, bool) or not isinstance(reduction, int) or reduction < 1:
        raise UserError(f"{binarizer} reduction must be a positive integer; received {reduction!r}")
    return reduction


class _NoiseAdaptation:
    """FDA's noise-adaptation term over the last axis of rows: fc2(relu(fc1(r))) + 0.1·sin(r),
    no biases; the MLP is left out when its hidden width is 0."""

    def _build_noise(self, width: int, hidden: int) -> None:
        self.noise_in = self.noise_out = None
        if hidden > 0:
            self.noise_in = self.add_weight("noise_in", (width, hidden), initializer="glorot_uniform")
            self.noise_out = self.add_weight("noise_out", (hidden, width), initializer="glorot_uniform")

    def _noise_rows(self, rows: tf.Tensor) -> tf.Tensor:
        noise = 0.1 * tf.sin(rows)
        if self.noise_in is None:
            return noise
        hidden = tf.nn.relu(tf.tensordot(rows, self.noise_in, axes=1))
        return tf.tensordot(hidden, self.noise_out, axes=1) + noise


class _FourierTerms:
    """The scheduled number of Fourier terms n, shared by both FDA binarizers."""

    def _build_terms(self):
        self.current_terms = self.add_state("terms", self.terms, tf.int32)

    def _update_terms(self, epoch: int, epochs: int) -> None:
        self.current_terms.assign(fda_terms(epoch, epochs, self.terms_start, self.terms_end))


@register_binarizer(
    "fda_sign",
    Card(
        paper=FDA_PAPER,
        role="activation",
        learnable="noise-adaptation MLP when C ≥ 64 (training only)",
        stays_float="nothing once the noise weight reaches 0 (the last epoch): the "
        "inference form drops the noise-adaptation term",
    ),
)
class FdaSign(_NoiseAdaptation, _FourierTerms, BinarizerBase):
    """sign(x) + λ·noise(x) with FDA's Fourier-series gradient through sign(x); n grows
    9 → 18 over training.

    noise(x), per pixel over the C channels: fc2(relu(fc1(x))) + 0.1·sin(x) with fc1:
    C → C/reduction, fc2 back to C, no biases (zero width below `reduction` channels, as
    BiBench; see `small_mlp`). λ = 0.05·(1 + cos(π(e+1)/E)) falls to 0 by the last
    epoch, so the inference form is sign(x).

    Arguments:
        terms: n until `BinarizerSchedule` first sets the state weight `current_terms`.
        terms_start, terms_end: n at epoch 0 and at the last epoch.
        omega: ω of the series.
        activation_noise: True (default) adds the noise-adaptation term to the binarized
            activations, as BiBench's FDA code trains them (the paper describes it for
            weights only); False gives the plain sign, lab_bnn's former behaviour.
        noise_weight: λ until `BinarizerSchedule` first sets `current_noise_weight`.
        reduction: the MLP's hidden-width divisor.
        small_mlp: below `reduction` channels, `"zero_width"` (default, BiBench's code:
            only 0.1·sin remains) or `"quarter_width"` (a C/4-wide MLP).

    Example:
        >>> larq.layers.QuantConv2D(64, 3, input_quantizer="fda_sign")
        >>> FdaSign(activation_noise=False)  # sign(x) with the Fourier gradient only

    Raises:
        UserError: for an unknown small_mlp or a non-positive reduction.
    """

    precision = 1

    def __init__(
        self,
        terms: int = 9,
        terms_start: int = 9,
        terms_end: int = 18,
        omega: float = 0.1,
        activation_noise: bool = True,
        noise_weight: float = 0.1,
        reduction: int = 64,
        small_mlp: str = "zero_width",
        **kwargs,
    ):
        self.terms, self.terms_start, self.terms_end = int(terms), int(terms_start), int(terms_end)
        self.omega = float(omega)
        if not isinstance(activation_noise, bool):
            raise UserError(f"FdaSign activation_noise must be True or False; received {activation_noise!r}")
        self.activation_noise = activation_noise
        self.noise_weight = float(noise_weight)
        self.reduction = require_reduction("FdaSign", reduction)
        noise_hidden_width("FdaSign", 0, 1, small_mlp)  # validates small_mlp now
        self.small_mlp = small_mlp
        super().__init__(**kwargs)

    def build(self, input_shape):
        require_rank_at_least_2("FdaSign", input_shape, "activations (batch, ..., channels)")
        if self.activation_noise:
            channels = int(tf.TensorShape(input_shape)[-1])
            self._build_noise(
                channels, noise_hidden_width("FdaSign", channels, self.reduction, self.small_mlp)
            )
        self._build_terms()
        if self.activation_noise:
            self.current_noise_weight = self.add_state("noise_weight", self.noise_weight)
        super().build(input_shape)

    def update_schedule(self, epoch: int, epochs: int) -> None:
        self._update_terms(epoch, epochs)
        if self.activation_noise:
            self.current_noise_weight.assign(fda_noise_weight(epoch, epochs))

    def call(self, inputs):
        outputs = fourier_sign(inputs, self.current_terms, self.omega)
        if self.activation_noise:
            outputs = outputs + self.current_noise_weight * self._noise_rows(inputs)
        return super().call(outputs)

    def inference_form(self) -> "FdaSign":
        """sign(x), the end-of-training function (λ = 0)."""
        return FdaSign(
            self.terms, self.terms_start, self.terms_end, self.omega, False, name=f"{self.name}_inference"
        )

    def get_config(self):
        return {
            **super().get_config(),
            "terms": self.terms,
            "terms_start": self.terms_start,
            "terms_end": self.terms_end,
            "omega": self.omega,
            "activation_noise": self.activation_noise,
            "noise_weight": self.noise_weight,
            "reduction": self.reduction,
            "small_mlp": self.small_mlp,
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
class FdaWeight(_NoiseAdaptation, _FourierTerms, BinarizerBase):
    """α_w·(sign(W) + λ·noise(W)) with FDA's Fourier gradient through sign(W).

    α_w = mean|W| per output channel (no gradient). noise(W), per output channel
    w ∈ R^d: fc2(relu(fc1(w))) + 0.1·sin(w), with fc1: d → d/reduction and fc2 back
    to d, no biases (d < reduction: see `small_mlp`). λ = 0.05·(1 + cos(π(e+1)/E)) falls
    to 0 by the last epoch; the inference form is α_w·sign(W), the end-of-training
    function.

    Arguments:
        terms, terms_start, terms_end, omega: as FdaSign.
        noise_weight: λ until `BinarizerSchedule` first sets the state weight
            `current_noise_weight`.
        reduction: the MLP's hidden-width divisor.
        small_mlp: for d = C_in·k² < reduction, `"zero_width"` (default, BiBench's
            code: its Linear(d, d // 64) is empty, so only 0.1·sin(W) remains) or
            `"quarter_width"` (a d/4-wide MLP, lab_bnn's former behaviour).

    Raises:
        UserError: for an unknown small_mlp or a non-positive reduction.
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
        small_mlp: str = "zero_width",
        **kwargs,
    ):
        self.terms, self.terms_start, self.terms_end = int(terms), int(terms_start), int(terms_end)
        self.omega = float(omega)
        self.noise_weight = float(noise_weight)
        self.reduction = require_reduction("FdaWeight", reduction)
        noise_hidden_width("FdaWeight", 0, 1, small_mlp)  # validates small_mlp now
        self.small_mlp = small_mlp
        super().__init__(**kwargs)

    def build(self, input_shape):
        require_rank_at_least_2("FdaWeight", input_shape, "a kernel (..., inputs, outputs)")
        shape = tf.TensorShape(input_shape)
        width = int(np.prod(shape[:-1]))
        self._build_noise(width, noise_hidden_width("FdaWeight", width, self.reduction, self.small_mlp))
        self.current_noise_weight = self.add_state("noise_weight", self.noise_weight)
        self._build_terms()
        super().build(input_shape)

    def update_schedule(self, epoch: int, epochs: int) -> None:
        self._update_terms(epoch, epochs)
        self.current_noise_weight.assign(fda_noise_weight(epoch, epochs))

    def noise(self, weights: tf.Tensor) -> tf.Tensor:
        rows = tf.transpose(tf.reshape(weights, (-1, weights.shape[-1])))  # (out, d)
        return tf.reshape(tf.transpose(self._noise_rows(rows)), tf.shape(weights))

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
            "small_mlp": self.small_mlp,
        }
