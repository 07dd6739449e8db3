"""Reading operator lists from flatbuffers, and rejecting what is not one."""

import pytest
import tensorflow as tf

from converter import convert, read_operators


def test_reads_builtin_ops_in_order():
    inputs = tf.keras.Input((4, 4, 3))
    x = tf.keras.layers.Conv2D(2, 3)(inputs)
    model = tf.keras.Model(inputs, tf.keras.layers.Flatten()(x))
    ops = read_operators(convert(model))
    assert [op.op_type for op in ops] == ["CONV_2D", "RESHAPE"]
    assert ops[0].outputs[0] in ops[1].inputs


@pytest.mark.parametrize("data", [b"", b"not a tflite model at all", "model.tflite"])
def test_rejects_what_is_not_a_flatbuffer(data):
    with pytest.raises(ValueError, match=r"expected TFLite flatbuffer bytes.*received"):
        read_operators(data)


def test_a_truncated_flatbuffer_is_a_value_error_not_a_struct_error():
    flatbuffer = convert(tf.keras.Sequential([tf.keras.Input((4, 4, 1)), tf.keras.layers.Conv2D(2, 3)]))
    with pytest.raises(ValueError, match=r"corrupt TFLite flatbuffer \(200 bytes\)"):
        read_operators(flatbuffer[:200])
