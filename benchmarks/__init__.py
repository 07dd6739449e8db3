"""Latency and per-operator measurements of converted `.tflite` models."""

import lab_bnn  # noqa: F401  (legacy Keras before TensorFlow)
