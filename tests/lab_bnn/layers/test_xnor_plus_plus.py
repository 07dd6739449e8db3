"""XNOR-Net++: binary conv ⊙ Γ against a float Keras conv of the signs."""

from lab_bnn.errors import UserError
from lab_bnn.layers import XnorPlusPlusConv2D

import numpy as np
import pytest
import tensorflow as tf

import numpy_reference_bibench as ref


def test_output_is_float_conv_of_signs_times_gamma(rng):
    layer = XnorPlusPlusConv2D(6, 3, strides=2, padding="same")
    x = rng.randn(2, 9, 7, 4).astype(np.float32)
    layer(x)
    alpha, beta, gamma = rng.rand(6) + 0.5, rng.rand(5) + 0.5, rng.rand(4) + 0.5
    layer.channel_scale.assign(alpha)
    layer.height_scale.assign(beta)
    layer.width_scale.assign(gamma)
    kernel = layer.kernel.numpy()
    float_conv = tf.keras.layers.Conv2D(6, 3, strides=2, padding="same", use_bias=False)
    float_conv.build(x.shape)
    float_conv.set_weights([ref.sign(kernel)])
    expected = float_conv(ref.sign(x)).numpy() * beta[:, None, None] * gamma[None, :, None] * alpha
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-5, atol=1e-5)


def test_gamma_gradients(rng):
    layer = XnorPlusPlusConv2D(3, 3, padding="same")
    x = tf.constant(rng.randn(2, 4, 5, 2), tf.float32)
    upstream = rng.randn(2, 4, 5, 3)
    with tf.GradientTape() as tape:
        y = layer(x)
        loss = tf.reduce_sum(y * upstream)
    conv = (y / 1.0).numpy()  # Γ = 1 at init, so y is the plain binary conv
    d_alpha, d_beta, d_gamma = tape.gradient(
        loss, [layer.channel_scale, layer.height_scale, layer.width_scale]
    )
    np.testing.assert_allclose(d_alpha, (upstream * conv).sum((0, 1, 2)), rtol=1e-5)
    np.testing.assert_allclose(d_beta, (upstream * conv).sum((0, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(d_gamma, (upstream * conv).sum((0, 1, 3)), rtol=1e-5)


def test_dynamic_spatial_size_is_one_clear_error():
    with pytest.raises(
        UserError, match=r"static height and width.*received input shape \(None, None, None, 3\)"
    ):
        XnorPlusPlusConv2D(4, 3).build((None, None, None, 3))
