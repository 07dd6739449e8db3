"""lab-bnn: binarizers for Keras/larq BNNs (LAB, Niblack, Sauvola, ...).

Importing this package selects legacy Keras 2 before TensorFlow loads and registers
every binarizer, so `larq.layers.QuantConv2D(64, 3, input_quantizer="lab")` and
`tf.keras.models.load_model` find them by name.
"""

from lab_bnn._legacy_keras import ensure_legacy_keras

ensure_legacy_keras()

from lab_bnn import layers, quantizers  # noqa: E402  (registers the layers and binarizers)
from lab_bnn.callbacks import BinarizerSchedule, TemperatureSchedule  # noqa: E402
from lab_bnn.inference import has_inference_form  # noqa: E402

__version__ = "0.1.0"
__all__ = [
    "BinarizerSchedule",
    "TemperatureSchedule",
    "layers",
    "quantizers",
    "has_inference_form",
    "__version__",
]
