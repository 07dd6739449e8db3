"""DepthwiseSign (LAB's deploy form): forward and clip-STE gradient against NumPy."""

from lab_bnn.quantizers import DepthwiseSign

import numpy as np

import numpy_reference as ref
from conftest import assert_signs_match, forward_and_gradients


def test_forward_and_gradient_match_numpy(rng):
    layer = DepthwiseSign()
    layer.build((None, 6, 6, 3))
    layer.bias.assign(rng.randn(3) * 0.1)
    x, upstream = rng.randn(2, 6, 6, 3), rng.randn(2, 6, 6, 3)
    out, (dx, dkernel, dbias) = forward_and_gradients(layer, x, upstream)
    ref_out, u, ref_dx, ref_dk, ref_db = ref.depthwise_sign(
        x, layer.depthwise_kernel.numpy(), layer.bias.numpy(), upstream
    )
    assert_signs_match(out, ref_out, u)
    for actual, expected in ((dx, ref_dx), (dkernel, ref_dk), (dbias, ref_db)):
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5)
