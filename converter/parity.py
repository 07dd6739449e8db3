"""Does the converted flatbuffer compute what the Keras model computes?"""

from dataclasses import dataclass, field
from typing import Dict, Optional

import lab_bnn  # noqa: F401
from lab_bnn.errors import UserError

import numpy as np
import tensorflow as tf

from converter import sign_probe
from converter.interpreter import run_flatbuffer


@dataclass
class ParityReport:
    """Keras vs LCE on the same samples.

    `sign_flip_rates` maps each binary conv's layer name (`block/conv` inside a nested
    model `block`) to the fraction of its binarized input values whose sign differs
    between Keras and LCE: values within float rounding of a threshold flip, and this
    says how often that happens.
    """

    samples: int
    max_abs_diff: float
    top1_agreement: float
    sign_flip_rates: Dict[str, float] = field(default_factory=dict)
    # Samples in which no binarized value flipped, and max |Δ| over those: where the
    # two agree on every sign, only float rounding separates them.
    flip_free_samples: Optional[int] = None
    max_abs_diff_flip_free: Optional[float] = None

    @property
    def max_sign_flip_rate(self) -> float:
        return max(self.sign_flip_rates.values(), default=0.0)

    def as_dict(self) -> dict:
        return {
            "samples": self.samples,
            "max_abs_diff": self.max_abs_diff,
            "top1_agreement": self.top1_agreement,
            "max_sign_flip_rate": self.max_sign_flip_rate,
            "flip_free_samples": self.flip_free_samples,
            "max_abs_diff_flip_free": self.max_abs_diff_flip_free,
        }


def check_parity(
    model: tf.keras.Model,
    flatbuffer: bytes,
    samples: np.ndarray,
    *,
    sign_flips: bool = True,
    kernel_path: Optional[Dict[str, bool]] = None,
) -> ParityReport:
    """Compare `model` and its conversion `flatbuffer` on `samples` (a batch).

    Keras runs the samples one at a time, as LCE does: a binarizer whose output
    depends on its batch (Sauvola's R over the batch, as the LAB code takes it) would
    otherwise show disagreements that are not the conversion's.

    With `sign_flips`, a probe copy of the (fused) model that also outputs every
    binarized input, at any depth, is converted and run, and each sign compared
    (`converter.sign_probe`): one extra conversion.

    Raises:
        UserError: for bytes that are not a TFLite model, or samples whose shape
            does not fit the model.
    """
    samples = np.asarray(samples, np.float32)
    expected_shape = tuple(model.input_shape[1:])
    if samples.ndim != len(expected_shape) + 1 or samples.shape[1:] != expected_shape:
        raise UserError(
            f"samples must have shape (N, {', '.join(map(str, expected_shape))}); received {samples.shape}"
        )
    keras_out = model.predict(samples, batch_size=1, verbose=0)
    lce_out = run_flatbuffer(flatbuffer, samples, kernel_path)[0]
    report = ParityReport(
        samples=len(samples),
        max_abs_diff=float(np.abs(keras_out - lce_out).max()),
        top1_agreement=float(np.mean(keras_out.argmax(-1) == lce_out.argmax(-1))),
    )
    if sign_flips:
        report.sign_flip_rates, flipped = sign_probe.sign_flips(model, samples, kernel_path)
        report.flip_free_samples = int((~flipped).sum())
        if report.flip_free_samples:
            report.max_abs_diff_flip_free = float(np.abs(keras_out - lce_out)[~flipped].max())
    return report
