"""Selects Keras 2 (tf-keras) before TensorFlow loads: larq is built on Keras 2."""

import os
import sys

FIX = (
    "import lab_bnn (or larq) before tensorflow, or set TF_USE_LEGACY_KERAS=1 in the "
    "environment before Python starts, and make sure tf-keras==2.19.0 is installed."
)


def ensure_legacy_keras() -> None:
    """Set TF_USE_LEGACY_KERAS=1 if TensorFlow is not loaded yet, then verify Keras 2.

    Raises:
        ImportError: if tf.keras is already Keras 3 or tf-keras is missing.
    """
    if "tensorflow" not in sys.modules:
        os.environ["TF_USE_LEGACY_KERAS"] = "1"
    import tensorflow as tf

    # tf.keras is a lazy module without __version__; its classes tell where it points.
    keras_package = tf.keras.layers.Layer.__module__.split(".")[0]
    if keras_package != "tf_keras":
        keras_version = getattr(sys.modules.get(keras_package), "__version__", "?")
        raise ImportError(
            f"lab_bnn needs Keras 2 (tf-keras) but tf.keras is {keras_package} "
            f"{keras_version}: "
            f"TensorFlow was imported with TF_USE_LEGACY_KERAS="
            f"{os.environ.get('TF_USE_LEGACY_KERAS')!r}. Fix: {FIX}"
        )
