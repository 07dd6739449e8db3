"""FDA: Fourier-series gradient and the noise-adaptation term, along the schedule."""

from lab_bnn.quantizers import FdaSign, FdaWeight

import numpy as np
import pytest

import numpy_reference_bibench as ref
from conftest import forward_and_gradients

EPOCHS = 10
SCHEDULE = [0, EPOCHS // 2, EPOCHS]


@pytest.mark.parametrize("epoch", SCHEDULE)
def test_sign_gradient_is_the_fourier_series(rng, epoch):
    quantizer = FdaSign()
    quantizer.build((None, 5, 5, 3))
    quantizer.update_schedule(epoch, EPOCHS)
    n = ref.fda_terms(epoch, EPOCHS)
    assert int(quantizer.current_terms.numpy()) == n
    x = np.concatenate([rng.randn(2, 5, 5, 3) * 0.7, np.zeros((1, 5, 5, 3))])
    upstream = rng.randn(*x.shape)
    out, (dx,) = forward_and_gradients(quantizer, x, upstream)
    np.testing.assert_array_equal(out, ref.sign(x))
    np.testing.assert_allclose(dx, ref.fourier_grad(x, n, upstream), rtol=1e-5, atol=1e-5)


def test_schedule_end_points():
    assert [ref.fda_terms(e, EPOCHS) for e in SCHEDULE] == [9, 13, 18]
    assert ref.fda_noise_weight(EPOCHS - 1, EPOCHS) == pytest.approx(0.0)


@pytest.mark.parametrize("epoch", SCHEDULE)
def test_weight_forward_and_gradient_with_noise_adaptation(rng, epoch):
    quantizer = FdaWeight(reduction=8)
    quantizer.build((3, 3, 8, 4))
    quantizer.update_schedule(epoch, EPOCHS)
    noise_weight = ref.fda_noise_weight(epoch, EPOCHS)
    np.testing.assert_allclose(quantizer.current_noise_weight.numpy(), noise_weight, atol=1e-7)
    fc1, fc2 = rng.randn(72, 9) * 0.2, rng.randn(9, 72) * 0.2
    quantizer.noise_in.assign(fc1)
    quantizer.noise_out.assign(fc2)
    w, upstream = rng.randn(3, 3, 8, 4) * 0.6, rng.randn(3, 3, 8, 4)
    out, (dw, _, _) = forward_and_gradients(quantizer, w, upstream)
    ref_out, ref_dw = ref.fda_weight(w, fc1, fc2, ref.fda_terms(epoch, EPOCHS), noise_weight, upstream)
    np.testing.assert_allclose(out, ref_out, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dw, ref_dw, rtol=1e-5, atol=1e-5)


def test_inference_form_is_the_end_of_training_function(rng):
    quantizer = FdaWeight()
    w = rng.randn(3, 3, 8, 4).astype(np.float32)
    quantizer(w)
    quantizer.update_schedule(EPOCHS - 1, EPOCHS)  # noise weight 0
    np.testing.assert_allclose(quantizer.inference_form()(w), quantizer(w), rtol=1e-6)
