"""Flatbuffers are checked before LCE's interpreter (which crashes on corrupt ones) sees them."""

import pytest

from benchmarks.flatbuffer_model import load_model, pack_model


def test_round_trip_keeps_the_graph(small_bnn_tflite):
    model = load_model(small_bnn_tflite)
    again = load_model(pack_model(model))
    assert len(again.subgraphs[0].operators) == len(model.subgraphs[0].operators) == 16


@pytest.mark.parametrize("cut", [1000, 0.5, -4])
def test_truncated_flatbuffer_is_one_value_error(small_bnn_tflite, cut):
    end = int(len(small_bnn_tflite) * cut) if isinstance(cut, float) else cut
    with pytest.raises(ValueError, match=r"corrupt TFLite flatbuffer \(\d+ bytes\)"):
        load_model(small_bnn_tflite[:end])


@pytest.mark.parametrize("data", [b"", b"not a model", b"\0\0\0\0TFL3" + bytes(100)])
def test_what_is_not_a_model_is_one_value_error(data):
    with pytest.raises(ValueError, match=r"TFLite flatbuffer"):
        load_model(data)
