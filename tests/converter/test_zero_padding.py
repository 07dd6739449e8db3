"""The audit warns about a zero-padded binary conv exactly where LCE's interpreter shows
kernel paths disagreeing with its reference path (the oracle), and nowhere else."""

import larq as lq
import pytest
import tensorflow as tf

from benchmarks.zero_padding import conv_model, measure
from converter import audit, convert
from converter.zero_padding import AFFECTED_KERNELS, zero_padding_warnings


def wrong_paths_by_map(table):
    """map → the kernel paths (without "+xnnpack") whose outputs differ from the
    reference path's: the outputs are integers, so any error is at least 1."""
    wrong = table[table.vs_reference > 0.5]
    return {m: {path.split("+")[0] for path in group.kernel_path} for m, group in wrong.groupby("map")}


@pytest.mark.parametrize(
    "kernel_size,dilation,maps",
    [
        (3, 1, [(1, 1), (2, 2), (3, 3), (4, 4), (2, 6), (6, 3)]),
        (5, 1, [(3, 3), (4, 4), (5, 5), (4, 7), (7, 5)]),
        (3, 2, [(4, 4), (5, 5), (6, 4)]),  # a dilated 3x3 spans 5
    ],
    ids=["3x3", "5x5", "3x3-dilated"],
)
def test_warnings_are_exactly_the_maps_where_kernel_paths_are_wrong(kernel_size, dilation, maps):
    model = conv_model(maps, kernel_size, dilation=dilation)
    flatbuffer = convert(model)
    wrong = wrong_paths_by_map(measure(maps, kernel_size, dilation=dilation))
    report = audit(flatbuffer, model)
    warned = {row.input_map: row for row in report.warnings.itertuples()}
    assert set(warned) == set(wrong)
    assert 0 < len(wrong) < len(maps)  # the rule is tested on both sides
    for size, paths in wrong.items():
        row = warned[size]
        assert paths == set(AFFECTED_KERNELS) == set(row.affected_kernels.split(", "))
        assert row.layer == f"conv_{size}"
        assert f"on a {size.replace('x', '×')} map" in row.message and "pad_values=1.0" in row.fix
        assert report.operators.warning[row.operator] == row.message
    assert report.summary["warnings"] == len(wrong)
    assert (report.operators.warning != "").sum() == len(wrong)


@pytest.mark.parametrize("options", [dict(pad_value=1.0), dict(padding="valid")], ids=["pad-one", "valid"])
def test_no_warning_for_pad_one_or_valid_convs(options):
    maps = [(3, 3), (4, 4), (3, 5)] if options.get("padding") == "valid" else [(1, 1), (2, 2)]
    model = conv_model(maps, 3, **options)
    assert wrong_paths_by_map(measure(maps, 3, **options)) == {}
    assert audit(convert(model), model).warnings.empty


def test_a_conv_in_a_nested_model_is_named_by_its_path():
    inner_input = tf.keras.Input((2, 2, 32))
    inner = tf.keras.Model(
        inner_input,
        lq.layers.QuantConv2D(
            32,
            3,
            padding="same",
            pad_values=0.0,
            input_quantizer="ste_sign",
            kernel_quantizer="ste_sign",
            name="inner_conv",
        )(inner_input),
        name="block",
    )
    inputs = tf.keras.Input((2, 2, 32))
    model = tf.keras.Model(inputs, inner(tf.keras.layers.Dense(32)(inputs)))
    flatbuffer = convert(model)
    for given in (model, None):  # from the Keras layers, or from the tensor names alone
        (warning,) = zero_padding_warnings(flatbuffer, given)
        assert (warning.layer, warning.input_map, warning.window) == ("block/inner_conv", (2, 2), (3, 3))
