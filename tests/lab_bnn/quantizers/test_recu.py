"""ReCU: weight standardize + τ-clamp, activation normalization, the τ schedule."""

from lab_bnn.errors import UserError
from lab_bnn.quantizers import ReCUActivation, ReCUWeight

import numpy as np
import pytest
import tensorflow as tf

import numpy_official_bibench as official
import numpy_reference_bibench as ref
from conftest import forward_and_gradients

EPOCHS = 10


@pytest.mark.parametrize("epoch", [0, EPOCHS // 2, EPOCHS])
def test_weight_forward_and_gradient_along_the_schedule(rng, epoch):
    quantizer = ReCUWeight()
    quantizer.build((3, 3, 8, 4))
    quantizer.update_schedule(epoch, EPOCHS)
    tau = ref.recu_tau(epoch, EPOCHS)
    np.testing.assert_allclose(quantizer.current_tau.numpy(), tau, rtol=1e-6)
    w = rng.standard_t(2, (3, 3, 8, 4)) * 0.1 + 0.02  # heavy tails: the clamp cuts even at τ = 0.99
    upstream = rng.randn(3, 3, 8, 4)
    out, (dw,) = forward_and_gradients(quantizer, w, upstream)
    ref_out, ref_dw, clamped = ref.recu_weight(w, tau, upstream)
    assert 0 < clamped < 0.5, "the clamp should cut some weights at this τ"
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_allclose(dw, ref_dw, rtol=1e-5, atol=1e-5)


def test_schedule_end_points():
    assert ref.recu_tau(0, EPOCHS) == pytest.approx(0.85)
    assert ref.recu_tau(EPOCHS, EPOCHS) == pytest.approx(0.99)


def test_schedule_is_the_official_model_params_update():
    """BiBench calls it before every training epoch 0 … E − 1 (ModelParamsUpdateHook)."""
    quantizer = ReCUWeight()
    quantizer.build((3, 3, 2, 2))
    for epoch in range(EPOCHS):
        quantizer.update_schedule(epoch, EPOCHS)
        np.testing.assert_allclose(quantizer.current_tau.numpy(), official.recu_tau(epoch, EPOCHS), rtol=1e-6)


@pytest.mark.parametrize("training", [True, False])
def test_activation_gradient_in_training_and_inference(rng, training):
    x, upstream = rng.randn(3, 4, 4, 2) * 2.0, rng.randn(3, 4, 4, 2)
    x_t = tf.constant(x, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x_t)
        out = ReCUActivation()(x_t, training=training)
        loss = tf.reduce_sum(out * upstream)
    np.testing.assert_array_equal(out.numpy(), ref.sign(x))
    np.testing.assert_allclose(
        tape.gradient(loss, x_t).numpy(),
        ref.recu_activation_grad(x, upstream, training),
        rtol=1e-5,
        atol=1e-5,
    )


@pytest.mark.parametrize("tau", [0.5, 1.0, 0.2, 1.3])
def test_tau_outside_open_interval_is_one_clear_error(tau):
    with pytest.raises(UserError, match=rf"ReCU tau must be in the open interval \(0.5, 1\); received {tau}"):
        ReCUWeight(tau=tau)
    with pytest.raises(UserError, match=r"ReCU tau_end must be in the open interval"):
        ReCUWeight(tau_end=tau)
