"""CompactBNN builds every binarizer choice with the paper's parts in every block."""

from lab_bnn.errors import UserError
from lab_bnn.layers import MultiSliceBinaryConv2D, MultiSliceSign
from lab_bnn.quantizers import LAB
from lab_bnn.recipes import RECIPES

import larq as lq
import numpy as np
import pytest
import tensorflow as tf

from zoo.models import BINARIZER_CHOICES, CompactBNN


def block_convs(model):
    return [l for l in model.layers if isinstance(l, tf.keras.layers.Conv2D)][1:]  # after the stem


@pytest.mark.parametrize("binarizer", BINARIZER_CHOICES)
def test_every_block_uses_the_chosen_binarizer(binarizer):
    model = CompactBNN(binarizer=binarizer)
    assert model.output_shape == (None, 10)
    convs = block_convs(model)
    assert [c.filters for c in convs] == [64, 64, 128, 128]
    if binarizer == "float":
        assert not any(isinstance(c, lq.layers.QuantConv2D) for c in convs)
        assert sum(isinstance(l, tf.keras.layers.ReLU) for l in model.layers) == 4
    elif binarizer == "boolnet_k4":
        assert all(isinstance(c, MultiSliceBinaryConv2D) and c.groups == 4 for c in convs)
        assert sum(isinstance(l, MultiSliceSign) and l.slices == 4 for l in model.layers) == 4
    else:
        recipe = RECIPES[binarizer]
        expected_input = type(lq.quantizers.get(recipe.input_quantizer))
        expected_kernel = type(lq.quantizers.get(recipe.kernel_quantizer))
        for conv in convs:
            assert type(conv.input_quantizer) is expected_input
            assert type(conv.kernel_quantizer) is expected_kernel
            assert conv.pad_values == 1.0  # padding stays ±1: binary in LCE
    x = np.random.RandomState(0).uniform(-1, 1, (2, 28, 28, 1)).astype(np.float32)
    assert np.isfinite(model(x).numpy()).all()


def test_lab_blocks_put_lab_only_where_true():
    model = CompactBNN(binarizer="bnn", lab_blocks=(True, False, True, False))
    assert [isinstance(c.input_quantizer, LAB) for c in block_convs(model)] == [True, False, True, False]
    labs = [c.input_quantizer for c in block_convs(model) if isinstance(c.input_quantizer, LAB)]
    assert labs[0] is not labs[1]  # each block learns its own LAB


def test_an_unknown_binarizer_is_named_with_the_choices():
    with pytest.raises(
        UserError,
        match=r"unknown CompactBNN binarizer 'sign'; allowed: bnn, "
        r".*, boolnet_k4, float",
    ):
        CompactBNN(binarizer="sign")
