"""ReCUConv2D: the binary conv times its learnable per-channel scale, and the whole
layer (ReCU's weight and activation binarizers included) against BiBench's official
ReCUConv2d along the τ schedule, in training and inference."""

from lab_bnn.layers import ReCUConv2D
from lab_bnn.recipes import get_recipe

import larq as lq
import numpy as np
import pytest

import numpy_official_bibench as official
from bibench_conv_cases import CASES, assert_close, case_id, clear_of, float32_exact, run_conv

EPOCHS = 10


def test_output_is_binary_conv_times_scale(rng):
    layer = ReCUConv2D(5, 3, padding="same", use_bias=False)
    x = rng.randn(2, 6, 6, 4).astype(np.float32)
    layer(x)
    plain = lq.layers.QuantConv2D(
        5,
        3,
        padding="same",
        input_quantizer="recu_activation",
        kernel_quantizer="recu_weight",
        use_bias=False,
    )
    plain(x)
    plain.kernel.assign(layer.kernel)
    assert 0 < layer.scale.numpy().min() and layer.scale.numpy().max() < 1  # U(0, 1)
    np.testing.assert_allclose(layer(x).numpy(), plain(x).numpy() * layer.scale.numpy(), rtol=1e-5, atol=1e-5)


def _standardized(w):
    """ReCU's w1 per output channel of a torch-shaped weight, and Q_τ's mean|w1|."""
    w0 = w - w.mean(axis=(1, 2, 3), keepdims=True)
    w1 = w0 / (np.sqrt(w0.var(axis=(1, 2, 3), ddof=1, keepdims=True) + 1e-5) / 2 / np.sqrt(2))
    return w1, np.abs(w1).mean()


def _weight_clear_of_ties(rng, shape, tau, margin=1e-3):
    """Heavy-tailed weights whose w1 is clear of 0 (the sign) and of ±Q_τ (the clamp)."""
    for _ in range(100):
        w = float32_exact(rng.standard_t(2, shape) * 0.1 + 0.02)
        w1, mean_abs = _standardized(w)
        q = -mean_abs * np.log(2 - 2 * tau)
        if np.abs(w1).min() > margin and np.abs(np.abs(w1) - q).min() > margin * q:
            return w
    raise AssertionError("no weight draw cleared the ties")


def _compare(rng, case, x, w, epoch, training, use_bias, zero_sign=0.0):
    """Ours (y, dx, dW, dα[, d bias]) and the official ones, and the fraction clamped."""
    tau = official.recu_tau(epoch, EPOCHS)
    alpha = float32_exact(rng.rand(case.out_channels))
    bias = float32_exact(rng.randn(case.out_channels)) if use_bias else None
    upstream = rng.randn(*case.output_shape())

    def set_state(layer):
        layer.kernel_quantizer.update_schedule(epoch, EPOCHS)
        layer.scale.assign(alpha)
        if use_bias:
            layer.bias.assign(bias)

    conv = get_recipe("recu").conv2d(
        case.out_channels, case.kernel, strides=case.stride, padding=case.padding, use_bias=use_bias
    )
    names = ("scale", "bias") if use_bias else ("scale",)
    y, dx, dw, rest = run_conv(conv, x, w, upstream, training=training, variables=names, prepare=set_state)
    np.testing.assert_allclose(conv.kernel_quantizer.current_tau.numpy(), tau, rtol=1e-6)
    args = (x, w, alpha, tau, upstream, training, bias, case.stride, case.torch_padding, zero_sign)
    *expected, d_bias, clamped = official.recu_conv(*args)
    expected += [d_bias] if use_bias else []
    return (y, dx, dw, *rest), expected, clamped


@pytest.mark.parametrize("case", CASES, ids=case_id)
@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
@pytest.mark.parametrize("epoch", [0, EPOCHS - 1])
def test_matches_official_forward_and_gradients(rng, case, training, epoch):
    x = clear_of(rng, case.input_shape, 1.5)
    w = _weight_clear_of_ties(rng, case.weight_shape, official.recu_tau(epoch, EPOCHS))
    actual, expected, clamped = _compare(rng, case, x, w, epoch, training, use_bias=False)
    if np.prod(case.weight_shape) >= 50:
        assert clamped > 0, "the clamp should cut some weights"
    for ours, theirs in zip(actual, expected):
        assert_close(ours, theirs)


@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
def test_bias_is_added_before_the_scale_as_in_the_official_conv(rng, training):
    case = CASES[0]
    x = clear_of(rng, case.input_shape, 1.5)
    w = _weight_clear_of_ties(rng, case.weight_shape, official.recu_tau(3, EPOCHS))
    actual, expected, _ = _compare(rng, case, x, w, 3, training, use_bias=True)
    assert len(actual) == len(expected) == 5
    for ours, theirs in zip(actual, expected):
        assert_close(ours, theirs)


def test_all_zero_channel_and_sample_take_plus_one_where_torch_takes_zero(rng):
    """An all-zero output channel standardizes to w1 = 0 (σ = √ε); an all-zero sample
    normalizes to a0 = 0. torch.sign gives 0 there, ReCU's paper and we +1."""
    case = CASES[0]
    x = clear_of(rng, case.input_shape, 1.5)
    x[0] = 0.0
    w = _weight_clear_of_ties(rng, case.weight_shape, official.recu_tau(0, EPOCHS))
    w[1] = 0.0
    actual, expected, _ = _compare(rng, case, x, w, 0, True, use_bias=False, zero_sign=1.0)
    for ours, theirs in zip(actual, expected):
        assert_close(ours, theirs)
    args = (x, w, np.ones(case.out_channels), 0.85, np.ones(case.output_shape()), True)
    geometry = dict(stride=case.stride, padding=case.torch_padding)
    torch_y = official.recu_conv(*args, **geometry)[0]
    assert not np.allclose(torch_y, official.recu_conv(*args, **geometry, zero_sign=1.0)[0], atol=1e-3)
