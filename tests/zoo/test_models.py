"""Every registered zoo model × {sign, LAB in every stage}: builds at 224² and its
small input, trains 2 steps, converts with every binary conv as LceBconv2d, and the
conversion agrees with Keras (1e-4; 1e-3 with grouped convs) on samples where no sign
flipped."""

import larq as lq
import larq_zoo
import numpy as np
import pytest
import tensorflow as tf

from converter import check_parity, convert, read_operators
from lab_bnn.quantizers import LAB
from zoo.experiments.train import ends_in_softmax
from zoo.models import BiRealNet, QuickNet, XNORNet, available, get_model

VARIANTS = {"sign": (False,) * 4, "lab": (True,) * 4}
CASES = [(name, variant) for name in available() for variant in VARIANTS]


def binary_convs(model):
    """QuantConv2D layers with both binarizers (larq-zoo also builds float ones)."""
    return [l for l in model.layers if isinstance(l, lq.layers.QuantConv2D)
            and l.input_quantizer is not None and l.kernel_quantizer is not None]


@pytest.mark.parametrize("name,variant", CASES)
def test_builds_trains_and_converts_binary(name, variant):
    tf.keras.utils.set_random_seed(0)
    zoo_model = get_model(name)
    lab_blocks = VARIANTS[variant]
    full_size = zoo_model.build(input_shape=(224, 224, 3), num_classes=1000, lab_blocks=lab_blocks)
    assert full_size.output_shape == (None, 1000)

    model = zoo_model.build(input_shape=zoo_model.small_input, num_classes=10, lab_blocks=lab_blocks)
    # Eager steps: tracing the training graph would cost more than the 2 steps themselves.
    model.compile(tf.keras.optimizers.Adam(1e-3), tf.keras.losses.SparseCategoricalCrossentropy(
        from_logits=not ends_in_softmax(model)), run_eagerly=True)
    rng = np.random.RandomState(0)
    before = [w.numpy().copy() for w in model.trainable_weights]
    for _ in range(2):
        loss = model.train_on_batch(rng.rand(8, *zoo_model.small_input), rng.randint(0, 10, 8))
    assert np.isfinite(loss)
    assert any(not np.array_equal(w.numpy(), b) for w, b in zip(model.trainable_weights, before))

    flatbuffer = convert(model)
    ops = [op.op_type for op in read_operators(flatbuffer)]
    assert ops.count("LceBconv2d") == len(binary_convs(model))

    parity = check_parity(model, flatbuffer, rng.rand(16, *zoo_model.small_input))
    assert parity.flip_free_samples >= 4, parity  # flips: values within rounding of a tie
    grouped = any(l.groups > 1 for l in binary_convs(model))
    assert parity.max_abs_diff_flip_free <= (1e-3 if grouped else 1e-4), parity
    labs = sum(isinstance(m, LAB) for m in model.submodules)
    assert (labs > 0) == (variant == "lab")
    if labs:  # each fused LAB is one depthwise conv
        assert ops.count("DEPTHWISE_CONV_2D") >= labs


LARQ_ZOO_TWINS = {
    "BiRealNet": (BiRealNet, larq_zoo.literature.BiRealNet),
    "QuickNet": (QuickNet, larq_zoo.sota.QuickNet),
    "XNORNet": (XNORNet, larq_zoo.literature.XNORNet),
}


@pytest.mark.parametrize("name", LARQ_ZOO_TWINS)
def test_has_larq_zoos_architecture(name):
    build, build_reference = LARQ_ZOO_TWINS[name]
    ours, reference = build(), build_reference(weights=None)
    assert ours.count_params() == reference.count_params()
    kinds = lambda m: [type(l).__name__ for l in m.layers if l.weights]  # noqa: E731
    assert kinds(ours) == kinds(reference)
