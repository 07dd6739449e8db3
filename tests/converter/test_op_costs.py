"""MAC counts of converted ops against the layers' own arithmetic."""

import larq as lq
import tensorflow as tf

from converter import convert, float_ops, multiply_accumulates, read_operators


def test_macs_of_float_binary_grouped_depthwise_and_dense_ops():
    inputs = tf.keras.Input((10, 10, 64))
    x = tf.keras.layers.Conv2D(64, 3, padding="same", use_bias=False)(inputs)
    x = lq.layers.QuantConv2D(
        96,
        3,
        strides=2,
        groups=2,
        padding="same",
        pad_values=1.0,
        input_quantizer="ste_sign",
        kernel_quantizer="ste_sign",
        kernel_constraint="weight_clip",
        use_bias=False,
    )(x)
    x = tf.keras.layers.DepthwiseConv2D(3, padding="same", use_bias=False)(x)
    x = tf.keras.layers.Flatten()(x)
    outputs = tf.keras.layers.Dense(7)(x)
    ops = read_operators(convert(tf.keras.Model(inputs, outputs)))
    macs = {op.op_type: multiply_accumulates(op) for op in ops if multiply_accumulates(op)}
    assert macs == {
        "CONV_2D": 10 * 10 * 64 * 3 * 3 * 64,
        "LceBconv2d": 5 * 5 * 96 * 3 * 3 * 32,  # two groups of 32 input channels
        "DEPTHWISE_CONV_2D": 5 * 5 * 96 * 3 * 3,
        "FULLY_CONNECTED": 5 * 5 * 96 * 7,
    }
    assert {op.op_type for op in float_ops(ops)} == {
        "CONV_2D",
        "DEPTHWISE_CONV_2D",
        "RESHAPE",
        "FULLY_CONNECTED",
    }


def test_bconv_writing_bitpacked_output_counts_all_output_channels():
    inputs = tf.keras.Input((6, 6, 64))

    def conv():
        return lq.layers.QuantConv2D(
            64,
            3,
            padding="same",
            pad_values=1.0,
            input_quantizer="ste_sign",
            kernel_quantizer="ste_sign",
            kernel_constraint="weight_clip",
            use_bias=False,
        )

    outputs = conv()(conv()(inputs))  # the first feeds a sign: LCE bitpacks its output
    ops = [
        op for op in read_operators(convert(tf.keras.Model(inputs, outputs))) if op.op_type == "LceBconv2d"
    ]
    assert ops[0].output_shapes[0][-1] == 2  # 64 channels as two 32-bit words
    assert [multiply_accumulates(op) for op in ops] == [6 * 6 * 64 * 3 * 3 * 64] * 2
