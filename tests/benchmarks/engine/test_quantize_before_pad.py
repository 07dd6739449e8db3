"""`quantize_before_pad`: a MIRROR_PAD of H and W that only an LceQuantize reads pads the packed
words instead, and the model's outputs stay equal to tflite-runtime's MIRROR_PAD then LceQuantize
bit for bit; pads of the channel axis and padded maps with other readers are left as they are."""

from __future__ import annotations

import larq as lq
import numpy as np
import pytest
import tensorflow as tf

from benchmarks.engine import fusion
from converter import convert, read_operators
from tests.benchmarks.engine.fused_vs_unfused import assert_fused_equals_unfused

H, W, C = 6, 7, 80  # 80 channels: three 32-bit words, the last one partly filled


def _converted(paddings, mode: str = "REFLECT", padded_is_output: bool = False) -> bytes:
    tf.keras.utils.set_random_seed(0)
    inputs = tf.keras.Input((H, W, C))
    padded = tf.keras.layers.Lambda(lambda t: tf.pad(t, paddings, mode=mode))(inputs)
    conv = lq.layers.QuantConv2D(
        16, 3, input_quantizer="ste_sign", kernel_quantizer="ste_sign", use_bias=False
    )
    outputs = (
        [conv(padded), tf.keras.layers.Lambda(lambda t: t * 2.0)(padded)]
        if padded_is_output
        else conv(padded)
    )
    flatbuffer = convert(tf.keras.Model(inputs, outputs))
    tf.keras.backend.clear_session()
    return flatbuffer


def _inputs() -> np.ndarray:
    x = np.random.default_rng(1).standard_normal((2, H, W, C)).astype(np.float32)
    x[0, 0, :, :8] = 0.0  # zeros (sign +1) and negative zeros on the mirrored edge
    x[1, -1, :, :8] = -0.0
    return x


@pytest.mark.parametrize("mode", ["REFLECT", "SYMMETRIC"])
@pytest.mark.parametrize("pads", [(1, 1, 1, 1), (2, 0, 1, 2)])
def test_pad_of_packed_words_equals_pad_then_quantize(mode, pads) -> None:
    top, bottom, left, right = pads
    flatbuffer = _converted([[0, 0], [top, bottom], [left, right], [0, 0]], mode)
    rewritten, origin = fusion.fuse(flatbuffer, chains=False)
    ops = read_operators(rewritten)
    types = [op.op_type for op in ops]
    quantize, pad = types.index("LceQuantize"), types.index(fusion.MIRROR_PAD)
    assert quantize == pad - 1 and "MIRROR_PAD" not in types
    assert ops[quantize].input_shapes[0] == (1, H, W, C) and ops[quantize].output_shapes[0] == (1, H, W, 3)
    assert ops[pad].output_shapes[0] == (1, H + top + bottom, W + left + right, 3)
    before = [op.op_type for op in read_operators(flatbuffer)]
    # the profile still names each op's original index
    assert [before[i] for i in origin] == [t.replace(fusion.MIRROR_PAD, "MIRROR_PAD") for t in types]
    assert_fused_equals_unfused(flatbuffer, _inputs())


@pytest.mark.parametrize(
    "paddings, padded_is_output",
    [
        ([[0, 0], [1, 1], [1, 1], [1, 2]], False),  # the channel axis padded: the words would change
        ([[0, 0], [1, 1], [1, 1], [0, 0]], True),  # the padded floats are read by another op too
    ],
)
def test_other_pads_stay_before_the_quantize(paddings, padded_is_output) -> None:
    flatbuffer = _converted(paddings, padded_is_output=padded_is_output)
    ops = read_operators(fusion.fuse(flatbuffer, chains=False)[0])
    types = [op.op_type for op in ops]
    pad = types.index(fusion.MIRROR_PAD)
    assert types.index("LceQuantize") > pad and ops[pad].input_shapes[0] == (1, H, W, C)
    assert_fused_equals_unfused(flatbuffer, _inputs())
