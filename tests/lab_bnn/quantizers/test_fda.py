"""FDA: Fourier-series gradient and the noise-adaptation term, along the schedule."""

from lab_bnn.errors import UserError
from lab_bnn.quantizers import FdaSign, FdaWeight

import numpy as np
import pytest

import numpy_official as official
import numpy_reference_bibench as ref
from conftest import forward_and_gradients

EPOCHS = 10
SCHEDULE = [0, EPOCHS // 2, EPOCHS]


@pytest.mark.parametrize("epoch", SCHEDULE)
def test_sign_gradient_is_the_fourier_series(rng, epoch):
    quantizer = FdaSign(activation_noise=False)
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
    quantizer = FdaWeight(reduction=8)  # d = 72 ≥ 8: a 9-wide MLP under either small_mlp
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


def _torch_sign_masked(out, x):
    """torch.sign(0) is 0, lab_bnn's (larq's) sign(0) is +1: compare where x ≠ 0."""
    return out[x != 0]


@pytest.mark.parametrize("channels,reduction", [(3, 64), (70, 64), (128, 64), (12, 4)])
@pytest.mark.parametrize("epoch", [0, EPOCHS // 2, EPOCHS - 1])
def test_activation_noise_matches_bibench(rng, channels, reduction, epoch):
    """ba = sign(a) + α·(fc2(relu(fc1 a)) + 0.1·sin a) per pixel; zero width below 64."""
    quantizer = FdaSign(reduction=reduction)
    quantizer.build((None, 4, 4, channels))
    quantizer.update_schedule(epoch, EPOCHS)
    hidden = channels // reduction
    assert (quantizer.noise_in is None) == (hidden == 0)
    fc1, fc2 = rng.randn(hidden, channels) * 0.3, rng.randn(channels, hidden) * 0.3
    if hidden:
        quantizer.noise_in.assign(fc1.T)
        quantizer.noise_out.assign(fc2.T)
    a = np.concatenate([rng.randn(2, 4, 4, channels) * 0.8, np.zeros((1, 4, 4, channels))])
    upstream = rng.randn(*a.shape)
    out, (da, *_) = forward_and_gradients(quantizer, a, upstream)
    alpha, n = ref.fda_noise_weight(epoch, EPOCHS), ref.fda_terms(epoch, EPOCHS)
    ref_out, ref_da = official.fda_activation_official(a, fc1, fc2, n, alpha, upstream)
    np.testing.assert_allclose(
        _torch_sign_masked(out, a), _torch_sign_masked(ref_out, a), rtol=1e-5, atol=1e-5
    )
    np.testing.assert_allclose(da, ref_da, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kernel_size,in_channels", [(1, 8), (2, 8), (4, 3), (3, 8), (4, 8)])
@pytest.mark.parametrize("epoch", [0, EPOCHS - 1])
def test_weight_noise_matches_bibench_including_zero_width(rng, kernel_size, in_channels, epoch):
    """d = C_in·k² < 64 leaves only 0.1·sin(W); otherwise a d // 64-wide MLP."""
    shape = (kernel_size, kernel_size, in_channels, 5)
    d = kernel_size * kernel_size * in_channels
    quantizer = FdaWeight()
    quantizer.build(shape)
    quantizer.update_schedule(epoch, EPOCHS)
    hidden = d // 64
    assert (quantizer.noise_in is None) == (hidden == 0)
    # torch rows are (in, kh, kw); ours (kh, kw, in): the same weights, permuted
    order = np.arange(d).reshape(in_channels, kernel_size, kernel_size).transpose(1, 2, 0).ravel()
    fc1, fc2 = rng.randn(hidden, d) * 0.2, rng.randn(d, hidden) * 0.2
    if hidden:
        quantizer.noise_in.assign(fc1.T[order])
        quantizer.noise_out.assign(fc2[order].T)
    w, upstream = rng.randn(*shape) * 0.6, rng.randn(*shape)
    out, (dw, *_) = forward_and_gradients(quantizer, w, upstream)
    to_torch = (3, 2, 0, 1)
    alpha, n = ref.fda_noise_weight(epoch, EPOCHS), ref.fda_terms(epoch, EPOCHS)
    ref_out, ref_dw = official.fda_weight_official(
        w.transpose(to_torch), fc1, fc2, n, alpha, upstream.transpose(to_torch)
    )
    from_torch = (2, 3, 1, 0)
    np.testing.assert_allclose(out, ref_out.transpose(from_torch), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dw, ref_dw.transpose(from_torch), rtol=1e-5, atol=1e-5)


def test_former_behaviour_remains_as_arguments(rng):
    weight = FdaWeight(small_mlp="quarter_width")
    weight.build((3, 3, 4, 8))  # d = 36 < 64: a 9-wide MLP
    assert weight.noise_in.shape == (36, 9)
    sign = FdaSign(activation_noise=False)
    x = rng.randn(2, 3, 3, 4).astype(np.float32)
    np.testing.assert_array_equal(sign(x).numpy(), ref.sign(x))
    assert not sign.trainable_weights


def test_activation_inference_form_is_the_end_of_training_function(rng):
    quantizer = FdaSign(reduction=4)
    x = rng.randn(2, 3, 3, 8).astype(np.float32)
    quantizer(x)
    quantizer.update_schedule(EPOCHS - 1, EPOCHS)  # noise weight 0
    np.testing.assert_allclose(quantizer.inference_form()(x), quantizer(x), rtol=1e-6)
    np.testing.assert_array_equal(quantizer.inference_form()(x), ref.sign(x))


@pytest.mark.parametrize(
    "cls,arguments,message",
    [
        (FdaWeight, {"small_mlp": "quarter"}, r"FdaWeight small_mlp must be one of .*zero_width.*'quarter'"),
        (FdaSign, {"small_mlp": None}, r"FdaSign small_mlp must be one of .*quarter_width.*None"),
        (
            FdaSign,
            {"activation_noise": "yes"},
            r"FdaSign activation_noise must be True or False; received 'yes'",
        ),
        (FdaWeight, {"reduction": 0}, r"FdaWeight reduction must be a positive integer; received 0"),
    ],
)
def test_bad_arguments_are_one_clear_error(cls, arguments, message):
    with pytest.raises(UserError, match=message):
        cls(**arguments)
