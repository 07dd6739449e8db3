"""Converted models shared by the benchmarks tests (converted once per worker)."""

import larq as lq
import pytest
import tensorflow as tf

from converter import convert
from zoo.models import SmallBNN


@pytest.fixture(scope="session")
def small_bnn_tflite() -> bytes:
    """SmallBNN at 28×28×1: CONV_2D, LceQuantize, LceBconv2d, ADD, LceBMaxPool2d, ..."""
    tf.keras.utils.set_random_seed(0)
    return convert(SmallBNN(input_shape=(28, 28, 1)))


@pytest.fixture(scope="session")
def grouped_bconv_tflite() -> bytes:
    """One grouped binary conv: LCE's default kernel path refuses to prepare it."""
    tf.keras.utils.set_random_seed(0)
    inputs = tf.keras.Input((8, 8, 64))
    x = lq.layers.QuantConv2D(
        64,
        3,
        groups=2,
        padding="same",
        pad_values=1.0,
        input_quantizer="ste_sign",
        kernel_quantizer="ste_sign",
        kernel_constraint="weight_clip",
        use_bias=False,
    )(inputs)
    return convert(tf.keras.Model(inputs, tf.keras.layers.GlobalAveragePooling2D()(x)))
