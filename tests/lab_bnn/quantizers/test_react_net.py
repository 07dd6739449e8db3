"""ReActNet: RSign and RPReLU against NumPy."""

from lab_bnn.layers import RPReLU
from lab_bnn.quantizers import RSign

import numpy as np

import numpy_reference_bibench as ref
from conftest import forward_and_gradients

TOL = dict(rtol=1e-5, atol=1e-5)


def test_rsign(rng):
    layer = RSign()
    layer.build((None, 5, 5, 4))
    tau = rng.randn(4) * 0.3
    layer.threshold.assign(tau)
    x, upstream = rng.randn(2, 5, 5, 4) * 0.8, rng.randn(2, 5, 5, 4)
    out, (dx, dtau) = forward_and_gradients(layer, x, upstream)
    ref_out, ref_dx, ref_dtau = ref.rsign(x, tau, upstream)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_allclose(dx, ref_dx, **TOL)
    np.testing.assert_allclose(dtau, ref_dtau, **TOL)


def test_rprelu(rng):
    layer = RPReLU()
    layer.build((None, 5, 5, 4))
    gamma, slope, zeta = rng.randn(4) * 0.3, rng.rand(4), rng.randn(4)
    layer.set_weights([gamma, slope, zeta])
    x, upstream = rng.randn(2, 5, 5, 4), rng.randn(2, 5, 5, 4)
    out, (dx, dgamma, dslope, dzeta) = forward_and_gradients(layer, x, upstream)
    ref_out, *ref_grads = ref.rprelu(x, gamma, slope, zeta, upstream)
    np.testing.assert_allclose(out, ref_out, **TOL)
    for actual, expected in zip((dx, dgamma, dslope, dzeta), ref_grads):
        np.testing.assert_allclose(actual, expected, **TOL)
