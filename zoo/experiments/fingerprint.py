"""A run's output fingerprint: the trained model's outputs on a fixed batch, stored
beside model.h5 so whoever reopens the file can check that it is the model that
trained (every weight and every schedule state restored)."""

import platform
from pathlib import Path
from typing import Dict

import numpy as np
import tensorflow as tf

FINGERPRINT_FILE = "fingerprint.npz"
FINGERPRINT_EXAMPLES = 4
# Reopened on the machine that trained it, a model gives the same outputs to float
# rounding; far more means lost state (e.g. a schedule value .h5 did not store).
REPRODUCED_ATOL = 1e-4


def host_cpu() -> str:
    """The CPU's model name (rounding at sign thresholds may differ between CPUs)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def inference_outputs(model: tf.keras.Model, inputs: np.ndarray) -> np.ndarray:
    """The model's outputs in inference mode, one call, as both sides compute them."""
    return model(tf.constant(inputs), training=False).numpy()


def write_fingerprint(model: tf.keras.Model, batch: tf.data.Dataset, folder: Path) -> Path:
    """Store the first FINGERPRINT_EXAMPLES inputs of `batch` (a batched dataset of
    (images, labels)) and the model's outputs on them as folder/fingerprint.npz."""
    images, _ = next(iter(batch.take(1)))
    inputs = images.numpy()[:FINGERPRINT_EXAMPLES]
    path, partial = folder / FINGERPRINT_FILE, folder / f".{FINGERPRINT_FILE}.partial.npz"
    np.savez(partial, inputs=inputs, outputs=inference_outputs(model, inputs), host=np.array(host_cpu()))
    partial.replace(path)
    return path


def compare_to_fingerprint(model: tf.keras.Model, folder: Path) -> Dict[str, object]:
    """How far `model` (e.g. model.h5 reopened) is from the outputs the run stored.

    Returns {"reload_max_abs_diff", "reproduced", "fingerprint_host", "host"}, or {}
    when the run has no fingerprint (made before runs stored one).
    """
    path = Path(folder) / FINGERPRINT_FILE
    if not path.exists():
        return {}
    stored = np.load(path)
    diff = float(np.max(np.abs(inference_outputs(model, stored["inputs"]) - stored["outputs"])))
    return {
        "reload_max_abs_diff": diff,
        "reproduced": bool(diff <= REPRODUCED_ATOL),
        "fingerprint_host": str(stored["host"]),
        "host": host_cpu(),
    }
