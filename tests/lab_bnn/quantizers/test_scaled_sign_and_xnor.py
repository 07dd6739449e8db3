"""Per-channel weight scaling (XNOR/DoReFa/Bi-Real/ReAct weights), XNOR-Net's
activation scaling, and larq's `bnn`/`bi_real` under our aliases, against NumPy."""

from lab_bnn.quantizers import ScaledSign, XnorActivation, get

import numpy as np
import pytest

import numpy_reference_bibench as ref
from conftest import forward_and_gradients

TOL = dict(rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("per_channel", [True, False])
def test_scaled_sign(rng, per_channel):
    w, upstream = rng.randn(3, 3, 4, 5) * 0.8, rng.randn(3, 3, 4, 5)
    out, (dw,) = forward_and_gradients(ScaledSign(per_channel=per_channel), w, upstream)
    ref_out, ref_dw = ref.scaled_sign(w, upstream, per_channel)
    np.testing.assert_allclose(out, ref_out, **TOL)
    np.testing.assert_allclose(dw, ref_dw, **TOL)


@pytest.mark.parametrize("shape", [(2, 5, 5, 3), (4, 7)])
def test_xnor_activation(rng, shape):
    x, upstream = rng.randn(*shape) * 0.9, rng.randn(*shape)
    out, (dx,) = forward_and_gradients(XnorActivation(), x, upstream)
    ref_out, ref_dx = ref.xnor_activation(x, upstream)
    np.testing.assert_allclose(out, ref_out, **TOL)
    np.testing.assert_allclose(dx, ref_dx, **TOL)


@pytest.mark.parametrize("alias,grad", [("bnn", ref.clip_ste), ("bi_real", ref.approx_sign_grad)])
def test_larq_quantizers_under_bibench_aliases(rng, alias, grad):
    x, upstream = rng.randn(2, 4, 4, 3) * 0.8, rng.randn(2, 4, 4, 3)
    out, (dx,) = forward_and_gradients(get(alias), x, upstream)
    np.testing.assert_array_equal(out, ref.sign(x))
    np.testing.assert_allclose(dx, grad(x, upstream), **TOL)
